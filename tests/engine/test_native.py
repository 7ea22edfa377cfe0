"""The native VM (each model compiled to machine code through LLVM) gives the numba kernels'
results bit for bit: every built-in model under every method, every operation it translates
at awkward values (NaN, infinities, signed zeros), failures, chunked and threaded runs, and
the conformance models. Models are hand-written here unless a comment names their source."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.compile.program import Program
from flywheel_sim.engine.grid import time_grid
from flywheel_sim.engine.integrators import tableau
from flywheel_sim.engine.params import parameter_matrix, run_seeds
from flywheel_sim.errors import Cancelled

pytest.importorskip("numba")
pytest.importorskip("llvmlite")

from flywheel_sim.engine.vm import compiled, native


def _both(
    program: Program,
    matrix: np.ndarray,
    method: str,
    save_step: float | None = None,
    cancel: object = None,
) -> tuple[object, object]:
    table = tableau(method)
    grid = time_grid(program, stop=None, dt=None, save_step=save_step)
    save = np.array(
        [s for v in program.variables if v.kind != "parameter" for s in v.slots], dtype=np.int64
    )
    seeds = run_seeds(0, matrix.shape[1])
    ours = native.run(program, table, matrix, seeds, grid, save, cancel)  # type: ignore[arg-type]
    theirs = compiled.run(program, table, matrix, seeds, grid, save)
    return ours, theirs


def _assert_same(program: object, matrix: np.ndarray, method: str, **kw: object) -> None:
    ours, theirs = _both(program, matrix, method, **kw)  # type: ignore[arg-type]
    assert np.array_equal(ours.out, theirs.out, equal_nan=True)  # type: ignore[attr-defined]
    assert np.array_equal(ours.fail_slot, theirs.fail_slot)  # type: ignore[attr-defined]
    assert np.array_equal(ours.fail_time, theirs.fail_time, equal_nan=True)  # type: ignore[attr-defined]


def _runs(program: object, n: int, spread: float = 0.1, seed: int = 0) -> np.ndarray:
    """n runs around the defaults: every parameter times a factor in 1 +- spread."""
    base, _ = parameter_matrix(program, None, "error")  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    return np.repeat(base, n, axis=1) * rng.uniform(1 - spread, 1 + spread, (base.shape[0], n))


SUPPORTED = [
    name for name in fs.builtin_models() if native.supports(fs.compile_model(fs.load_model(name)))
]


def test_the_flagship_and_most_built_in_models_are_supported() -> None:
    assert {"amazon", "sir", "seller", "rivals", "bass"} <= set(SUPPORTED)


@pytest.mark.parametrize("name", SUPPORTED)
@pytest.mark.parametrize("method", ["euler", "heun", "rk4"])
def test_built_in_models_are_bit_identical(name: str, method: str) -> None:
    program = fs.compile_model(fs.load_model(name))
    for n in (1, 6, 37):  # one lane group, a partial one, several (37 runs: the block kernel)
        _assert_same(program, _runs(program, n, seed=n), method)


OPERATIONS = """\
name: operations
time: {start: 0, stop: 4, dt: 0.125}
parameters:
  a: {default: 0.5}
  b: {default: -2}
  z: {default: 0}
stocks:
  s: {initial: 1, inflows: [grow], outflows: [leak], non_negative: true}
flows:
  grow: {equation: "MIN(mix, 10) + MAX(ABS(mix), 0) * 0.01"}
  leak: {equation: "3 * s * (1 + SIN(TIME * 3))"}
