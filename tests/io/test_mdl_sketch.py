"""The sketch of a .mdl file (io/mdl/sketch.py) kept as the model's diagram layout, and the
layout across formats: YAML (io/yaml/layout.py) and XMILE views (io/xmile/views.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl, loads_mdl
from flywheel_sim.io.mdl.sketch import read_sketch
from flywheel_sim.io.xmile.reader import loads_xmile
from flywheel_sim.io.xmile.writer import dumps_xmile
from flywheel_sim.io.yaml.reader import loads_model
from flywheel_sim.io.yaml.writer import dumps_yaml
from flywheel_sim.spec.layout import Layout, Place

MDL = Path(__file__).parents[1] / "mdl"
TEACUP = MDL / "samples__teacup__teacup" / "teacup.mdl"  # SDXorg test-models samples/teacup
SIR = MDL / "samples__SIR__SIR" / "SIR.mdl"  # SDXorg test-models samples/SIR
ROESSLER = MDL / "samples__Roessler_Chaos__roessler_chaos" / "roessler_chaos.mdl"  # SDXorg


def test_teacup_sketch_places_every_variable_as_drawn() -> None:
    """The four variables of the teacup at the x, y, width, height of their ``10`` records,
    the flow's valve from its ``11`` record, and the information arrows (not the flow's pipes,
    which leave the valve) with their control points."""
    layout = load_mdl(TEACUP).layout
    assert layout is not None
    places = {p.name: (p.x, p.y, p.width, p.height, p.view) for p in layout.places}
    assert places == {
        "Teacup Temperature": (307, 235, 40, 20, ""),
        "Heat Loss to Room": (408, 251, 49, 8, ""),
        "Room Temperature": (469, 304, 49, 8, ""),
        "Characteristic Time": (408, 174, 49, 8, ""),
    }
    assert [(v.name, v.x, v.y) for v in layout.valves] == [("Heat Loss to Room", 408, 235)]
    curves = {(c.source, c.target): c.points for c in layout.curves}
    assert curves == {
        ("Characteristic Time", "Heat Loss to Room"): ((408, 198),),
        ("Teacup Temperature", "Heat Loss to Room"): ((340, 296),),
        ("Room Temperature", "Heat Loss to Room"): ((437, 284),),
    }
    assert layout.views == ()


@pytest.mark.parametrize("path", [SIR, ROESSLER])
def test_sir_and_roessler_sketches_place_all_their_variables(path: Path) -> None:
    """Every variable of SIR (3 stocks, 2 flows, 3 constants) and of the Roessler attractor is
    drawn in their sketches; SIR's stocks sit left to right in the order of the disease."""
    model = load_mdl(path)
    assert model.layout is not None
    assert {p.name for p in model.layout.places} == {e.name for e in model.elements}
    if path == SIR:
        xs = [model.layout.position(n).x for n in ("Susceptible", "Infectious", "Recovered")]  # type: ignore[union-attr]
        assert xs == sorted(xs)


# hand-written for this test: quoted names (a comma inside, a name over two lines), a ghost
# drawn before the variable itself, a record of another variable, malformed records, a valve
# and a second view
SKETCH = r"""\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0
10,1,"stock, the first",100,50,40,20,3,3,0,0,0,0,0,0
10,2,growth rate,10,20,40,20,8,2,0,0,0,0,0,0
10,3,"broken name,40,60,10,10,8,3,0,0,0,0,0,0
12,4,0,200,50,60,20,8,7,0,0,-1,0,0,0
10,5,looks like a record,1,1,1,1,8,3
10,6,no position,abc,def,1,1,8,3
10,7,Time,300,300,20,10,8,2,0,0,0,0,0,0
11,8,0,150,50,6,8,34,3,0,0,1,0,0,0
10,9,inflow,150,66,20,8,40,3,0,0,-1,0,0,0
1,10,8,1,4,0,0,22,0,0,0,-1--1--1,,1|(120,50)|
1,11,2,9,1,0,0,0,0,64,0,-1--1--1,,1|(90,30)|
10,12
1,13,99,2,0,0,0,0,0,64,0,-1--1--1,,1|(0,0)|
\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*Second page
$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0
10,1,Growth Rate,500,400,40,20,8,3,0,0,0,0,0,0
10,2,"a name
over two lines",70,80,30,10,8,3,0,0,0,0,0,0
///---\\\
"""


