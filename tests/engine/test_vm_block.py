"""The numba VM's block kernel: its three-address code and skipped stages change no bit.

The block kernel (10 runs or more) runs the three-address form of the code
(``compile.registers``) with stage skipping (``compile.stages``); the scalar kernel (fewer
runs) runs the postfix code, every equation at every stage. Both perform the same
floating-point operations, so a run must come out bit for bit the same from either.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.compile import ops
from flywheel_sim.compile.registers import CONST, MOVE, ROW, to_registers
from flywheel_sim.compile.stages import stage_code

pytest.importorskip("numba")

NUMBA = fs.Options(backend="numba")


def _varied(model: fs.Model, n: int, seed: int) -> dict[str, np.ndarray]:
    """Each bounded scalar parameter drawn within its middle half, n runs."""
    program = fs.compile_model(model)
    rng = np.random.default_rng(seed)
    values = {}
    for key, low, high in zip(
        program.param_keys, program.param_min, program.param_max, strict=True
    ):
        if "[" in key or math.isnan(low) or math.isnan(high) or key.endswith("_start"):
            continue
        span = high - low
        values[key] = rng.uniform(low + span / 4, high - span / 4, n)
    return values


def _block_equals_scalar(model: fs.Model, method: str | None = None) -> None:
    n = 40  # >= SCALAR_BELOW: the block kernel
    values = _varied(model, n, seed=5)
    batch = fs.simulate(model, values, seed=11, method=method, options=NUMBA)
    seeds = batch["seed"].values
    for run in (0, 17, 39):  # one run at a time: the scalar kernel
        single = fs.simulate(
            model,
            {k: v[run] for k, v in values.items()},
            seed=[int(seeds[run])],
            method=method,
            options=NUMBA,
        )
        for name in batch.data_vars:
            assert np.array_equal(
                batch[name].values[run], single[name].values[0], equal_nan=True
            ), f"{model.name}.{name}, run {run}"


@pytest.mark.parametrize("name", fs.builtin_models())
def test_block_kernel_equals_the_scalar_kernel_bit_for_bit(name: str) -> None:
    model = fs.load_model(name)
    _block_equals_scalar(model)
    _block_equals_scalar(model, method="euler" if model.time.method != "euler" else "rk4")


TRICKY = """\
name: tricky
time: {start: 0, stop: 6, dt: 0.25, method: rk4}
parameters:
  rate: {default: 0.3, min: 0.1, max: 0.5}
  noise: {default: 0.1, min: 0, max: 0.3}
stocks:
  pool:
    initial: 5
    inflows: [refill, tide]
    outflows: [scheduled_drain, drain]
    non_negative: true
  level: {initial: 1, inflows: [growth]}
flows:
  refill: {equation: "0.5 + 0.4 * SIN(TIME)"}
  tide: {equation: "1.5 * SIN(2 * TIME) - 0.3"}
  scheduled_drain: {equation: "STEP(3, 2) + RAMP(0.5, 1, 4)"}
  drain: {equation: "rate * pool"}
  growth:
    equation: "level * rate * (1 + noise * NORMAL(0, 1)) * pressure ^ rate / (pressure ^ rate + 1)"
auxiliaries:
  pressure: {equation: "1 + PREVIOUS(level, 1) / 10 + DELAY(pool, 1, 5) / 10 + season"}
  season: {equation: "EXP(-TIME / 4) + MAX(0, TIME - 3)"}
  report: {equation: "pool / level"}
"""


def test_clock_outflows_previous_delay_and_noise_are_bit_identical() -> None:
    # a clock-only outflow and a clock-only inflow that goes negative, of a non-negative stock
    # (their slots are clipped, so they must run at every stage), PREVIOUS, DELAY, random
    # draws, a report variable and a reused power
    _block_equals_scalar(model_from(TRICKY))


CHAIN = """\
name: chain
time: {start: 0, stop: 8, dt: 0.25, method: rk4}
parameters:
  demand: {default: 2, min: 0, max: 4}
stocks:
  shop: {initial: 1, inflows: [supply], outflows: [sales, returns], non_negative: true}
  depot: {initial: 2, inflows: [restock], outflows: [supply], non_negative: true}
flows:
  supply: {equation: "1.5"}
  sales: {equation: "demand * (1 + SIN(TIME))"}
  returns: {equation: "0.5 * COS(2 * TIME)"}
  restock: {equation: "STEP(2, 5)"}
