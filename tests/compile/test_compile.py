"""Compiler: name resolution, ordering, stateful expansion and every compile-time error path.

Each error is one line naming the file, line and variable, with a fix where one exists.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.compile import ops

BASE = """\
name: t
time: {start: 0, stop: 10, dt: 1}
parameters:
  rate: {default: 0.1, min: 0, max: 1}
stocks:
  customers: {initial: 100, inflows: [joining], outflows: [churn]}
flows:
  joining: {equation: rate * customers}
  churn: {equation: "%s"}
"""


def compile_churn(equation: str) -> fs.Program:
    return fs.compile_model(model_from(BASE % equation, file="amazon.yaml"))


def test_unknown_name_has_location_and_suggestion() -> None:
    with pytest.raises(fs.ModelError) as info:
        compile_churn("custmers * 0.05")
    message = str(info.value)
    assert message.startswith("unknown name 'custmers' in flow 'churn' (amazon.yaml:9)")
    assert "did you mean 'customers'?" in message
    assert info.value.variable == "churn"
    assert "\n" not in message


def test_unknown_function_suggests_builtin() -> None:
    with pytest.raises(fs.ModelError, match=r"unknown function 'SMOTH1'.*did you mean 'SMTH1'"):
        compile_churn("SMOTH1(customers, 3)")


@pytest.mark.parametrize(
    ("equation", "expected"),
    [
        ("MAX()", "MAX takes at least 1 argument"),
        ("SQRT(1, 2)", "SQRT takes 1 argument"),
        ("STEP(1)", "STEP takes 2 argument"),
        ("SMTH1(customers)", "SMTH1 takes 2 to 3 argument"),
        ("PULSE(1, 2, 3, 4)", "PULSE takes 1 to 3 argument"),
    ],
)
def test_wrong_arity(equation: str, expected: str) -> None:
    with pytest.raises(fs.ModelError, match=expected) as info:
        compile_churn(equation)
    assert "in flow 'churn' (amazon.yaml:9)" in str(info.value)
    assert "use " in str(info.value)  # the signature is shown as the fix


def test_algebraic_loop_names_the_cycle() -> None:
    model = model_from(
        """
        name: loop
        time: {start: 0, stop: 5, dt: 1}
        auxiliaries:
          price: {equation: cost * markup}
          cost: {equation: volume * 0.1}
          volume: {equation: 100 / price}
          markup: {equation: "1.2"}
        """
    )
    with pytest.raises(fs.ModelError) as info:
        fs.compile_model(model)
    message = str(info.value)
    assert message.startswith("algebraic loop:")
    for name in ("price", "cost", "volume"):
        assert name in message
    assert "markup" not in message.split("(")[0]
    assert "break the loop with a stock" in message


def test_previous_breaks_an_algebraic_loop() -> None:
    model = model_from(
        """
        name: prev
        time: {start: 0, stop: 3, dt: 1}
        auxiliaries:
          x: {equation: "PREVIOUS(x, 1) * 2"}
        """
    )
    result = fs.simulate(model, options=fs.Options(backend="numpy"))
    assert result.x.values[0].tolist() == [2.0, 4.0, 8.0, 16.0]


def test_initial_value_cycle_is_reported() -> None:
    model = model_from(
        """
        name: init
        time: {start: 0, stop: 3, dt: 1}
        stocks:
          a: {initial: b, inflows: []}
          b: {initial: a}
        """
    )
    with pytest.raises(fs.ModelError, match="initial values depend on each other: a -> b"):
        fs.compile_model(model)


DIMS = """\
name: dims
time: {start: 0, stop: 2, dt: 1}
dimensions:
  platform: [amazon, rival]
  region: [north, south]
parameters:
  price: {dims: [platform], default: {amazon: 10, rival: 12}}
  size: {dims: [region], default: 5}
auxiliaries:
  revenue: {dims: [platform], equation: %s}
