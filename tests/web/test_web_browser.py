"""The dashboard and the report in a real browser: Playwright driving Debian's Chromium.

The tests start ``flywheel serve`` themselves on a free port, block every request that does
not go to that server (and fail if the page tries one: the dashboard must work offline) and
save a screenshot of every case in the test's output folder. `.ci/run` installs Chromium.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flywheel_sim as fs
from flywheel_sim.present import analyses

pytest.importorskip("dash")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("FLYWHEEL_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (apt-get install chromium; .ci/run does)"
)
BROKEN = """name: broken
time: {start: 0, stop: 10, dt: 1}
parameters:
  rate: {default: 0.1, min: 0, max: 1}
stocks:
  x: {initial: 1, inflows: [growth]}
flows:
  growth: {equation: rate * xx}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``flywheel serve`` in a subprocess on a free port; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flywheel_sim.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"flywheel serve stopped: {process.stdout.read()}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(url, timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page that refuses to leave ``allowed`` and records what it tried."""

    def __init__(self, browser: Any, allowed: tuple[str, ...], **context: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, **context)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.allowed = allowed

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.allowed):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def shot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


def param(key: str) -> str:
    """The CSS selector of a parameter slider's thumb (Dash writes ids as sorted JSON)."""
    ident = json.dumps({"key": key, "type": "param"}, separators=(",", ":"))
    return f"[id='{ident}'] [role=slider]"


def open_dashboard(browser: Any, url: str) -> Page:
    view = Page(browser, (url,))
    view.page.goto(url)
    view.page.wait_for_function(
        """() => { const gd = document.querySelector('#chart .js-plotly-plot');
                   return gd && gd.data && gd.data.some(t => t.meta); }""",
        timeout=120_000,
    )
    view.page.wait_for_selector(param("word_of_mouth"), timeout=60_000)
    return view


def chart_data(page: Any, graph: str = "chart") -> list[dict[str, Any]]:
    script = """graph => {
      const gd = document.querySelector('#' + graph + ' .js-plotly-plot');
      return gd && gd.data ? gd.data.map(t => ({name: t.name, meta: t.meta || null,
        y: Array.from(t.y || []).slice(0, 400)})) : [];
    }"""
    return list(page.evaluate(script, graph))


