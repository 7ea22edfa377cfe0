"""Requests a hostile web page can make the dashboard's browser send (issue 18 item 10): a
page on another domain that rebinds its name to 127.0.0.1 (DNS rebinding) is refused by the
Host-header check, no other site may frame the dashboard, and it binds 127.0.0.1 unless told
otherwise. Through Flask's test client, as a browser's requests would arrive."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dash")
pytest.importorskip("dash_cytoscape")

from typer.testing import CliRunner

from flywheel_sim.web.app import HEADERS, allowed_hosts, create_app, host_name


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app("logistic", allow_hosts=["dash.example.org"])


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8050", "127.0.0.1:8050", "[::1]:8050", "LOCALHOST",
     "dash.example.org:443"],
)  # fmt: skip
def test_local_and_allowed_names_are_served(app: Any, host: str) -> None:
    answer = app.server.test_client().get("/", headers={"Host": host})
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example.com", "evil.example.com:8050", "127.0.0.1.evil.example", "[::2]", ""]
)
def test_other_host_names_are_refused(app: Any, host: str) -> None:
    client = app.server.test_client()
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        answer = client.get(path, headers={"Host": host})
        assert answer.status_code == 403, (path, host)
        text = answer.get_data(as_text=True)
        assert text.count("\n") == 1 and "--allow-host" in text and "props" not in text
    posted = client.post("/_dash-update-component", json={}, headers={"Host": host})
    assert posted.status_code == 403


def test_the_bound_address_is_allowed_but_not_every_address() -> None:
    assert "10.1.2.3" in allowed_hosts("10.1.2.3")
    assert "fe80::1" in allowed_hosts("fe80::1")
    assert allowed_hosts("0.0.0.0") == allowed_hosts("::") == {"localhost", "127.0.0.1", "::1"}
    assert host_name("[fe80::1]:80") == "fe80::1" and host_name("Example.ORG:1") == "example.org"


def test_every_answer_forbids_framing_and_sniffing(app: Any) -> None:
    client = app.server.test_client()
    for answer in (
        client.get("/"),
        client.get("/_dash-layout"),
        client.get("/assets/dashboard.css"),
        client.get("/no-such-page"),
        client.get("/", headers={"Host": "evil.example.com"}),
    ):
        for name, value in HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.path, name)
    assert HEADERS["X-Frame-Options"] == "DENY"
    assert HEADERS["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert HEADERS["X-Content-Type-Options"] == "nosniff"


def test_serve_binds_localhost_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """`flywheel serve` with no --host listens on 127.0.0.1 only; its options reach the app."""
    import flywheel_sim.web.app as web_app
    from flywheel_sim.cli.app import app as cli

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(web_app, "serve", lambda app, **kw: served.append({"app": app, **kw}))
    done = CliRunner().invoke(cli, ["serve", "logistic", "--port", "8123"])
    assert done.exit_code == 0, done.output
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 8123
    client = served[0]["app"].server.test_client()
    assert client.get("/", headers={"Host": "dash.example.org"}).status_code == 403
    done = CliRunner().invoke(
        cli,
        ["serve", "logistic", "--allow-host", "dash.example.org", "--run-seconds", "3",
         "--job-seconds", "30", "--max-cells", "1000000", "--max-uploads", "4",
         "--keep-uploads", "5"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    app = served[1]["app"]
    assert served[1]["host"] == "127.0.0.1"
    allowed = app.server.test_client().get("/", headers={"Host": "dash.example.org"})
    assert allowed.status_code == 200
    budgets = app.registry.budgets
    assert (budgets.run_seconds, budgets.job_seconds, budgets.limits.max_cells) == (3, 30, 10**6)
    assert (budgets.max_uploads, budgets.keep_uploads_seconds) == (4, 300)
    assert app.jobs.budgets is budgets


def test_the_api_dashboard_takes_budgets_and_hosts() -> None:
    import flywheel_sim as fs
    from flywheel_sim.web.budgets import Budgets

    app = fs.dashboard("logistic", budgets=Budgets(max_uploads=3), allow_hosts=["a.example"])
    assert app.registry.budgets.max_uploads == 3
    client = app.server.test_client()
    assert client.get("/", headers={"Host": "a.example"}).status_code == 200
    assert client.get("/", headers={"Host": "b.example"}).status_code == 403
