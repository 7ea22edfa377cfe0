"""``flywheel compare``, ``sweep``, ``sensitivity``, ``calibrate`` and ``runs``: studies and the
run store. Each command reads its options into the library's settings, calls the workflow in
:mod:`flywheel_sim.studies` and prints what it returns.

Registered on the app by :mod:`flywheel_sim.cli.app`.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from flywheel_sim.cli.common import (
    MaxCellsOpt,
    ModelArg,
    console,
    default_chart,
    default_model,
    err,
    limits_for,
    note_interrupted,
    number,
    progress,
    split,
)
from flywheel_sim.errors import FlywheelError, ModelError
from flywheel_sim.io.models import load_model
from flywheel_sim.io.results import check_writable

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.spec.model import Model
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.batch import Plan
    from flywheel_sim.studies.calibration.fit import Calibration
    from flywheel_sim.studies.compare import Comparison
    from flywheel_sim.studies.executors import ExecutorSettings
    from flywheel_sim.studies.scenarios import Study

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Run store file (default: $FLYWHEEL_STORE or the user data folder)."
    ),
]
ScenarioFileOpt = Annotated[
    Path | None,
    typer.Option("--scenarios", help="Scenario file (default: MODEL.scenarios.yaml beside it)."),
]
OutcomeOpt = Annotated[
    list[str] | None,
    typer.Option("--outcome", "-o", help="Outcome VAR@TIME (or @end/max/min/mean); repeatable."),
]
ExecutorOpt = Annotated[str, typer.Option(help="Where runs execute: local, processes or dask.")]
AddressOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, tcp://host:8786.")]
WorkersOpt = Annotated[int | None, typer.Option(help="Worker processes (processes, dask).")]
ChunkOpt = Annotated[int, typer.Option(help="Runs per task.")]
DistOpt = Annotated[
    list[str] | None,
    typer.Option(help="A parameter distribution, NAME=uniform:LOW,HIGH (repeatable)."),
]
SweepScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="Sweep around this scenario.")
]
SweepSeedOpt = Annotated[int, typer.Option(help="Seed of the sampling design and the runs.")]
SaveStepOpt = Annotated[float | None, typer.Option(help="Save every this many time units.")]
SweepResumeOpt = Annotated[
    int | None, typer.Option(help="Finish an interrupted sweep (its batch id).")
]
MaxFailedOpt = Annotated[
    str,
    typer.Option(
        help="Stop with exit code 3, summarising nothing, when more than this share of the "
        "runs fails: a fraction (0.1) or a percentage (10%)."
    ),
]
SaOutcomeOpt = Annotated[
    str | None, typer.Option("--outcome", "-o", help="The outcome to explain, VAR@TIME.")
]
SaMethodOpt = Annotated[str, typer.Option(help="sobol (indices) or morris (screening).")]
SaSamplesOpt = Annotated[
    int, typer.Option(help="Base samples (sobol: runs = N*(d+2); morris: trajectories).")
]
SaScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="Analyse around this scenario.")
]
SaResumeOpt = Annotated[
    int | None, typer.Option(help="Finish an interrupted analysis (its batch id).")
]
FitOpt = Annotated[
    str, typer.Option(help="Parameters to fit, comma-separated (default: the scenario file's).")
]
DataOpt = Annotated[
    Path | None, typer.Option(help="CSV of observations (default: the model's history).")
]
SeriesOpt = Annotated[
    list[str] | None,
    typer.Option(help="A fitted series, VARIABLE=COLUMN (repeatable; default: history)."),
]
UntilOpt = Annotated[
    float | None, typer.Option(help="Fit up to this time; later data test the forecast.")
]
LossOpt = Annotated[
    str | None, typer.Option(help="log, relative or huber (default: the file's, or log).")
]
WeightOpt = Annotated[
    list[str] | None, typer.Option(help="A series' weight, VARIABLE=W (repeatable).")
]
BoundsOpt = Annotated[
    list[str] | None, typer.Option(help="A search range, NAME=LOW:HIGH (repeatable).")
]
PopsizeOpt = Annotated[
    int | None, typer.Option(help="Population per parameter (default: the file's, or 10).")
]
MaxiterOpt = Annotated[
    int | None, typer.Option(help="Generations at most (default: the file's, or 200).")
]
FitSeedOpt = Annotated[
    int | None, typer.Option(help="Seed of the search (default: the file's, or 0).")
]
FromScratchOpt = Annotated[
    bool,
    typer.Option(
        "--from-scratch",
        help="Search without starting from the model's current values (out-of-sample tests).",
    ),
]
SaveOpt = Annotated[
    Path | None,
    typer.Option(help="Write the fitted values as scenario 'calibrated' to this file."),
]
BatchArg = Annotated[int, typer.Argument(help="Batch id.")]


def _open_store(path: Path | None) -> RunStore:
    from flywheel_sim.store.runstore import RunStore

    return RunStore(path)


def _study(source: str, model: Model, scenarios: Path | None) -> Study:
    from flywheel_sim.studies.scenarios import load_study

    return load_study(source, model, file=scenarios)


def _executor(name: str, address: str | None, workers: int | None, chunk: int) -> ExecutorSettings:
    from flywheel_sim.studies.executors import ExecutorSettings, executor_named

    return ExecutorSettings(executor_named(name), address, workers, chunk)


def _import_meanwhile() -> None:
    """Import what a long command needs at its end (pandas for the summary table, matplotlib
    for the chart) in a background thread while its runs compute. The simulation releases
    the interpreter lock, so the imports overlap it instead of following it (~0.5 s of a
    sweep's serial tail). A missing library is left for the command to report."""
    import threading

    def work() -> None:
        with contextlib.suppress(Exception):
            import pandas  # noqa: F401

            from flywheel_sim.present.charts import pyplot_for

            pyplot_for(Path("chart.png"))

    threading.Thread(target=work, name="flywheel-imports", daemon=True).start()


def _run_batch(
    plan: Plan,
    run_store: RunStore,
    executor: ExecutorSettings,
    resume: int | None,
    label: str,
    max_failed: float,
) -> int:
    """Run a sweep's or an analysis's plan with a progress bar; Ctrl-C says how to resume.
    Failed runs are summarised; more than ``max_failed`` of them end the command (exit 3)."""
    from rich.markup import escape

    from flywheel_sim.studies.sweep import (
        FAILED_EXIT,
        failure_lines,
        interrupted_note,
        run_batch,
        too_many_failed,
    )

    _import_meanwhile()
    try:
        with progress(f"{label} {plan.model.name}") as update:
            batch = run_batch(plan, run_store, executor, resume=resume, progress=update)
    except KeyboardInterrupt:
        note_interrupted(escape(interrupted_note(run_store, resume, plan.n_runs, plan.kind)))
        raise typer.Exit(130) from None
    failures = run_store.failures(batch)
    for line in failure_lines(failures):
        console.print(escape(line), soft_wrap=True, highlight=False)
    refusal = too_many_failed(failures, max_failed, batch)
    if refusal is not None:
        err.print(f"[red]error:[/] {escape(refusal)}", highlight=False, soft_wrap=True)
        raise typer.Exit(FAILED_EXIT)
    return batch


def _frame_table(title: str, frame: pd.DataFrame, first: str, decimals: bool) -> None:
    """Print ``frame`` as a table: column ``first`` on the left, the others on the right;
    floats as readable numbers, or with three decimals (``decimals``)."""
    from rich.table import Table

    def cell(v: object) -> str:
        if not isinstance(v, float):
            return escape(str(v))
        return f"{v:.3f}" if decimals else number(v)

    table = Table(title=escape(title))
    for column in frame.columns:
        table.add_column(escape(str(column)), justify="left" if column == first else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(cell(v) for v in row))
    console.print(table)


# -- compare -------------------------------------------------------------------------------------
def compare(
    model: ModelArg = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="A scenario to compare (repeatable)."),
    ] = None,
    outcome: OutcomeOpt = None,
    scenarios: ScenarioFileOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Comparison chart (.png/.svg/.pdf).")] = None,
    store: StoreOpt = None,
) -> None:
    """Compare scenarios side by side: a table of outcomes and a chart of their variables."""
    from flywheel_sim.present.study import compare_chart
    from flywheel_sim.studies.compare import chosen_scenarios, compare_scenarios

    source = model or default_model()
    loaded = load_model(source)
    study = _study(source, loaded, scenarios)
    chosen = chosen_scenarios(study, scenario, loaded)
    outcomes = study.chosen_outcomes(outcome, loaded)
    run_store = _open_store(store)
    with progress(f"compare {loaded.name}") as update:
        done = compare_scenarios(loaded, chosen, outcomes, run_store, progress=update)
    _comparison_table(done)
    target = plot or default_chart("compare", loaded.name)
    units = {v: loaded.element(v).unit for v in done.variables}
    title = f"{loaded.name}: " + " vs ".join(done.names)
    drawn = compare_chart(done.series, target, title=title, units=units)
    console.print(f"drew {escape(str(drawn))}")
    console.print(f"stored as batch {done.batch} in {escape(str(run_store.path))}")


