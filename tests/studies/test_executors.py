"""Executors: every backend runs every task once, gives bit-identical simulations (seeds
included), cancels what is left when the caller stops, and fails with one-line messages."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim.studies.executors import Executor, make_executor

NOISY = """
name: noisy
time: {start: 0, stop: 10, dt: 0.5}
parameters:
  growth: {default: 0.1, min: 0, max: 1}
stocks:
  x: {initial: 1, inflows: [gain]}
flows:
  gain: {equation: "growth * x * (1 + 0.2 * NORMAL(0, 1))"}
"""

N_RUNS, CHUNK = 2500, 1000


# Task functions live at module level so that worker processes can unpickle them.
def chunk(growth: np.ndarray, seeds: np.ndarray, *, model: fs.Model) -> np.ndarray:
    """Runs growth[k] with seed seeds[k]: one task's chunk (the model arrives via `shared`)."""
    return np.asarray(fs.simulate(model, {"growth": growth}, seed=seeds, variables=["x"])["x"])


def affine(x: int, *, scale: int, offset: int) -> int:
    return scale * x + offset


def nap(i: int) -> int:
    """Task 0 returns at once; the others sleep long enough to have to be cancelled."""
    time.sleep(0 if i == 0 else 30)
    return i


def nap_briefly(i: int) -> int:
    time.sleep(0 if i == 0 else 1)
    return i


def fail_on_three(i: int) -> int:
    if i == 3:
        raise ValueError("task 3 failed")
    time.sleep(0.05)
    return i


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    """One LocalCluster (2 workers) for the whole module: it takes seconds to start."""
    pytest.importorskip("distributed")
    with make_executor("dask", workers=2) as executor:
        yield executor