def test_the_page_loads_with_the_amazon_model(browser: Any, server: str, tmp_path: Path) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        assert "amazon" in page.locator("#model").inner_text()
        assert page.locator(".param").count() == 110
        traces = chart_data(page)
        shown = {t["meta"][0] for t in traces if t["meta"]}
        assert {"net_sales", "operating_income", "customers"} <= shown
        assert any(t["name"].startswith("observed") for t in traces)  # history as points
        assert page.locator("#chart .subplot").count() >= 6
        view.shot(tmp_path, "loads")
        page.locator("#param-filter").fill("churn")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.param')].filter(e => e.offsetParent).length < 10"
        )
        shown = page.eval_on_selector_all(
            ".param", "els => els.filter(e => e.offsetParent).map(e => e.dataset.name)"
        )
        keys = [e.key for e in fs.load_model("amazon").of_kind("parameter")]
        assert shown == [k for k in keys if "churn" in k] and len(shown) >= 3
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def test_moving_a_slider_redraws_the_chart(browser: Any, server: str, tmp_path: Path) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        page.evaluate("""() => {
          const gd = document.querySelector('#chart .js-plotly-plot');
          window.__plots = [];
          gd.on('plotly_afterplot', () => window.__plots.push(performance.now()));
          document.addEventListener('keydown', () => { window.__pressed = performance.now(); },
                                    true);
        }""")
        before = chart_data(page)
        latencies = []
        thumb = page.locator(param("word_of_mouth"))
        for k in range(5):
            thumb.focus()
            page.evaluate("() => { window.__plots = []; }")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "() => window.__plots.length > 0 && window.__plots.at(-1) > window.__pressed",
                timeout=30_000,
            )
            time.sleep(0.3)  # let any second redraw land before reading
            latencies.append(page.evaluate("() => window.__plots.at(-1) - window.__pressed"))
            if k == 0:
                view.shot(tmp_path, "slider")
        after = chart_data(page)
        value = page.locator("[id='" + json.dumps({"key": "word_of_mouth", "type": "param-value"},
                             separators=(",", ":")) + "']").inner_text()  # fmt: skip
        assert float(value) > 0.3  # five steps up from the default
        changed = [
            a["meta"][0]
            for a, b in zip(after, before, strict=True)
            if a["meta"] and a["y"] != b["y"]
        ]
        assert "net_sales" in changed and "customers" in changed
        assert page.locator("#run-status").inner_text().startswith("1 parameter(s) changed")
        page.locator("#param-reset").click()
        page.wait_for_function(
            "() => document.querySelector('#run-status').innerText === 'defaults'",
            timeout=30_000,
        )
        print(f"slider to redrawn chart: {sorted(latencies)} ms")
        (tmp_path / "latency.json").write_text(json.dumps(latencies))
        # the 300 ms target is benchmarks/serve_load.py's (timed on a shared machine, it
        # belongs in a benchmark, not in a test that a busy neighbour can fail)
        assert all(latency > 0 for latency in latencies), latencies
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def test_a_broken_upload_shows_the_error_and_the_app_keeps_working(
    browser: Any, server: str, tmp_path: Path
) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        broken = tmp_path / "broken.yaml"
        broken.write_text(BROKEN)
        page.locator("#upload input[type=file]").set_input_files(str(broken))
        error = page.locator("#error")
        error.wait_for(state="visible", timeout=30_000)
        text = error.inner_text()
        assert "broken.yaml" in text and "xx" in text and "Traceback" not in text
        view.shot(tmp_path, "broken-upload")
        # the same page still simulates: a slider still redraws the chart
        before = chart_data(page)
        page.locator(param("churn_max")).focus()
        page.keyboard.press("End")
        page.wait_for_function(
            """before => {
              const gd = document.querySelector('#chart .js-plotly-plot');
              return JSON.stringify(Array.from(gd.data.find(t => t.meta &&
                t.meta[0] === 'customers').y)) !== before;
            }""",
            arg=json.dumps(
                next(t["y"] for t in before if t["meta"] and t["meta"][0] == "customers")
            ),
            timeout=30_000,
        )
        # and a good model uploads and shows
        good = tmp_path / "growth.yaml"
        good.write_text(BROKEN.replace("rate * xx", "rate * x").replace("broken", "growth"))
        page.locator("#upload input[type=file]").set_input_files(str(good))
        page.wait_for_function(
            "() => document.querySelector('#model').innerText.includes('growth.yaml')",
            timeout=30_000,
        )
        page.wait_for_selector(param("rate"), timeout=30_000)
        assert error.is_hidden()
        page.wait_for_function(
            """() => { const gd = document.querySelector('#chart .js-plotly-plot');
                       return gd.data.some(t => t.meta && t.meta[0] === 'x'); }""",
            timeout=30_000,
        )
        view.shot(tmp_path, "good-upload")
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def test_scenario_comparison_and_the_fan_chart_render(
    browser: Any, server: str, tmp_path: Path
) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        page.locator("#tabs").get_by_text("Scenarios", exact=True).click()
        page.wait_for_selector("#compare-chart .main-svg .scatterlayer .trace", timeout=60_000)
        names = {t["name"] for t in chart_data(page, "compare-chart")}
        assert {"baseline", "harvest"} <= names
        view.shot(tmp_path, "scenarios")
        with page.expect_download() as download:
            page.locator("[id='" + json.dumps({"graph": "compare-chart", "type": "csv"},
                         separators=(",", ":")) + "']").click()  # fmt: skip
        csv = Path(download.value.path()).read_text().splitlines()
        assert csv[0] == "panel,series,x,y" and any(",harvest," in row for row in csv)

        page.locator("#tabs").get_by_text("Uncertainty", exact=True).click()
        # enough runs that the job outlasts a few of the page's 300 ms polls (300 runs of
        # amazon now finish before the first one)
        page.locator("#mc-samples").fill("3000")
        page.locator("#mc-run").click()
        page.wait_for_function(
            "() => /of 3000/.test(document.querySelector('#mc-status').innerText)",
            timeout=30_000,
        )
        progress = page.locator("#mc-status").inner_text()
        page.wait_for_function(
            "() => document.querySelector('#mc-status').innerText.startsWith('done')",
            timeout=180_000,
        )
        fan = chart_data(page, "fan-chart")
        assert sum(t["name"] == "median" for t in fan) >= 1
        assert any(t["name"] == "5–95%" for t in fan)
        print(f"progress seen while running: {progress!r}")
        view.shot(tmp_path, "fan")
        with page.expect_download() as download:
            page.locator("[id='" + json.dumps({"graph": "fan-chart", "type": "svg"},
                         separators=(",", ":")) + "']").click()  # fmt: skip
        assert Path(download.value.path()).read_text().startswith("<svg")
        with page.expect_download() as download:
            page.locator("[id='" + json.dumps({"graph": "fan-chart", "type": "png"},
                         separators=(",", ":")) + "']").click()  # fmt: skip
        assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def _settled_chip(page: Any, label: str) -> dict[str, Any]:
    """Where Cytoscape drew the loop chip labelled ``label``, once it stops moving (the
    diagram is fitted into its box after it is drawn)."""
    script = """(label) => {
      const cy = document.querySelector('#diagram')._cyreg.cy;
      const node = cy.nodes().filter(n => n.data('label').includes(label))[0];
      const box = cy.container().getBoundingClientRect();
      const at = node.renderedPosition();
      return {x: box.left + at.x, y: box.top + at.y, loop: node.data('loop')};
    }"""
    where: dict[str, Any] = page.evaluate(script, label)
    for _ in range(40):
        time.sleep(0.25)
        now: dict[str, Any] = page.evaluate(script, label)
        if abs(now["x"] - where["x"]) < 0.5 and abs(now["y"] - where["y"]) < 0.5:
            return now
        where = now
    return where