def _comparison_table(done: Comparison) -> None:
    """The outcomes of every scenario, with the change from the first, and their stories."""
    import numpy as np
    from rich.table import Table

    table = Table(title=escape(f"{done.model.name}: scenarios compared"))
    table.add_column("outcome")
    for n in done.names:
        table.add_column(escape(n), justify="right")
    first = done.names[0]
    for k, o in enumerate(done.outcomes):
        cells = []
        for n in done.names:
            value = done.values[n][k]
            cell = number(value)
            base = done.values[first][k]
            if n != first and base != 0 and np.isfinite(base):
                cell += f" ({(value / base - 1):+.0%})"
            cells.append(cell)
        table.add_row(escape(o.label), *cells)
    console.print(table)
    for item in done.scenarios:
        if item.description:
            console.print(f"  [bold]{escape(item.name)}[/]: {escape(item.description)}")


# -- sweep ---------------------------------------------------------------------------------------
def sweep(
    model: ModelArg = None,
    samples: Annotated[int, typer.Option(help="Number of runs.")] = 1000,
    method: Annotated[str, typer.Option(help="montecarlo, lhs or sobol.")] = "lhs",
    dist: DistOpt = None,
    scenario: SweepScenarioOpt = None,
    outcome: OutcomeOpt = None,
    scenarios: ScenarioFileOpt = None,
    seed: SweepSeedOpt = 0,
    save_step: SaveStepOpt = None,
    chunk: ChunkOpt = 1000,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Fan chart (.png/.svg/.pdf).")] = None,
    resume: SweepResumeOpt = None,
    note: Annotated[str, typer.Option(help="A note stored with the batch.")] = "",
    max_failed: MaxFailedOpt = "10%",
    store: StoreOpt = None,
    max_cells: MaxCellsOpt = None,
) -> None:
    """Monte Carlo: sample the uncertain parameters, run every sample, and summarise the
    outcomes with percentile fan charts. Every finished chunk is stored as it completes."""
    from flywheel_sim.present.study import PERCENTILES, fan_chart, outcome_summary
    from flywheel_sim.studies.sampling import SamplingSettings, method_named
    from flywheel_sim.studies.sweep import (
        SweepOptions,
        max_failed_share,
        sweep_plan,
        sweep_results,
    )

    share = max_failed_share(max_failed)
    sampling = SamplingSettings(samples, method_named(method, what="--method"), seed)
    if plot is not None:
        check_writable(plot)  # before the runs, not after them
    options = SweepOptions(sampling, scenario, save_step, note)
    where = _executor(executor, address, workers, chunk)
    loaded = load_model(source := model or default_model())
    study = _study(source, loaded, scenarios)
    outcomes = study.chosen_outcomes(outcome, loaded)
    plan = sweep_plan(loaded, study, outcomes, study.distributions_for(dist, loaded), options)
    plan = replace(plan, limits=limits_for(max_cells))
    run_store = _open_store(store)
    batch = _run_batch(plan, run_store, where, resume, "sweep", share)
    times, values, bands = sweep_results(run_store, batch, outcomes, PERCENTILES)
    title = f"{loaded.name}: {samples} runs ({method})"
    _frame_table(f"{title}, outcomes", outcome_summary(outcomes, values), "outcome", False)
    units = {v: loaded.element(v).unit for v in plan.variables}
    title += f", scenario {scenario}" if scenario else ""
    target = plot or default_chart("sweep", loaded.name)
    drawn = fan_chart(times, bands, target, title=title, units=units)
    console.print(f"drew {escape(str(drawn))}")
    console.print(f"stored as batch {batch} in {escape(str(run_store.path))}")


