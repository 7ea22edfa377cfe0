"""Long runs: computed in chunks of steps (no bit changes), cancellable between chunks, and the
compiled kernels release the interpreter lock (issue 18 item 1)."""

from __future__ import annotations

import importlib
import pkgutil
import threading

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import model_from
from flywheel_sim.engine.cancel import cancelling
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.errors import Cancelled

LONG = """\
name: long
time: {start: 0, stop: 100, dt: 0.01, save_step: 1, method: rk4}
stocks:
  x: {initial: 1, inflows: [growth], outflows: [loss], non_negative: true}
  y: {initial: 0, inflows: [loss]}
flows:
  growth: {equation: "0.03 * x * (1 + 0.1 * NORMAL(0, 1))"}
  loss: {equation: "x / 20"}
auxiliaries:
  lagged: {equation: "DELAY(x, 2.5, 1)"}
  previous: {equation: "PREVIOUS(y, 0)"}
  boom: {equation: "x * IF_THEN_ELSE(TIME > 60, SQRT(0 - run_flag), 1)"}
parameters:
  run_flag: {default: 0}
"""


def _counting(after: int) -> tuple[list[int], object]:
    calls = [0]

    def check() -> bool:
        calls[0] += 1
        return calls[0] > after

    return calls, check


def test_a_run_is_cancelled_between_steps_and_says_when(options: fs.Options) -> None:
    calls, check = _counting(after=3)
    with pytest.raises(Cancelled, match=r"^run cancelled at time 0\.04 of 100$"):
        if options.backend == "numpy":  # asked before each step
            fs.simulate(model_from(LONG), options=fs.Options(backend="numpy", cancel=check))
        else:  # asked between chunks, here of one step each
            pytest.importorskip("numba")
            from flywheel_sim.engine.vm import compiled

            compiled.run(*_arguments(1), cancel=check, chunk=1)
    assert calls[0] == 4


def _arguments(
    runs: int, stop: float | None = None
) -> tuple[fs.Program, Tableau, np.ndarray, np.ndarray, Grid, np.ndarray]:
    """compiled.run's arguments for LONG: ``runs`` runs, every slot saved."""
    from flywheel_sim.engine.grid import time_grid
    from flywheel_sim.engine.integrators import tableau

    program = fs.compile_model(model_from(LONG))
    grid = time_grid(program, stop=stop, dt=None, save_step=None)
    params = np.repeat(program.param_default[:, None], runs, axis=1)
    seeds = np.arange(runs, dtype=np.int64) * 7919
    slots = np.arange(program.n_slots, dtype=np.int64)
    return program, tableau("rk4"), params, seeds, grid, slots


def test_the_ambient_check_cancels_runs_started_inside_it(options: fs.Options) -> None:
    """What an executor's helper threads use to stop a batch's runs at Ctrl-C."""
    with cancelling(lambda: True), pytest.raises(Cancelled, match="run cancelled at time"):
        fs.simulate(model_from(LONG), stop=10_000, options=options)  # 1,000,000 steps
    result = fs.simulate(model_from(LONG), stop=1, options=options)  # outside: not cancelled
    assert str(result["status"].values[0]) == "ok"


@pytest.mark.parametrize("runs", [3, 40])  # the scalar and the block kernel
def test_chunks_of_steps_change_no_bit(runs: int) -> None:
    """Each chunk carries the run's slots, delay history, failures and stage-skipping clock
    to the next: any split gives the bits of one call, failed runs included."""
    pytest.importorskip("numba")
    from flywheel_sim.engine.vm import compiled

    args = _arguments(runs, stop=70)
    program, params, seeds, grid = args[0], args[2], args[3], args[4]
    params[program.param_keys.index("run_flag"), ::2] = 1.0  # every other run fails at 60
    whole = compiled.run(*args, chunk=grid.n_steps + 1)
    assert (whole.fail_slot[::2] >= 0).all() and (whole.fail_slot[1::2] < 0).all()
    for chunk in (1, 7, 250, None):  # None: chunks sized by time
        split = compiled.run(*args, chunk=chunk)
        assert np.array_equal(whole.out, split.out, equal_nan=True), chunk
        assert np.array_equal(whole.fail_slot, split.fail_slot), chunk
        assert np.array_equal(whole.fail_time, split.fail_time, equal_nan=True), chunk
    reference = fs.simulate(
        model_from(LONG), {"run_flag": params[program.param_keys.index("run_flag")]},
        seed=seeds, stop=70, variables=["x"], options=fs.Options(backend="numpy"),
    )  # fmt: skip
    x = program.variables[[v.key for v in program.variables].index("x")].slots[0]
    assert np.allclose(reference["x"].values.T, whole.out[x], rtol=1e-9, equal_nan=True)


