"""``flywheel run``, ``models``, ``describe`` and ``check``: one model, one run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from flywheel_sim.cli.common import (
    ModelArg,
    console,
    default_model,
    err,
    parse_policies,
    parse_sets,
    split,
)
from flywheel_sim.errors import ParameterError
from flywheel_sim.io.models import builtin_models, load_model


def run(
    model: ModelArg = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", "-s", help="Parameter value, name=value.")
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="A time-varying parameter, NAME=step:TO@AT, NAME=ramp:TO@START-END or "
            "NAME=table:T=V,T=V (repeatable)."
        ),
    ] = None,
    method: Annotated[str | None, typer.Option(help="euler, heun or rk4.")] = None,
    stop: Annotated[float | None, typer.Option(help="Stop time.")] = None,
    dt: Annotated[float | None, typer.Option(help="Integration step.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write results: .csv, .parquet or .nc")] = None,
    plot: Annotated[Path | None, typer.Option(help="Draw a chart: .png, .svg or .pdf")] = None,
    vars_: Annotated[str | None, typer.Option("--vars", help="Comma-separated variables.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for random functions.")] = 0,
    backend: Annotated[str, typer.Option(help="auto, numba or numpy.")] = "auto",
    clip: Annotated[bool, typer.Option(help="Clip out-of-range parameters.")] = False,
    chart: Annotated[
        bool,
        typer.Option(help="For models with a report: write out/MODEL.png (model against history)."),
    ] = True,
    keep: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the run in the run store.")
    ] = True,
    store_path: Annotated[
        Path | None, typer.Option("--store-path", help="Run store file (default: $FLYWHEEL_STORE).")
    ] = None,
) -> None:
    """Simulate a model and print a summary table (and, for models with a report section,
    the key figures next to history and a chart)."""
    from flywheel_sim.engine.simulate import Options, simulate
    from flywheel_sim.present.tables import summary_table

    if backend not in ("auto", "numba", "numpy"):
        raise ParameterError(f"--backend '{backend}' must be auto, numba or numpy")
    loaded = load_model(model or default_model())
    if policy:
        loaded = loaded.with_policies(parse_policies(policy))
    result = simulate(
        loaded,
        parse_sets(set_ or []),
        method=method,
        stop=stop,
        dt=dt,
        variables=split(vars_),
        seed=seed,
        options=Options(
            backend=backend,  # type: ignore[arg-type]
            out_of_range="clip" if clip else "error",
        ),
    )
    if loaded.report is None or vars_:
        console.print(summary_table(result))
    if loaded.report is not None:
        from flywheel_sim.present.report import history_chart, key_figures

        console.print(key_figures(loaded, result))
        if chart and plot is None:
            console.print(
                f"drew {history_chart(loaded, result, Path('out') / f'{loaded.name}.png')}"
            )
    failed = result["status"].values == "failed"
    if failed.any():
        r = int(failed.argmax())
        err.print(
            f"[red]run {r} failed:[/] {result['failed_variable'].values[r]} became "
            f"non-finite at t = {float(result['failed_time'].values[r]):g}"
        )
    if keep:
        from flywheel_sim.store.runstore import RunStore

        run_store = RunStore(store_path)
        batch = run_store.save_result(
            loaded, result, settings={"sets": set_ or [], "policies": policy or []}
        )
        console.print(f"stored as batch {batch} in {run_store.path}")
    if out is not None:
        from flywheel_sim.io.results import write_result

        console.print(f"wrote {write_result(result, out)}")
    if plot is not None:
        from flywheel_sim.present.charts import plot_result

        console.print(f"drew {plot_result(result, plot, split(vars_))}")
    if failed.any():
        raise typer.Exit(3)


def models() -> None:
    """List the built-in models."""
    from rich.table import Table

    table = Table(title="built-in models")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for name in builtin_models():
        description = load_model(name).description.strip().split(". ")[0]
        table.add_row(name, description)
    console.print(table)


def describe(
    model: ModelArg = None,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables (for docs).")] = False,
) -> None:
    """Show a model's variables, equations, parameters, sources and declared loops."""
    from flywheel_sim.present.tables import model_tables

    loaded = load_model(model or default_model())
    if markdown:
        from flywheel_sim.present.markdown import model_markdown

        sys.stdout.write(model_markdown(loaded))
        return
    console.print(f"[bold]{loaded.name}[/]: {loaded.description.strip()}")
    t = loaded.time
    console.print(f"time {t.start:g}..{t.stop:g} {t.units}, dt {t.dt:g}, method {t.method}")
    for table in model_tables(loaded):
        console.print(table)


def check(model: ModelArg = None) -> None:
    """Validate a model (parse, resolve names, order equations) without running it."""
    from flywheel_sim.compile import compile_model

    loaded = load_model(model or default_model())
    program = compile_model(loaded)
    counts = {k: len(loaded.of_kind(k)) for k in ("stock", "flow", "aux", "parameter", "lookup")}
    console.print(
        f"ok: {loaded.name} — {counts['stock']} stocks, {counts['flow']} flows, "
        f"{counts['aux']} auxiliaries, {counts['parameter']} parameters, "
        f"{counts['lookup']} lookups; {program.n_slots} slots"
    )
