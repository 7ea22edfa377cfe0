"""The terminal views of loops, dominance and the diagnosis (what `flywheel loops`,
`dominance` and `diagnose` print)."""

from __future__ import annotations

import io

from rich.console import Console

import flywheel_sim as fs
from flywheel_sim.diagnostics import Questions, diagnose
from flywheel_sim.loops import find_loops, search_dominance
from flywheel_sim.present.loop_tables import (
    diagnosis_view,
    dominance_table,
    dominant_spans,
    loops_view,
)


def text(*items: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    for item in items:
        console.print(item)
    return out.getvalue()


def test_the_loop_listing_says_when_each_loop_dominates() -> None:
    model = fs.load_model("logistic")
    search = find_loops(model)
    data = search_dominance(model, search)
    shown, warnings = loops_view(model, search, data, show=1)
    printed = text(*shown)
    assert "logistic: 2 feedback loops (1 R, 1 B, 0 ?)" in printed
    assert "... 1 more (--show N to list them)" in printed and "search: all elementary" in printed
    assert warnings == []
    first = search.loops[0].id
    assert dominant_spans(data, first, arrayed=False) in printed
    table = text(dominance_table(data))
    assert "dominant loops" in table and "R1 growth" in table and "B1 crowding" in table


def test_an_arrayed_model_dominates_element_by_element() -> None:
    model = fs.load_model("rivals")
    search = find_loops(model)
    data = search_dominance(model, search)
    spans = dominant_spans(data, "R2", arrayed=True)  # markup: [ escaped for rich
    assert spans.startswith("\\[entrant] 5") and "; \\[incumbent] " in spans
    shown, _ = loops_view(model, search, data, show=3)
    assert "instance loops" in text(*shown) and "crossing" in text(*shown)


def test_the_diagnosis_view_names_what_was_asked() -> None:
    model = fs.load_model("logistic")
    found = diagnose(model, questions=Questions(stock="population", at=20))
    printed = " ".join(text(*diagnosis_view(model, found, top=2)).split())
    assert "take-off (population)" in printed
    assert "leverage: elasticity of population at 20 to each parameter" in printed
    assert "critical push" not in printed and "coasting" not in printed
    assert "growth_rate" in printed and "nan" not in printed
