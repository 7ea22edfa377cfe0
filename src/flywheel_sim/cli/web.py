"""``flywheel serve`` (the dashboard) and ``flywheel report`` (one self-contained HTML file).

Registered on the main app by :mod:`flywheel_sim.cli.app`. The dashboard needs the ``web``
extra; the report needs only plotly and matplotlib (the ``plot`` extra), no Dash.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flywheel_sim.cli.common import DiagramAtOpt, ModelArg, console, default_model, err, split
from flywheel_sim.errors import FlywheelError
from flywheel_sim.web.budgets import DEFAULT

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


DASHBOARD_NEEDS = ("dash", "dash_cytoscape", "plotly")
REPORT_NEEDS = ("plotly", "matplotlib")  # charts and the diagram; no Dash


def need(what: str, modules: tuple[str, ...], extra: str) -> None:
    """FlywheelError naming the missing libraries (and the extra that installs them)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise FlywheelError(
            f"the {what} needs {', '.join(missing)}: pip install 'flywheel-sim[{extra}]'"
        )


def serve(
    model: ModelArg = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    host: Annotated[
        str,
        typer.Option(help="Address to bind; anything but 127.0.0.1 exposes the dashboard."),
    ] = "127.0.0.1",
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another host name the dashboard answers to (repeatable); requests naming "
            "any other host are refused.",
        ),
    ] = None,
    run_seconds: Annotated[
        float, typer.Option(help="Time budget of one live run (slider, view, upload check).")
    ] = DEFAULT.run_seconds,
    job_seconds: Annotated[
        float, typer.Option(help="Time budget of a Monte Carlo, calibration or diagnosis.")
    ] = DEFAULT.job_seconds,
    max_cells: Annotated[
        int, typer.Option(help="Time steps x slots x runs one dashboard simulation may hold.")
    ] = DEFAULT.limits.max_cells,
    max_uploads: Annotated[
        int, typer.Option(help="Uploaded models kept in memory (least recently used dropped).")
    ] = DEFAULT.max_uploads,
    keep_uploads: Annotated[
        float, typer.Option(help="Minutes an unused upload is kept before it is deleted.")
    ] = DEFAULT.keep_uploads_seconds / 60,
) -> None:
    """Open the interactive dashboard on http://127.0.0.1:PORT (works offline)."""
    need("dashboard", DASHBOARD_NEEDS, "web")
    from dataclasses import replace

    from flywheel_sim.web.app import create_app
    from flywheel_sim.web.app import serve as run

    if not 0 < port < 65536:
        raise FlywheelError(f"--port must be between 1 and 65535, not {port}")
    for name, value in (("--run-seconds", run_seconds), ("--job-seconds", job_seconds),
                        ("--keep-uploads", keep_uploads)):  # fmt: skip
        if not 0 < value < 1e9:
            raise FlywheelError(f"{name} must be a positive number, not {value:g}")
    for name, count in (("--max-cells", max_cells), ("--max-uploads", max_uploads)):
        if count < 1:
            raise FlywheelError(f"{name} must be at least 1, not {count}")
    budgets = replace(
        DEFAULT,
        run_seconds=run_seconds,
        job_seconds=job_seconds,
        limits=replace(DEFAULT.limits, max_cells=max_cells),
        max_uploads=max_uploads,
        keep_uploads_seconds=keep_uploads * 60,
    )
    if host not in LOCAL_HOSTS:
        err.print(
            f"[yellow]warning:[/] binding {escape(host)} lets anyone who can reach this machine "
            "use the dashboard and run simulations on it (there is no login); pass "
            "--allow-host NAME for each name they reach it by",
            soft_wrap=True,
        )
    dash_app = create_app(
        model or default_model(), budgets=budgets, host=host, allow_hosts=allow_host or ()
    )
    shown = f"[{host}]" if ":" in host else host
    console.print(f"flywheel dashboard on http://{escape(shown)}:{port}/ (Ctrl-C stops it)")
    run(dash_app, host=host, port=port)


def report(
    model: ModelArg = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    at: DiagramAtOpt = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo runs for the bands.")] = 200,
    fit: Annotated[
        str | None, typer.Option(help="Parameters to calibrate, comma-separated.")
    ] = None,
    popsize: Annotated[int, typer.Option(help="Calibration population per parameter.")] = 6,
    maxiter: Annotated[int, typer.Option(help="Calibration generations at most.")] = 15,
    calibrate: Annotated[
        bool, typer.Option("--calibrate/--no-calibrate", help="Include a quick calibration.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo design.")] = 0,
) -> None:
    """Write one self-contained HTML report (opens offline): diagram, behaviour against
    history, loop dominance, diagnostics, scenarios, uncertainty bands, calibration fit and
    the model's documentation with its citations."""
    need("report", REPORT_NEEDS, "plot")
    import time

    from flywheel_sim.present.html_report import ReportOptions, write_report

    options = ReportOptions(
        at=at, samples=samples, fit=tuple(split(fit) or ()) or None, popsize=popsize,
        maxiter=maxiter,
        calibrate=calibrate, seed=seed,
    )  # fmt: skip
    start = time.perf_counter()
    with console.status("building the report") as status:
        path = write_report(
            model or default_model(), out, options, progress=lambda s: status.update(s)
        )
    console.print(f"wrote {escape(str(path))} in {time.perf_counter() - start:.1f} s")