# -- sensitivity ---------------------------------------------------------------------------------
def sensitivity(
    model: ModelArg = None,
    outcome: SaOutcomeOpt = None,
    method: SaMethodOpt = "sobol",
    samples: SaSamplesOpt = 512,
    dist: DistOpt = None,
    scenario: SaScenarioOpt = None,
    scenarios: ScenarioFileOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the design and the bootstrap.")] = 0,
    chunk: ChunkOpt = 1000,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Tornado chart (.png/.svg/.pdf).")] = None,
    resume: SaResumeOpt = None,
    max_failed: MaxFailedOpt = "10%",
    store: StoreOpt = None,
    max_cells: MaxCellsOpt = None,
) -> None:
    """Global sensitivity (SALib): Sobol first and total indices with confidence intervals,
    or Morris screening, of one outcome to the uncertain parameters; a tornado chart."""
    from flywheel_sim.present.study import tornado_chart
    from flywheel_sim.studies.sensitivity import analyse, sensitivity_method
    from flywheel_sim.studies.sweep import SensitivityOptions, max_failed_share, sensitivity_plan

    share = max_failed_share(max_failed)
    if plot is not None:
        check_writable(plot)  # before the runs, not after them
    loaded = load_model(source := model or default_model())
    study = _study(source, loaded, scenarios)
    chosen = study.chosen_outcomes([outcome] if outcome else None, loaded)[0]
    distributions = study.distributions_for(dist, loaded)
    options = SensitivityOptions(sensitivity_method(method), samples, seed, scenario)
    plan, layout = sensitivity_plan(loaded, study, chosen, distributions, options)
    plan = replace(plan, limits=limits_for(max_cells))
    run_store = _open_store(store)
    batch = _run_batch(
        plan, run_store, _executor(executor, address, workers, chunk), resume, method, share
    )
    frame = analyse(layout, run_store.outcome(batch, chosen), seed=seed)
    about = f"{chosen.label} ({method}, {plan.n_runs} runs)"
    _frame_table(f"{loaded.name}: sensitivity of {about}", frame, "parameter", True)
    target = plot or default_chart("sensitivity", loaded.name)
    title = f"{loaded.name}: what drives {chosen.label} ({method})"
    console.print(f"drew {escape(str(tornado_chart(frame, target, title=title)))}")
    console.print(f"stored as batch {batch} in {escape(str(run_store.path))}")