auxiliaries:
  arith:
    equation: "a + b - a * b / (b - 1) + a ^ 1.5 + (-a) ^ 2 + (b MOD 0.75) + (-b MOD -0.7)
      + MODULO(-b, 0.7)"
  nan_min: {equation: "IF MIN(z / z, 1) = MIN(1, z / z) OR MAX(z / z, 1) > 0 THEN 1 ELSE 2"}
  inf_max: {equation: "1 / MAX(a / z, 2) - 1 / MIN(b / z, -3) + 1 / (a / z)"}
  logic:
    equation: "(IF a > b AND NOT(z) OR z = 1 THEN 1 ELSE 2) + (a <> b) + (a <= b) + (a >= b)
      + (a < b)"
  funcs: {equation: "ABS(b) + SQRT(a) + EXP(b) + LN(a) + LOG10(a) + COS(a) + TAN(a)"}
  more: {equation: "ARCSIN(a) + ARCCOS(a) + ARCTAN(b) + INT(b * 1.5) + INT(-0.5)"}
  negzero: {equation: "-z + 0 * b"}
  clock: {equation: "STEP(2, 1) + RAMP(0.5, 1, 3) + PULSE(1, 0.5, 0.75) + PULSE(2, 1, 0)"}
  safe: {equation: "SAFEDIV(a, z, 7) + SAFEDIV(a, b, 7)"}
  table: {equation: "curve(TIME - 1) + steps(TIME) + wide(TIME * 3 - 4) + steps(z / z)"}
  nan_table: {equation: "IF curve(z / z) = curve(z / z) THEN 3 ELSE 4"}
  mix:
    equation: "arith + nan_min + inf_max + logic + funcs + more + negzero + clock + safe + table
      + nan_table"
lookups:
  curve: {points: [[0, 0], [1, 2], [1, 3], [2, 1]]}
  steps: {points: [[0, 1], [1, 2], [3, 5]], interpolation: discrete}
  wide: {points: [[-1, 1], [0, 0], [2, 4]], extrapolation: linear}
"""


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_every_translated_operation_at_awkward_values(method: str) -> None:
    # NaN into MIN/MAX and a lookup, +-inf, MODULO with either sign, a repeated x in a table,
    # a pulse every 0.75 and a single one, -0: every lane as numba computes it
    program = fs.compile_model(model_from(OPERATIONS))
    assert native.supports(program)
    ours, _ = _both(program, _runs(program, 9, spread=0.5), method)
    assert (ours.fail_slot < 0).all()  # type: ignore[attr-defined]  (every value finite)
    _assert_same(program, _runs(program, 9, spread=0.5), method)


FAILING = """\
name: failing
time: {start: 0, stop: 10, dt: 0.5}
parameters:
  when: {default: 5}
stocks:
  x: {initial: 1, inflows: [blow]}
flows:
  blow: {equation: "IF TIME >= when THEN 1 / (when - TIME + 0.5 - 0.5) ELSE 0.1"}
auxiliaries:
  later: {equation: "x * 2"}
"""


def test_failed_runs_name_the_variable_and_time_and_are_blanked_after() -> None:
    program = fs.compile_model(model_from(FAILING))
    matrix = np.array([[5.0, 20.0, 2.0, 7.25, 3.0]])  # runs failing at 5, 2 and 3; two don't
    ours, _theirs = _both(program, matrix, "euler")
    _assert_same(program, matrix, "euler")
    assert (ours.fail_slot >= 0).sum() == 3  # type: ignore[attr-defined]
    assert np.isnan(ours.out[:, -1, 0]).all()  # type: ignore[attr-defined]


DRAINED = """\
name: drained
time: {start: 0, stop: 3, dt: 0.25}
parameters:
  k: {default: 1}
stocks:
  shop: {initial: 1, inflows: [supply], outflows: [sales, spill], non_negative: true}
  depot: {initial: 2, inflows: [restock], outflows: [supply], non_negative: true}
flows:
  supply: {equation: "1.5 * k"}
  sales: {equation: "4 * k * (1 + SIN(TIME)) / 2"}
  spill: {equation: "shop * 4 * k - 3"}
  restock: {equation: "STEP(2, 1)"}
"""


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_outflows_at_the_edge_of_what_a_stock_holds(method: str) -> None:
    # outflows that need exactly, just under and just over what a stock holds over one DT
    # (1 / 0.25 = 4 per unit held), a flow joining two non-negative stocks and an outflow
    # gone negative: lanes take the exact limits or skip them, bit for bit the same
    program = fs.compile_model(model_from(DRAINED))
    k = np.array([[1.0, 1 - 2**-40, 1 + 2**-40, 1 - 2**-29, 0.5, 2.0, 0.999, 1.001, 0.0]])
    _assert_same(program, k, method)


HISTORIES = """\
name: histories
time: {start: 0, stop: 6, dt: 0.25}
parameters:
  lag: {default: 1.3}
