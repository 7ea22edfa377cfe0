"""``flywheel run``, ``models``, ``describe`` and ``check``: one model, one run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flywheel_sim.cli.common import (
    DataOpt,
    MaxCellsOpt,
    ModelArg,
    PlotOpt,
    PolicyOpt,
    SetOpt,
    console,
    err,
    limits_for,
    load,
    parse_backend,
    parse_sets,
    split,
)
from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import builtin_models, load_model


def run(
    model: ModelArg = None,
    set_: SetOpt = None,
    policy: PolicyOpt = None,
    method: Annotated[str | None, typer.Option(help="euler, heun or rk4.")] = None,
    stop: Annotated[float | None, typer.Option(help="Stop time.")] = None,
    dt: Annotated[float | None, typer.Option(help="Integration step.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write results: .csv, .parquet or .nc")] = None,
    plot: PlotOpt = None,
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
    max_cells: MaxCellsOpt = None,
    data: DataOpt = None,
) -> None:
    """Simulate a model and print a summary table (and, for models with a report section,
    the key figures next to history and a chart)."""
    from flywheel_sim.engine.simulate import Options, simulate
    from flywheel_sim.present.run_summary import RunOutputs, finish_run

    options = Options(parse_backend(backend), "clip" if clip else "error", limits_for(max_cells))
    loaded, variables = load(model, policy, data), split(vars_)
    result = simulate(
        loaded, parse_sets(set_ or []), method=method, stop=stop, dt=dt, variables=variables,
        seed=seed, options=options,
    )  # fmt: skip
    outputs = RunOutputs(out, plot, chart, keep, store_path)
    settings = {"sets": set_ or [], "policies": policy or []}
    if finish_run(
        loaded, result, outputs, variables=variables, settings=settings, say=console.print,
        warn=err.print,
    ):  # fmt: skip
        raise typer.Exit(3)


def models() -> None:
    """List the built-in models."""
    from rich.table import Table

    table = Table(title="built-in models")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for name in builtin_models():
        description = load_model(name).description.strip().split(". ")[0]
        table.add_row(escape(name), escape(description))
    console.print(table)


def describe(
    model: ModelArg = None,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables (for docs).")] = False,
) -> None:
    """Show a model's variables, equations, parameters, sources and declared loops."""
    from flywheel_sim.present.tables import model_tables

    loaded = load(model)
    if markdown:
        from flywheel_sim.present.markdown import model_markdown

        sys.stdout.write(model_markdown(loaded))
        return
    console.print(f"[bold]{escape(loaded.name)}[/]: {escape(loaded.description.strip())}")
    t = loaded.time
    console.print(f"time {t.start:g}..{t.stop:g} {escape(t.units)}, dt {t.dt:g}, method {t.method}")
    for table in model_tables(loaded):
        console.print(table)


def check(
    model: ModelArg = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Unit inconsistencies are errors (exit 1).")
    ] = False,
    data: DataOpt = None,
) -> None:
    """Validate a model (parse, resolve names, order equations, check units) without running it."""
    from flywheel_sim.compile import compile_model
    from flywheel_sim.compile.units import check_units
    from flywheel_sim.present.validation import unit_lines

    loaded = load(model, data=data)
    program = compile_model(loaded)
    counts = {k: len(loaded.of_kind(k)) for k in ("stock", "flow", "aux", "parameter", "lookup")}
    console.print(
        f"ok: {loaded.name} — {counts['stock']} stocks, {counts['flow']} flows, "
        f"{counts['aux']} auxiliaries, {counts['parameter']} parameters, "
        f"{counts['lookup']} lookups; {program.n_slots} slots",
        markup=False,
        highlight=False,
    )
    for note in loaded.notes:  # what the reader of the file ignored or chose
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    units = check_units(loaded)
    for line in unit_lines(units):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if strict and units.issues:
        raise ModelError(
            f"{len(units.issues)} unit inconsistenc{'y' if len(units.issues) == 1 else 'ies'} "
            f"in '{loaded.name}'",
            hint="fix the units listed above, or leave out --strict to see them as warnings",
        )