# -- calibrate -----------------------------------------------------------------------------------
def calibrate(
    model: ModelArg = None,
    fit: FitOpt = "",
    data: DataOpt = None,
    series: SeriesOpt = None,
    time: Annotated[str | None, typer.Option(help="The data's time column.")] = None,
    since: Annotated[float | None, typer.Option(help="Fit observations from this time.")] = None,
    until: UntilOpt = None,
    loss: LossOpt = None,
    weight: WeightOpt = None,
    bounds: BoundsOpt = None,
    popsize: PopsizeOpt = None,
    maxiter: MaxiterOpt = None,
    seed: FitSeedOpt = None,
    uncertainty: Annotated[str, typer.Option(help="wald or bootstrap.")] = "wald",
    from_scratch: FromScratchOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Fit chart (.png/.svg/.pdf).")] = None,
    save: SaveOpt = None,
    store: StoreOpt = None,
) -> None:
    """Fit parameters to observed history: values with 95% intervals, fit metrics (and the
    forecast error after --until), a fitted-vs-actual chart with the prediction band."""
    from flywheel_sim.studies.calibration.intervals import uncertainty_named
    from flywheel_sim.studies.calibration.objective import loss_named
    from flywheel_sim.studies.calibration.observations import read_observations
    from flywheel_sim.studies.calibration.plan import FitChoices, plan_fit, store_fit
    from flywheel_sim.studies.scenarios import load_study, refuse_existing, save_scenario

    loaded = load_model(source := model or default_model())
    choices = FitChoices(
        fit=tuple(split(fit) or ()),
        data=read_observations(data) if data is not None else None,
        series=dict(_pair(s, "--series", "VARIABLE=COLUMN") for s in series or []),
        time=time, since=since, until=until, loss=loss_named(loss) if loss else None,
        weights=_weights(weight or []), bounds=_bounds(bounds or []),
        popsize=popsize, maxiter=maxiter, seed=seed, uncertainty=uncertainty_named(uncertainty),
        start=not from_scratch, source=str(data) if data else "history",
    )  # fmt: skip
    plan = plan_fit(loaded, load_study(source, loaded).calibration, choices)
    if save is not None:
        refuse_existing(save)  # before the fit, not after it
    with progress(f"calibrate {loaded.name}") as update:
        update(0, 1)
        result = plan.run()
        update(1, 1)
    _show_fit(loaded, result, plan.until, plot)
    if save is not None:
        console.print(f"wrote {escape(str(save_scenario(save, result.values, loaded.name)))}")
    run_store = _open_store(store)
    batch = store_fit(run_store, result)
    console.print(f"stored as batch {batch} in {escape(str(run_store.path))}")


