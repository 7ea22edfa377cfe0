"""Executors: one interface, three backends, for running chunks of simulation runs.

``make_executor(name)`` returns an :class:`Executor`, whose single verb is
``map_unordered(fn, tasks, shared=...)``: call ``fn(*tasks[i], **shared)`` for every ``i`` and
yield ``(i, result)`` as each call finishes.

- ``"local"``: in this process, results in task order. The default: no start-up cost, no
  pickling. Helper threads (one per core) compute tasks while the caller handles earlier
  results, so store writes overlap the simulation (``LocalExecutor(ahead=0)`` keeps
  everything in the calling thread, for a debugger or profiler).
- ``"processes"``: ``workers`` local processes through joblib's loky backend. Results stream
  back as they finish (``return_as="generator_unordered"``); joblib also caps the threads each
  worker's numba/BLAS may start, so N workers do not oversubscribe the cores.
- ``"dask"``: a ``dask.distributed`` cluster — the scheduler at ``address``, or a
  ``LocalCluster`` owned (and closed) by the executor when no address is given. ``shared``
  objects are scattered to every worker once; each task is one future.

Design:

- **The caller chunks.** A task is a chunk of runs (about 1,000), not one run: one ``simulate``
  call over 1,000 runs is a single vectorised array program, and scheduling costs (pickling,
  a round trip to a worker, ~1 ms on Dask) are paid once per thousand runs.
- **Results do not depend on the backend.** Every run's random seed is assigned by the caller
  (base seed + global run index) and travels with the chunk; workers never draw seeds or keep
  state between tasks. Any backend, worker count or completion order therefore gives
  bit-identical runs, and an interrupted sweep can be resumed chunk by chunk.
- **Stopping is cancelling.** Closing the generator early (``break`` in a ``for`` loop over
  it, then ``close()`` or garbage collection), an exception raised by ``fn`` or a
  ``KeyboardInterrupt`` while waiting cancels every task not yet finished (the local
  backend's threads stop their runs in progress at the next chunk of steps). The processes
  backend kills its workers (so none are left behind); on Dask, queued tasks are dropped and a
  task already running finishes on its worker but its result is discarded.
- **Plain data out.** Results come back to the calling process, which alone writes the run
  store; workers never touch files.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar, get_args

from flywheel_sim.engine.cancel import cancelling, sigint_seen
from flywheel_sim.errors import FlywheelError, ModelError

R = TypeVar("R")

ExecutorName = Literal["local", "processes", "dask"]
NAMES: tuple[ExecutorName, ...] = get_args(ExecutorName)
CHUNK = 1000  # runs per task
DASK_EXTRA = "the dask executor needs the dask extra: pip install 'flywheel-sim[dask]'"


class Executor(Protocol):
    """Runs tasks ``fn(*tasks[i], **shared)`` and streams ``(i, result)`` back."""

    name: str

    def map_unordered(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        *,
        shared: Mapping[str, Any] | None = None,
    ) -> Generator[tuple[int, R], None, None]:
        """Run fn(*tasks[i], **shared) for every i; yield (i, result) as each task finishes
        (any order). Closing the generator early, or a KeyboardInterrupt while iterating,
        cancels the tasks not yet finished and leaves no worker processes behind."""
        ...

    def close(self) -> None:
        """Release workers and connections; idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def executor_named(name: str) -> ExecutorName:
    """``name`` as an executor's name; FlywheelError listing the executors otherwise."""
    if name in NAMES:
        return name
    raise FlywheelError(f"unknown executor '{name}' — use one of: {', '.join(NAMES)}")


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """Where a batch's runs execute: the executor's ``name``, a Dask scheduler's ``address``,
    the number of ``workers``, and the runs per task (``chunk``). Its errors name the
    command-line options it mirrors (``--chunk``)."""

    name: ExecutorName = "local"
    address: str | None = None
    workers: int | None = None
    chunk: int = CHUNK

    def __post_init__(self) -> None:
        executor_named(self.name)
        if self.chunk < 1:
            raise ModelError(f"--chunk must be at least 1, not {self.chunk}")

    def make(self) -> Executor:
        """The executor (see :func:`make_executor`); close it when done."""
        return make_executor(self.name, address=self.address, workers=self.workers)