"""


@pytest.mark.parametrize("method", ["rk4", "euler"])
def test_chained_non_negative_stocks_are_bit_identical(method: str) -> None:
    # a flow joining two non-negative stocks, declared downstream first: the limits take a
    # second pass in some runs of a block and not in others; a biflow outflow; constant flows
    _block_equals_scalar(model_from(CHAIN), method=method)


def test_stage_variants_leave_out_clock_and_report_equations() -> None:
    program = fs.compile_model(model_from(TRICKY))
    code = stage_code(program)
    assert len(code.first_again) < len(code.first)  # season at a repeated time
    assert len(code.later) < len(code.first)  # report
    assert len(code.later_again) < min(len(code.later), len(code.first_again))
    clock_rows = {program.slot_keys.index("season")}
    assert clock_rows <= _written(code.first)
    assert not clock_rows & _written(code.later_again)
    for clipped in ("scheduled_drain", "refill", "tide"):  # clock, but clipped: never skipped
        assert program.slot_keys.index(clipped) in _written(code.later_again)
    report = program.slot_keys.index("report")
    assert report in _written(code.first_again)
    assert report not in _written(code.later)


def _written(code: np.ndarray) -> set[int]:
    """The rows written by arithmetic and moves (other ops hold a stack pointer there)."""
    arithmetic = (code[:, 0] <= ops.MAX) | (code[:, 0] == MOVE) | (code[:, 0] <= ops.INT)
    return set(code[arithmetic & (code[:, 0] != ops.SELECT), 1].tolist())


# -- the three-address translation, against a reference interpreter of both forms -----------

_FUNCS = {
    ops.ADD: lambda a, b: a + b,
    ops.SUB: lambda a, b: a - b,
    ops.MUL: lambda a, b: a * b,
    ops.DIV: lambda a, b: a / b if b else math.inf,
    ops.POW: lambda a, b: math.pow(abs(a), b) if a else 0.0,
    ops.MIN: min,
    ops.MAX: max,
}


def _postfix(code: list[int], slots: list[float], consts: list[float], t: float) -> list[float]:
    s, stack = list(slots), []
    for op, arg in zip(code[0::2], code[1::2], strict=True):
        if op == ops.LOAD:
            stack.append(s[arg])
        elif op == ops.CONST:
            stack.append(consts[arg])
        elif op == ops.TIME:
            stack.append(t)
        elif op == ops.STORE:
            s[arg] = stack.pop()
        elif op == ops.NEG:
            stack.append(-stack.pop())
        elif op >= ops.FUSE_SLOT:
            stack.append(_FUNCS[op - ops.FUSE_SLOT](stack.pop(), s[arg]))
        elif op >= ops.FUSE_CONST:
            stack.append(_FUNCS[op - ops.FUSE_CONST](stack.pop(), consts[arg]))
        else:
            b, a = stack.pop(), stack.pop()
            stack.append(_FUNCS[op](a, b))
    return s


def _three_address(
    code: np.ndarray, slots: list[float], consts: list[float], t: float, depth: int
) -> list[float]:
    rows = list(slots) + [math.nan] * depth

    def value(kind: int, index: int) -> float:
        if kind == ROW:
            return rows[index]
        return consts[index] if kind == CONST else t  # CLOCK: only TIME here

    for op, out, ak, a, bk, b in code.tolist():
        if op == MOVE:
            rows[out] = value(ak, a)
        elif op == ops.NEG:
            rows[out] = -value(ak, a)
        else:
            rows[out] = _FUNCS[op](value(ak, a), value(bk, b))
    return rows[: len(slots)]


def _random_program(rng: np.random.Generator, n_slots: int, n_consts: int) -> list[int]:
    """Random postfix code: expressions over slots, constants and TIME, some stored in the
    middle of others (a slot overwritten while a read of it waits on the stack), with
    repeated subexpressions."""
    code: list[int] = []
    depth = 0
    binary = [ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.POW, ops.MIN, ops.MAX]
    products = [
        [ops.LOAD, 0, ops.FUSE_SLOT + ops.MUL, 1],
        [ops.LOAD, 2, ops.FUSE_SLOT + ops.POW, 3],
    ]
    for _ in range(rng.integers(5, 40)):
        choice = rng.random()
        if choice < 0.15:  # a subexpression that recurs (at various stack depths)
            code += products[int(rng.integers(len(products)))]
            depth += 1
        elif depth >= 2 and choice < 0.3:
            code += [int(rng.choice(binary)), 0]
            depth -= 1
        elif depth >= 1 and choice < 0.4:
            code += [int(rng.choice(binary)) + ops.FUSE_SLOT, int(rng.integers(n_slots))]
        elif depth >= 1 and choice < 0.45:
            code += [int(rng.choice(binary)) + ops.FUSE_CONST, int(rng.integers(n_consts))]
        elif depth >= 1 and choice < 0.5:
            code += [ops.NEG, 0]
        elif depth >= 1 and choice < 0.6:
            code += [ops.STORE, int(rng.integers(n_slots))]
            depth -= 1
        elif depth >= 1 and choice < 0.7:  # repeat the last pushed subexpression
            code += [ops.LOAD, code[-1] if code[-2] == ops.LOAD else 0]
            depth += 1
        elif choice < 0.85:
            code += [ops.LOAD, int(rng.integers(n_slots))]
            depth += 1
        elif choice < 0.95:
            code += [ops.CONST, int(rng.integers(n_consts))]
            depth += 1
        else:
            code += [ops.TIME, 0]
            depth += 1
    while depth > 1:
        code += [ops.MUL, 0]
        depth -= 1
    if depth == 1:
        code += [ops.STORE, int(rng.integers(n_slots))]
    return code


def test_three_address_code_computes_what_the_postfix_code_computes() -> None:
    rng = np.random.default_rng(2024)
    n_slots, consts = 6, [0.5, 2.0, -1.5]
    for _ in range(400):
        code = _random_program(rng, n_slots, len(consts))
        slots = rng.uniform(0.5, 2.0, n_slots).tolist()
        expected = _postfix(code, slots, consts, 1.25)
        translated = to_registers(np.array(code, dtype=np.int64), n_slots)
        assert not {ops.LOAD, ops.STORE, ops.CONST} & set(translated[:, 0].tolist())
        got = _three_address(translated, slots, consts, 1.25, depth=len(code))
        assert np.array_equal(got, expected, equal_nan=True), code


def test_repeated_subexpressions_are_computed_once() -> None:
    program = fs.compile_model(
        model_from(
            """
            name: share
            time: {start: 0, stop: 1, dt: 0.5}
            parameters:
              e: {default: 0.5}
            stocks:
              x: {initial: 2, inflows: [f]}
            flows:
              f: {equation: "x ^ e / (x ^ e + 1)"}
            """
        )
    )
    code = to_registers(program.step_code, program.n_slots)
    assert int((code[:, 0] == ops.POW).sum()) == 1
