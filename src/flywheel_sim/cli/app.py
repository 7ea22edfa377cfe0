"""The ``flywheel`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flywheel_sim.errors import FlywheelError, ModelError, ParameterError
from flywheel_sim.io.models import builtin_models, load_model
from flywheel_sim.spec.policy import Policy, parse_policy

app = typer.Typer(
    help="Business flywheels as runnable system-dynamics models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# piped output (files, CI logs) gets a width that fits the tables instead of rich's 80
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def default_model() -> str:
    """The flagship model: amazon when it exists, else a textbook model."""
    return "amazon" if "amazon" in builtin_models() else "logistic"


def parse_sets(values: list[str]) -> dict[str, float]:
    """``name=value`` pairs from ``--set``; ParameterError for anything else."""
    out: dict[str, float] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--set '{item}' must look like name=value")
        try:
            out[name.strip()] = float(raw)
        except ValueError:
            raise ParameterError(f"--set '{item}': '{raw}' is not a number") from None
    return out


def parse_policies(items: list[str]) -> dict[str, Policy]:
    """``name=policy`` pairs from ``--policy``; ModelError for anything else."""
    out: dict[str, Policy] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(
                f"--policy '{item}' must look like name=step:TO@AT (or ramp:, table:)"
            )
        try:
            out[name.strip()] = parse_policy(text.strip())
        except ModelError as exc:
            raise ModelError(f"--policy {item}: {exc.message}", hint=exc.hint) from None
    return out


def _split(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


ModelArg = Annotated[
    str | None, typer.Argument(help="Model file (.yaml) or built-in name (see `flywheel models`).")
]


@app.command()
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
        variables=_split(vars_),
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

        console.print(f"drew {plot_result(result, plot, _split(vars_))}")
    if failed.any():
        raise typer.Exit(3)


@app.command()
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


@app.command()
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


@app.command()
def loops(
    model: ModelArg = None,
    max_length: Annotated[int | None, typer.Option(help="Longest loop to search for.")] = None,
    max_loops: Annotated[int, typer.Option(help="Stop after this many loops.")] = 20_000,
    show: Annotated[int, typer.Option(help="Rows to print (named loops first).")] = 40,
) -> None:
    """List the model's feedback loops: id, name, type (R/B), length and variables."""
    from rich.markup import escape
    from rich.table import Table

    from flywheel_sim.loops import find_loops

    loaded = load_model(model or default_model())
    search = find_loops(loaded, max_length=max_length, max_loops=max_loops)
    kinds = [loop.polarity for loop in search.loops]
    table = Table(
        title=f"{loaded.name}: {len(search.loops)} feedback loops "
        f"({kinds.count('R')} R, {kinds.count('B')} B, {kinds.count('?')} ?)"
    )
    from flywheel_sim.loops.dominance import loop_dominance, loop_periods

    arrayed = any(e.dims for e in loaded.elements)
    data = loop_dominance(loaded, loops=None if arrayed else list(search.loops))
    periods = loop_periods(data)

    def spans_of(loop_id: str) -> str:
        if not arrayed:
            return ", ".join(f"{a:g}–{b:g}" for a, b in periods.get(loop_id, []) if b > a)
        parts = []  # an arrayed model's loops dominate element by element
        for instance, spans in periods.items():
            if instance.startswith(loop_id + "[") and any(b > a for a, b in spans):
                shown = ", ".join(f"{a:g}–{b:g}" for a, b in spans if b > a)
                parts.append(f"{escape(instance[len(loop_id) :])} {shown}")
        return "; ".join(parts)

    for column in ("id", "name", "type", "length", "variables", "dominant"):
        table.add_column(column, overflow="fold")
    for loop in search.loops[:show]:
        spans = spans_of(loop.id)
        table.add_row(
            loop.id,
            loop.name or "",
            loop.polarity,
            str(loop.length),
            escape(" → ".join(loop.variables)),
            spans,
        )
    console.print(table)
    if len(search.loops) > show:
        console.print(f"... {len(search.loops) - show} more (--show N to list them)")
    console.print(f"search: {search.note}")
    if arrayed:
        ids = [str(i) for i in data["loop"].values]
        crossing = [i for i in ids if "x" in i.split("[")[0]]
        console.print(
            f"by element: {len(ids)} instance loops, {len(crossing)} of them crossing "
            "elements (ids like Rx1); `flywheel dominance` shows when each dominates"
        )
    for name in search.unmatched:
        err.print(f"[yellow]named loop '{name}' was not found in the equations[/]")
    for contradiction in search.contradictions:
        err.print(f"[yellow]{escape(str(contradiction))}[/]")