def _show_fit(model: Model, result: Calibration, until: float | None, plot: Path | None) -> None:
    """The fitted values with their intervals, the fit (and forecast) metrics, the warnings
    and the fitted-vs-actual chart."""
    from rich.table import Table

    from flywheel_sim.present.study import calibration_chart

    uncertainty = result.settings["uncertainty"]
    table = Table(title=escape(f"{model.name}: fitted parameters (95% intervals, {uncertainty})"))
    for column in ("parameter", "value", "lower", "upper", "was"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for row in result.parameters.itertuples():
        table.add_row(
            escape(str(row.parameter)), f"{row.value:.4g}", f"{row.lower:.4g}", f"{row.upper:.4g}",
            f"{row.default:.4g}",
        )  # fmt: skip
    console.print(table)
    main = result.series[0].variable
    console.print(_fit_line("in sample", main, result.metrics))
    if result.forecast:
        console.print(_fit_line(f"forecast after {until:g}", main, result.forecast))
    for warning in result.warnings:
        err.print(f"[yellow]{escape(warning)}[/]", soft_wrap=True)
    panels = [
        (s.variable, s.times, s.values, result.fitted[s.variable][1], result.band.get(s.variable))
        for s in result.series
    ]
    target = plot or default_chart("calibrate", model.name)
    units = {s.variable: model.element(s.variable).unit for s in result.series}
    title = f"{model.name}: calibrated ({', '.join(result.settings['parameters'])})"
    drawn = calibration_chart(panels, target, title=title, until=until, units=units)
    console.print(f"drew {escape(str(drawn))}")
    console.print(f"{result.evaluations} runs in {result.seconds:.1f} s; loss {result.loss:.4g}")


def _pair(item: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ModelError(f"{option} '{item}' must look like {form}")
    return name.strip(), value.strip()


def _bounds(items: list[str]) -> dict[str, tuple[float, float]]:
    """``--bounds NAME=LOW:HIGH`` items as search ranges."""
    ranges = {}
    for item in items:
        name, text = _pair(item, "--bounds", "NAME=LOW:HIGH")
        low, _, high = text.partition(":")
        try:
            ranges[name] = (float(low), float(high))
        except ValueError:
            raise ModelError(f"--bounds {item} must look like NAME=LOW:HIGH") from None
    return ranges


def _weights(items: list[str]) -> dict[str, float]:
    """``--weight VARIABLE=W`` items as weights."""
    weights = {}
    for item in items:
        name, text = _pair(item, "--weight", "VARIABLE=W")
        try:
            weights[name] = float(text)
        except ValueError:
            raise ModelError(f"--weight {item}: '{text}' is not a number") from None
    return weights


def _fit_line(label: str, variable: str, metrics: dict[str, float]) -> str:
    text = (
        f"[bold]{label}[/] ({escape(variable)}, {int(metrics['observations'])} observations): "
        f"MAPE {metrics['mape']:.1%}"
    )
    if "rmse_log" in metrics:
        text += f", RMSE of logs {metrics['rmse_log']:.3f}"
    return text + f", worst {metrics['worst_error']:+.0%} in {metrics['worst_time']:g}"


# -- runs ----------------------------------------------------------------------------------------
runs_app = typer.Typer(
    help="The run store: list, show, export and delete stored batches.", no_args_is_help=True
)


@runs_app.command("list")
def runs_list(
    model: Annotated[str | None, typer.Option(help="Only this model's batches.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 20,
    store: StoreOpt = None,
) -> None:
    """The stored batches, newest first."""
    from rich.table import Table

    run_store = _open_store(store)
    frame = run_store.batches(limit=limit, model=model)
    table = Table(title=escape(f"run store {run_store.path}"))
    for column in ("id", "kind", "model", "scenario", "status", "runs", "created", "note"):
        table.add_column(column, justify="right" if column in ("id", "runs") else "left")
    for row in frame.itertuples(index=False):
        cells = (
            str(row.id),
            row.kind,
            row.model,
            row.scenario or "",
            row.status,
            f"{int(row.runs_written)}/{int(row.n_runs)}",
            str(row.created)[:19],
            row.note or "",
        )
        table.add_row(*(escape(str(c)) for c in cells))
    console.print(table)


@runs_app.command("show")
def runs_show(batch: BatchArg, store: StoreOpt = None) -> None:
    """One batch: what ran, with which settings, and its outputs."""
    info = _open_store(store).batch(batch)
    console.print(
        f"[bold]batch {info.id}[/]: {info.kind} of {escape(info.model_name)} — {info.status}"
    )
    console.print(f"  model hash   {info.model_hash[:16]}  (code version {info.code_version})")
    console.print(f"  created      {str(info.created)[:19]}, finished {str(info.finished)[:19]}")
    console.print(f"  runs         {info.runs_written} of {info.n_runs} stored, seed {info.seed}")
    if info.scenario:
        console.print(f"  scenario     {escape(info.scenario)}")
    if info.times:
        console.print(
            f"  times        {info.times[0]:g} .. {info.times[-1]:g} ({len(info.times)} saved)"
        )
    console.print(f"  variables    {escape(', '.join(info.variables))}")
    if info.parameters:
        console.print(f"  parameters   {escape(', '.join(info.parameters))}")
    for key, value in info.settings.items():
        if key != "fingerprint":
            console.print(escape(f"  {key:<12} {value}"))
    if info.note:
        console.print(f"  note         {escape(info.note)}")


@runs_app.command("export")
def runs_export(
    batch: BatchArg,
    path: Annotated[Path, typer.Argument(help="Output file: .csv or .parquet.")],
    store: StoreOpt = None,
) -> None:
    """Write a batch's outputs (long format, with each run's parameters) to CSV or Parquet."""
    console.print(f"wrote {escape(str(_open_store(store).export(batch, path)))}")


@runs_app.command("delete")
def runs_delete(
    batch: BatchArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    store: StoreOpt = None,
) -> None:
    """Delete a batch and its outputs."""
    run_store = _open_store(store)
    info = run_store.batch(batch)
    if not yes and not typer.confirm(f"delete batch {batch} ({info.kind} of {info.model_name})?"):
        raise FlywheelError("not deleted")
    run_store.delete(batch)
    console.print(f"deleted batch {batch}")
