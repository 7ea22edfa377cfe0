"""Loop structure: the causal graph, measured polarity, elementary loops and their types."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.loops import causal_graph, find_loops, loop_dominance, measure_polarity


def test_logistic_has_one_reinforcing_and_one_balancing_loop() -> None:
    search = find_loops(fs.load_model("logistic"))
    assert {(loop.name, loop.polarity) for loop in search.loops} == {
        ("growth", "R"),
        ("crowding", "B"),
    }
    assert search.complete and not search.unmatched and not search.contradictions
    assert search.by_name("crowding").links == ("-", "+", "+")


def test_sir_loops() -> None:
    search = find_loops(fs.load_model("sir"))
    kinds = {loop.name: loop.polarity for loop in search.loops}
    assert kinds == {"contagion": "R", "depletion": "B", "recovery": "B"}


def test_causal_graph_links_flows_to_stocks_and_leaves_out_parameters() -> None:
    graph = causal_graph(fs.load_model("sir"))
    assert graph.edges["succumbing", "susceptible"]["declared"] == "-"
    assert graph.edges["succumbing", "infectious"]["declared"] == "+"
    assert "contact_infectivity" not in graph
    assert graph.edges["infectious", "succumbing"]["kind"] == "equation"


def test_measured_polarity_follows_the_equations() -> None:
    measured = measure_polarity(fs.load_model("sir"))
    assert measured[("susceptible", "succumbing")] == "+"
    assert measured[("duration", "recovering")] == "-"
    assert measured[("recovering", "infectious")] == "-"


def test_polarity_through_smooths_and_delays_is_multiplied_out() -> None:
    measured = measure_polarity(fs.load_model("delay"))
    for target in ("smoothed_1", "delayed_1", "delayed_3", "pipeline"):
        assert measured[("input", target)] == "+", target


def test_a_state_dependent_link_is_marked() -> None:
    model = model_from(
        """
        name: hump
        time: {start: 0, stop: 10, dt: 0.1}
        stocks:
          x: {initial: 0.05, inflows: [grow]}
        flows:
          grow: {equation: x * (1 - x)}
        auxiliaries:
          hump: {equation: x * (1 - x)}
        """
    )
    measured = measure_polarity(model)
    assert measured[("x", "hump")] == "?"  # rises while x < 0.5, falls after


def test_a_declared_polarity_the_equations_contradict_is_reported() -> None:
    model = model_from(
        """
        name: wrong
        time: {start: 0, stop: 5, dt: 1}
        stocks:
          s: {initial: 10, outflows: [drain]}
        flows:
          drain:
            equation: s / 4
            links:
              s: {polarity: "-", source: "a mistaken declaration"}
        loops:
          draining: {variables: [s, drain], polarity: R}
        """
    )
    search = find_loops(model)
    assert [str(c) for c in search.contradictions] == [
        "link s -> drain is declared '-' but the equations give '+'"
    ]
    # the declared sign is what the loop type uses, so the loop is (wrongly) R as declared
    assert search.by_name("draining").polarity == "R"


@pytest.mark.parametrize("name", ["amazon", "seller", "rivals"])
def test_every_named_loop_of_the_library_is_found_with_its_type(name: str) -> None:
    model = fs.load_model(name)
    search = find_loops(model)
    assert search.complete and not search.unmatched, search.unmatched
    assert not search.contradictions, [str(c) for c in search.contradictions]
    for declared in model.loops:
        found = search.by_name(declared.name).polarity
        if declared.polarity != "?":  # a '?' loop takes the sign measured on this run
            assert found == declared.polarity, declared.name


def test_bounded_search_says_when_it_stopped_and_keeps_the_loops_that_matter() -> None:
    model = fs.load_model("amazon")
    capped = find_loops(model, max_loops=50)
    assert not capped.complete
    assert "stopped after 50 loops" in capped.note and "strongest-path search" in capped.note
    # the loops that dominate in the exhaustive analysis are among those it keeps
    full = loop_dominance(model)
    peak = abs(full.relative_score.isel(run=0)).max("time").values
    top = {str(v) for v in full.loop_variables.values[np.argsort(-peak)[:8]]}
    kept = {" -> ".join(loop.variables) for loop in capped.loops}
    assert len(top & kept) >= 6, top - kept  # a heuristic: most of the strongest, not all
    assert len(capped.loops) < 1000  # far fewer than the thousands of elementary loops
    short = find_loops(model, max_length=4)
    assert short.complete and max(loop.length for loop in short.loops) <= 4
    assert "up to 4 variables" in short.note
    names = {loop.name for loop in short.loops}
    assert {"market_saturation", "seller_competition", "word_of_mouth"} <= names


def test_flywheel_loops_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", "loops", "sir"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "contagion" in done.stdout and "1 R, 2 B" in done.stdout
    assert "0.03125–30.1875" in done.stdout  # contagion dominates until the epidemic peaks


def test_a_cycle_has_one_spelling_and_its_type_from_its_signs() -> None:
    from flywheel_sim.loops.cycles import loop_type, rotate

    assert rotate(["c", "a", "b"]) == rotate(["a", "b", "c"]) == ("a", "b", "c")
    assert rotate(["b", "c", "a"]) == ("a", "b", "c") and rotate(["a", "c", "b"]) != ("a", "b", "c")
    assert loop_type(["+", "-", "-"]) == "R" and loop_type(["+", "-"]) == "B"
    assert loop_type(["+", "?"]) == "?" and loop_type(["+", "0"]) == "?"
