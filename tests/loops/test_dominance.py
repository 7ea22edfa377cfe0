"""Loop dominance (Loops That Matter): switches at known times, batched, normalised."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim.loops import dominance_periods, find_loops, loop_dominance, search_dominance


def _switch_time(data, run: int, first: str, second: str) -> float:  # type: ignore[no-untyped-def]
    """When ``second`` overtakes ``first`` (linear interpolation between save times)."""
    rel = data.relative_score.isel(run=run)
    gap = np.abs(rel.sel(loop=second).values) - np.abs(rel.sel(loop=first).values)
    k = int(np.argmax(gap > 0))
    t = data.time.values
    return float(t[k - 1] + (t[k] - t[k - 1]) * -gap[k - 1] / (gap[k] - gap[k - 1]))


def test_logistic_dominance_switches_at_the_inflection_point() -> None:
    model = fs.load_model("logistic")
    data = loop_dominance(model)
    assert dict(zip(data.loop.values, data.loop_name.values, strict=True)) == {
        "R1": "growth",
        "B1": "crowding",
    }
    inflection = math.log(99) / 0.5  # P = K/2 for P0 = 10, K = 1000, r = 0.5
    assert abs(_switch_time(data, 0, "R1", "B1") - inflection) <= model.time.save_step  # type: ignore[operator]
    periods = dominance_periods(data)
    assert [p[2] for p in periods] == ["R1", "B1"]


def test_bass_dominance_switches_at_peak_adoption() -> None:
    data = loop_dominance(fs.load_model("bass"))
    p, q = 0.03, 0.38
    peak = math.log(q / p) / (p + q)  # the inflection of the Bass curve
    assert abs(_switch_time(data, 0, "R1", "B1") - peak) <= 0.25


def test_relative_scores_are_normalised_and_signed() -> None:
    data = loop_dominance(fs.load_model("sir"))
    rel = data.relative_score.isel(run=0)
    total = np.abs(rel).sum("loop").values
    active = total > 0
    assert active.all()  # SIR's loops are never all idle: every time is checked below
    np.testing.assert_allclose(total[active], 1.0, rtol=1e-9)
    assert (rel.sel(loop="R1").values >= 0).all()  # reinforcing loops score >= 0
    assert (rel.sel(loop="B1").values <= 0).all()


def test_dominance_of_a_batch_follows_each_runs_parameters() -> None:
    rates = np.array([0.3, 0.5, 1.0])
    data = loop_dominance(fs.load_model("logistic"), {"growth_rate": rates})
    assert data.sizes["run"] == 3
    for run, r in enumerate(rates):
        inflection = math.log(99) / r
        assert abs(_switch_time(data, run, "R1", "B1") - inflection) <= 0.5


def test_amazon_dominance_runs_and_ends_in_a_reinforcing_loop() -> None:
    data = loop_dominance(fs.load_model("amazon"))
    assert data.sizes["loop"] > 1000
    late = dominance_periods(data)[-1]
    assert late[1] == 2030 and all(i.startswith("R") for i in late[2].split("+"))


ARRAYED_LOGISTIC = """
name: two_markets
time: {start: 0, stop: 30, dt: 0.125, save_step: 0.5, method: rk4}
dimensions: {market: [slow, fast]}
parameters:
  growth_rate: {dims: [market], default: {slow: 0.3, fast: 0.8}}
  capacity: 1000
stocks:
  population: {dims: [market], initial: 10, inflows: [net_growth]}
flows:
  net_growth: {dims: [market], equation: growth_rate * population * crowding}
auxiliaries:
  crowding: {dims: [market], equation: 1 - population / capacity}
loops:
  growth: {variables: [population, net_growth], polarity: R}
  crowding: {variables: [population, crowding, net_growth], polarity: B}
"""


def test_arrayed_loops_are_scored_element_by_element() -> None:
    """Two independent logistic markets: each market's instance loops score exactly as the
    scalar logistic model with that market's growth rate, and switch at its own inflection."""
    data = loop_dominance(fs.loads_model(ARRAYED_LOGISTIC))
    assert sorted(data.loop.values) == ["B1[fast]", "B1[slow]", "R1[fast]", "R1[slow]"]
    names = dict(zip(data.loop.values, data.loop_name.values, strict=True))
    assert names["R1[slow]"] == "growth[slow]" and names["B1[fast]"] == "crowding[fast]"
    assert str(data.loop_variables.sel(loop="R1[fast]").values) == (
        "population[fast] -> net_growth[fast]"
    )
    scalar = fs.load_model("logistic")
    for market, rate in (("slow", 0.3), ("fast", 0.8)):
        alone = loop_dominance(scalar, {"growth_rate": rate})
        for loop in ("R1", "B1"):
            np.testing.assert_allclose(
                data.loop_score.sel(loop=f"{loop}[{market}]").values,
                alone.loop_score.sel(loop=loop).values,
                rtol=1e-9,
                atol=1e-12,
            )
        # relative scores are shared across all four loops, so compare the pair's scores
        score = data.loop_score.isel(run=0)
        gap = np.abs(score.sel(loop=f"B1[{market}]").values) - np.abs(
            score.sel(loop=f"R1[{market}]").values
        )
        k = int(np.argmax(gap > 0))
        assert abs(float(data.time[k]) - math.log(99) / rate) <= 0.5


