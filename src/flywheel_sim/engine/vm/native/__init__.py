"""The native VM: each model compiled to its own machine code through LLVM.

The numba kernels (:mod:`flywheel_sim.engine.vm.block`, :mod:`~flywheel_sim.engine.vm.scalar`)
interpret the Program: every instruction of every step decodes its opcode and operands. Here
the Program is translated once into LLVM IR (:mod:`.equations`, :mod:`.kernel`) in which each
equation is its own vector instructions over a lane group of W runs, and LLVM turns it into
machine code (:mod:`.jit`). The stepping is the block kernel's, operation for operation, so
the results are the numba kernels' bits (tested on every built-in model and the conformance
models).

Lane groups run one after another, each through all its steps before the next (its rows stay
in the cache); groups are shared among threads (the kernel runs without the GIL). A long run
is computed in chunks of steps so that ``cancel`` and Ctrl-C are heard between them.

Programs with the allocation operations (ALLOCATE AVAILABLE, ALLOCATE BY PRIORITY), which the
translator does not write yet, run on the numba kernels: :func:`supports` says which.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from flywheel_sim import rng
from flywheel_sim._types import F64, I64
from flywheel_sim.compile import registers
from flywheel_sim.compile.program import Program
from flywheel_sim.compile.stages import stage_code
from flywheel_sim.engine.cancel import stop_if_cancelled
from flywheel_sim.engine.grid import Grid
from flywheel_sim.engine.integrators import Tableau
from flywheel_sim.engine.vm.inputs import Outputs
from flywheel_sim.engine.vm.native import cache, jit
from flywheel_sim.engine.vm.native.equations import unsupported
from flywheel_sim.engine.vm.native.kernel import Rows, module_text
from flywheel_sim.engine.vm.native.text import W

CHUNK_SECONDS = 0.1  # a task computes about this long between looks at ``cancel``
STATE_BYTES = 1 << 26  # most memory for one task's lane-group rows
_CACHE_SIZE = 64
_PROGRAMS: OrderedDict[tuple[int, str], tuple[Program, jit.Kernel, Rows]] = OrderedDict()
_PROGRAMS_LOCK = threading.Lock()


class _Known:
    """What is known of a Program seen before: whether it is supported, how many
    instructions an evaluation has, and the interpreter time spent on it so far."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.supported = _supported(program)
        init = registers.to_registers(program.init_code, program.n_slots)
        self.instructions = len(init) + len(stage_code(program).first)
        self.spent = 0.0
        self.calls = 0
        self.keys: dict[str, str] = {}

    def key(self, table: Tableau) -> str:
        """The name of this Program's kernel for ``table`` in the caches: a hash of what
        the IR is made of (the Program's code and data, the method, the generator's source
        and :func:`jit.environment`), found without writing the IR."""
        if table.name not in self.keys:
            digest = hashlib.sha256()
            for field in dataclasses.fields(self.program):
                value = getattr(self.program, field.name)
                if isinstance(value, np.ndarray):
                    digest.update(f"{field.name}:{value.dtype}:{value.shape}".encode())
                    digest.update(np.ascontiguousarray(value).tobytes())
                elif isinstance(value, int | float):
                    digest.update(f"{field.name}={value!r}".encode())
            tab = table.a.tobytes() + table.b.tobytes() + table.c.tobytes()
            self.keys[table.name] = cache.key(
                cache.generator_digest(), digest.hexdigest(), table.name, tab.hex(),
                *jit.environment(),
            )  # fmt: skip
        return self.keys[table.name]


_KNOWN: OrderedDict[int, _Known] = OrderedDict()


def _known(program: Program) -> _Known:
    with _PROGRAMS_LOCK:
        found = _KNOWN.get(id(program))
        if found is not None and found.program is program:
            return found
    known = _Known(program)
    with _PROGRAMS_LOCK:
        _KNOWN[id(program)] = known
        while len(_KNOWN) > _CACHE_SIZE:
            _KNOWN.popitem(last=False)
    return known


def _supported(program: Program) -> bool:
    try:
        import llvmlite  # noqa: F401
    except ImportError:
        return False
    init = registers.to_registers(program.init_code, program.n_slots)
    return not (unsupported(init) or unsupported(stage_code(program).first))


def supports(program: Program) -> bool:
    """Whether the native VM runs ``program`` (else the numba kernels do): not yet programs
    with allocations."""
    return _known(program).supported


