"""Hostile uploads to the dashboard (issue 18, items 1, 2, 4 and 10), sent as the browser sends
them: a POST to Dash's ``/_dash-update-component`` with the file's base64 contents and the
page's session id, answered by the upload callback. A refused upload must come back as one line
in the page's error banner (not a server error, not a hang), a visitor must see only their own
uploads, uploads are evicted and deleted, and a model must not read the server's files."""

from __future__ import annotations

import base64
import json
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dash")
pytest.importorskip("dash_cytoscape")

import flywheel_sim as fs
from flywheel_sim.errors import Cancelled, LimitError
from flywheel_sim.limits import Limits
from flywheel_sim.web import jobs
from flywheel_sim.web.app import create_app
from flywheel_sim.web.budgets import Budgets, Deadline
from flywheel_sim.web.callbacks import run
from flywheel_sim.web.session import Registry

LOGISTIC = (Path(fs.__file__).parent / "library" / "models" / "logistic.yaml").read_text()


def logistic(name: str) -> bytes:
    """The logistic model under another name (another upload)."""
    return LOGISTIC.replace("name: logistic", f"name: {name}", 1).encode()


def found(node: Any, wanted: str) -> Any:
    """The props of the component with id ``wanted`` in a Dash layout (JSON)."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if isinstance(props, dict) and props.get("id") == wanted:
            return props
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        hit = found(child, wanted)
        if hit is not None:
            return hit
    return None


class Page:
    """One visit to the dashboard: its session id, and uploads as the page makes them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.server.test_client()
        layout = self.client.get("/_dash-layout")
        assert layout.status_code == 200
        self.layout = json.loads(layout.get_data(as_text=True))
        self.session = found(self.layout, "session")["data"]

    def reload(self) -> None:
        """Load the page again in the same browser (its cookies kept)."""
        self.layout = json.loads(self.client.get("/_dash-layout").get_data(as_text=True))
        self.session = found(self.layout, "session")["data"]

    def models(self) -> list[str]:
        """The models the page's model picker offers when it loads."""
        return [o["value"] for o in found(self.layout, "model")["options"]]

    def upload(self, filename: str, content: bytes, session: str | None = None) -> dict[str, Any]:
        """Upload a file as the page does; the callback's outputs by component."""
        key = next(k for k in self.app.callback_map if "model.options" in k)
        outputs = [dict(zip(("id", "property"), p.split(".", 1), strict=True))
                   for p in key.strip(".").split("...")]  # fmt: skip
        encoded = "data:application/octet-stream;base64," + base64.b64encode(content).decode()
        body = {
            "output": key,
            "outputs": outputs,
            "inputs": [{"id": "upload", "property": "contents", "value": encoded}],
            "state": [
                {"id": "upload", "property": "filename", "value": filename},
                {"id": "session", "property": "data", "value": session or self.session},
            ],
            "changedPropIds": ["upload.contents"],
        }
        answer = self.client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        out: dict[str, Any] = json.loads(answer.get_data(as_text=True))["response"]
        return out

    def refused(self, filename: str, content: bytes) -> str:
        """Upload a file that must be refused; the one line the banner shows."""
        out = self.upload(filename, content)
        banner = out["error"]
        assert banner["hidden"] is False and "model" not in out, out
        text = str(banner["children"])
        assert text.startswith(f"could not load {filename}") or "damaged" in text, text
        assert "\n" not in text and "Traceback" not in text, text
        return text


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app("logistic")


def test_a_refused_upload_is_one_line_in_the_page(app: Any) -> None:
    page = Page(app)
    assert "YAML syntax" in page.refused("bad.yaml", b"name: [unclosed")
    assert "not a model file" in page.refused("model.exe", b"name: m")
    assert "UTF-8" in page.refused("bin.yaml", b"\xff\xfe\x00")
    assert "limited to" in page.refused("big.yaml", b"#" * 1_000_001)
    undefined = b"name: m\ntime: {start: 0, stop: 1, dt: 1}\nauxiliaries:\n  y: {equation: zz}\n"
    assert "zz" in page.refused("undefined.yaml", undefined)