def make_executor(
    name: ExecutorName | str = "local", *, address: str | None = None, workers: int | None = None
) -> Executor:
    """The executor called ``name`` ("local", "processes" or "dask").

    ``workers`` is the number of local processes ("processes": default ``os.cpu_count()``) or
    of workers in the local Dask cluster started when ``address`` is None (default 2).
    ``address`` is a Dask scheduler address such as ``"tcp://host:8786"``.
    """
    name = executor_named(name)
    if workers is not None and workers < 1:
        raise FlywheelError(f"workers must be at least 1, not {workers}")
    if address is not None and name != "dask":
        raise FlywheelError(
            f"an address is only used by the dask executor, not '{name}' — "
            "choose executor 'dask' (--executor dask) or drop the address"
        )
    if name == "local":
        if workers is not None:
            raise FlywheelError(
                "the local executor runs tasks one at a time in this process — "
                "use executor 'processes' (--executor processes) to run on several workers"
            )
        return LocalExecutor()
    if name == "processes":
        return ProcessesExecutor(workers or os.cpu_count() or 1)
    if address is not None and workers is not None:
        raise FlywheelError(
            f"workers cannot be set for the Dask cluster at {address} — its workers are the "
            "ones started there (dask worker ADDRESS --nworkers K); drop workers"
        )
    return DaskExecutor(address=address, workers=workers or 2)


class _Closing:
    """Context-manager support: ``with make_executor(...) as ex:`` closes on exit."""

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LocalExecutor(_Closing):
    """Runs the tasks in this process and yields their results in task order.

    ``threads`` helper threads (default: one per core) each run whole tasks, taking the next
    one when they finish, and at most ``threads + ahead`` tasks are started and not yet
    yielded: while the caller handles result ``i`` (a sweep writes it to the run store) the
    next tasks are already computing. The numba VM releases the interpreter lock, and each
    helper thread gives numba its share of the cores (so threads × numba threads = cores);
    DuckDB also works outside the lock. Threads that each run whole chunks need no barrier
    between them, unlike one chunk split over all cores, which waits for its slowest part
    (on a shared machine, the thread the system paused). ``ahead=0`` runs each task in the
    caller's thread when it is asked for (for a debugger or profiler).
    """

    name = "local"

    def __init__(self, ahead: int = 1, threads: int | None = None) -> None:
        self.ahead = ahead
        self.threads = threads or os.cpu_count() or 1

    def map_unordered(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        *,
        shared: Mapping[str, Any] | None = None,
    ) -> Generator[tuple[int, R], None, None]:
        kwargs = dict(shared or {})
        if self.ahead < 1 or len(tasks) < 2:
            for i, args in enumerate(tasks):
                yield i, fn(*args, **kwargs)
            return
        n_threads = min(self.threads, len(tasks))
        window = n_threads + self.ahead  # tasks started and not yet yielded, at most
        changed = threading.Condition()
        results: dict[int, tuple[Any, BaseException | None]] = {}
        started, yielded = [0], [0]
        stop = threading.Event()

        def work() -> None:
            _share_cores(n_threads)
            while True:
                with changed:
                    while not stop.is_set() and started[0] - yielded[0] >= window:
                        changed.wait(0.05)
                    if stop.is_set() or started[0] >= len(tasks):
                        return
                    i = started[0]
                    started[0] += 1
                try:
                    with cancelling(stop.is_set):  # a run in progress stops at the next chunk
                        item: tuple[Any, BaseException | None] = (fn(*tasks[i], **kwargs), None)
                except BaseException as exc:  # handed to the caller, raised there in order
                    item = (None, exc)
                with changed:
                    results[i] = item
                    changed.notify_all()

        workers = [
            threading.Thread(target=work, name=f"flywheel-local-{k}", daemon=True)
            for k in range(n_threads)
        ]
        for worker in workers:
            worker.start()
        try:
            for i in range(len(tasks)):
                with changed:
                    while i not in results:
                        if sigint_seen():  # a Ctrl-C that a library swallowed on its way
                            raise KeyboardInterrupt
                        changed.wait(0.1)
                    value, error = results.pop(i)
                    yielded[0] = i + 1
                    changed.notify_all()
                if error is not None:
                    raise error
                yield i, value
        finally:
            # Runs in progress stop at their next chunk of steps (Cancelled, dropped with
            # the other results). Waiting keeps the next call from sharing the cores.
            stop.set()
            with changed:
                changed.notify_all()
            for worker in workers:
                worker.join()