@pytest.fixture(params=["local", "processes", "dask"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    if request.param == "dask":
        yield request.getfixturevalue("dask_executor")
    else:
        with make_executor(
            request.param, workers=2 if request.param == "processes" else None
        ) as ex:
            yield ex


def loky_workers() -> list[Any]:
    """This process's live joblib/loky worker processes (not its resource trackers)."""
    psutil = pytest.importorskip("psutil")  # comes with the dask extra: distributed needs it

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            alive = child.is_running() and child.status() != psutil.STATUS_ZOMBIE
            if alive and "popen_loky" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def wait_until(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def scheduler_task_count(executor: Executor) -> int:
    client = executor._client  # type: ignore[attr-defined]
    return int(client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))


def test_every_index_comes_back_once_with_its_result(executor: Executor) -> None:
    tasks = [(i,) for i in range(23)]
    got = list(executor.map_unordered(affine, tasks, shared={"scale": 3, "offset": 7}))
    assert sorted(i for i, _ in got) == list(range(23))
    assert dict(got) == {i: 3 * i + 7 for i in range(23)}
    assert list(executor.map_unordered(affine, [], shared={"scale": 1, "offset": 0})) == []


def test_local_runs_in_task_order_and_is_the_default() -> None:
    executor = make_executor()
    assert executor.name == "local"
    got = executor.map_unordered(affine, [(2,), (1,), (3,)], shared={"scale": 1, "offset": 0})
    assert list(got) == [(0, 2), (1, 1), (2, 3)]


def test_chunked_simulation_is_identical_on_every_backend(executor: Executor) -> None:
    model = fs.loads_model(NOISY)
    growth = np.linspace(0.05, 0.5, N_RUNS)
    seeds = 1000 + np.arange(N_RUNS)
    whole = fs.simulate(model, {"growth": growth}, seed=seeds, variables=["x"])["x"].values
    starts = range(0, N_RUNS, CHUNK)
    tasks = [(growth[s : s + CHUNK], seeds[s : s + CHUNK]) for s in starts]
    parts: dict[int, np.ndarray] = dict(
        executor.map_unordered(chunk, tasks, shared={"model": model})
    )
    assert sorted(parts) == [0, 1, 2]
    joined = np.concatenate([parts[i] for i in range(len(tasks))])
    assert joined.shape == whole.shape == (N_RUNS, 21)
    assert np.array_equal(joined, whole)
    other_seeds = fs.simulate(model, {"growth": growth}, seed=seeds + 1, variables=["x"])
    assert not np.array_equal(other_seeds["x"].values, whole)  # the seeds really matter


def test_an_error_in_a_task_propagates_with_its_type(executor: Executor) -> None:
    with pytest.raises(ValueError, match="task 3 failed"):
        for _ in executor.map_unordered(fail_on_three, [(i,) for i in range(8)]):
            pass


def test_closing_early_cancels_the_rest_and_kills_the_process_workers() -> None:
    with make_executor("processes", workers=2) as executor:
        results = executor.map_unordered(nap, [(i,) for i in range(6)])
        assert next(results) == (0, 0)
        assert loky_workers(), "the workers should be running the sleeping tasks"
        start = time.monotonic()
        results.close()
        assert time.monotonic() - start < 5
        assert wait_until(lambda: not loky_workers()), loky_workers()
        # the executor still works after a cancelled call
        again = executor.map_unordered(affine, [(1,), (2,)], shared={"scale": 2, "offset": 0})
        assert sorted(again) == [(0, 2), (1, 4)]
        assert list(executor.map_unordered(nap, [(0,)])) == [(0, 0)]


def test_ctrl_c_while_waiting_cancels_the_process_workers() -> None:
    with make_executor("processes", workers=2) as executor:
        results = executor.map_unordered(nap, [(i,) for i in range(6)])
        assert next(results) == (0, 0)
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            next(results)
        timer.join()
        assert time.monotonic() - start < 5
        assert wait_until(lambda: not loky_workers()), loky_workers()


def test_closing_early_cancels_the_dask_futures(dask_executor: Executor) -> None:
    with closing(dask_executor.map_unordered(nap_briefly, [(i,) for i in range(20)])) as results:
        next(results)
        assert scheduler_task_count(dask_executor) > 0
        start = time.monotonic()
    assert time.monotonic() - start < 1
    # 19 one-second tasks on 2 workers would keep the scheduler busy for ~10 s if not cancelled
    assert wait_until(lambda: scheduler_task_count(dask_executor) == 0, timeout=3)


def test_ctrl_c_while_waiting_cancels_the_dask_futures(dask_executor: Executor) -> None:
    results = dask_executor.map_unordered(nap_briefly, [(i,) for i in range(20)])
    next(results)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        list(results)
    timer.join()
    assert wait_until(lambda: scheduler_task_count(dask_executor) == 0, timeout=3)


def test_a_second_client_uses_the_cluster_and_leaves_it_running(dask_executor: Executor) -> None:
    address = dask_executor.address  # type: ignore[attr-defined]
    with make_executor("dask", address=address) as other:
        got = dict(other.map_unordered(affine, [(1,), (2,)], shared={"scale": 10, "offset": 1}))
    assert got == {0: 11, 1: 21}
    assert dict(dask_executor.map_unordered(affine, [(5,)], shared={"scale": 1, "offset": 0})) == {
        0: 5
    }


def one_line_error(**kwargs: Any) -> str:
    with pytest.raises(fs.FlywheelError) as info:
        make_executor(**kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unknown_name_lists_the_executors() -> None:
    message = one_line_error(name="threads")
    assert "'threads'" in message
    assert "local, processes, dask" in message


def test_options_that_do_not_apply_are_rejected() -> None:
    assert "dask" in one_line_error(name="processes", address="tcp://h:8786")
    assert "processes" in one_line_error(name="local", workers=4)
    assert "at least 1" in one_line_error(name="processes", workers=0)
    assert "--nworkers" in one_line_error(name="dask", address="tcp://h:8786", workers=4)


def test_unreachable_scheduler_names_the_address_and_the_fix() -> None:
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens there
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        message = one_line_error(name="dask", address=address)
    assert address in message
    assert "dask scheduler" in message


def test_without_the_dask_extra_the_error_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    message = one_line_error(name="dask")
    assert message == "the dask executor needs the dask extra: pip install 'flywheel-sim[dask]'"


FRAGILE = """
name: slow
time: {start: 0, stop: 10, dt: 0.5}
parameters:
  growth: {default: 0.1, min: 0, max: 1}
stocks:
  x: {initial: 1, inflows: [gain]}
flows:
  gain: {equation: "growth * x"}
"""


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``, read from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as text:
            return text.read()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_process_workers_exit_when_the_sweep_is_killed(tmp_path: Any) -> None:
    import subprocess

    model = tmp_path / "slow.yaml"
    model.write_text(FRAGILE)
    command = [
        sys.executable, "-m", "flywheel_sim.cli", "sweep", str(model), "--samples", "2000000",
        "--chunk", "100", "--dist", "growth=uniform:0,0.5", "--outcome", "x@end",
        "--store", str(tmp_path / "runs.duckdb"), "--plot", str(tmp_path / "fan.png"),
        "--executor", "processes", "--workers", "2",
    ]  # fmt: skip
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    everything: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and sweep.poll() is None:
            time.sleep(0.2)
            workers = {p for p in _children(sweep.pid) if b"loky" in _cmdline(p)}
        assert len(workers) >= 2, "the workers did not start"
        time.sleep(1.0)  # let them start working
        everything = _children(sweep.pid)
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait()
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in everything) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {p for p in everything if _alive(p)}
        assert not left, f"processes left running after the sweep was killed: {left}"
    finally:
        if sweep.poll() is None:
            sweep.kill()
        for pid in workers | everything:  # never leave our own orphans behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