stocks:
  level: {initial: 1, inflows: [growth]}
flows:
  growth: {equation: "0.2 * level + 0.1 * late + 0.05 * past + 0.01 * before"}
auxiliaries:
  late: {equation: "DELAY(level, lag * (1 + SIN(TIME)), 2)"}
  past: {equation: "HISTORY(level, TIME - lag)"}
  before: {equation: "PREVIOUS(level, 0.5)"}
  fixed: {equation: "DELAY(growth, 0.75)"}
"""


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_delays_history_and_previous(method: str) -> None:
    # a lag that varies with time (interpolated between recorded steps), HISTORY of a past
    # time, PREVIOUS; and a NaN lag (lag = 0 / 0 in one run), which gives NaN where indexing
    # by it used to read outside the buffer
    program = fs.compile_model(model_from(HISTORIES))
    assert native.supports(program)
    _assert_same(program, np.array([[1.3, 0.2, 2.9, 0.0, 5.5, 1.0]]), method)
    nan_lag = fs.compile_model(model_from(HISTORIES.replace("lag * (1", "lag / lag * (1")))
    ours, _ = _both(nan_lag, np.array([[1.0, 0.0]]), method)
    assert ours.fail_slot[0] < 0 <= ours.fail_slot[1]  # type: ignore[attr-defined]
    _assert_same(nan_lag, np.array([[1.0, 0.0]]), method)


DRAWS = """\
name: draws
time: {start: 0, stop: 5, dt: 0.25, method: rk4}
parameters:
  mean: {default: 3}
stocks:
  pile: {initial: 10, inflows: [arrivals], outflows: [departures], non_negative: true}
flows:
  arrivals: {equation: "POISSON(mean) + POISSON(mean * 20) + EXPRND(1 / mean)"}
  departures: {equation: "pile * RANDOM(0.1, 0.3) * LOGNORMAL(1, 0.2) + NORMAL(0, 0.1)"}
auxiliaries:
  same_everywhere: {equation: "RANDOM(0, 1, 42)"}
  none: {equation: "EXPRND(-1) * 0 + POISSON(-1) * 0"}
"""


def test_random_draws_are_the_numba_kernels_draws() -> None:
    # every distribution (Poisson by inversion and by PTRS), a call with its own seed (the
    # same draws in every run), negative means (NaN: those runs fail), at every RK4 stage
    program = fs.compile_model(model_from(DRAWS))
    assert native.supports(program)
    _assert_same(program, np.array([[3.0, 0.5, 12.0, 40.0, 2.0, 7.0, 1.0, 3.0, 9.0]]), "rk4")
    _assert_same(program, np.array([[3.0]]), "euler")


HUGE = """\
name: huge
time: {start: 0, stop: 2, dt: 0.5}
stocks:
  x: {initial: 1, inflows: [grow]}
flows:
  grow: {equation: "0.1"}
auxiliaries:
  big: {equation: "1e308 * (1 + x / 1000)"}
  bigger: {equation: "1.5e308 + x"}
"""


def test_huge_finite_values_are_not_failures() -> None:
    # the native check sums the values (a NaN or infinity stays in the sum); two finite
    # values whose sum overflows make it search the lane and find nothing wrong
    program = fs.compile_model(model_from(HUGE))
    ours, _ = _both(program, np.zeros((0, 3)), "euler")
    assert (ours.fail_slot < 0).all() and np.isnan(ours.fail_time).all()  # type: ignore[attr-defined]
    assert np.isfinite(ours.out).all()  # type: ignore[attr-defined]
    _assert_same(program, np.zeros((0, 3)), "euler")


def test_threads_chunks_and_yearly_saves_change_no_bit() -> None:
    program = fs.compile_model(fs.load_model("amazon"))
    _assert_same(program, _runs(program, 203, seed=3), "euler", save_step=1.0)
    calls = []

    def never(calls: list[int] = calls) -> bool:  # asked between chunks: splits the run
        calls.append(1)
        return False

    native.CHUNK_SECONDS, saved = 1e-9, native.CHUNK_SECONDS
    try:
        _assert_same(program, _runs(program, 3, seed=4), "rk4", cancel=never)
    finally:
        native.CHUNK_SECONDS = saved
    assert len(calls) > 3


def test_a_cancelled_native_run_stops() -> None:
    program = fs.compile_model(fs.load_model("sir"))
    with pytest.raises(Cancelled):
        _both(program, _runs(program, 2), "euler", cancel=lambda: True)


ALLOCATION = """\
name: allocation
time: {start: 0, stop: 2, dt: 0.5}
dimensions:
  shop: [a, b]
