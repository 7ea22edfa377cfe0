"""The run store: round trips, resume after SIGKILL, two writers at once, schema migration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import flywheel_sim as fs
from conftest import run_cli
from flywheel_sim.errors import FlywheelError, OutputError
from flywheel_sim.store.runstore import RunStore
from flywheel_sim.store.schema import MIGRATIONS, SCHEMA_VERSION
from flywheel_sim.studies.batch import Plan, run_plan
from flywheel_sim.studies.sweep import failure_lines

NOISY = """
name: noisy
time: {start: 0, stop: 10, dt: 0.5}
parameters:
  growth: {default: 0.1, min: 0, max: 1}
  start: {default: 1, min: 0, max: 10}
stocks:
  x: {initial: start, inflows: [gain]}
flows:
  gain: {equation: "growth * x * (1 + 0.2 * NORMAL(0, 1))"}
"""


def noisy_plan(n: int = 2500, seed: int = 7) -> Plan:
    model = fs.loads_model(NOISY, name="noisy")
    values = np.column_stack([np.linspace(0.05, 0.5, n)])
    return Plan(
        kind="sweep",
        model=model,
        names=("growth",),
        values=values,
        variables=("x", "gain"),
        seed=seed,
        fixed={"start": 2.0},
        settings={"samples": n},
    )


def test_a_chunked_batch_equals_one_simulate_call(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    plan = noisy_plan()
    batch = run_plan(plan, store, chunk=1000)
    data = store.load(batch)
    reference = fs.simulate(
        plan.model, {"growth": plan.values[:, 0], "start": 2.0}, seed=7, variables=["x", "gain"]
    )
    assert np.array_equal(data["x"].values, reference["x"].values)
    assert np.array_equal(data["gain"].values, reference["gain"].values)
    assert np.array_equal(data["seed"].values, reference["seed"].values)
    assert np.array_equal(data["growth"].values, plan.values[:, 0])
    assert (data["start"].values == 2.0).all()
    info = store.batch(batch)
    assert info.status == "done" and info.runs_written == 2500 and info.n_runs == 2500
    assert store.done_chunks(batch) == {0, 1, 2}


def test_resume_runs_only_the_missing_chunks(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    plan = noisy_plan(n=3000)
    calls: list[int] = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if done >= 2000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, store, chunk=1000, progress=stop_after_two)
    batch = int(store.batches(limit=1)["id"].iloc[0])
    assert store.batch(batch).status == "interrupted"
    assert store.done_chunks(batch) == {0, 1}
    done_before: list[int] = []
    run_plan(plan, store, resume=batch, progress=lambda d, t: done_before.append(d))
    assert done_before[0] == 2000 and done_before[-1] == 3000  # only one chunk was run
    whole = RunStore(tmp_path / "whole.duckdb")
    reference = whole.load(run_plan(plan, whole, chunk=1000))
    resumed = store.load(batch)
    assert np.array_equal(resumed["x"].values, reference["x"].values)
    assert store.batch(batch).status == "done"
    other = noisy_plan(n=3000, seed=8)
    with pytest.raises(FlywheelError, match="different sweep"):
        run_plan(other, store, resume=batch)


def _sweep_command(store: Path, samples: int, chunk: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "flywheel_sim.cli",
        "sweep",
        "amazon",
        "--samples",
        str(samples),
        "--chunk",
        str(chunk),
        "--save-step",
        "1",
        "--store",
        str(store),
        "--plot",
        str(store.parent / "fan.png"),
        *extra,
    ]


SLOW_SWEEP = 20000  # runs: 100 chunks of 200, so the sweep is caught in the middle


def _chunks(path: Path) -> int:
    try:
        return len(RunStore(path).done_chunks(1))
    except (OutputError, FlywheelError):
        return 0


def test_sigkill_loses_only_the_chunk_in_flight_and_resume_finishes(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    # enough chunks that the sweep is still writing when the third one is seen
    command = _sweep_command(path, SLOW_SWEEP, 200)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _chunks(path) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the sweep finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    store = RunStore(path)
    info = store.batch(1)
    assert info.status == "running"  # never finished
    chunks = store.done_chunks(1)
    assert 3 <= len(chunks) < SLOW_SWEEP // 200
    with store.connect() as con:
        runs = con.execute("SELECT count(*) FROM runs WHERE batch = 1").fetchone()
        rows = con.execute(
            "SELECT count(*), sum(len(value)) FROM series WHERE batch = 1"
        ).fetchone()
    assert runs is not None and rows is not None
    # every stored chunk is whole: 200 runs, each with 5 outcomes at 36 yearly times
    assert runs[0] == 200 * len(chunks) == info.runs_written
    assert rows == (runs[0] * 5, runs[0] * 5 * 36)
    done = subprocess.run([*command, "--resume", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert store.batch(1).status == "done" and store.batch(1).runs_written == SLOW_SWEEP
    resumed = store.load(1)
    plain = RunStore(tmp_path / "plain.duckdb")
    again = subprocess.run(
        _sweep_command(tmp_path / "plain.duckdb", SLOW_SWEEP, 200),
        capture_output=True,
        timeout=600,
    )
    assert again.returncode == 0
    reference = plain.load(1)
    for name in ("net_sales", "customers"):
        assert np.array_equal(resumed[name].values, reference[name].values)


def test_two_processes_writing_at_once_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "shared.duckdb"
    RunStore(path)
    processes = [
        subprocess.Popen(
            _sweep_command(path, 1500, 100, "--seed", str(seed)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors
    store = RunStore(path)
    frame = store.batches()
    assert sorted(frame["id"]) == [1, 2]
    assert (frame["status"] == "done").all() and (frame["runs_written"] == 1500).all()
    for batch in (1, 2):
        data = store.load(batch)
        assert data.sizes["run"] == 1500 and bool(np.isfinite(data["net_sales"].values).all())
    assert not np.array_equal(store.load(1)["net_sales"].values, store.load(2)["net_sales"].values)


def test_an_old_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(
        "INSERT INTO batches (id, kind, model_name, model_hash, scenario, seed, code_version, "
        "created, status, n_runs, settings, times, variables, parameters) VALUES (1, 'run', "
        "'m', 'h', '', 0, '0.0.1', now(), 'done', 2, '{}', [0.0, 0.5, 1.0], ['x', 'y'], ['a'])"
    )
    con.execute("INSERT INTO runs VALUES (1, 0, '', 7, 'ok', [1.5]), (1, 1, '', 8, 'ok', [2.5])")
    # version 1 stored the outputs long, one row per time, in no particular order
    rows = [
        (run, variable, time, 100 * run + 10 * (variable == "y") + time)
        for run in (0, 1)
        for variable in ("x", "y")
        for time in (0.0, 0.5, 1.0)
    ]
    con.executemany("INSERT INTO series VALUES (1, ?, ?, ?, ?)", rows[::-1])
    con.close()
    store = RunStore(path)
    with store.connect() as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)
    info = store.batch(1)
    assert info.note == "" and info.code_version == "0.0.1"
    data = store.load(1)
    assert data["y"].values.tolist() == [[10.0, 10.5, 11.0], [110.0, 110.5, 111.0]]
    assert data["a"].values.tolist() == [1.5, 2.5]
    assert len(store.series(1)) == 12


def test_a_newer_or_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    RunStore(path)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(OutputError, match=r"schema version 99, newer .* upgrade flywheel-sim"):
        RunStore(path)
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(OutputError, match="not a flywheel run store"):
        RunStore(foreign)
    text = tmp_path / "text.duckdb"
    text.write_text("hello")
    with pytest.raises(OutputError, match=r"cannot open the run store .* not a valid DuckDB"):
        RunStore(text)
    with pytest.raises(OutputError, match="is a folder"):
        RunStore(tmp_path)


def test_export_show_and_delete(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    batch = run_plan(noisy_plan(n=50), store)
    csv = store.export(batch, tmp_path / "out.csv")
    frame = pd.read_csv(csv)
    assert list(frame.columns) == [
        "run", "variable", "time", "value", "scenario", "seed", "status", "failed_variable",
        "failed_time", "start", "growth",
    ]  # fmt: skip
    assert len(frame) == 50 * 2 * 21
    parquet = store.export(batch, tmp_path / "out.parquet")
    assert len(pd.read_parquet(parquet)) == len(frame)
    with pytest.raises(OutputError, match=r"use \.csv or \.parquet"):
        store.export(batch, tmp_path / "out.xlsx")
    store.delete(batch)
    with pytest.raises(FlywheelError, match=f"no batch {batch}"):
        store.batch(batch)
    with store.connect() as con:
        left = con.execute("SELECT count(*) FROM series").fetchone()
    assert left == (0,)


def test_every_run_command_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"

    def flywheel(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path, store=path)

    done = flywheel("run", "sir", "--set", "duration=3", "--no-chart")
    assert done.returncode == 0, done.stderr
    assert "stored as batch 1" in done.stdout
    assert flywheel("run", "sir", "--no-store").returncode == 0
    listed = flywheel("runs", "list")
    assert "│  1 │ run" in listed.stdout and "│  2 │" not in listed.stdout
    shown = flywheel("runs", "show", "1")
    assert "batch 1: run of sir — done" in shown.stdout and "duration" in shown.stdout
    data = RunStore(path).load(1)
    assert float(data["duration"].values[0]) == 3.0
    assert flywheel("runs", "export", "1", "sir.parquet").returncode == 0
    assert (tmp_path / "sir.parquet").exists()
    assert flywheel("runs", "delete", "1", "--yes").returncode == 0
    missing = flywheel("runs", "show", "1")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"error: no batch 1 in the run store {path}"]


def test_outcomes_and_percentiles_are_computed_in_the_database(tmp_path: Path) -> None:
    from flywheel_sim.present.study import PERCENTILES, percentile_bands
    from flywheel_sim.studies.outcomes import parse_outcome

    store = RunStore(tmp_path / "runs.duckdb")
    plan = noisy_plan(n=400)
    batch = run_plan(plan, store, chunk=150)
    data = store.load(batch)
    texts = ("x@3", "x@3.2", "x", "gain@max", "gain@min", "gain@mean")
    for text in texts:
        outcome = parse_outcome(text, plan.model)
        np.testing.assert_allclose(store.outcome(batch, outcome), outcome.of(data), rtol=1e-12)
    together = store.outcomes(batch, [parse_outcome(t, plan.model) for t in texts])
    assert list(together) == [parse_outcome(t, plan.model).label for t in texts]
    for text in texts:
        outcome = parse_outcome(text, plan.model)
        assert np.array_equal(together[outcome.label], store.outcome(batch, outcome), True)
    bands = store.percentiles(batch, ["x", "gain"], PERCENTILES)
    for name in ("x", "gain"):
        np.testing.assert_allclose(bands[name], percentile_bands(data[name].values), rtol=1e-9)


def test_ctrl_c_stops_a_sweep_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    process = subprocess.Popen(
        _sweep_command(path, SLOW_SWEEP, 200),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while _chunks(path) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 130, errors
    last = errors.strip().splitlines()[-1]
    assert "interrupted:" in last and "--resume 1" in last, errors
    assert "Traceback" not in errors
    store = RunStore(path)
    assert store.batch(1).status == "interrupted"
    assert store.batch(1).runs_written == 200 * len(store.done_chunks(1))


def test_a_version_3_store_gains_the_failure_columns(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(path))
    for step in MIGRATIONS[:3]:
        for statement in step:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    con.execute(
        "INSERT INTO batches (id, kind, model_name, model_hash, scenario, seed, code_version, "
        "created, status, n_runs, settings, times, variables, parameters) VALUES "
        "(nextval('batch_ids'), 'sweep', 'm', 'h', '', 0, '0.0.1', now(), 'done', 2, '{}', "
        "[0.0, 1.0], ['x'], ['a'])"
    )
    con.execute("INSERT INTO runs VALUES (1, 0, '', 7, 'ok', [1.5]), (1, 1, '', 8, 'failed', [9])")
    con.execute(
        "INSERT INTO series VALUES (1, 0, 'x', [1.0, 2.0]), (1, 1, 'x', [1.0, 'nan'::DOUBLE])"
    )
    con.close()
    store = RunStore(path)
    with store.connect() as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),) and SCHEMA_VERSION == 4
    runs = store.runs(1)
    assert runs["failed_variable"].tolist() == ["", ""]  # not recorded before version 4
    assert runs["failed_time"].isna().all() and runs["a"].tolist() == [1.5, 9.0]
    failures = store.failures(1)
    assert failures.failed == 1 and [v[:2] for v in failures.variables] == [("", 1)]
    assert "not recorded (1 runs)" in failure_lines(failures)[0]
    plan = noisy_plan(n=10)
    batch = run_plan(plan, store)  # and the upgraded store takes new batches
    assert store.batch(batch).runs_written == 10