# what the choice below assumes (measured on SIR, amazon and generated models)
INTERPRET_SECONDS = 1.5e-9  # numba kernels: per instruction, step, stage and run
INTERPRET_ONE_RUN = 7e-9  # the same for the one-run kernel (fewer than 10 runs)
JIT_SECONDS = 0.05  # compiling a kernel: fixed part
JIT_PER_INSTRUCTION = 6e-4  # and per three-address instruction of one evaluation, growing
JIT_GROWTH = 2500  # with the size (x 1 + I / JIT_GROWTH): SIR 0.1 s, amazon (910) 0.8 s at
# O2, generated models of 1,000 and 10,000 variables (5,400 and 54,000) 0.5 s and 7.6 s at O0:
# an overestimate for large models, which auto then leaves to the numba kernels longer
NUMBA_LOAD_SECONDS = 1.0  # importing numba and loading its kernels, once per process
AGAIN = 3  # a Program simulated this many times in a process is compiled


def worth_it(program: Program, table: Tableau, n_runs: int, grid: Grid) -> bool:
    """Whether to compile ``program`` (backend ``auto``): yes when its kernel is already
    compiled (in this process or on disk), when it is simulated for the ``AGAIN``-th time
    (if compiling takes under a second), or when interpreting it would cost more than
    compiling it, counting the interpreter time
    this process already spent on it and, if the numba kernels are not loaded yet, their
    loading. A model run once on a few runs is interpreted; one run again and again, or run
    on thousands of parameter sets, is compiled."""
    import sys

    known = _known(program)
    known.calls += 1
    if (id(program), table.name) in _PROGRAMS or cache.exists(known.key(table)):
        return True
    size = known.instructions
    compiling = JIT_SECONDS + JIT_PER_INSTRUCTION * size * (1 + size / JIT_GROWTH)
    if known.calls >= AGAIN and compiling <= 1.0:
        return True
    per = INTERPRET_SECONDS if n_runs >= 10 else INTERPRET_ONE_RUN
    cost = per * known.instructions * (grid.n_steps + 1) * table.stages * n_runs
    if "flywheel_sim.engine.vm.block" not in sys.modules:
        cost += NUMBA_LOAD_SECONDS
    known.spent += cost
    return known.spent >= compiling


def compiled_kernel(program: Program, table: Tableau) -> tuple[jit.Kernel, Rows]:
    """The compiled kernel of ``program`` for ``table`` (built once per Program object)."""
    key = (id(program), table.name)
    with _PROGRAMS_LOCK:
        found = _PROGRAMS.get(key)
        if found is not None and found[0] is program:
            _PROGRAMS.move_to_end(key)
            return found[1], found[2]
    name = _known(program).key(table)
    compiled = jit.kernel_for(name, lambda: module_text(program, table, jit.variant()))
    rows = Rows.of(program, table.stages)
    with _PROGRAMS_LOCK:
        _PROGRAMS[key] = (program, compiled, rows)
        while len(_PROGRAMS) > _CACHE_SIZE:
            _PROGRAMS.popitem(last=False)
    return compiled, rows


