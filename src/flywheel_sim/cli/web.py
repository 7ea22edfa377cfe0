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
) -> None:
    """Open the interactive dashboard on http://127.0.0.1:PORT (works offline)."""
    need("dashboard", DASHBOARD_NEEDS, "web")
    from flywheel_sim.web.app import create_app
    from flywheel_sim.web.app import serve as run

    if not 0 < port < 65536:
        raise FlywheelError(f"--port must be between 1 and 65535, not {port}")
    if host not in LOCAL_HOSTS:
        err.print(
            f"[yellow]warning:[/] binding {escape(host)} lets anyone who can reach this machine "
            "use the dashboard and run simulations on it (there is no login)",
            soft_wrap=True,
        )
    dash_app = create_app(model or default_model())
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