def _dispatchers() -> list[tuple[str, object]]:
    """Every numba-compiled function of the engine's VM and the market's fast kernels."""
    pytest.importorskip("numba")
    from numba.core.registry import CPUDispatcher

    import flywheel_sim.engine.vm as vm
    import flywheel_sim.market as market
    import flywheel_sim.market.fast as fast

    names = [f"{vm.__name__}.{m.name}" for m in pkgutil.iter_modules(vm.__path__)]
    names += [f"{fast.__name__}.{m.name}" for m in pkgutil.iter_modules(fast.__path__)]
    names += [f"{market.__name__}.pairwise"]
    found = []
    for name in names:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__:
                found.append((f"{name}.{attr}", value))
    return found


def test_every_compiled_kernel_releases_the_interpreter_lock() -> None:
    """issue 18: the scalar kernel held the lock, so one long run froze every other thread
    (the dashboard's included). A new kernel without ``nogil=True`` fails here."""
    found = _dispatchers()
    assert any(name.endswith("scalar.run") for name, _ in found)
    assert any(name.endswith("block.run") for name, _ in found)
    holding = [name for name, d in found if not d.targetoptions.get("nogil")]  # type: ignore[attr-defined]
    assert not holding, f"compiled without nogil=True: {holding}"


def test_another_thread_runs_while_a_kernel_computes() -> None:
    """One call of the scalar kernel over every step (no chunks) in a helper thread: the main
    thread sees its outputs half written, which it could not while the kernel held the lock."""
    pytest.importorskip("numba")
    from flywheel_sim.engine.vm import compiled

    program, method, params, seeds, small, slots = _arguments(1, stop=1)
    compiled.run(program, method, params, seeds, small, slots)  # compiled beforehand
    grid = _arguments(1, stop=20_000)[4]  # 2,000,000 steps
    outputs: list[object] = []
    seen_half = threading.Event()

    def work() -> None:
        outputs.append(
            compiled.run(program, method, params, seeds, grid, slots, chunk=grid.n_steps + 1)
        )

    from flywheel_sim.engine.vm import inputs

    original = inputs.outputs
    made: list[inputs.Outputs] = []

    def recording(*args: int) -> inputs.Outputs:
        made.append(original(*args))
        return made[-1]

    inputs.outputs = recording  # type: ignore[assignment]
    try:
        thread = threading.Thread(target=work)
        thread.start()
        while thread.is_alive():
            if made:
                out = made[0].out
                if not np.isnan(out[0, 1, 0]) and np.isnan(out[0, -1, 0]):
                    seen_half.set()
                    break
        thread.join()
    finally:
        inputs.outputs = original  # type: ignore[assignment]
    assert outputs, "the run did not finish"
    assert seen_half.is_set(), "the main thread never ran while the kernel computed"


def _task(stop: float) -> str:
    result = fs.simulate(model_from(LONG), stop=stop, options=fs.Options(backend="numpy"))
    return str(result["status"].values[0])


def test_closing_a_local_batch_stops_the_runs_in_progress() -> None:
    """Ctrl-C in a sweep closes the executor, which waits for its helper threads: their runs
    in progress now stop at the next chunk of steps instead of running to the end."""
    from flywheel_sim.studies.executors import LocalExecutor

    runner = LocalExecutor(threads=2)
    results = runner.map_unordered(_task, [(1.0,), (1e5,), (1e5,)])  # 1e7 steps: an hour
    assert next(results) == (0, "ok")
    closing = threading.Thread(target=results.close)
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive(), "the helper threads ran on after the batch was closed"