parameters:
  request: {dims: [shop], default: {a: 3, b: 2}}
  priority: {dims: [shop], default: {a: 2, b: 1}}
auxiliaries:
  given: {dims: [shop], equation: "ALLOCATE_BY_PRIORITY(request[*], priority[*], 2, 1, 4)"}
"""


def test_a_cancelled_ensemble_stops_its_threads_before_raising() -> None:
    # several tasks on the pool's threads: they finish their chunk, then Cancelled is raised
    program = fs.compile_model(fs.load_model("amazon"))
    native.CHUNK_SECONDS, saved = 1e-4, native.CHUNK_SECONDS
    try:
        with pytest.raises(Cancelled):
            _both(program, _runs(program, 2000), "rk4", cancel=lambda: True)
    finally:
        native.CHUNK_SECONDS = saved
    _assert_same(program, _runs(program, 40), "euler")  # the threads are free again


def test_unsupported_programs_run_on_the_numba_kernels() -> None:
    program = fs.compile_model(model_from(ALLOCATION))
    assert not native.supports(program)
    result = fs.simulate(program, options=fs.Options(backend="native"))
    numba = fs.simulate(program, options=fs.Options(backend="numba"))
    assert result.identical(numba) and result["given"].shape == (1, 5, 2)


def test_auto_compiles_when_interpreting_would_cost_more() -> None:
    program = fs.compile_model(model_from(FAILING.replace("x * 2", "x * 3")))  # new to the VMs
    table, grid = tableau("euler"), time_grid(program, stop=None, dt=None, save_step=None)
    import flywheel_sim.engine.vm.block  # noqa: F401  (the interpreter is loaded: no load cost)

    assert not native.worth_it(program, table, 1, grid)  # one run: interpret
    assert native.worth_it(program, table, 1_000_000, grid)  # a large ensemble: compile
    assert native.worth_it(program, table, 1, grid)  # compiled once asked, or spent enough
    auto = fs.simulate(program, {"when": [4.0, 6.0]})
    numba = fs.simulate(program, {"when": [4.0, 6.0]}, options=fs.Options(backend="numba"))
    assert auto.identical(numba)


CONFORMANCE = sorted(
    p
    for folder in ("xmile", "mdl")
    for p in (Path(__file__).parents[1] / folder).iterdir()
    if p.is_dir()
)


def _conformance_model(folder: Path) -> fs.Model | None:
    files = [f for f in folder.iterdir() if f.suffix in (".xmile", ".stmx", ".mdl")]
    try:
        return fs.load_model(files[0]) if files else None
    except fs.ModelError:
        return None


@pytest.mark.parametrize("folder", CONFORMANCE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_conformance_models_are_bit_identical(folder: Path) -> None:
    # SDXorg/test-models cases (tests/xmile, tests/mdl: SOURCES.md): whatever the native VM
    # translates must give the numba kernels' bits
    model = _conformance_model(folder)
    if model is None:
        pytest.skip("refused by the reader (tested in the conformance suites)")
    try:
        program = fs.compile_model(model)
    except fs.ModelError:
        pytest.skip("refused by the compiler (tested in the conformance suites)")
    if not native.supports(program):
        pytest.skip("uses an operation the native VM leaves to the numba kernels")
    if math.prod(time_grid(program, stop=None, dt=None, save_step=None).times.shape) > 200_000:
        pytest.skip("too long for a unit test")
    _assert_same(program, _runs(program, 5, spread=0.05), program.time.method)


def test_compiled_kernels_are_kept_on_disk_and_damaged_ones_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flywheel_sim.engine.vm.native import cache, jit
    from flywheel_sim.engine.vm.native.kernel import module_text

    monkeypatch.setenv("FLYWHEEL_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setattr(jit, "_KERNELS", {})  # none compiled in this process yet
    program = fs.compile_model(model_from(HUGE.replace("huge", "kept")))
    text = module_text(program, tableau("euler"), jit.variant())
    first = jit.compile_kernel(text)
    files = list(tmp_path.glob("*.o"))
    assert len(files) == 1 and tmp_path.stat().st_mode & 0o777 == 0o700
    jit._KERNELS.clear()  # as a fresh process would: read from disk
    compile_for_real = jit._object_code
    compiled_again = []
    monkeypatch.setattr(jit, "_object_code", lambda *a: compiled_again.append(1) or b"")
    second = jit.compile_kernel(text)
    assert not compiled_again and second.address != 0
    files[0].write_bytes(files[0].read_bytes()[:-10])  # damaged: its checksum fails
    assert cache.read(files[0].stem) is None
    # a Program's kernel is stored under a hash of the Program, the method, the generator's
    # source and the machine, so a new process finds it without writing the IR again
    monkeypatch.setattr(jit, "_object_code", compile_for_real)
    native.compiled_kernel(program, tableau("rk4"))
    name = native._known(program).key(tableau("rk4"))
    assert cache.exists(name) and name != native._known(program).key(tableau("euler"))
    monkeypatch.setenv("FLYWHEEL_KERNEL_CACHE", "off")
    assert cache.folder() is None and not cache.exists(name)
    del first


def test_threads_that_start_llvm_together_all_find_it_ready() -> None:
    # a sweep's worker threads reach the native VM at once in a fresh process; one of them
    # once read the vector pow's variant before another had finished setting LLVM up
    import subprocess
    import sys

    script = (
        "import threading\n"
        "from flywheel_sim.engine.vm.native import jit\n"
        "errors = []\n"
        "def ask():\n"
        "    try:\n"
        "        jit.variant()\n"
        "    except Exception as exc:\n"
        "        errors.append(exc)\n"
        "threads = [threading.Thread(target=ask) for _ in range(16)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "assert not errors, errors\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": src},
    )
    assert done.returncode == 0, done.stderr


def _chain(links: int) -> str:
    """A YAML chain of ``links`` stocks, each fed by the one before through a lookup."""
    lines = ["name: chain", "time: {start: 0, stop: 2, dt: 0.25}", "stocks:"]
    lines += [f"  s{i}: {{initial: {i + 1}, inflows: [f{i}]}}" for i in range(links)]
    lines.append("flows:")
    lines += [
        f'  f{i}: {{equation: "0.1 * s{i - 1 if i else links - 1} - 0.05 * s{i} + bump(TIME)"}}'
        for i in range(links)
    ]
    lines += ["lookups:", "  bump: {points: [[0, 0], [1, 1], [2, 0]]}"]
    return "\n".join(lines)


def test_long_code_is_cut_between_equations_and_stays_bit_identical() -> None:
    # more than PART instructions per evaluation: several functions, called in order
    from flywheel_sim.compile.stages import stage_code
    from flywheel_sim.engine.vm.native.equations import PART, _cuts

    program = fs.compile_model(model_from(_chain(120)))
    code = stage_code(program).first
    cuts = _cuts(code, program.n_slots)
    assert len(code) > 2 * PART and len(cuts) > 3 and cuts[-1] == len(code)
    _assert_same(program, np.zeros((0, 10)), "rk4")


def test_long_lists_are_looped_over_and_stay_bit_identical() -> None:
    # more edges and checked values than UNROLL: the flows and the finite check as loops
    from flywheel_sim.engine.vm.native.kernel import UNROLL

    program = fs.compile_model(model_from(_chain(UNROLL + 20)))
    assert len(program.edge_stock) > UNROLL and len(program.check_order) > UNROLL
    _assert_same(program, np.zeros((0, 11)), "heun")
    text_bad = _chain(UNROLL + 20).replace("0.05 * s3 ", "0.05 * s3 / (TIME - 1) ")
    failing = fs.compile_model(model_from(text_bad))  # s3's flow divides by zero at TIME = 1
    ours, _ = _both(failing, np.zeros((0, 3)), "euler")
    assert (ours.fail_slot >= 0).all()  # type: ignore[attr-defined]
    _assert_same(failing, np.zeros((0, 3)), "euler")