def test_rivals_dominance_has_instance_and_rivalry_loops() -> None:
    data = loop_dominance(fs.load_model("rivals"))
    ids = [str(i) for i in data.loop.values]
    assert {"R2[incumbent]", "R2[entrant]", "B1[incumbent]"} <= set(ids)
    crossing = [i for i in ids if "x" in i.split("[")[0]]
    assert crossing and all(i.endswith("[entrant,incumbent]") for i in crossing)
    periods = dominance_periods(data)
    # before the entrant arrives (year 5) only incumbent loops can matter
    early = [p for p in periods if p[1] < 5]
    assert early and all("entrant" not in p[2] for p in early)
    assert any("entrant" in p[2] for p in periods if p[0] > 5)


def test_search_dominance_scores_a_search_as_loop_dominance_does() -> None:
    """One rule for every front end: a scalar model's search is scored as found, an arrayed
    model's by the instances of all its loops, even when the search was bounded."""
    logistic = fs.load_model("logistic")
    expected = loop_dominance(logistic, {"growth_rate": 0.5})
    found = search_dominance(logistic, find_loops(logistic), {"growth_rate": 0.5})
    assert found.identical(expected)
    rivals = fs.load_model("rivals")
    bounded = find_loops(rivals, max_length=3)
    assert bounded.max_length == 3 and len(bounded.loops) < len(find_loops(rivals).loops)
    assert search_dominance(rivals, bounded).identical(loop_dominance(rivals))


def test_arrayed_models_need_instance_loops() -> None:
    model = fs.load_model("rivals")
    element_loops = list(fs.find_loops(model).loops)
    with pytest.raises(fs.ModelError, match="its loops run element by element"):
        loop_dominance(model, loops=element_loops)


def test_flywheel_dominance_command(tmp_path: Path) -> None:
    chart = tmp_path / "dominance.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flywheel_sim.cli",
            "dominance",
            "logistic",
            "--plot",
            str(chart),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "R1 growth" in done.stdout and "B1 crowding" in done.stdout
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_reinforcing_loops_score_positive_through_builtin_structure() -> None:
    """FORCST/TREND hide an averaging stock; folding it into the input -> output link once
    flipped the sign of every loop through expected_orders. Loops typed R must score >= 0."""
    data = loop_dominance(fs.load_model("amazon")).sel(time=slice(2000, 2030))
    reinforcing = data.relative_score.isel(run=0).where(data.loop_type == "R", 0.0)
    negative_share = float((reinforcing.sum("loop") < -1e-6).mean())
    assert negative_share < 0.02, negative_share
    assert "loop_variables" in data.coords


def test_sir_dominance_agrees_with_pysimlin() -> None:
    """Same dominant loops and the same switch times (within one save step) as pysimlin's
    Loops That Matter on the SIR sample model (its loops: r1 contagion, b1 recovery, b2
    depletion)."""
    simlin = pytest.importorskip("simlin")
    reference = simlin.load(str(Path(__file__).parents[1] / "data" / "SIR.xmile")).run(
        analyze_loops=True
    )
    names = {"r1": "R1", "b1": "B1", "b2": "B2"}  # pysimlin id -> ours (same loops)
    theirs = [
        (p.start_time, p.end_time, sorted(names[i] for i in p.dominant_loops))
        for p in reference.dominant_periods
    ]
    data = loop_dominance(fs.load_model("sir"))
    assert dict(zip(data.loop.values, data.loop_name.values, strict=True)) == {
        "R1": "contagion",
        "B1": "recovery",
        "B2": "depletion",
    }
    ours = [(a, b, sorted(label.split("+"))) for a, b, label in dominance_periods(data)]
    assert [p[2] for p in ours] == [p[2] for p in theirs]
    step = float(fs.load_model("sir").time.dt)
    for mine, other in zip(ours, theirs, strict=True):
        assert abs(mine[0] - other[0]) <= step and abs(mine[1] - other[1]) <= step


def test_instance_loop_ids_do_not_depend_on_hash_order(tmp_path: Path) -> None:
    script = (
        "import flywheel_sim as fs; from flywheel_sim.loops import loop_dominance; "
        "d = loop_dominance(fs.load_model('rivals')); "
        "print([(str(i), str(v)) for i, v in zip(d.loop.values, d.loop_variables.values)])"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_flywheel_loops_of_an_arrayed_model() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", "loops", "rivals"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "[incumbent] 0.5–4.5" in done.stdout  # seller competition, before the entrant
    assert "by element: 247 instance loops" in done.stdout