def _share_cores(parts: int) -> None:
    """Let numba kernels launched from this thread use 1/parts of the cores."""
    if importlib.util.find_spec("numba") is None:
        return
    import numba

    total = int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))
    numba.set_num_threads(max(1, total // parts))


def _indexed(
    fn: Callable[..., R], i: int, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[int, R]:
    return i, fn(*args, **kwargs)


WATCH = 0.5  # seconds between a worker's checks that its parent is still alive
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): a signal for when the parent dies


def exit_with_parent(parent: int) -> None:
    """Make this worker process exit when ``parent`` (the process that started it) dies,
    even by SIGKILL, which gives the parent no chance to stop it: on Linux the kernel sends
    SIGKILL when the parent exits (``prctl(PR_SET_PDEATHSIG)``), and everywhere a daemon
    thread checks every ``WATCH`` seconds that the parent is still this process's parent
    (an orphan is adopted by another process). Run in each worker as it starts."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request above was in place
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH)
        os._exit(1)

    threading.Thread(target=watch, name="flywheel-parent-watch", daemon=True).start()


class ProcessesExecutor(_Closing):
    """Runs tasks on ``workers`` local processes (joblib, loky backend).

    joblib keeps its process pool warm between calls and retires idle workers after five
    minutes; cancelling (early close, an error, Ctrl-C) kills the workers at once. A worker
    whose parent dies (even killed by SIGKILL, which cannot be caught) exits within about a
    second (:func:`exit_with_parent`).
    """

    name = "processes"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map_unordered(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        *,
        shared: Mapping[str, Any] | None = None,
    ) -> Generator[tuple[int, R], None, None]:
        from joblib import Parallel, delayed, parallel_config

        kwargs = dict(shared or {})
        # every worker runs exit_with_parent as it starts (the config is read here, once)
        with parallel_config(backend="loky", initializer=exit_with_parent, initargs=(os.getpid(),)):
            parallel = Parallel(
                n_jobs=self.workers,
                return_as="generator_unordered",
                batch_size=1,  # a task is already a chunk of ~1,000 runs
            )
        outputs = parallel(delayed(_indexed)(fn, i, args, kwargs) for i, args in enumerate(tasks))
        try:
            # not `yield from`: it would close `outputs` before the warning filter below is set
            for item in outputs:  # noqa: UP028
                yield item
        finally:
            # On early exit joblib aborts (kills the workers) and warns that tasks were
            # cancelled — which is what the caller asked for. (module= keeps this working when
            # an unclosed generator is collected at interpreter exit, after sys.modules is gone.)
            with warnings.catch_warnings(module=warnings):
                warnings.simplefilter("ignore", UserWarning)
                outputs.close()


def _call(fn: Callable[..., R], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> R:
    # kwargs go in a dict, not as submit(**kwargs), so that shared names such as "key" or
    # "workers" cannot collide with Client.submit's own keywords.
    return fn(*args, **kwargs)


class DaskExecutor(_Closing):
    """Runs tasks on a Dask cluster: the one at ``address``, or a LocalCluster it owns."""

    name = "dask"

    def __init__(self, *, address: str | None, workers: int) -> None:
        try:
            # typed as Any: distributed's API is not annotated (and may not be installed)
            distributed: Any = importlib.import_module("distributed")
        except ImportError as exc:
            raise FlywheelError(DASK_EXTRA) from exc
        self._distributed = distributed
        self._cluster: Any = None
        if address is None:
            self._cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # as joblib does for its workers: share the cores among the workers' numba
                # threads instead of giving each worker all of them
                env={"NUMBA_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // workers))},
            )
            try:
                self._client: Any = distributed.Client(self._cluster)
            except BaseException:
                self._cluster.close()
                raise
        else:
            try:
                self._client = distributed.Client(address)
            except (OSError, ValueError) as exc:
                raise FlywheelError(
                    f"could not connect to the Dask scheduler at {address} ({_first_line(exc)}) — "
                    "start one with 'dask scheduler', check the address (tcp://HOST:8786) and "
                    "that its port is open"
                ) from exc
        #: The scheduler's address, e.g. "tcp://127.0.0.1:40123" (give it to other clients).
        self.address: str = self._client.scheduler.address

    def map_unordered(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        *,
        shared: Mapping[str, Any] | None = None,
    ) -> Generator[tuple[int, R], None, None]:
        as_completed = self._distributed.as_completed
        if not tasks:
            return
        client = self._client
        kwargs: dict[str, Any] = {}
        pending: dict[str, tuple[int, Any]] = {}  # future key -> (task index, future)
        try:
            # Scatter each shared object once; wrapping it in a list keeps a list or dict value
            # whole (scatter would otherwise split it into one future per element). hash=False
            # gives this call its own copy, which it can release without affecting others.
            for k, v in (shared or {}).items():
                kwargs[k] = client.scatter([v], broadcast=True, hash=False)[0]
            for i, args in enumerate(tasks):
                future = client.submit(_call, fn, tuple(args), kwargs, pure=False)
                pending[future.key] = (i, future)
            for future in as_completed([f for _, f in pending.values()]):
                i, _ = pending.pop(future.key)
                try:
                    result = future.result()
                finally:
                    future.release()  # free the cluster's copy now, not when the sweep ends
                yield i, result
        finally:
            # Cancel what is left. Release explicitly too: an exception's traceback would keep
            # this frame's futures (and so their tasks and data) alive.
            if pending:
                client.cancel([f for _, f in pending.values()])
            for future in [*(f for _, f in pending.values()), *kwargs.values()]:
                future.release()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