def test_the_loop_diagram_highlights_a_loop_and_shows_its_curve(
    browser: Any, server: str, tmp_path: Path
) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        page.locator("#tabs").get_by_text("Loops", exact=True).click()
        page.wait_for_function(
            "() => /dominant at/.test(document.querySelector('#dominant-note').innerText)",
            timeout=60_000,
        )
        page.wait_for_selector("#diagram canvas", timeout=30_000)
        where: dict[str, Any] = {}
        for _ in range(4):  # on a loaded machine Cytoscape may still be fitting: click again
            where = _settled_chip(page, "capacity strain")
            page.mouse.click(where["x"], where["y"])
            try:
                page.wait_for_function(
                    "() => /dominance of B\\d+ \\(capacity_strain\\)/"
                    ".test(document.querySelector('#loop-curve').innerText)",
                    timeout=15_000,
                )
                break
            except Exception:  # playwright's TimeoutError: the click missed the moving chip
                continue
        else:
            raise AssertionError("clicking the capacity strain chip never showed its curve")
        assert where["loop"] in page.locator("#loop-pick").inner_text()
        curve = {t["name"] for t in chart_data(page, "loop-curve")}
        assert "share of loop activity through its path" in curve
        # the loop's variables stand out, the rest fades
        faded = page.evaluate("""() => {
          const cy = document.querySelector('#diagram')._cyreg.cy;
          return [cy.$id('v:orders').style('opacity'), cy.$id('v:sellers').style('opacity')];
        }""")
        assert [float(x) for x in faded] == [1.0, 0.25]
        view.shot(tmp_path, "loops")
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def test_calibration_and_diagnostics_render(browser: Any, server: str, tmp_path: Path) -> None:
    view = open_dashboard(browser, server)
    try:
        page = view.page
        page.locator("#tabs").get_by_text("Diagnostics", exact=True).click()
        page.locator("#dx-run").click()
        page.wait_for_function(
            "() => document.querySelector('#dx-status').innerText.startsWith('done')",
            timeout=180_000,
        )
        titles = page.eval_on_selector_all("#dx-cards .card h3", "els => els.map(e => e.innerText)")
        spec = fs.load_model("amazon").diagnostics
        assert spec is not None and spec.push and spec.stock and spec.coast_at is not None
        assert titles == [
            f"Take-off ({spec.stock.replace('_', ' ')})",
            f"Critical push ({spec.push.replace('_', ' ')})",
            f"Coasting from {spec.coast_at:g}",
            "Highest leverage",
        ]
        assert len(chart_data(page, "leverage-chart")) == 1
        view.shot(tmp_path, "diagnostics")
        page.locator("#tabs").get_by_text("Calibration", exact=True).click()
        page.locator("#cal-popsize").fill("2")
        page.locator("#cal-maxiter").fill("2")
        page.locator("#cal-run").click()
        page.wait_for_function(
            "() => document.querySelector('#cal-status').innerText.startsWith('done')",
            timeout=180_000,
        )
        summary = page.locator("#cal-summary").inner_text()
        model = fs.load_model("amazon")
        fitted = analyses.fit_parameters(model, fs.load_study("amazon", model))
        assert "mean absolute percentage error" in summary
        assert fitted and all(name.replace("_", " ") in summary for name in fitted)
        names = {t["name"] for t in chart_data(page, "cal-chart")}
        assert {"observed", "model (fitted)", "95% prediction band"} <= names
        view.shot(tmp_path, "calibration")
        assert view.outside == [] and view.errors == []
    finally:
        view.close()


def test_the_report_opens_offline_and_shows_its_charts(
    browser: Any, tmp_path: Path, amazon_report: tuple[str, dict[str, float]]
) -> None:
    out = tmp_path / "report.html"  # `flywheel report` writes this page (tests/present)
    out.write_text(amazon_report[0], encoding="utf-8")
    view = Page(browser, ("file://",), offline=True)
    try:
        page = view.page
        page.goto(out.as_uri())
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6",
            timeout=60_000,
        )
        sections = page.eval_on_selector_all("section h2", "els => els.map(e => e.innerText)")
        assert sections == [
            "The flywheel", "Behaviour over time", "Loop dominance", "Diagnostics", "Model tests",
            "Scenarios", "Uncertainty", "Calibration", "The model",
        ]  # fmt: skip
        assert page.locator("#diagram svg").count() == 1
        for section in ("behaviour", "dominance", "scenarios", "uncertainty", "calibration"):
            assert page.locator(f"#{section} .js-plotly-plot .scatterlayer .trace").count() > 0
        assert "Seed 1:" in page.locator("#model").inner_text()
        view.shot(tmp_path, "report")
        assert view.outside == [] and view.errors == []
    finally:
        view.close()