def test_each_visit_sees_only_its_own_uploads(app: Any) -> None:
    alice, bob = Page(app), Page(app)
    assert alice.session != bob.session and len(alice.session) == 32
    mine = alice.upload("alice.yaml", logistic("alice_model"))
    key = mine["model"]["value"]
    assert key.startswith("upload:") and mine["error"]["hidden"] is True
    assert key in [o["value"] for o in mine["model"]["options"]]
    theirs = bob.upload("bob.yaml", logistic("bob_model"))
    listed = [o["value"] for o in theirs["model"]["options"]]
    assert key not in listed and theirs["model"]["value"] in listed
    assert key not in Page(app).models()  # a new visit lists none of them
    # the same file from another visit is another upload, in its own folder
    again = bob.upload("alice.yaml", logistic("alice_model"))["model"]["value"]
    assert again != key
    entries = {e.key: e for e in app.registry._entries.values()}
    assert entries[again].folder != entries[key].folder
    # a made-up session id is refused, not shared
    forged = alice.upload("x.yaml", logistic("forged"), session="../../etc")
    assert "session is not valid" in forged["error"]["children"]


def test_a_reload_keeps_the_visits_uploads(app: Any) -> None:
    """The session id lives in an HttpOnly, SameSite=Strict cookie, so reloading the page (it
    used to start a new session) still lists the visit's uploads; another browser does not."""
    page = Page(app)
    cookie = page.client.get_cookie("flywheel_session")
    assert cookie is not None and cookie.value == page.session
    assert cookie.http_only and cookie.same_site == "Strict"
    key = page.upload("mine.yaml", logistic("mine"))["model"]["value"]
    first = page.session
    page.reload()
    assert page.session == first and key in page.models()
    assert key not in Page(app).models()
    # a cookie that is not a session id is replaced, not used
    page.client.set_cookie("flywheel_session", "../../etc")
    page.reload()
    assert page.session != "../../etc" and len(page.session) == 32 and key not in page.models()


def test_each_upload_has_its_own_folder_deleted_with_it(tmp_path: Path) -> None:
    registry = Registry(Budgets(keep_uploads_seconds=60), root=tmp_path)
    first = registry.upload("a.yaml", logistic("a"), session="a" * 32)
    second = registry.upload("b.yaml", logistic("b"), session="a" * 32)
    assert first.folder is not None and second.folder is not None
    assert first.folder.parent == second.folder.parent == tmp_path
    assert first.folder != second.folder
    assert [p.name for p in first.folder.iterdir()] == ["a.yaml"]
    first.used -= 61  # not used for a minute; the second was used just now
    assert registry.sweep() == [first.key]
    assert not first.folder.exists() and second.folder.exists()
    assert registry.uploads("a" * 32) == [second]
    with pytest.raises(fs.ModelError, match="no longer loaded"):
        registry.get(first.key)
    assert registry.sweep(now=time.monotonic() + 61) == [second.key]
    assert list(tmp_path.iterdir()) == []


def test_the_servers_sweeper_deletes_expired_uploads_without_visitors(tmp_path: Path) -> None:
    from flywheel_sim.web.app import sweeper

    registry = Registry(Budgets(keep_uploads_seconds=60), root=tmp_path)
    entry = registry.upload("a.yaml", logistic("a"), session="f" * 32)
    entry.used -= 61
    stop = sweeper(registry, every=0.01)
    try:
        for _ in range(500):  # a guard against a sweeper that never runs, not a speed target
            if entry.folder is not None and not entry.folder.exists():
                break
            time.sleep(0.01)
    finally:
        stop.set()
    assert entry.folder is not None and not entry.folder.exists()
    assert entry.key not in registry._entries


def test_cached_uploads_are_bounded_in_number(tmp_path: Path) -> None:
    registry = Registry(Budgets(max_uploads=2), root=tmp_path)
    entries = [registry.upload(f"m{i}.yaml", logistic(f"m{i}"), "b" * 32) for i in range(3)]
    assert registry.uploads("b" * 32) == entries[1:]
    assert entries[0].folder is not None and not entries[0].folder.exists()
    registry.get(entries[1].key)  # used: now the most recent
    registry.upload("m3.yaml", logistic("m3"), "c" * 32)
    assert registry.uploads("b" * 32) == [entries[1]]