@app.command()
def dominance(
    model: ModelArg = None,
    plot: Annotated[Path | None, typer.Option(help="Draw relative loop scores: .png/.svg")] = None,
    top: Annotated[int, typer.Option(help="Loops to draw (largest scores).")] = 8,
) -> None:
    """Which loops dominate when (Loops That Matter): periods of dominance and, with --plot,
    the relative loop scores over time."""
    from rich.markup import escape
    from rich.table import Table

    from flywheel_sim.loops import dominance_periods, loop_dominance

    loaded = load_model(model or default_model())
    data = loop_dominance(loaded)
    names = dict(zip(data["loop"].values, data["loop_name"].values, strict=True))
    table = Table(title=f"{loaded.name}: dominant loops (>= 50% of the behaviour)")
    for column in ("from", "to", "dominant loops"):
        table.add_column(column)
    for start, end, label in dominance_periods(data):
        shown = ", ".join(f"{i} {names[i]}".strip() for i in label.split("+"))
        table.add_row(f"{start:g}", f"{end:g}", escape(shown))
    console.print(table)
    if plot is not None:
        from flywheel_sim.present.charts import plot_dominance

        console.print(f"drew {plot_dominance(data, plot, top=top)}")


@app.command()
def diagnose(
    model: ModelArg = None,
    push: Annotated[str | None, typer.Option(help="The push parameter.")] = None,
    stock: Annotated[str | None, typer.Option(help="The stock that should grow.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome for the leverage ranking.")] = None,
    at: Annotated[float | None, typer.Option(help="Time of the outcome.")] = None,
    top: Annotated[int, typer.Option(help="Parameters to list by leverage.")] = 10,
    coast_at: Annotated[
        float | None, typer.Option(help="Coasting: when every push and investment stops.")
    ] = None,
    stop: Annotated[
        list[str] | None,
        typer.Option(help="Coasting: a parameter to stop, NAME or NAME=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Flywheel diagnostics: take-off, the critical push, coasting, leverage of every parameter
    and the weakest link of the core loop."""
    from rich.table import Table

    from flywheel_sim import diagnostics as dx

    loaded = load_model(model or default_model())
    spec = loaded.diagnostics
    push = push or (spec.push if spec else None)
    stock = stock or (spec.stock if spec else None)
    outcome = outcome or (spec.outcome if spec else None) or stock
    at = at if at is not None else (spec.at if spec else None)
    if stock is None:
        raise ModelError(
            f"say which stock should grow: --stock (model '{loaded.name}' declares no diagnostics)"
        )
    if not any(e.dims for e in loaded.elements):
        found = dx.takeoff(loaded, stock=stock)
        if found.time is not None:
            said = f"reinforcing loops dominate and growth accelerates from t = {found.time:g}"
        else:
            said = "reinforcing loops never dominate with growth accelerating, within the horizon"
        console.print(f"[bold]take-off[/] ({stock}): {said}")
    if push is not None:
        crit = dx.critical_push(loaded, push=push, stock=stock)
        console.print(
            f"[bold]critical push[/] ({push}): {crit.value:.4g} "
            f"(between {crit.low:.4g} and {crit.high:.4g}, tolerance "
            f"{crit.tolerance:.3g}; default {loaded.element(push).default})"
        )
    stops = dict(_stops(stop)) if stop else dict(spec.stop if spec else ())
    coast_at = coast_at if coast_at is not None else (spec.coast_at if spec else None)
    if stops and coast_at is not None:
        watched = outcome or stock
        coast = dx.coasting(loaded, at=coast_at, stop=stops, variable=watched)
        units = loaded.time.units

        def span(value: float | None) -> str:
            return f"{value:.3g} {units}" if value is not None else "not within the horizon"

        console.print(
            f"[bold]coasting[/] ({watched}): if {_and(list(stops))} "
            f"{'stops' if len(stops) == 1 else 'stop'} at {coast_at:g}, "
            f"growth halves after {span(coast.half_time)} (as it is: "
            f"{span(coast.baseline_half_time)}); at the end it keeps "
            f"{coast.retained:.0%} of its value"
        )
    if outcome is not None:
        frame = dx.leverage(loaded, outcome=outcome, at=at)
        label = f"{outcome}" + (f" at {at:g}" if at is not None else " at the end")
        table = Table(title=f"leverage: elasticity of {label} to each parameter")
        for column in ("parameter", "value", "elasticity"):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for row in frame.head(top).itertuples():
            table.add_row(str(row.parameter), f"{row.value:.4g}", f"{row.elasticity:+.3f}")
        console.print(table)
    if loaded.loops and not any(e.dims for e in loaded.elements):
        links = dx.weakest_link(loaded)
        table = Table(
            title=f"weakest link of {links.attrs['loop']}: where strengthening "
            "raises the loop's gain most"
        )
        for column in ("link", "strengthen", "elasticity of the loop gain"):
            table.add_column(column, justify="right" if column.startswith("elast") else "left")
        for row in links.itertuples():
            value = "" if row.elasticity != row.elasticity else f"{row.elasticity:+.3f}"
            table.add_row(str(row.link), str(row.parameter), value)
        console.print(table)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _stops(items: list[str]) -> list[tuple[str, float]]:
    out = []
    for item in items:
        name, _, value = item.partition("=")
        try:
            out.append((name.strip(), float(value) if value else 0.0))
        except ValueError:
            raise ParameterError(
                f"--stop {item}: '{value}' is not a number — write NAME or NAME=VALUE"
            ) from None
    return out


@app.command()
def diagram(
    model: ModelArg = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Picture: .svg, .png or .pdf")] = Path(
        "diagram.svg"
    ),
    core: Annotated[str | None, typer.Option(help="Named loop to put in the middle.")] = None,
    at: Annotated[
        float | None, typer.Option(help="Colour loops by dominance at this time.")
    ] = None,
) -> None:
    """Draw the causal-loop diagram: the core loop as a circle, the other named loops around."""
    from flywheel_sim.loops import find_loops
    from flywheel_sim.present.diagram.draw import draw_diagram

    loaded = load_model(model or default_model())
    search = find_loops(loaded)
    dominance_data = None
    if at is not None:
        from flywheel_sim.loops import loop_dominance

        arrayed = any(e.dims for e in loaded.elements)
        dominance_data = loop_dominance(loaded, loops=None if arrayed else list(search.loops))
    path = draw_diagram(loaded, search, out, core=core, dominance=dominance_data, at=at)
    console.print(f"drew {path}")


@app.command()
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


def main() -> None:
    """Entry point: run the app, turning our errors into one-line messages (exit 1)."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except FlywheelError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors (click's, or the copy newer typer vendors)
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise


from flywheel_sim.cli import (  # noqa: E402
    market,  # noqa: F401  (registers market)
    study,  # noqa: F401  (registers compare, sweep, runs ...)
    web,  # noqa: F401  (registers serve and report)
    xmile,  # noqa: F401  (registers convert)
)
