"""XMILE as tools write it in the wild (issue 19): how ``^`` groups, pre-1.0 files, elements
without simulation meaning, method lists, module connections and an export other tools read.

Each model here is small and written for the test; expected values are computed by hand
(or by pysimlin, an independent engine, where it is said)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_xmile import run, values, xmile

from flywheel_sim import loads_model, simulate
from flywheel_sim.io.xmile import dumps_xmile, loads_xmile, save_xmile
from flywheel_sim.io.yaml.writer import dumps_yaml

# -- ^ groups right to left (XMILE 1.0 §3.3.1 operator precedence) ----------------------------

POWERS = (
    '<aux name="a"><eqn>2</eqn></aux>'
    '<aux name="right"><eqn>a^3^2</eqn></aux>'  # a^(3^2) = 2^9
    '<aux name="left"><eqn>(a^3)^2</eqn></aux>'  # 8^2
    '<aux name="neg"><eqn>-a^2</eqn></aux>'  # -(a^2), not (-a)^2
    '<aux name="neg exponent"><eqn>a^-1^2</eqn></aux>'  # a^(-(1^2)) = 0.5
    '<aux name="times"><eqn>3*a^2^2</eqn></aux>'  # 3 * 2^4
)
EXPECTED = {"right": 512.0, "left": 64.0, "neg": -4.0, "neg_exponent": 0.5, "times": 48.0}


def test_power_groups_right_to_left_in_an_xmile_model() -> None:
    result = run(xmile(POWERS))
    for name, want in EXPECTED.items():
        assert values(result, name)[0] == want, name


def test_power_round_trip_read_write_read_keeps_the_values() -> None:
    model = loads_xmile(xmile(POWERS))
    text = dumps_xmile(model)
    # the export spells out the grouping, so tools that group ^ left to right read it alike
    assert "a ^ (3 ^ 2)" in text and "(a ^ 3) ^ 2" in text and "-(a ^ 2)" in text
    back = loads_xmile(text)
    result = simulate(back)
    for name, want in EXPECTED.items():
        assert values(result, name)[0] == want, name
    assert dumps_xmile(back) == text


def test_power_round_trip_through_yaml() -> None:
    model = loads_model(
        "name: p\ntime: {start: 0, stop: 1, dt: 1}\nparameters:\n  a: {default: 2}\n"
        "auxiliaries:\n  r: {equation: a^3^2}\n  l: {equation: (a^3)^2}\n"
        "  plain: {equation: 'a^2 + 1  {kept as written}'}\n"
    )
    result = simulate(model)
    assert values(result, "r")[0] == 512.0 and values(result, "l")[0] == 64.0
    text = dumps_yaml(model)
    # a chain of powers is written with its parentheses; other equations as written
    assert "a ^ (3 ^ 2)" in text and "(a ^ 3) ^ 2" in text and "{kept as written}" in text
    back = simulate(loads_model(text))
    assert values(back, "r")[0] == 512.0 and values(back, "l")[0] == 64.0


def test_pysimlin_reads_our_powers_with_the_same_values(tmp_path: Path) -> None:
    simlin = pytest.importorskip("simlin")
    path = save_xmile(loads_xmile(xmile(POWERS)), tmp_path / "powers.xmile")
    theirs = simlin.load(str(path)).run(analyze_loops=False).results
    for name, want in EXPECTED.items():
        assert float(np.asarray(theirs[name])[0]) == want, name
