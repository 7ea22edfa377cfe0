"""Sweeps under faults and failures (issue 18, items 7 and 8): a full disk during a sweep or at
its last write keeps the finished runs and says how to resume; output into a folder that
cannot be written, a damaged store and an impossible number of samples are one-line errors;
failed runs are stored with their variable and time, summarised, and fail the command above
``--max-failed``."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

import flywheel_sim as fs
from conftest import flywheel_in_process
from flywheel_sim.errors import LimitError, ModelError, OutputError
from flywheel_sim.store import lock
from flywheel_sim.store.runstore import RunStore
from flywheel_sim.studies.batch import Plan, run_plan
from flywheel_sim.studies.sampling import MAX_SAMPLES, SamplingSettings
from flywheel_sim.studies.sweep import (
    failure_lines,
    max_failed_share,
    too_many_failed,
)

# LN of a negative number: every run with growth above 0.8 fails at its first step
FRAGILE = """
name: fragile
time: {start: 0, stop: 10, dt: 0.5}
parameters:
  growth: {default: 0.1, min: 0, max: 1}
  other: {default: 1, min: 0, max: 10}
stocks:
  x: {initial: 1, inflows: [gain]}
flows:
  gain: {equation: "x * LN(0.8 - growth) * other / other"}
"""


def fragile_plan(n: int = 3000) -> Plan:
    model = fs.loads_model(FRAGILE, name="fragile")
    growth = np.linspace(0.0, 1.0, n)
    other = np.random.default_rng(1).permutation(np.linspace(1.0, 2.0, n))  # unrelated
    return Plan(
        kind="sweep",
        model=model,
        names=("growth", "other"),
        values=np.column_stack([growth, other]),
        variables=("x",),
        seed=3,
        settings={"samples": n},
    )


def disk_full_after(monkeypatch: pytest.MonkeyPatch, chunks: int, error: BaseException) -> None:
    """Make the store's chunk writes fail with ``error`` after ``chunks`` of them."""
    original = RunStore._insert_chunk
    written = [0]

    def insert(self: RunStore, *args: Any) -> None:
        if written[0] >= chunks:
            raise error
        written[0] += 1
        original(self, *args)

    monkeypatch.setattr(RunStore, "_insert_chunk", insert)