def test_cached_uploads_are_bounded_in_size(tmp_path: Path) -> None:
    size = fs.compile_model(fs.loads_model(LOGISTIC)).n_slots
    registry = Registry(Budgets(max_upload_slots=2 * size + 1), root=tmp_path)
    entries = [registry.upload(f"m{i}.yaml", logistic(f"m{i}"), "d" * 32) for i in range(3)]
    assert registry.uploads("d" * 32) == entries[1:]
    small = Registry(Budgets(max_upload_slots=size - 1), root=tmp_path / "small")
    with pytest.raises(fs.ModelError, match=f"at most {size - 1}"):
        small.upload("big.yaml", logistic("big"), "d" * 32)
    assert list((tmp_path / "small").iterdir()) == []  # nothing left behind


SECRET = "year,secret\n2000,123456.789\n2001,987654.321\n"


def reader(data: str) -> bytes:
    """A model whose history reads ``data``, showing its column ``secret`` as observations."""
    return textwrap.dedent(f"""\
        name: reader
        time: {{start: 2000, stop: 2002, dt: 0.5, units: year}}
        stocks:
          x: {{initial: 1}}
        history:
          data: {data}
          time: year
          series:
            x: {{column: secret}}
        """).encode()


def shown(registry: Registry, page: Page, filename: str, content: bytes) -> str:
    """Upload through the page, then draw the chart as the page does: what the visitor would
    see (the banner's text if refused, else the chart's data)."""
    out = page.upload(filename, content)
    if out["error"]["hidden"] is False:
        return str(out["error"]["children"])
    entry = registry.get(out["model"]["value"])
    try:
        chart = entry.chart(("x",))
        return json.dumps(chart.render(run(entry, {})), default=str)
    except fs.FlywheelError as exc:
        return str(exc)


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_an_upload_cannot_read_a_file_of_the_server(tmp_path: Path, where: str) -> None:
    """history: data: pointing outside the upload's folder is refused, whether absolute or
    ../../ (issue 18 item 4): the values are never shown."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    secret = tmp_path / "x.csv"  # ../../x.csv from an upload's folder
    secret.write_text(SECRET)
    registry = Registry(root=uploads)
    data = str(secret) if where == "absolute" else "../../x.csv"
    answer = receive_text(registry, "e" * 32, "reader.yaml", reader(data))
    assert "123456" not in answer and "987654" not in answer, answer
    assert "could not load reader.yaml" in answer, answer


def receive_text(registry: Registry, session: str, filename: str, content: bytes) -> str:
    """The upload callback's answer (error line, or the chart the page then draws)."""
    from flywheel_sim.web import callbacks

    encoded = "data:;base64," + base64.b64encode(content).decode()
    _, key, error, hidden = callbacks.receive(registry, encoded, filename, session)
    if not hidden:
        return str(error)
    entry = registry.get(key)
    try:
        return json.dumps(entry.chart(("x",)).render(run(entry, {})), default=str)
    except fs.FlywheelError as exc:
        return str(exc)


def test_an_upload_naming_a_system_file_gets_the_same_refusal_as_a_missing_one(
    app: Any,
) -> None:
    """/etc/passwd is not shown, and the refusal does not say whether a path exists."""
    registry = app.registry
    page = Page(app)
    passwd = shown(registry, page, "passwd.yaml", reader("/etc/passwd"))
    assert "root:" not in passwd and "could not load passwd.yaml" in passwd, passwd
    missing = shown(registry, page, "passwd.yaml", reader("/etc/no-such-file-here"))
    assert passwd.replace("/etc/passwd", "P") == missing.replace("/etc/no-such-file-here", "P")


HOSTILE = b"name: h\ntime: {start: 0, stop: 1000000, dt: 1e-9}\nstocks:\n  x: {initial: 1}\n"


