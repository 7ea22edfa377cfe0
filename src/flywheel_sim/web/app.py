"""The dashboard application: ``create_app`` builds it, ``serve`` runs it on localhost.

Everything the page loads is served by this process (``serve_locally``: Dash's component
bundles, plotly.js from the plotly package, Cytoscape from dash-cytoscape, and our own
stylesheet and script from ``assets/``), so it works with no network at all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import builtin_models

ASSETS = Path(__file__).resolve().parent / "assets"


def create_app(model: str = "amazon") -> Any:
    """A Dash app showing ``model`` (a built-in name or a model file) first."""
    from dash import Dash

    from flywheel_sim.web import callbacks, callbacks_study
    from flywheel_sim.web.jobs import Jobs
    from flywheel_sim.web.layout import page
    from flywheel_sim.web.session import MAX_UPLOAD_BYTES, Registry

    registry = Registry()
    first = model
    if model not in builtin_models():
        path = Path(model)
        if not path.is_file():
            raise ModelError(
                f"no model file or built-in model called '{model}'",
                hint=f"built-in models: {', '.join(builtin_models())}",
            )
        first = registry.open(path).key
    else:
        registry.get(model)  # load and compile before the first page asks
    app = Dash(
        "flywheel_sim.web",
        title="flywheel-sim",
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]
    )
    app.server.config["MAX_CONTENT_LENGTH"] = 16 * MAX_UPLOAD_BYTES  # bounds every request
    app.layout = lambda: page(first, registry.uploads())
    jobs = Jobs()
    callbacks.register(app, registry)
    callbacks_study.register_loops(app, registry)
    callbacks_study.register_scenarios(app, registry)
    callbacks_study.register_jobs(app, registry, jobs)
    app.registry = registry  # type: ignore[attr-defined]
    return app


def serve(app: Any, *, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Run the dashboard (threaded, so several people and background jobs share it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.run(host=host, port=port, debug=False, threaded=True)
