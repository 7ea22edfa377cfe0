"""The dashboard application: ``create_app`` builds it, ``serve`` runs it on localhost.

Everything the page loads is served by this process (``serve_locally``: Dash's component
bundles, plotly.js from the plotly package, Cytoscape from dash-cytoscape, and our own
stylesheet and script from ``assets/``), so it works with no network at all.

Every request is checked and every answer marked (:func:`guard`): a request whose ``Host``
header is not this server's name is refused (a web page elsewhere cannot reach the dashboard
by pointing its own domain at 127.0.0.1: DNS rebinding), and no other site may frame the page.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import builtin_models
from flywheel_sim.web.budgets import DEFAULT, Budgets

ASSETS = Path(__file__).resolve().parent / "assets"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def host_name(header: str) -> str:
    """The name of a ``Host`` header without its port (``[::1]:8050`` -> ``::1``), lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts(host: str = "127.0.0.1", allow: Iterable[str] = ()) -> frozenset[str]:
    """The names a request may use: localhost in every spelling, the bound address (unless it
    is every address, 0.0.0.0 or ::) and each ``--allow-host``."""
    names = {*LOCAL_NAMES, *(host_name(a) for a in allow)}
    if host not in ("0.0.0.0", "::", ""):
        names.add(host_name(host if ":" not in host else f"[{host}]"))
    return frozenset(names)


def guard(server: Any, allowed: frozenset[str]) -> None:
    """Refuse requests for other host names (403, one line) and add the anti-framing headers
    to every answer."""
    from flask import request

    def check_host() -> Any:
        if host_name(request.host or "") not in allowed:
            return (
                "this dashboard answers only to "
                + ", ".join(sorted(allowed))
                + " (flywheel serve --allow-host NAME adds a name)\n",
                403,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
        return None

    def mark(response: Any) -> Any:
        for name, value in HEADERS.items():
            response.headers[name] = value
        return response

    server.before_request(check_host)
    server.after_request(mark)


SESSION_COOKIE = "flywheel_session"
_SESSION_ID = re.compile(r"[0-9a-f]{32}")


def visit_session() -> str:
    """The session of the browser asking for the page: the id in its session cookie when it
    has one (a reload keeps its uploads), else a new random one, set as a cookie on the answer
    (HttpOnly, SameSite=Strict, gone when the browser closes)."""
    from flask import g, has_request_context, request

    if not has_request_context():
        return secrets.token_hex(16)
    session = request.cookies.get(SESSION_COOKIE, "")
    if not _SESSION_ID.fullmatch(session):
        session = g.new_session = secrets.token_hex(16)
    return session


def _set_session_cookie(response: Any) -> Any:
    from flask import g

    session = g.pop("new_session", None)
    if session is not None:
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict")
    return response


def create_app(
    model: str = "amazon",
    *,
    budgets: Budgets = DEFAULT,
    host: str = "127.0.0.1",
    allow_hosts: Iterable[str] = (),
) -> Any:
    """A Dash app showing ``model`` (a built-in name or a model file) first, within
    ``budgets``; it answers requests for localhost, ``host`` and the ``allow_hosts``."""
    from dash import Dash

    from flywheel_sim.web import callbacks, callbacks_study
    from flywheel_sim.web.jobs import Jobs
    from flywheel_sim.web.layout import page
    from flywheel_sim.web.session import Registry

    registry = Registry(budgets)
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
    app.server.config["MAX_CONTENT_LENGTH"] = 16 * budgets.max_upload_bytes  # every request
    guard(app.server, allowed_hosts(host, allow_hosts))
    app.server.after_request(_set_session_cookie)

    def layout() -> Any:
        session = visit_session()  # this browser's uploads, kept across reloads
        return page(first, registry.uploads(session), session)

    app.layout = layout
    jobs = Jobs(budgets)
    callbacks.register(app, registry)
    callbacks_study.register_loops(app, registry)
    callbacks_study.register_scenarios(app, registry)
    callbacks_study.register_jobs(app, registry, jobs)
    app.registry = registry  # type: ignore[attr-defined]
    app.jobs = jobs  # type: ignore[attr-defined]
    return app


def sweeper(registry: Any, every: float = 60.0) -> threading.Event:
    """Delete expired uploads every ``every`` seconds in a daemon thread (also without
    visitors); set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            registry.sweep()

    threading.Thread(target=loop, name="flywheel-upload-sweeper", daemon=True).start()
    return stop


def serve(app: Any, *, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Run the dashboard (threaded, so several people and background jobs share it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = sweeper(app.registry, min(60.0, app.registry.budgets.keep_uploads_seconds / 4))
    try:
        app.run(host=host, port=port, debug=False, threaded=True)
    finally:
        stop.set()
