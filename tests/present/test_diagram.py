"""The causal-loop diagram: drawn from the named loops, offline, in every format."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim.loops import find_loops, loop_dominance
from flywheel_sim.loops.find import LoopSearch
from flywheel_sim.present.diagram.draw import Layout, diagram_layout, draw_diagram


def test_amazon_diagram_puts_the_virtuous_cycle_in_the_middle(tmp_path: Path) -> None:
    model = fs.load_model("amazon")
    path = draw_diagram(model, find_loops(model), tmp_path / "cld.svg")
    svg = path.read_text()
    for text in (
        "virtuous cycle",
        "lower cost structure",
        "capacity strain",
        "customer",
        "experience",
        "sellers",
    ):
        assert text in svg, text


def test_diagram_coloured_by_dominance(tmp_path: Path) -> None:
    model = fs.load_model("logistic")
    search = find_loops(model)
    data = loop_dominance(model, loops=list(search.loops))
    svg = draw_diagram(model, search, tmp_path / "d.svg", dominance=data, at=12).read_text()
    assert "-79.3%" in svg and "+20.7%" in svg  # crowding dominates after the inflection
    assert "dominant at 12" in svg and "B1 crowding" in svg


def test_diagram_errors(tmp_path: Path) -> None:
    model = fs.load_model("logistic")
    search = find_loops(model)
    with pytest.raises(fs.ModelError, match="no named loop 'growht'"):
        draw_diagram(model, search, tmp_path / "x.png", core="growht")
    with pytest.raises(fs.OutputError, match="use one of"):
        draw_diagram(model, search, tmp_path / "x.gif")


def test_flywheel_diagram_command(tmp_path: Path) -> None:
    out = tmp_path / "amazon.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flywheel_sim.cli",
            "diagram",
            "amazon",
            "-o",
            str(out),
            "--at",
            "2015",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


def _layouts() -> dict[str, tuple[Layout, LoopSearch]]:
    out = {}
    for name in ("amazon", "rivals", "seller", "logistic", "sir"):
        model = fs.load_model(name)
        search = find_loops(model)
        out[name] = (diagram_layout(model, search), search)
    return out


LAYOUTS = _layouts()


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_named_loop_gets_a_connected_chip(name: str) -> None:
    layout, search = LAYOUTS[name]
    named = {str(loop.name) for loop in search.loops if loop.name} - {str(layout.core.name)}
    assert {str(chip.loop.name) for chip in layout.chips} == named
    for c, chip in enumerate(layout.chips):
        mine = [r for r in layout.routes if r.chip == c]
        assert len(mine) == 2, chip.loop.name  # one route out of the core, one back
        assert {r.sign for r in mine} <= {"+", "-", ""}


def test_a_loop_apart_from_the_core_is_linked_by_dashed_paths() -> None:
    layout, _ = LAYOUTS["amazon"]
    c = next(i for i, chip in enumerate(layout.chips) if chip.loop.name == "prime_marketplace")
    mine = [r for r in layout.routes if r.chip == c]
    assert mine and all(r.dashed for r in mine)
    assert not any(r.dashed for r in layout.routes if r.chip != c)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_routes_go_around_the_core_circle_not_across_it(name: str) -> None:
    layout, _ = LAYOUTS[name]
    assert any(route.chip >= 0 for route in layout.routes)  # every layout has chip routes
    for route in layout.routes:
        if route.chip >= 0:
            assert min(math.hypot(x, y) for x, y in route.points) > layout.radius


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_chips_overlap_neither_each_other_nor_the_core(name: str) -> None:
    layout, _ = LAYOUTS[name]
    boxes = [chip.box for chip in layout.chips]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])
        assert not any(a.overlaps(node) for node in layout.nodes.values())
        assert math.hypot(a.x, a.y) > layout.radius
    nodes = list(layout.nodes.values())
    for i, a in enumerate(nodes):
        assert not any(a.overlaps(b) for b in nodes[i + 1 :])


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_axis_limits_hold_all_content_with_little_spare(name: str) -> None:
    layout, _ = LAYOUTS[name]
    x0, x1, y0, y1 = layout.limits
    boxes = [*layout.nodes.values(), *(chip.box for chip in layout.chips)]
    xs = [p[0] for r in layout.routes for p in r.points] + [b.x - b.w for b in boxes]
    xs += [b.x + b.w for b in boxes]
    ys = [p[1] for r in layout.routes for p in r.points] + [b.y - b.h for b in boxes]
    ys += [b.y + b.h for b in boxes] + [block.top for block in layout.blocks]
    ys += [item[2] for item in layout.legend]
    assert x0 < min(xs) and max(xs) < x1 and y0 < min(ys) and max(ys) < y1
    assert max(ys) - min(ys) > 0.8 * (y1 - y0)  # no big empty band


def test_signs_sit_near_the_arrowheads_and_apart() -> None:
    layout, _ = LAYOUTS["seller"]
    spots = [r.sign_at for r in layout.routes if r.sign]
    assert spots and all(spot is not None for spot in spots)
    for route in layout.routes:
        if route.sign and route.sign_at:
            assert math.dist(route.sign_at, route.points[-1]) < 2.5
    placed = [s for s in spots if s is not None]
    for i, a in enumerate(placed):
        assert all(math.dist(a, b) > 0.2 for b in placed[i + 1 :])


def _dominance(rows: list[tuple[str, str, str, float]]) -> xr.Dataset:
    """A hand-made dominance Dataset at one time: (loop, name, variables, relative score)."""
    ids = [r[0] for r in rows]
    scores = np.array([[[r[3] for r in rows]]])
    return xr.Dataset(
        {
            "relative_score": (("run", "time", "loop"), scores),
            "loop_score": (("run", "time", "loop"), scores),
            "dominant": (("run", "time"), np.array([["B1"]])),
        },
        coords={
            "run": [0],
            "time": [5.0],
            "loop": ids,
            "loop_name": ("loop", [r[1] for r in rows]),
            "loop_type": ("loop", [r[0][0] for r in rows]),
            "loop_variables": ("loop", [r[2] for r in rows]),
        },
    )


def test_chip_share_is_the_activity_passing_through_its_variables() -> None:
    model = fs.load_model("logistic")
    search = find_loops(model)
    data = _dominance(
        [
            ("R1", "growth", "population -> net_growth", 0.2),
            ("B1", "crowding", "population -> crowding -> net_growth", -0.5),
            ("X1[a]", "", "population[a] -> crowding[a] -> other[a] -> net_growth[a]", 0.2),
            ("X2", "", "crowding -> other", -0.1),
        ]
    )
    layout = diagram_layout(model, search, dominance=data, at=5)
    (chip,) = layout.chips
    assert chip.share == pytest.approx(0.5 + 0.2 + 0.1)  # every loop through 'crowding'
    texts = [line.text for block in layout.blocks for line in block.lines]
    assert "90% of loop activity" in texts  # R1, B1 and X1 use a link of the core loop
    assert any(line.text == "80% of loop activity passes here" for line in chip.lines)
    widths = {r.points[0][0] > 0: r.width for r in layout.routes if r.chip < 0}
    assert widths[True] < widths[False]  # population -> net_growth: R1 only (0.2 of 1)


def test_the_picture_does_not_depend_on_hash_order(tmp_path: Path) -> None:
    """Sets of strings iterate in a different order under each PYTHONHASHSEED; the diagram
    (with matplotlib's own random ids fixed) must come out byte for byte the same."""
    import os
    import subprocess
    import sys

    script = (
        "import sys, matplotlib; matplotlib.rcParams['svg.hashsalt'] = 'fixed'; "
        "import flywheel_sim as fs; from flywheel_sim.present.diagram.draw import draw_diagram; "
        "m = fs.load_model('amazon'); draw_diagram(m, fs.find_loops(m), sys.argv[1])"
    )
    pictures = []
    for seed in ("1", "2"):
        out = tmp_path / f"d{seed}.svg"
        done = subprocess.run(
            [sys.executable, "-c", script, str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr
        pictures.append([ln for ln in out.read_text().splitlines() if "dc:date" not in ln])
    assert pictures[0] == pictures[1]