def threads() -> int:
    """How many threads share the lane groups: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class _Task:
    """Lane groups ``g_lo .. g_hi - 1`` through all steps, in chunks of steps."""

    def __init__(
        self, base: I64, state_rows: int, n_delays: int, g_lo: int, g_hi: int, n_steps: int
    ) -> None:
        self.ctx = base.copy()
        self.state = np.zeros((g_hi - g_lo, state_rows, W))
        self.hist = np.zeros((g_hi - g_lo, n_delays, n_steps + 1, W) if n_delays else 1)
        self.ctx[8] = self.state.ctypes.data
        self.ctx[16] = self.hist.ctypes.data
        self.ctx[9], self.ctx[10] = g_lo, g_hi
        self.n_steps = n_steps

    def run(
        self,
        call: Callable[[int], None],
        stop: threading.Event,
        first: int,
        between: Callable[[int], None] | None = None,
    ) -> None:
        """Run the chunks; ``between(step)`` is called after each chunk but the last."""
        lo, size = 0, first
        total = self.n_steps + 1
        while lo < total and not stop.is_set():
            if lo and between is not None:
                between(lo)
            hi = min(total, lo + size)
            self.ctx[11], self.ctx[12] = lo, hi
            began = time.perf_counter()
            call(self.ctx.ctypes.data)
            took = time.perf_counter() - began
            size = max(1, min(8 * size, int((hi - lo) * CHUNK_SECONDS / max(took, 1e-6))))
            lo = hi


def run(
    program: Program,
    table: Tableau,
    params: F64,
    seeds: I64,
    grid: Grid,
    save_slots: I64,
    cancel: Callable[[], bool] | None = None,
) -> Outputs:
    """Simulate ``params.shape[1]`` runs of ``program`` (which :func:`supports`); the numba
    kernels' contract (:func:`flywheel_sim.engine.vm.compiled.run`) without zeroing."""
    compiled, rows = compiled_kernel(program, table)
    params = np.ascontiguousarray(params, dtype=np.float64)
    n = params.shape[1]
    n_times = grid.n_saved
    out = np.empty((len(save_slots), n_times, n))
    fail_slot = np.full(n, -1, np.int64)
    fail_time = np.full(n, np.nan)
    save_rows = np.ascontiguousarray(save_slots, dtype=np.int64)
    doubles = np.array([grid.start, grid.dt, grid.stop], dtype=np.float64)
    n_groups = (n + W - 1) // W
    keys = np.empty(n_groups * W, dtype=np.uint64)  # each run's stream key; the last repeats
    keys[:n] = rng.run_keys(seeds)
    keys[n:] = keys[n - 1] if n else 0
    base = np.array(
        [params.ctypes.data, n, out.ctypes.data, n_times, save_rows.ctypes.data,
         len(save_rows), fail_slot.ctypes.data, fail_time.ctypes.data, 0, 0, 0, 0, 0,
         grid.n_steps, grid.save_every, doubles.ctypes.data, 0, keys.ctypes.data],
        dtype=np.int64,
    )  # fmt: skip
    tasks = _tasks(base, rows.total, len(program.delay_src), n_groups, grid.n_steps)
    keep = (params, out, save_rows, doubles, keys)  # alive while the kernel runs
    _execute(compiled.call, tasks, program, grid, cancel)
    del keep
    _blank(out, fail_slot, fail_time, grid)
    return Outputs(out, fail_slot, fail_time)


def _tasks(base: I64, state_rows: int, n_delays: int, n_groups: int, n_steps: int) -> list[_Task]:
    """Lane groups split among tasks: a few per thread, each task's rows within STATE_BYTES
    (the delay histories are as large as the block kernel's, run for run)."""
    per_task_memory = max(1, STATE_BYTES // (state_rows * W * 8))
    # a few tasks per thread balance large ensembles; small ones take one task per thread
    # (each task steps through every step once: more tasks cost more than they balance)
    wanted = threads() * 4 if n_groups >= 64 else min(n_groups, threads())
    size = max(1, min(per_task_memory, -(-n_groups // wanted)))
    return [
        _Task(base, state_rows, n_delays, g, min(n_groups, g + size), n_steps)
        for g in range(0, n_groups, size)
    ]


_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    """The threads that run tasks, one per core, started once (starting them for each call
    cost more than a small ensemble's arithmetic)."""
    with _PROGRAMS_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(threads(), thread_name_prefix="flywheel-native"))
        return _POOL[0]


def _execute(
    call: Callable[[int], None],
    tasks: list[_Task],
    program: Program,
    grid: Grid,
    cancel: Callable[[], bool] | None,
) -> None:
    stop = threading.Event()
    first = max(1, min(grid.n_steps + 1, 64))
    if len(tasks) == 1:

        def between(step: int) -> None:
            stop_if_cancelled(cancel, grid.start + step * grid.dt, grid.stop)

        tasks[0].run(call, stop, first, between)
        return
    pending = {_pool().submit(task.run, call, stop, first) for task in tasks}
    try:
        while pending:
            done, pending = wait(pending, timeout=CHUNK_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()
            if pending:
                stop_if_cancelled(cancel, grid.start, grid.stop)
    except BaseException:
        stop.set()  # the tasks stop after their current chunk; wait for them, since they
        wait(pending)  # write into arrays the caller frees once this raises
        raise


def _blank(out: F64, fail_slot: I64, fail_time: F64, grid: Grid) -> None:
    """A failed run's saved values after its failure time are NaN (as the other VMs do)."""
    failed = np.flatnonzero(fail_slot >= 0)
    if not len(failed):
        return
    save_dt = grid.dt * grid.save_every
    times = grid.start + save_dt * np.arange(out.shape[1])
    for r in failed:
        after = times > fail_time[r] + 1e-9 * save_dt
        out[:, after, r] = np.nan