def test_hand_written_sketch_quotes_ghosts_and_malformed_records() -> None:
    names = {
        "stock,_the_first": "stock, the first",
        "growth_rate": "growth rate",
        "inflow": "inflow",
        "a_name_over_two_lines": "A name over two lines",
    }
    layout = read_sketch(SKETCH, names)
    assert layout is not None
    places = {p.name: (p.x, p.y, p.view) for p in layout.places}
    assert places == {
        "stock, the first": (100, 50, "View 1"),
        "growth rate": (500, 400, "Second page"),  # the variable, not the ghost before it
        "inflow": (150, 66, "View 1"),
        "A name over two lines": (70, 80, "Second page"),
    }
    assert layout.views == ("View 1", "Second page")
    assert [(v.name, v.x, v.y) for v in layout.valves] == [("inflow", 150, 50)]
    # the pipe from the valve is not a curve; the arrow from the ghost is the variable's
    assert [(c.source, c.target, c.points) for c in layout.curves] == [
        ("growth rate", "inflow", ((90, 30),))
    ]


def test_a_sketch_never_places_a_variable_of_another_name() -> None:
    """Names are matched by their canonical form only: 'Time', the comment and unknown names
    place nothing, and a sketch that names no variable gives no layout."""
    layout = read_sketch(SKETCH, {"growth": "growth", "time_rate": "time rate"})
    assert layout is None
    assert read_sketch("10,1,x,1,2,3,4,3,3\n", {"y": "y"}) is None
    assert read_sketch("garbage\n10,\n1,2\n", {"x": "x"}) is None


def test_a_broken_sketch_does_not_stop_the_model() -> None:
    text = TEACUP.read_text().replace("10,7,Room Temperature,469,304", '10,7,"Room Temp,469,304')
    model = loads_mdl(text)
    assert model.layout is not None
    assert model.layout.position("Room Temperature") is None
    assert model.layout.position("Teacup Temperature") is not None


def test_layout_round_trips_through_yaml() -> None:
    model = load_mdl(SIR)
    text = dumps_yaml(model)
    assert "layout:" in text
    again = loads_model(text)
    assert again.layout == model.layout


def test_yaml_layout_naming_an_unknown_variable_is_refused() -> None:
    text = dumps_yaml(load_mdl(TEACUP)).replace(
        "    Room Temperature:\n      x:", "    Room Temp:\n      x:"
    )
    with pytest.raises(ModelError, match="layout places 'Room Temp'"):
        loads_model(text)
    bad = dumps_yaml(load_mdl(TEACUP)).replace("x: 307", "x: left")
    with pytest.raises(ModelError, match="must be a number"):
        loads_model(bad)


def test_layout_round_trips_through_xmile_views() -> None:
    """Written as <views><view> with <stock>/<flow>/<aux> at x, y (XMILE 1.0, Views); read back,
    a flow sits at its valve."""
    model = load_mdl(SIR)
    assert model.layout is not None
    text = dumps_xmile(model)
    assert '<stock name="Susceptible" x="248" y="267" width="40" height="20"' in text
    again = loads_xmile(text)
    assert again.layout is not None
    before = {p.name: (p.x, p.y) for p in model.layout.places}
    valves = {v.name: (v.x, v.y) for v in model.layout.valves}
    after = {p.name: (p.x, p.y) for p in again.layout.places}
    assert after == before | valves


def test_model_refuses_a_layout_of_another_variable_and_ignores_it_in_equality() -> None:
    model = load_mdl(TEACUP)
    with pytest.raises(ModelError, match="not a variable of the model"):
        replace(model, layout=Layout((Place("nobody", 1, 2),)))
    assert replace(model, layout=None) == model  # the layout only draws the model


def test_views_are_stacked_for_one_plane() -> None:
    layout = Layout(
        (
            Place("a", 0, 0, view="one"),
            Place("b", 10, 100, view="one"),
            Place("c", 5, 0, view="two"),
        ),
        views=("one", "two"),
    )
    positions = layout.positions()
    assert positions["a"] == (0, 0) and positions["b"] == (10, 100)
    assert positions["c"][1] > 100  # the second view below the first