@pytest.mark.parametrize(
    "content",
    [HOSTILE, HOSTILE.replace(b"dt: 1e-9", b"dt: 1e-9, save_step: 1000000")],
    ids=["saved every step", "saved once"],
)
def test_a_billion_step_upload_is_refused_not_run(app: Any, content: bytes) -> None:
    """dt: 1e-9 over a million time units (issue 18 item 1): refused by the dashboard's size
    limit before running, in one line, while the server keeps answering."""
    page = Page(app)
    answers: list[str] = []
    worker = threading.Thread(
        target=lambda: answers.append(page.refused("h.yaml", content)), daemon=True
    )
    worker.start()
    assert Page(app).client.get("/").status_code == 200  # others are served meanwhile
    worker.join(60)  # a guard against a hang, not a speed target
    assert answers, "the upload was still running after 60 s"
    assert "limit" in answers[0].lower(), answers[0]


def test_live_runs_carry_the_dashboards_limits(tmp_path: Path) -> None:
    """Every run the dashboard starts passes its limits (smaller than the CLI's)."""
    tiny = Budgets(limits=Limits(max_cells=100))
    registry = Registry(tiny, root=tmp_path)
    with pytest.raises(fs.ModelError, match=r"(?i)limit"):  # checking the upload runs it
        registry.upload("m.yaml", logistic("m"))
    entry = Registry(root=tmp_path / "b").upload("m.yaml", logistic("m"))
    entry.budgets = tiny
    with pytest.raises(LimitError):
        run(entry, {})


def test_an_upload_is_compiled_within_the_dashboards_size_limits(app: Any) -> None:
    """A 300,000-element dimension: within the command line's limits, over the dashboard's
    (issue 18 item 2), refused at upload in one line."""
    wide = (
        b"name: wide\ntime: {start: 0, stop: 1, dt: 1}\ndimensions:\n  d: 300000\n"
        b"stocks:\n  x: {dims: [d], initial: 1}\n"
    )
    fs.compile_model(fs.loads_model(wide.decode()))  # the CLI's limits take it
    text = Page(app).refused("wide.yaml", wide)
    assert "300,000" in text and "max_dimension_size" in text, text


def test_live_runs_stop_at_the_time_budget(tmp_path: Path) -> None:
    """A run whose budget is spent is cancelled by the engine, and the visitor is told why."""
    entry = Registry(root=tmp_path).upload("m.yaml", logistic("m"))
    entry.budgets = Budgets(run_seconds=1e-9)
    long = fs.loads_model(LOGISTIC.replace("stop: 30,", "stop: 300000,", 1))
    entry.program = fs.compile_model(long)
    with pytest.raises(Cancelled, match="dashboard's budget of 1e-09 s"):
        run(entry, {})


def test_a_job_past_its_budget_stops_with_a_message() -> None:
    """Background jobs get Options(cancel=...) that turns true when their budget is spent;
    Monte Carlo checks it between chunks too."""
    from flywheel_sim.present.uncertainty import monte_carlo

    model = fs.load_model("amazon")
    from flywheel_sim.studies.scenarios import load_study

    study = load_study("amazon", model)
    spent = Budgets(job_seconds=1e-9)
    board = jobs.Jobs(spent)
    seen: list[Any] = []

    def work(progress: jobs.Progress, options: fs.Options) -> Any:
        seen.append(options)
        return monte_carlo(
            model, study.uncertainty, ["net_sales"], samples=100, fixed={}, options=options
        )

    job = board.start("mc", work)
    for _ in range(500):
        if job.finished:
            break
        time.sleep(0.02)
    assert job.finished and job.result is None
    assert job.error is not None and "budget of 1e-09 s" in job.error, job.error
    assert seen[0].limits == spent.limits and seen[0].cancel is job.deadline
    # a job cancelled by hand says so
    stopped = Deadline(60, "the Monte Carlo")
    stopped.cancel()
    with pytest.raises(Cancelled):
        monte_carlo(
            model, study.uncertainty, ["net_sales"], samples=100, fixed={},
            options=spent.options(stopped),
        )  # fmt: skip
    assert stopped.message() == "the Monte Carlo was stopped"
