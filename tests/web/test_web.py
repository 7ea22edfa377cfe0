"""The dashboard's server side: models and uploads, sliders, the live chart, the diagram's
elements, background jobs, and that every asset is served locally."""

from __future__ import annotations

import base64
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dash")
pytest.importorskip("dash_cytoscape")

import flywheel_sim as fs
from flywheel_sim.diagnostics import diagnose
from flywheel_sim.present import analyses, figures_study
from flywheel_sim.present.diagram import cytoscape as diagram
from flywheel_sim.web import jobs
from flywheel_sim.web.session import MAX_UPLOAD_BYTES, Registry, slider_specs

LOGISTIC = (Path(fs.__file__).parent / "library" / "models" / "logistic.yaml").read_bytes()
BROKEN = b"""name: broken
time: {start: 0, stop: 10, dt: 1}
parameters:
  rate: {default: 0.1, min: 0, max: 1}
stocks:
  x: {initial: 1, inflows: [growth]}
flows:
  growth: {equation: rate * xx}
"""


def array(value: object) -> np.ndarray:
    """A trace's values, whether plain or as plotly's base64 typed array."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


def test_sliders_cover_every_parameter_over_its_declared_range(registry: Registry) -> None:
    entry = registry.get("amazon")
    specs = {s.key: s for s in entry.sliders}
    assert len(specs) == len(entry.model.of_kind("parameter")) == 110
    for element in entry.model.of_kind("parameter"):
        spec = specs[element.key]
        assert (spec.low, spec.high, spec.default) == (
            element.minimum,
            element.maximum,
            element.default,
        )
        assert not spec.assumed
        assert spec.to_value(spec.to_position(spec.default)) == pytest.approx(spec.default)
    # a range over six decades moves on a log scale; a share does not
    assert specs["purchasing_half"].log and not specs["reinvest_share"].log
    mid = specs["purchasing_half"].to_value(3.0)
    assert mid == pytest.approx(1000.0)


def test_a_parameter_without_a_range_gets_one_around_its_default() -> None:
    model = fs.loads_model(
        "name: m\ntime: {start: 0, stop: 1, dt: 1}\nparameters:\n  k: {default: 4}\n"
        "  n: {default: -2, max: 0}\nauxiliaries:\n  y: {equation: k + n}\n"
    )
    specs = {s.key: s for s in slider_specs(model, fs.compile_model(model))}
    assert specs["k"].assumed and (specs["k"].low, specs["k"].high) == (0.0, 12.0)
    assert specs["n"].low < -2 <= specs["n"].high == 0


def test_slider_positions_give_only_the_changed_values(registry: Registry) -> None:
    entry = registry.get("amazon")
    spec = next(s for s in entry.sliders if s.key == "word_of_mouth")
    positions = {s.key: s.to_position(s.default) for s in entry.sliders}
    assert entry.values(positions) == {}
    positions["word_of_mouth"] = spec.to_position(0.45)
    assert entry.values(positions) == {"word_of_mouth": pytest.approx(0.45)}
    positions["word_of_mouth"] = 99.0  # beyond the range: clipped to it
    assert entry.values(positions) == {"word_of_mouth": spec.high}


def test_upload_of_a_broken_model_names_the_file_and_the_fault(registry: Registry) -> None:
    with pytest.raises(fs.ModelError) as caught:
        registry.upload("broken.yaml", BROKEN)
    message = str(caught.value)
    assert "broken.yaml" in message and "xx" in message
    assert "flywheel-web-" not in message  # the private temporary path is not shown
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("model.exe", b"name: m", "not a model file"),
        ("big.yaml", b"#" * (MAX_UPLOAD_BYTES + 1), "limited to"),
        ("bad.yaml", b"\xff\xfe\x00", "UTF-8"),
        ("unclosed.yaml", b"name: [unclosed", "unclosed.yaml"),
    ],
)
def test_upload_refuses_what_is_not_a_model(
    registry: Registry, name: str, content: bytes, said: str
) -> None:
    with pytest.raises(fs.ModelError, match=re.escape(said)):
        registry.upload(name, content)


def test_a_valid_upload_is_compiled_and_listed(registry: Registry) -> None:
    entry = registry.upload("my logistic.yaml", LOGISTIC)
    assert entry.key.startswith("upload:") and entry.model.name == "logistic"
    assert registry.get(entry.key) is entry
    assert entry in registry.uploads()
    assert registry.upload("again.yaml", LOGISTIC) is entry  # same content, same entry
    with pytest.raises(fs.ModelError, match="no longer loaded"):
        registry.get("upload:000000000000")


def test_live_chart_shows_the_run_it_is_given(registry: Registry) -> None:
    entry = registry.get("amazon")
    variables = tuple(analyses.default_variables(entry.model))
    assert variables[:2] == ("net_sales", "operating_income")  # history first
    chart = entry.chart(variables)
    result = fs.simulate(entry.program, {"word_of_mouth": 0.45})
    shown = chart.render(result)
    lines = {t["meta"][0]: t for t in shown["data"] if t.get("meta")}
    assert set(lines) == set(variables)
    for variable in variables:
        assert np.allclose(lines[variable]["y"], result[variable].values[0])
    assert not np.allclose(lines["net_sales"]["y"], entry.reference["net_sales"].values[0])
    # observed net sales are yearly totals, drawn mid-year; the defaults are a dotted line
    observed = [t for t in shown["data"] if t.get("mode") == "markers"]
    assert observed and np.all(array(observed[0]["x"]) % 1 == 0.5)
    assert any(t.get("line", {}).get("dash") == "dot" for t in shown["data"])


def test_observations_sit_where_they_were_measured() -> None:
    """Year-end counts at the end of their year, yearly means mid-year."""
    from flywheel_sim.present.figures import observed_points

    points = observed_points(fs.load_model("amazon"))
    times, values, label = points["prime_members"]
    assert list(values) == [100.0, 150.0, 200.0]
    assert list(times) == [2018.0, 2020.0, 2021.0] and label == "observed (year end)"
    times, _, label = points["third_party_share"]
    assert times[0] == 1999.5 and label == "observed (yearly mean)"


def test_diagram_elements_join_existing_nodes_and_carry_loop_shares(registry: Registry) -> None:
    from flywheel_sim.present.diagram.text import activity_at, activity_share

    entry = registry.get("amazon")
    elements = diagram.layout_elements(entry.layout, entry.search)
    nodes = {e["data"]["id"] for e in elements if "source" not in e["data"]}
    edges = [e["data"] for e in elements if "source" in e["data"]]
    assert {f"v:{v}" for v in entry.layout.core.variables} <= nodes
    assert {f"loop:{c.loop.id}" for c in entry.layout.chips} <= nodes
    assert edges and all(e["source"] in nodes and e["target"] in nodes for e in edges)
    dominance = entry.dominance({})
    coloured = diagram.coloured(elements, entry.layout, dominance, 2015.0)
    activity = activity_at(dominance, 2015.0)
    for chip in entry.layout.chips:
        node = next(e for e in coloured if e["data"]["id"] == f"loop:{chip.loop.id}")
        share = activity_share(chip.outside, chip.path, activity) or 0.0
        assert node["data"]["share"] == f"{share:.0%}"
    style = diagram.stylesheet(entry.search.by_name("capacity_strain"))
    highlighted = " ".join(str(s["selector"]) for s in style)
    assert '"v:orders"' in highlighted and "opacity" in str(style[-1])


def test_models_without_named_loops_get_their_whole_graph() -> None:
    model = fs.load_model("sir")
    search = fs.find_loops(model)
    elements = diagram.graph_elements(search)
    nodes = [e for e in elements if "source" not in e["data"]]
    assert len(nodes) == search.graph.number_of_nodes()
    assert len(elements) - len(nodes) == search.graph.number_of_edges()


def test_jobs_report_progress_errors_and_refuse_when_busy() -> None:
    registry = jobs.Jobs()
    gate = threading.Event()

    def slow(progress: jobs.Progress, options: object) -> int:
        progress(1, 2)
        gate.wait(10)
        return 42

    running = [registry.start("a", slow) for _ in range(jobs.MAX_RUNNING)]
    with pytest.raises(jobs.Busy, match="already running"):
        registry.start("b", slow)
    gate.set()
    failing = None
    for _ in range(200):
        if all(job.finished for job in running):
            failing = registry.start("c", lambda p, o: fs.load_model("no-such-model"))
            break
        time.sleep(0.02)
    assert failing is not None and [job.result for job in running] == [42] * jobs.MAX_RUNNING
    for _ in range(200):
        if failing.finished:
            break
        time.sleep(0.02)
    assert failing.error is not None and "no-such-model" in failing.error


def test_a_job_can_be_stopped_through_its_cancel_check() -> None:
    from flywheel_sim.errors import Cancelled

    board = jobs.Jobs()
    asked = threading.Event()

    def waits(progress: jobs.Progress, options: fs.Options) -> None:
        assert options.cancel is not None
        asked.set()
        while not options.cancel():
            time.sleep(0.01)
        raise Cancelled("cancelled between chunks")

    job = board.start("mc", waits)
    assert asked.wait(10) and not job.finished
    assert board.cancel(job.id) and not board.cancel("no-such-job")
    for _ in range(500):
        if job.finished:
            break
        time.sleep(0.02)
    assert job.error == "the Monte Carlo was stopped"
    assert not board.cancel(job.id)  # finished: nothing to stop


def test_diagnosis_cards_say_what_the_diagnostics_found() -> None:
    model = fs.load_model("amazon")
    found = diagnose(model, {})
    cards = dict((title, (big, text)) for title, big, text in analyses.card_texts(found))
    # fitted to history the wheel turns without the early push: the card says so
    assert cards["Critical push (push size)"][0] == "none"
    assert found.push_note is not None and cards["Critical push (push size)"][1] == found.push_note
    assert "Highest leverage" in cards and found.leverage is not None
    with pytest.raises(fs.ModelError, match="declares no diagnostics"):
        diagnose(fs.load_model("logistic"), {})


def test_every_asset_of_the_page_is_served_by_the_app() -> None:
    app = fs.dashboard("logistic")
    client = app.server.test_client()
    page = client.get("/")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.get_data(as_text=True))
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    # plotly.js itself, which the graph component loads on demand, from the plotly package
    plotly = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert plotly.status_code == 200 and b"plotly.js" in plotly.data[:2000]


def test_fan_figure_draws_bands_and_median() -> None:
    times = np.linspace(0, 1, 5)
    bands = {"x": np.vstack([times * k for k in (1, 2, 3, 4, 5)])}
    fig = figures_study.fan_figure(times, bands, title="t")
    names = [t.name for t in fig.data]
    assert names.count("median") == 1 and "5–95%" in names and "25–75%" in names
    median = next(t for t in fig.data if t.name == "median")
    assert np.allclose(median.y, times * 3)


@pytest.mark.parametrize("name", fs.builtin_models())
def test_every_builtin_model_has_every_view(registry: Registry, name: str) -> None:
    from flywheel_sim.web.callbacks_study import diagram_elements, loop_options

    entry = registry.get(name)
    variables = tuple(analyses.default_variables(entry.model))
    assert variables
    result = fs.simulate(entry.program, entry.values({}))
    shown = entry.chart(variables).render(result)
    assert sum(1 for t in shown["data"] if t.get("meta")) >= len(variables)
    dominance = entry.dominance({})
    elements, layout = diagram_elements(entry)
    nodes = [e for e in elements if "source" not in e["data"]]
    assert nodes and (layout is not None) == bool(entry.model.loops)
    at = float(dominance["time"].values[len(dominance["time"]) // 2])
    coloured = diagram.coloured(elements, layout, dominance, at)
    assert len(coloured) == len(elements)
    assert loop_options(entry, dominance)


def test_an_xmile_upload_behaves_as_the_loader_does(registry: Registry) -> None:
    path = Path(__file__).parents[1] / "data" / "SIR.xmile"
    try:
        expected: str = fs.load_model(path).name
    except fs.ModelError as exc:
        expected = str(exc).replace(str(path), "SIR.xmile")
    try:
        got = registry.upload("SIR.xmile", path.read_bytes()).model.name
    except fs.ModelError as exc:
        got = str(exc)
    assert got == expected


def test_a_model_file_given_to_serve_keeps_its_scenario_file(tmp_path: Path) -> None:
    model = tmp_path / "mine.yaml"
    model.write_bytes(LOGISTIC)
    (tmp_path / "mine.scenarios.yaml").write_text(
        "scenarios:\n  fast: {description: faster growth, set: {growth_rate: 1.5}}\n"
    )
    app = fs.dashboard(str(model))
    entry = app.registry.uploads()[0]
    assert entry.label == "mine.yaml" and list(entry.study.scenarios) == ["fast"]


@pytest.mark.parametrize(("name", "loop"), [("amazon", "capacity_strain"), ("rivals", None)])
def test_picking_a_loop_draws_its_curve(registry: Registry, name: str, loop: str | None) -> None:
    from flywheel_sim.web.callbacks_study import loop_options, loop_view

    entry = registry.get(name)
    dominance = entry.dominance({})
    options = [o["value"] for o in loop_options(entry, dominance)]
    # a named loop of the diagram, or the strongest instance loop of an arrayed model
    loop_id = entry.search.by_name(loop).id if loop else next(o for o in options if "[" in o)
    style, fig = loop_view(entry, dominance, loop_id, 10.0)
    names = [t.name for t in fig.data]
    assert any(n.startswith(loop_id) for n in names), names
    if loop:
        assert "share of loop activity through its path" in names
        assert len(style) > len(diagram.stylesheet())
