"""``flywheel run`` on long runs (issue 18 item 1): Ctrl-C stops a compiled run in one line
with exit 130, and ``--max-cells`` raises or lowers the size limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import run_cli
from flywheel_sim.errors import FlywheelError, OutputError
from flywheel_sim.store.runstore import RunStore

LONG = """\
name: long
time: {start: 0, stop: 1000000, dt: 0.001, save_step: 1000}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: {equation: "0.000001 * (1 - x)"}
"""


INTERRUPTED = (130, -signal.SIGINT)  # a shell reports 130 for both: exit 130, killed by SIGINT


def interrupted(
    args: list[str], cwd: Path, wait: float, ready: Callable[[], bool] = lambda: True
) -> tuple[int, str]:
    """Start ``flywheel ARGS``, send SIGINT ``wait`` seconds after ``ready()`` says it got far
    enough (it must still be running) and return its exit code and stderr; fails if it has
    not stopped 60 s later."""
    env = dict(os.environ, FLYWHEEL_STORE=str(cwd / "runs.duckdb"))
    process = subprocess.Popen(
        [sys.executable, "-m", "flywheel_sim.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    deadline = time.monotonic() + 240  # a loaded machine imports slowly
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(wait)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    try:
        _, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"Ctrl-C did not stop flywheel {args[0]}") from None
    return process.returncode, errors


def _sweep_of_long_runs(tmp_path: Path) -> list[str]:
    model = tmp_path / "long.yaml"
    text = LONG + "parameters:\n  rate: {default: 0.5, min: 0, max: 1}\n"
    model.write_text(text.replace("0.000001 * (1 - x)", "0.000001 * rate * (1 - x)"), "utf-8")
    args = ["sweep", str(model), "--samples", "4", "--chunk", "1", "--dist", "rate=uniform:0,1"]
    args += ["--outcome", "x@end", "--store", str(tmp_path / "runs.duckdb")]
    return [*args, "--max-cells", "10000000000"]


def _batch_started(path: Path) -> bool:
    try:
        return RunStore(path).batch(1) is not None
    except (OutputError, FlywheelError):
        return False


def test_ctrl_c_stops_a_long_run_in_one_line(tmp_path: Path) -> None:
    """A billion steps (minutes of compiled work, allowed by --max-cells): SIGINT once the
    command runs ends it at the next chunk of steps with one line and exit 130."""
    model = tmp_path / "long.yaml"
    model.write_text(LONG, encoding="utf-8")
    args = ["run", str(model), "--no-chart", "--no-store", "--max-cells", "10000000000"]
    code, errors = interrupted(args, tmp_path, 4.0)  # past the imports: the model runs
    assert code in INTERRUPTED, errors
    assert errors.strip().splitlines() == ["interrupted (Ctrl-C)"], errors


def test_ctrl_c_stops_a_sweep_of_long_runs_in_one_line(tmp_path: Path) -> None:
    """The local executor's helper threads stop their runs in progress at the next chunk of
    steps, so the sweep ends at once with its resume note instead of finishing the runs."""
    store = tmp_path / "runs.duckdb"
    code, errors = interrupted(
        _sweep_of_long_runs(tmp_path), tmp_path, 1.0, lambda: _batch_started(store)
    )
    assert code in INTERRUPTED, errors
    lines = errors.strip().splitlines()
    assert len(lines) == 1 and "interrupted:" in lines[0] and "--resume" in lines[0], errors


@pytest.mark.parametrize("wait", [0.4, 1.0, 1.6, 2.2, 3.0])
def test_ctrl_c_at_any_moment_ends_the_command_in_one_line(tmp_path: Path, wait: float) -> None:
    """Wherever Ctrl-C lands (importing, opening the run store, compiling, starting the
    runs), the command ends with one line and exit 130: never a traceback nor a hang. Found
    by interrupting at these moments: a query of the run store stopped by DuckDB came out as
    a traceback ("Query interrupted"), and a Ctrl-C DuckDB swallowed left the sweep running."""
    code, errors = interrupted(_sweep_of_long_runs(tmp_path), tmp_path, wait)
    assert code in INTERRUPTED, errors
    lines = errors.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted"), errors
    assert "Traceback" not in errors


def test_max_cells_sets_the_limit_of_a_run(tmp_path: Path) -> None:
    model = tmp_path / "short.yaml"
    model.write_text(LONG.replace("stop: 1000000, dt: 0.001", "stop: 10000, dt: 1"), "utf-8")
    refused = run_cli("run", str(model), "--no-chart", "--no-store", "--max-cells", "1000")
    assert refused.returncode == 1
    assert "over the limit of 1,000 (max_cells)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    done = run_cli("run", str(model), "--no-chart", "--no-store", "--vars", "x")
    assert done.returncode == 0, done.stderr
