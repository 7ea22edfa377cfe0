"""``flywheel run`` on long runs (issue 18 item 1): Ctrl-C stops a compiled run in one line
with exit 130, and ``--max-cells`` raises or lowers the size limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli

LONG = """\
name: long
time: {start: 0, stop: 1000000, dt: 0.001, save_step: 1000}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: {equation: "0.000001 * (1 - x)"}
"""


def interrupted(args: list[str], cwd: Path, wait: float) -> tuple[int, str]:
    """Start ``flywheel ARGS``, send SIGINT after ``wait`` seconds (it must still be running)
    and return its exit code and stderr; fails if it has not stopped 60 s later."""
    env = dict(os.environ, FLYWHEEL_STORE=str(cwd / "runs.duckdb"))
    process = subprocess.Popen(
        [sys.executable, "-m", "flywheel_sim.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    time.sleep(wait)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    try:
        _, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"Ctrl-C did not stop flywheel {args[0]}") from None
    return process.returncode, errors


def test_ctrl_c_stops_a_long_run_in_one_line(tmp_path: Path) -> None:
    """A billion steps (minutes of compiled work, allowed by --max-cells): SIGINT once the
    command runs ends it at the next chunk of steps with one line and exit 130."""
    model = tmp_path / "long.yaml"
    model.write_text(LONG, encoding="utf-8")
    args = ["run", str(model), "--no-chart", "--no-store", "--max-cells", "10000000000"]
    code, errors = interrupted(args, tmp_path, 4.0)  # past the imports: the model runs
    assert code == 130, errors
    assert errors.strip().splitlines() == ["interrupted (Ctrl-C)"], errors


def test_ctrl_c_stops_a_sweep_of_long_runs_in_one_line(tmp_path: Path) -> None:
    """The local executor's helper threads stop their runs in progress at the next chunk of
    steps, so the sweep ends at once with its resume note instead of finishing the runs."""
    model = tmp_path / "long.yaml"
    text = LONG + "parameters:\n  rate: {default: 0.5, min: 0, max: 1}\n"
    model.write_text(text.replace("0.000001 * (1 - x)", "0.000001 * rate * (1 - x)"), "utf-8")
    args = ["sweep", str(model), "--samples", "4", "--chunk", "1", "--dist", "rate=uniform:0,1"]
    args += ["--outcome", "x@end", "--store", str(tmp_path / "runs.duckdb")]
    args += ["--max-cells", "10000000000"]
    code, errors = interrupted(args, tmp_path, 6.0)  # past the imports and the plan
    assert code == 130, errors
    lines = errors.strip().splitlines()
    assert len(lines) == 1 and "interrupted:" in lines[0] and "--resume" in lines[0], errors


def test_max_cells_sets_the_limit_of_a_run(tmp_path: Path) -> None:
    model = tmp_path / "short.yaml"
    model.write_text(LONG.replace("stop: 1000000, dt: 0.001", "stop: 10000, dt: 1"), "utf-8")
    refused = run_cli("run", str(model), "--no-chart", "--no-store", "--max-cells", "1000")
    assert refused.returncode == 1
    assert "over the limit of 1,000 (max_cells)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    done = run_cli("run", str(model), "--no-chart", "--no-store", "--vars", "x")
    assert done.returncode == 0, done.stderr