"""


def test_dimension_mismatch_is_explained() -> None:
    with pytest.raises(fs.ModelError) as info:
        fs.compile_model(model_from(DIMS % "price * size", file="m.yaml"))
    message = str(info.value)
    assert "dimension mismatch: 'size' is over [region]" in message
    assert "in auxiliary 'revenue' (m.yaml:10)" in message
    assert "SUM(size[*])" in message


@pytest.mark.parametrize(
    ("equation", "expected"),
    [
        ("price[moon]", "'moon' is not an element of dimension 'platform'"),
        ("price[3]", "position 3 is outside dimension 'platform'"),
        ("price[amazon, north]", "has 1 dimension(s) but 2 subscript(s)"),
        ("price[*]", "can only be used inside SUM"),
        ("rate2", "unknown name 'rate2'"),
    ],
)
def test_subscript_errors(equation: str, expected: str) -> None:
    with pytest.raises(fs.ModelError, match=re.escape(expected)):
        fs.compile_model(model_from(DIMS % f'"{equation}"'))


def test_arrays_broadcast_reduce_and_override() -> None:
    text = DIMS % '"price * SUM(size[*]) + price[rival] + price[1]"'
    result = fs.simulate(model_from(text), options=fs.Options(backend="numpy"))
    revenue = result.revenue.isel(run=0, time=0)
    assert revenue.dims == ("platform",)
    assert revenue.sel(platform="amazon").item() == 10 * 10 + 12 + 10
    assert revenue.sel(platform="rival").item() == 12 * 10 + 12 + 10


def test_lookup_must_be_called() -> None:
    model = model_from(
        """
        name: lk
        time: {start: 0, stop: 2, dt: 1}
        lookups:
          effect: {points: [[0, 1], [1, 2]]}
        auxiliaries:
          y: {equation: effect * 2}
        """
    )
    with pytest.raises(fs.ModelError, match="lookup 'effect' must be called like a function"):
        fs.compile_model(model)


def test_constant_auxiliaries_are_computed_once() -> None:
    """Static equations (no TIME, state or randomness upstream) leave the per-step code."""
    model = model_from(
        """
        name: hoist
        time: {start: 0, stop: 2, dt: 1}
        parameters:
          a: {default: 2}
        auxiliaries:
          b: {equation: a * 3}
          c: {equation: b + TIME}
        """
    )
    program = fs.compile_model(model)
    stored = set(program.step_code[1::2][program.step_code[0::2] == ops.STORE].tolist())
    slots = dict(zip(program.slot_keys, range(program.n_slots), strict=True))
    assert slots["c"] in stored
    assert slots["b"] not in stored
    result = fs.simulate(program, {"a": [1.0, 4.0]}, options=fs.Options(backend="numpy"))
    assert result.c.values.tolist() == [[3, 4, 5], [12, 13, 14]]


def test_equations_are_ordered_by_dependency() -> None:
    model = model_from(
        """
        name: order
        time: {start: 0, stop: 1, dt: 1}
        auxiliaries:
          d: {equation: c + 1}
          c: {equation: b + 1}
          b: {equation: TIME + 1}
        """
    )
    result = fs.simulate(model, options=fs.Options(backend="numpy"))
    assert result.d.values[0].tolist() == [3.0, 4.0]


def test_compile_is_cached_and_programs_are_data() -> None:
    model = fs.load_model("sir")
    assert fs.compile_model(model) is fs.compile_model(model)
    program = fs.compile_model(model)
    assert program.init_code.dtype == np.int64 and program.step_code.ndim == 1
    assert {v.key for v in program.variables} >= {"susceptible", "succumbing", "duration"}


def test_stateful_builtins_become_hidden_stocks() -> None:
    model = model_from(
        """
        name: hidden
        time: {start: 0, stop: 1, dt: 1}
        auxiliaries:
          s: {equation: "SMTH3(TIME, 3)"}
          d: {equation: "DELAYN(TIME, 4, 5)"}
        """
    )
    program = fs.compile_model(model)
    hidden = [k for k in program.slot_keys if "#stage" in k]
    assert len(hidden) == 3 + 5
    assert len(program.stock_slots) == 8


def test_delayn_order_must_be_a_number() -> None:
    with pytest.raises(fs.ModelError, match="order n of DELAYN must be a whole number"):
        compile_churn("DELAYN(customers, 3, rate)")


def test_random_seed_must_be_a_number() -> None:
    with pytest.raises(fs.ModelError, match="seed of RANDOM must be a number"):
        compile_churn("RANDOM(0, 1, rate)")


def test_program_cache_compiles_once_however_limits_are_passed() -> None:
    """``compile_model(m)`` and ``compile_model(m, DEFAULT)`` are one program (an lru_cache
    keyed them apart, so ``flywheel run`` compiled every model twice)."""
    from flywheel_sim.compile import PROGRAMS
    from flywheel_sim.limits import DEFAULT, Limits

    model = model_from(BASE % "0.05 * customers")
    PROGRAMS.clear()
    first = fs.compile_model(model)
    assert fs.compile_model(model, DEFAULT) is first
    assert fs.compile_model(model, limits=DEFAULT) is first
    assert len(PROGRAMS) == 1
    other = fs.compile_model(model, Limits(max_cells=10**6))
    assert other is not first and len(PROGRAMS) == 2


def test_program_cache_is_bounded_by_entries_and_slots() -> None:
    from flywheel_sim.compile import ProgramCache
    from flywheel_sim.limits import DEFAULT

    small = fs.compile_model(model_from(BASE % "0.05 * customers"))
    cache = ProgramCache(entries=2, slots=3 * small.n_slots)
    keys = [(model_from(BASE % f"0.0{i} * customers"), DEFAULT) for i in range(1, 5)]
    cache.put(keys[0], small)
    cache.put(keys[1], small)
    assert cache.get(keys[0]) is small  # now the most recent
    cache.put(keys[2], small)  # over two entries: the least recent (keys[1]) goes
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is small and len(cache) == 2
    tight = ProgramCache(entries=64, slots=2 * small.n_slots)
    for key in keys[:3]:
        tight.put(key, small)
    assert len(tight) == 2  # three would hold more slots than allowed
    assert ProgramCache(slots=small.n_slots - 1).get(keys[0]) is None
    too_big = ProgramCache(slots=small.n_slots - 1)
    too_big.put(keys[0], small)
    assert len(too_big) == 0


def test_counted_dimension_elements_do_not_fill_the_name_cache() -> None:
    """A million-element counted dimension used to leave a million entries (about 200 bytes
    each) in the canonical-name cache."""
    from flywheel_sim.spec.names import canonical, canonical_elements

    model = model_from(
        "name: d\ntime: {start: 0, stop: 1, dt: 1}\ndimensions: {d: 5000}\n"
        "parameters:\n  p: {dims: [d], default: 1}\n"
    )
    canonical.cache_clear()
    program = fs.compile_model(model)
    assert program.dims == (("d", tuple(str(i) for i in range(1, 5001))),)
    assert canonical.cache_info().currsize < 100
    assert canonical_elements(["North  East", "12"]) == ("north_east", "12")
