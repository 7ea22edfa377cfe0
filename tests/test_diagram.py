"""The causal-loop diagram: drawn from the named loops, offline, in every format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flywheel_sim as fs
from flywheel_sim.loops import find_loops, loop_dominance
from flywheel_sim.present.diagram import draw_diagram


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
