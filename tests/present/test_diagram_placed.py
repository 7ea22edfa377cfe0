"""The diagram at the modeller's positions (present/diagram/placed.py, cytoscape graph_elements
with positions), from the sketches of SDXorg test-models samples/SIR and samples/teacup
(tests/mdl/)."""

from __future__ import annotations

from pathlib import Path

import pytest

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl
from flywheel_sim.loops import find_loops
from flywheel_sim.present.diagram.cytoscape import graph_elements
from flywheel_sim.present.diagram.draw import draw_diagram
from flywheel_sim.present.diagram.placed import placed_layout, use_model_layout

MDL = Path(__file__).parents[1] / "mdl"
SIR = MDL / "samples__SIR__SIR" / "SIR.mdl"
TEACUP = MDL / "samples__teacup__teacup" / "teacup.mdl"


def test_nodes_follow_the_sketch() -> None:
    """SIR's stocks left to right as drawn, at one height; the flows below the stocks (y
    upwards here, downwards in the sketch); spacings in the sketch's proportions."""
    model = load_mdl(SIR)
    lay = placed_layout(model, find_loops(model))
    n = lay.nodes
    assert n["susceptible"].x < n["succumbing"].x < n["infectious"].x < n["recovering"].x
    assert n["infectious"].x < n["recovered"].x
    assert n["susceptible"].y == n["infectious"].y == n["recovered"].y
    assert n["succumbing"].y < n["susceptible"].y
    # 248, 413, 579 in the sketch: the gaps 165 and 166 stay (nearly) equal
    left = n["infectious"].x - n["susceptible"].x
    right = n["recovered"].x - n["infectious"].x
    assert right / left == pytest.approx(166 / 165)


def test_links_join_the_placed_variables_and_bend_as_drawn() -> None:
    model = load_mdl(TEACUP)
    lay = placed_layout(model, find_loops(model))
    ends = {(r.points[0], r.points[-1]) for r in lay.routes}
    assert len(ends) == len(lay.routes) == 2  # the causal graph: temperature <-> heat loss
    # teacup temperature -> heat loss is drawn below both (control point 340, 296): the route
    # dips below the straight line between them
    a, b = lay.nodes["teacup_temperature"], lay.nodes["heat_loss_to_room"]
    route = next(
        r
        for r in lay.routes
        if abs(r.points[0][0] - a.x) < a.w + 0.2
        and r.points[-1][0] > a.x
        and abs(r.points[-1][0] - b.x) < b.w + 0.2
    )
    assert min(p[1] for p in route.points) < min(a.y, b.y) - 0.2


def test_layout_choice(tmp_path: Path) -> None:
    model = load_mdl(SIR)
    assert use_model_layout(model, None) and use_model_layout(model, "model")
    assert not use_model_layout(model, "auto")
    amazon = fs.load_model("amazon")  # a built-in model with no layout
    assert not use_model_layout(amazon, None)
    with pytest.raises(ModelError, match="no diagram layout"):
        use_model_layout(amazon, "model")
    svg = draw_diagram(model, find_loops(model), tmp_path / "sir.svg").read_text()
    assert "as the modeller drew it" in svg and "infectious" in svg


def test_dashboard_graph_uses_the_model_positions() -> None:
    """The dashboard's Cytoscape (layout "preset") gets the sketch's positions."""
    model = load_mdl(SIR)
    search = find_loops(model)
    assert model.layout is not None
    elements = graph_elements(search, model.layout.positions())
    where = {e["data"]["id"]: e["position"] for e in elements if "position" in e}
    assert where["v:susceptible"]["x"] < where["v:infectious"]["x"] < where["v:recovered"]["x"]
    assert where["v:susceptible"]["y"] == where["v:infectious"]["y"]
    assert where["v:succumbing"]["y"] > where["v:susceptible"]["y"]  # below, y downwards