@pytest.mark.parametrize(
    "error",
    [
        duckdb.IOException('Could not write file "runs.duckdb.wal": No space left on device'),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["duckdb", "oserror"],
)
def test_a_full_disk_during_a_sweep_keeps_the_runs_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    plan = fragile_plan()
    disk_full_after(monkeypatch, 2, error)
    with pytest.raises(OutputError) as caught:
        run_plan(plan, store, chunk=1000)
    message = str(caught.value)
    assert "\n" not in message
    assert "runs.duckdb could not be written" in message and "No space left" in message
    assert "2000 of 3000 runs finished before are kept in batch 1" in message
    assert "free some disk space, then run the same command with --resume 1" in message
    monkeypatch.undo()
    assert store.batch(1).status == "interrupted" and store.done_chunks(1) == {0, 1}
    run_plan(plan, store, resume=1)
    whole = RunStore(tmp_path / "whole.duckdb")
    reference = whole.load(run_plan(plan, whole, chunk=1000))
    resumed = store.load(1)
    assert store.batch(1).status == "done"
    assert np.array_equal(resumed["x"].values, reference["x"].values, equal_nan=True)


def test_a_full_disk_at_the_last_write_says_every_run_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    plan = fragile_plan(n=1500)
    original = lock.HeldWriter.release

    def release(self: lock.HeldWriter, *, busy: bool = False) -> None:
        held = self.held
        original(self, busy=busy)
        if held is not None:  # closing folds the log into the file: no room for it
            raise lock.store_failure(self.path, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(lock.HeldWriter, "release", release)
    with pytest.raises(OutputError, match=r"the 1500 of 1500 runs .* kept in batch 1 .*--resume 1"):
        run_plan(plan, store, chunk=1000)
    monkeypatch.undo()
    assert store.done_chunks(1) == {0, 1}
    run_plan(plan, store, resume=1)
    assert store.batch(1).status == "done" and store.batch(1).runs_written == 1500


flywheel = flywheel_in_process


def sweep_args(tmp_path: Path, *extra: str) -> list[str]:
    model = tmp_path / "fragile.yaml"
    model.write_text(FRAGILE)
    return [
        "sweep", str(model), "--samples", "300", "--chunk", "100",
        "--dist", "growth=uniform:0,0.85", "--dist", "other=uniform:1,2", "--outcome", "x@end",
        "--store", str(tmp_path / "runs.duckdb"), "--plot", str(tmp_path / "fan.png"), *extra,
    ]  # fmt: skip


def test_the_sweep_command_on_a_full_disk_ends_in_one_line_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    disk_full_after(monkeypatch, 1, duckdb.IOException("Could not write file: No space left"))
    code, _, err = flywheel(sweep_args(tmp_path), capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and "Traceback" not in err
    assert len(lines) == 1, err
    assert "100 of 300 runs" in lines[0] and "--resume 1" in lines[0], lines[0]
    monkeypatch.undo()
    code, out, err = flywheel([*sweep_args(tmp_path), "--resume", "1"], capsys)
    assert code == 0, err
    assert "stored as batch 1" in out
    assert RunStore(tmp_path / "runs.duckdb").batch(1).runs_written == 300


def test_a_folder_that_cannot_be_written_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from flywheel_sim.io.results import write_text

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match=r"cannot write .*a\.txt.*Permission denied"):
        write_text(tmp_path / "a.txt", "x")
    assert not (tmp_path / "a.txt").exists()


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's /sys")
def test_a_chart_or_an_export_into_a_read_only_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /sys refuses new files even to root (a chmod'ed folder does not stop root)
    code, _, err = flywheel([*sweep_args(tmp_path), "--plot", "/sys/fan.png"], capsys)
    assert code == 1 and "Traceback" not in err
    assert "cannot write '/sys/fan.png'" in err and len(err.strip().splitlines()) == 1
    store = RunStore(tmp_path / "runs.duckdb")
    assert store.batches().empty  # refused before the runs, not after them
    model = fs.loads_model(FRAGILE, name="fragile")
    store.save_result(model, fs.simulate(model, {"growth": [0.1, 0.9]}))
    code, _, err = flywheel(
        ["runs", "export", "1", "/sys/out.parquet", "--store", str(tmp_path / "runs.duckdb")],
        capsys,
    )
    assert code == 1 and "cannot write '/sys/out.parquet'" in err, err


def damaged_store(path: Path) -> Path:
    """A store with one batch, cut short: its catalogue reads, its data does not."""
    with duckdb.connect() as con:  # small blocks keep the file small
        con.execute(f"ATTACH '{path}' AS s (BLOCK_SIZE 16384)")
    model = fs.loads_model(FRAGILE, name="fragile")
    store = RunStore(path)
    store.save_result(model, fs.simulate(model, {"growth": [0.1, 0.9]}))
    os.truncate(path, int(path.stat().st_size * 0.7))
    return path


def test_a_truncated_store_on_export_is_one_line(tmp_path: Path) -> None:
    store = RunStore(damaged_store(tmp_path / "cut.duckdb"))
    with pytest.raises(OutputError) as caught:
        store.export(1, tmp_path / "out.csv")
    message = str(caught.value)
    assert "\n" not in message
    assert "cut.duckdb is damaged" in message and "restore it from a copy" in message
    assert not (tmp_path / "out.csv").exists()


def test_a_billion_samples_are_refused_before_anything_is_allocated() -> None:
    with pytest.raises(LimitError) as caught:
        SamplingSettings(1_000_000_000)
    message = str(caught.value)
    assert f"more than the {MAX_SAMPLES:,} runs" in message
    assert "40 GB of memory per varied parameter" in message
    SamplingSettings(MAX_SAMPLES)  # the bound itself is allowed (and allocates nothing yet)


def test_failed_runs_keep_their_variable_and_time(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    plan = fragile_plan(n=1000)
    batch = run_plan(plan, store, chunk=300)
    runs = store.runs(batch)
    failed = runs[runs["status"] == "failed"]
    growth = plan.values[:, 0]
    assert set(failed["run"]) == set(np.flatnonzero(growth >= 0.8))
    assert (failed["failed_variable"] == "gain").all()
    assert (failed["failed_time"] == 0.0).all()
    ok = runs[runs["status"] == "ok"]
    assert (ok["failed_variable"] == "").all() and ok["failed_time"].isna().all()
    data = store.load(batch)
    assert list(np.unique(data["failed_variable"].values)) == ["", "gain"]
    reference = fs.simulate(
        plan.model, {"growth": growth, "other": plan.values[:, 1]}, seed=3, variables=["x"]
    )
    assert np.array_equal(data["failed_variable"].values, reference["failed_variable"].values)
    assert np.array_equal(
        data["failed_time"].values, reference["failed_time"].values, equal_nan=True
    )


def test_failures_are_summarised_with_their_parameter_region(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    batch = run_plan(fragile_plan(n=1000), store, chunk=300)
    failures = store.failures(batch)
    assert failures.runs == 1000 and failures.failed == 200
    assert failures.variables == (("gain", 200, 0.0),)
    (low, high), (f_low, f_high) = failures.regions["growth"]
    assert (low, high) == (0.0, 1.0) and 0.8 <= f_low < f_high <= 1.0
    lines = failure_lines(failures)
    assert lines[0].startswith("200 of 1000 runs failed (20.0%); first non-finite value in gain")
    assert any("concentrate where growth is 0.82" in line for line in lines), lines
    assert not any("where other is" in line for line in lines), lines
    assert too_many_failed(failures, 0.25, batch) is None
    refusal = too_many_failed(failures, 0.1, batch)
    assert refusal is not None
    assert "200 of 1000 runs failed (20.0%, more than --max-failed 10%)" in refusal
    assert f"kept in batch {batch} (flywheel runs export {batch} FILE)" in refusal
    assert failure_lines(store.failures(run_plan(_ok(), store))) == []


def _ok() -> Plan:
    plan = fragile_plan(n=50)
    return Plan(
        kind="sweep",
        model=plan.model,
        names=plan.names,
        values=plan.values * [0.5, 1.0],
        variables=plan.variables,
    )


@pytest.mark.parametrize(
    ("text", "share"), [("0.1", 0.1), ("10%", 0.1), ("0", 0.0), ("100%", 1.0), (" 2.5% ", 0.025)]
)
def test_max_failed_reads_a_fraction_or_a_percentage(text: str, share: float) -> None:
    assert max_failed_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["1.5", "-1%", "ten", "nan", "120%", ""])
def test_max_failed_outside_0_to_1_is_refused(text: str) -> None:
    with pytest.raises(ModelError, match="--max-failed"):
        max_failed_share(text)


def test_a_sweep_with_too_many_failed_runs_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = flywheel([*sweep_args(tmp_path), "--max-failed", "2%"], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 3, err
    assert len(lines) == 1 and "more than --max-failed 2%" in lines[0], err
    assert "runs failed" in out and "concentrate where growth" in out
    assert "drew" not in out  # no fan chart of the few runs that survived
    code, out, err = flywheel([*sweep_args(tmp_path), "--max-failed", "0.5"], capsys)
    assert code == 0, err
    assert "runs failed" in out and "drew" in out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a file size limit (setrlimit)")
def test_a_real_write_failure_ends_the_sweep_in_one_line_and_resume_finishes(
    tmp_path: Path,
) -> None:
    """Not a patched store: the sweep runs under a 1 MB file size limit, so DuckDB's own
    writes fail (EFBIG, as a full disk fails them with ENOSPC)."""
    import resource
    import signal
    import subprocess

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    args = sweep_args(tmp_path)
    args[args.index("300")] = "4000"
    command = [sys.executable, "-m", "flywheel_sim.cli", *args, "--chunk", "500"]
    done = subprocess.run(
        command, preexec_fn=small_files, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and "could not be written" in lines[0], done.stderr
    assert "of 4000 runs finished before are kept in batch 1" in lines[0]
    assert "--resume 1" in lines[0]
    again = subprocess.run([*command, "--resume", "1"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert RunStore(tmp_path / "runs.duckdb").batch(1).runs_written == 4000


def test_a_working_folder_without_room_for_out_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flywheel_sim.cli.common import default_chart

    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(OutputError, match=r"cannot create the chart folder .*Permission denied"):
        default_chart("sweep", "fragile")
