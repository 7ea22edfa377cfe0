"""``flywheel compare``, ``sweep``, ``sensitivity`` and ``runs``: studies and the run store.

Registered on the app by :mod:`flywheel_sim.cli.app`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from flywheel_sim.cli.common import (
    ModelArg,
    console,
    default_chart,
    default_model,
    err,
    number,
    progress,
)
from flywheel_sim.errors import FlywheelError, ModelError
from flywheel_sim.io.models import load_model

if TYPE_CHECKING:
    from flywheel_sim.spec.model import Model
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.executors import Executor
    from flywheel_sim.studies.sampling import Distribution
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


def _open_store(path: Path | None) -> RunStore:
    from flywheel_sim.store.runstore import RunStore

    return RunStore(path)


def _study(source: str, model: Model, scenarios: Path | None) -> Study:
    from flywheel_sim.studies.scenarios import load_study

    return load_study(source, model, file=scenarios)


def _outcomes(texts: list[str] | None, study: Study, model: Model) -> list[Any]:
    from flywheel_sim.studies.outcomes import parse_outcomes

    chosen = texts or list(study.outcomes)
    if not chosen:
        raise ModelError(
            f"say which outcomes to look at: --outcome VAR@TIME (model '{model.name}' has no "
            "scenario file with outcomes)"
        )
    return parse_outcomes(chosen, model)


def _distributions(items: list[str] | None, study: Study, model: Model) -> dict[str, Distribution]:
    from flywheel_sim.studies.sampling import parse_distribution

    found = dict(study.uncertainty)
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise ModelError(f"--dist '{item}' must look like name=uniform:LOW,HIGH")
        element = model.element(name.strip())
        if element.kind != "parameter":
            raise ModelError(f"--dist {item}: '{name}' is a {element.kind}, not a parameter")
        try:
            found[element.key] = parse_distribution(text)
        except ModelError as exc:
            raise ModelError(f"--dist {item}: {exc.message}", hint=exc.hint) from None
    if not found:
        raise ModelError(
            f"no parameter distributions for '{model.name}'",
            hint="give --dist NAME=uniform:LOW,HIGH or an uncertainty: section in its "
            "scenario file",
        )
    return found


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


def _executor(name: str, address: str | None, workers: int | None) -> Executor:
    from flywheel_sim.studies.executors import make_executor

    return make_executor(name, address=address, workers=workers)


def _scenario_values(model: Model, values: dict[str, float], names: list[str]) -> list[float]:
    out = []
    for name in names:
        if name in values:
            out.append(values[name])
        else:
            default = model.element(name).default
            out.append(float(default) if isinstance(default, int | float) else float("nan"))
    return out


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
    from rich.table import Table

    from flywheel_sim.compile import compile_model
    from flywheel_sim.engine.grid import time_grid
    from flywheel_sim.engine.simulate import simulate
    from flywheel_sim.present.study import compare_chart

    source = model or default_model()
    loaded = load_model(source)
    study = _study(source, loaded, scenarios)
    names = scenario or list(study.scenarios)
    if not names:
        raise ModelError(
            f"no scenarios to compare for '{loaded.name}'",
            hint="give -s NAME for scenarios in its scenario file",
        )
    chosen = [study.scenario(n) for n in names]
    outcomes = _outcomes(outcome, study, loaded)
    variables = list(dict.fromkeys(o.variable for o in outcomes))
    set_names = list(dict.fromkeys(k for s in chosen for k, _ in s.values))
    run_store = _open_store(store)
    batch = run_store.begin(
        kind="compare",
        model=loaded,
        scenario=",".join(names),
        n_runs=len(chosen),
        settings={"scenarios": names, "outcomes": [o.label for o in outcomes]},
        times=time_grid(compile_model(loaded), stop=None, dt=None, save_step=None).times,
        variables=variables,
        parameters=set_names,
    )
    results: dict[str, dict[str, tuple[Any, Any]]] = {}
    table_values: dict[str, list[float]] = {}
    status = "interrupted"
    try:
        with progress(f"compare {loaded.name}") as update:
            for index, item in enumerate(chosen):
                applied, values = item.apply(loaded)
                result = simulate(applied, values, variables=variables)
                times = np.asarray(result["time"].values, dtype=float)
                results[item.name] = {
                    v: (times, np.asarray(result[v].values[0], dtype=float)) for v in variables
                }
                table_values[item.name] = [float(o.of(result)[0]) for o in outcomes]
                run_store.write_chunk(
                    batch,
                    index,
                    first_run=index,
                    params=np.array([_scenario_values(loaded, values, set_names)]),
                    seeds=np.array([0]),
                    status=[str(result["status"].values[0])],
                    series={v: np.asarray(result[v].values, dtype=float) for v in variables},
                    times=times,
                    scenario=item.name,
                )
                update(index + 1, len(chosen))
        status = "done"
    finally:
        run_store.finish(batch, status)
    table = Table(title=f"{loaded.name}: scenarios compared")
    table.add_column("outcome")
    for n in names:
        table.add_column(n, justify="right")
    first = names[0]
    for k, o in enumerate(outcomes):
        cells = []
        for n in names:
            value = table_values[n][k]
            cell = number(value)
            base = table_values[first][k]
            if n != first and base != 0 and np.isfinite(base):
                cell += f" ({(value / base - 1):+.0%})"
            cells.append(cell)
        table.add_row(o.label, *cells)
    console.print(table)
    for item in chosen:
        if item.description:
            console.print(f"  [bold]{item.name}[/]: {item.description}")
    target = plot or default_chart("compare", loaded.name)
    units = {v: loaded.element(v).unit for v in variables}
    title = f"{loaded.name}: " + " vs ".join(names)
    console.print(f"drew {compare_chart(results, target, title=title, units=units)}")
    console.print(f"stored as batch {batch} in {run_store.path}")


# -- sweep ---------------------------------------------------------------------------------------
def sweep(
    model: ModelArg = None,
    samples: Annotated[int, typer.Option(help="Number of runs.")] = 1000,
    method: Annotated[str, typer.Option(help="montecarlo, lhs or sobol.")] = "lhs",
    dist: Annotated[
        list[str] | None,
        typer.Option(help="A parameter distribution, NAME=uniform:LOW,HIGH (repeatable)."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Sweep around this scenario.")
    ] = None,
    outcome: OutcomeOpt = None,
    scenarios: ScenarioFileOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampling design and the runs.")] = 0,
    save_step: Annotated[
        float | None, typer.Option(help="Save every this many time units.")
    ] = None,
    chunk: Annotated[int, typer.Option(help="Runs per task.")] = 1000,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Fan chart (.png/.svg/.pdf).")] = None,
    resume: Annotated[
        int | None, typer.Option(help="Finish an interrupted sweep (its batch id).")
    ] = None,
    note: Annotated[str, typer.Option(help="A note stored with the batch.")] = "",
    store: StoreOpt = None,
) -> None:
    """Monte Carlo: sample the uncertain parameters, run every sample, and summarise the
    outcomes with percentile fan charts. Every finished chunk is stored as it completes."""
    from rich.table import Table

    from flywheel_sim.present.study import PERCENTILES, fan_chart, outcome_summary
    from flywheel_sim.studies.batch import Plan, run_plan
    from flywheel_sim.studies.sampling import METHODS, sample

    if samples < 1:
        raise ModelError(f"--samples must be at least 1, not {samples}")
    if method not in METHODS:
        raise ModelError(f"unknown --method '{method}'", hint=f"use {', '.join(METHODS)}")
    if chunk < 1:
        raise ModelError(f"--chunk must be at least 1, not {chunk}")
    source = model or default_model()
    loaded = load_model(source)
    study = _study(source, loaded, scenarios)
    outcomes = _outcomes(outcome, study, loaded)
    distributions = _distributions(dist, study, loaded)
    item = study.scenario(scenario) if scenario else None
    applied, fixed = item.apply(loaded) if item else (loaded, {})
    fixed = {k: v for k, v in fixed.items() if k not in distributions}
    names = tuple(distributions)
    drawn = sample(distributions, samples, method=method, seed=seed)
    values = np.column_stack([drawn[n] for n in names])
    variables = tuple(dict.fromkeys(o.variable for o in outcomes))
    plan = Plan(
        kind="sweep",
        model=applied,
        names=names,
        values=values,
        variables=variables,
        seed=seed,
        save_step=save_step,
        fixed=fixed,
        scenario=scenario or "",
        settings={
            "samples": samples,
            "method": method,
            "seed": seed,
            "distributions": {n: distributions[n].describe() for n in names},
            "outcomes": [o.label for o in outcomes],
        },
        note=note,
    )
    run_store = _open_store(store)
    runner = _executor(executor, address, workers)
    _import_meanwhile()
    try:
        with progress(f"sweep {loaded.name}") as update:
            batch = run_plan(
                plan, run_store, executor=runner, chunk=chunk, resume=resume, progress=update
            )
    except KeyboardInterrupt:
        _interrupted(run_store, resume, samples, "sweep")
    finally:
        runner.close()
    # summaries come from the database, so memory does not grow with runs x times
    times = np.asarray(run_store.batch(batch).times, dtype=float)
    results = run_store.outcomes(batch, outcomes)
    bands = run_store.percentiles(batch, variables, PERCENTILES)
    frame = outcome_summary(outcomes, results)
    table = Table(title=f"{loaded.name}: {samples} runs ({method}), outcomes")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if column == "outcome" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(number(v) if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    target = plot or default_chart("sweep", loaded.name)
    units = {v: loaded.element(v).unit for v in variables}
    title = f"{loaded.name}: {samples} runs ({method})" + (
        f", scenario {scenario}" if scenario else ""
    )
    console.print(f"drew {fan_chart(times, bands, target, title=title, units=units)}")
    console.print(f"stored as batch {batch} in {run_store.path}")


# -- sensitivity ---------------------------------------------------------------------------------
def sensitivity(
    model: ModelArg = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", "-o", help="The outcome to explain, VAR@TIME.")
    ] = None,
    method: Annotated[str, typer.Option(help="sobol (indices) or morris (screening).")] = "sobol",
    samples: Annotated[
        int, typer.Option(help="Base samples (sobol: runs = N*(d+2); morris: trajectories).")
    ] = 512,
    dist: Annotated[
        list[str] | None,
        typer.Option(help="A parameter distribution, NAME=uniform:LOW,HIGH (repeatable)."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Analyse around this scenario.")
    ] = None,
    scenarios: ScenarioFileOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the design and the bootstrap.")] = 0,
    chunk: Annotated[int, typer.Option(help="Runs per task.")] = 1000,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Tornado chart (.png/.svg/.pdf).")] = None,
    resume: Annotated[
        int | None, typer.Option(help="Finish an interrupted analysis (its batch id).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Global sensitivity (SALib): Sobol first and total indices with confidence intervals,
    or Morris screening, of one outcome to the uncertain parameters; a tornado chart."""
    from rich.table import Table

    from flywheel_sim.studies import sensitivity as sa
    from flywheel_sim.studies.batch import Plan, run_plan

    source = model or default_model()
    loaded = load_model(source)
    study = _study(source, loaded, scenarios)
    chosen = _outcomes([outcome] if outcome else None, study, loaded)[0]
    distributions = _distributions(dist, study, loaded)
    item = study.scenario(scenario) if scenario else None
    applied, fixed = item.apply(loaded) if item else (loaded, {})
    fixed = {k: v for k, v in fixed.items() if k not in distributions}
    plan_design = sa.design(distributions, method=method, n=samples, seed=seed)
    mapped = sa.values(plan_design, distributions)
    names = tuple(distributions)
    plan = Plan(
        kind="sensitivity",
        model=applied,
        names=names,
        values=np.column_stack([mapped[n] for n in names]),
        variables=(chosen.variable,),
        seed=seed,
        fixed=fixed,
        scenario=scenario or "",
        settings={
            "method": method,
            "samples": samples,
            "seed": seed,
            "outcome": chosen.label,
            "distributions": {n: distributions[n].describe() for n in names},
        },
    )
    run_store = _open_store(store)
    runner = _executor(executor, address, workers)
    _import_meanwhile()
    try:
        with progress(f"{method} {loaded.name}") as update:
            batch = run_plan(
                plan, run_store, executor=runner, chunk=chunk, resume=resume, progress=update
            )
    except KeyboardInterrupt:
        _interrupted(run_store, resume, plan.n_runs, "sensitivity")
    finally:
        runner.close()
    frame = sa.analyse(plan_design, run_store.outcome(batch, chosen), seed=seed)
    table = Table(
        title=f"{loaded.name}: sensitivity of {chosen.label} ({method}, {plan.n_runs} runs)"
    )
    for column in frame.columns:
        table.add_column(str(column), justify="left" if column == "parameter" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    target = plot or default_chart("sensitivity", loaded.name)
    title = f"{loaded.name}: what drives {chosen.label} ({method})"
    console.print(f"drew {sa.tornado_chart(frame, target, title=title)}")
    console.print(f"stored as batch {batch} in {run_store.path}")


def _interrupted(run_store: RunStore, resume: int | None, total: int, what: str) -> None:
    last = run_store.batches(limit=1)
    batch_id = int(last["id"].iloc[0]) if resume is None else resume
    written = run_store.batch(batch_id).runs_written
    err.print(
        f"interrupted: {written} of {total} runs of the {what} are stored in batch "
        f"{batch_id}; run the same command with --resume {batch_id} to finish",
        soft_wrap=True,
    )
    raise typer.Exit(130)


# -- calibrate -----------------------------------------------------------------------------------
def calibrate(
    model: ModelArg = None,
    fit: Annotated[
        str,
        typer.Option(help="Parameters to fit, comma-separated (default: the scenario file's)."),
    ] = "",
    data: Annotated[
        Path | None, typer.Option(help="CSV of observations (default: the model's history).")
    ] = None,
    series: Annotated[
        list[str] | None,
        typer.Option(help="A fitted series, VARIABLE=COLUMN (repeatable; default: history)."),
    ] = None,
    time: Annotated[str | None, typer.Option(help="The data's time column.")] = None,
    since: Annotated[float | None, typer.Option(help="Fit observations from this time.")] = None,
    until: Annotated[
        float | None, typer.Option(help="Fit up to this time; later data test the forecast.")
    ] = None,
    loss: Annotated[
        str | None, typer.Option(help="log, relative or huber (default: the file's, or log).")
    ] = None,
    weight: Annotated[
        list[str] | None, typer.Option(help="A series' weight, VARIABLE=W (repeatable).")
    ] = None,
    bounds: Annotated[
        list[str] | None, typer.Option(help="A search range, NAME=LOW:HIGH (repeatable).")
    ] = None,
    popsize: Annotated[
        int | None, typer.Option(help="Population per parameter (default: the file's, or 10).")
    ] = None,
    maxiter: Annotated[
        int | None, typer.Option(help="Generations at most (default: the file's, or 200).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the search (default: the file's, or 0).")
    ] = None,
    uncertainty: Annotated[str, typer.Option(help="wald or bootstrap.")] = "wald",
    from_scratch: Annotated[
        bool,
        typer.Option(
            "--from-scratch",
            help="Search without starting from the model's current values (out-of-sample tests).",
        ),
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Fit chart (.png/.svg/.pdf).")] = None,
    save: Annotated[
        Path | None,
        typer.Option(help="Write the fitted values as scenario 'calibrated' to this file."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Fit parameters to observed history: values with 95% intervals, fit metrics (and the
    forecast error after --until), a fitted-vs-actual chart with the prediction band."""
    import pandas as pd
    from rich.table import Table

    from flywheel_sim.present.study import calibration_chart
    from flywheel_sim.studies import calibration as cal
    from flywheel_sim.studies.scenarios import CalibrationSpec, load_study

    source = model or default_model()
    loaded = load_model(source)
    spec = load_study(source, loaded).calibration or CalibrationSpec({})
    names = [loaded.element(n.strip()).key for n in fit.split(",") if n.strip()] or list(spec.fit)
    if not names:
        raise ModelError(
            "say which parameters to fit: --fit name1,name2,...",
            hint="or declare them in the model's scenario file (calibration: fit:)",
        )
    if save is not None:
        _refuse_existing(save)  # before the fit, not after it
    frame = None
    if data is not None:
        try:
            frame = pd.read_csv(data)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {data}: {exc}") from None
    mapping = dict(_pair(item, "--series", "VARIABLE=COLUMN") for item in series or [])
    ranges = {name: spec.fit[name] for name in names if name in spec.fit}
    for item in bounds or []:
        name, text = _pair(item, "--bounds", "NAME=LOW:HIGH")
        low, _, high = text.partition(":")
        try:
            ranges[loaded.element(name).key] = (float(low), float(high))
        except ValueError:
            raise ModelError(f"--bounds {item} must look like NAME=LOW:HIGH") from None
    weights = dict(spec.weights)
    for item in weight or []:
        name, text = _pair(item, "--weight", "VARIABLE=W")
        try:
            weights[loaded.element(name).key] = float(text)
        except ValueError:
            raise ModelError(f"--weight {item}: '{text}' is not a number") from None
    until = spec.until if until is None else until
    with progress(f"calibrate {loaded.name}") as update:
        update(0, 1)
        result = cal.calibrate(
            loaded,
            names,
            data=frame,
            series=mapping or None,
            time=time,
            since=spec.since if since is None else since,
            until=until,
            loss=loss or spec.loss,
            weights=weights or None,
            bounds=ranges,
            popsize=spec.popsize if popsize is None else popsize,
            maxiter=spec.maxiter if maxiter is None else maxiter,
            seed=spec.seed if seed is None else seed,
            uncertainty=uncertainty,
            source=str(data) if data else "history",
            checks=spec.checks,
            start=not from_scratch,
        )
        update(1, 1)
    table = Table(title=f"{loaded.name}: fitted parameters (95% intervals, {uncertainty})")
    for column in ("parameter", "value", "lower", "upper", "was"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for row in result.parameters.itertuples():
        table.add_row(
            str(row.parameter), f"{row.value:.4g}", f"{row.lower:.4g}", f"{row.upper:.4g}",
            f"{row.default:.4g}",
        )  # fmt: skip
    console.print(table)
    main = result.series[0].variable
    console.print(_fit_line("in sample", main, result.metrics))
    if result.forecast:
        console.print(_fit_line(f"forecast after {until:g}", main, result.forecast))
    for warning in result.warnings:
        err.print(f"[yellow]{warning}[/]", soft_wrap=True)
    panels = [
        (s.variable, s.times, s.values, result.fitted[s.variable][1], result.band.get(s.variable))
        for s in result.series
    ]
    target = plot or default_chart("calibrate", loaded.name)
    units = {s.variable: loaded.element(s.variable).unit for s in result.series}
    title = f"{loaded.name}: calibrated ({', '.join(names)})"
    console.print(
        f"drew {calibration_chart(panels, target, title=title, until=until, units=units)}"
    )
    console.print(f"{result.evaluations} runs in {result.seconds:.1f} s; loss {result.loss:.4g}")
    if save is not None:
        console.print(f"wrote {_save_scenario(save, result.values, loaded.name)}")
    from flywheel_sim.engine.simulate import simulate

    run_store = _open_store(store)
    settings = {
        **result.settings,
        "fitted": result.values,
        "metrics": result.metrics,
        "forecast": result.forecast,
    }
    batch = run_store.save_result(
        result.model, simulate(result.model), kind="calibration", settings=settings
    )
    console.print(f"stored as batch {batch} in {run_store.path}")


def _pair(item: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ModelError(f"{option} '{item}' must look like {form}")
    return name.strip(), value.strip()


def _fit_line(label: str, variable: str, metrics: dict[str, float]) -> str:
    text = (
        f"[bold]{label}[/] ({variable}, {int(metrics['observations'])} observations): "
        f"MAPE {metrics['mape']:.1%}"
    )
    if "rmse_log" in metrics:
        text += f", RMSE of logs {metrics['rmse_log']:.3f}"
    return text + f", worst {metrics['worst_error']:+.0%} in {metrics['worst_time']:g}"


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise ModelError(
            f"{path} exists; flywheel does not rewrite a scenario file (its comments would be "
            "lost)",
            hint="give --save a new file and copy the scenario across, or use it with --scenarios",
        )


def _save_scenario(path: Path, values: dict[str, float], model: str) -> Path:
    """Write scenario 'calibrated' to a new scenario file, atomically. An existing file is
    never rewritten (its comments and layout would be lost)."""
    import yaml

    from flywheel_sim.io.results import atomic_path

    _refuse_existing(path)
    document = {
        "scenarios": {
            "calibrated": {
                "description": f"parameters fitted to history by flywheel calibrate ({model})",
                "set": {k: float(f"{v:.6g}") for k, v in values.items()},
            }
        }
    }
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


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
    table = Table(title=f"run store {run_store.path}")
    for column in ("id", "kind", "model", "scenario", "status", "runs", "created", "note"):
        table.add_column(column, justify="right" if column in ("id", "runs") else "left")
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.id),
            row.kind,
            row.model,
            row.scenario or "",
            row.status,
            f"{int(row.runs_written)}/{int(row.n_runs)}",
            str(row.created)[:19],
            row.note or "",
        )
    console.print(table)


@runs_app.command("show")
def runs_show(
    batch: Annotated[int, typer.Argument(help="Batch id.")], store: StoreOpt = None
) -> None:
    """One batch: what ran, with which settings, and its outputs."""
    run_store = _open_store(store)
    info = run_store.batch(batch)
    console.print(f"[bold]batch {info.id}[/]: {info.kind} of {info.model_name} — {info.status}")
    console.print(f"  model hash   {info.model_hash[:16]}  (code version {info.code_version})")
    console.print(f"  created      {str(info.created)[:19]}, finished {str(info.finished)[:19]}")
    console.print(f"  runs         {info.runs_written} of {info.n_runs} stored, seed {info.seed}")
    if info.scenario:
        console.print(f"  scenario     {info.scenario}")
    if info.times:
        console.print(
            f"  times        {info.times[0]:g} .. {info.times[-1]:g} ({len(info.times)} saved)"
        )
    console.print(f"  variables    {', '.join(info.variables)}")
    if info.parameters:
        console.print(f"  parameters   {', '.join(info.parameters)}")
    for key, value in info.settings.items():
        if key != "fingerprint":
            console.print(f"  {key:<12} {value}")
    if info.note:
        console.print(f"  note         {info.note}")


@runs_app.command("export")
def runs_export(
    batch: Annotated[int, typer.Argument(help="Batch id.")],
    path: Annotated[Path, typer.Argument(help="Output file: .csv or .parquet.")],
    store: StoreOpt = None,
) -> None:
    """Write a batch's outputs (long format, with each run's parameters) to CSV or Parquet."""
    console.print(f"wrote {_open_store(store).export(batch, path)}")


@runs_app.command("delete")
def runs_delete(
    batch: Annotated[int, typer.Argument(help="Batch id.")],
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
