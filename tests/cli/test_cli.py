"""The `flywheel` command: every subcommand, files it writes, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from flywheel_sim.cli import common as cli


def flywheel(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_run_prints_the_flagship_model(tmp_path: Path) -> None:
    assert cli.default_model() == "amazon"
    done = flywheel("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "amazon: key figures" in done.stdout
    assert (tmp_path / "out" / "amazon.png").exists()
    summary = flywheel("run", "--vars", "customers", "--no-chart", cwd=tmp_path)
    assert "final" in summary.stdout and "customers" in summary.stdout


def test_run_with_policies(tmp_path: Path) -> None:
    out = tmp_path / "p.nc"
    done = flywheel(
        "run",
        "exponential",
        "--policy",
        "growth_rate=ramp:0@5-10",
        "--vars",
        "stock,growth_rate",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    with xr.open_dataset(out) as data:
        path = data["growth_rate"].values[0]
        assert path[0] == pytest.approx(0.1) and path[-1] == 0.0
        assert float(data["growth_rate@base"].values[0]) == pytest.approx(0.1)
    for bad, message in [
        ("growth_rate", "must look like name=step:TO@AT"),
        ("growth_rate=step:1", "--policy growth_rate=step:1: cannot read policy 'step:1'"),
        ("stock=step:0@1", "only change a parameter"),
    ]:
        done = flywheel("run", "exponential", "--policy", bad)
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], done.stderr


def test_run_with_options_writes_every_format(tmp_path: Path) -> None:
    done = flywheel(
        "run",
        "sir",
        "--set",
        "duration=3",
        "-s",
        "contact_infectivity=0.4",
        "--method",
        "rk4",
        "--stop",
        "50",
        "--vars",
        "infectious,recovered",
        "--out",
        str(tmp_path / "r.csv"),
        "--plot",
        str(tmp_path / "r.png"),
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "r.csv")
    assert list(table.columns) == ["run", "time", "infectious", "recovered"]
    assert table.time.iloc[-1] == 50
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    for suffix in (".parquet", ".nc"):
        out = tmp_path / f"r{suffix}"
        assert flywheel("run", "logistic", "--out", str(out)).returncode == 0
    assert pd.read_parquet(tmp_path / "r.parquet").shape[0] == 61
    with xr.open_dataset(tmp_path / "r.nc") as data:
        assert float(data.population.isel(run=0, time=-1)) == pytest.approx(1000, rel=1e-3)
    assert flywheel("run", "logistic", "--plot", str(tmp_path / "c.svg")).returncode == 0
    assert b"<svg" in (tmp_path / "c.svg").read_bytes()[:400]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "sir", "--set", "durtion=3"], "did you mean 'duration'?"),
        (["run", "sir", "--set", "duration"], "must look like name=value"),
        (["run", "sir", "--set", "duration=3", "--out", "x.xlsx"], "unknown format '.xlsx'"),
        (["run", "sir", "--set", "duration=1000"], "outside its declared range"),
        (["run", "nosuch"], "built-in models: "),
        (["check", "missing.yaml"], "model file 'missing.yaml' does not exist"),
        (["run", "sir", "--method", "rk5"], "unknown integration method 'rk5'"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    done = flywheel(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_clip_flag_and_failed_run_exit_code(tmp_path: Path) -> None:
    refused = flywheel("run", "sir", "--set", "duration=1000")  # max 100: refused, or clipped
    assert refused.returncode == 1 and "outside its declared range" in refused.stderr
    assert flywheel("run", "sir", "--set", "duration=1000", "--clip").returncode == 0
    model = tmp_path / "bad.yaml"
    model.write_text(
        "name: bad\ntime: {start: 0, stop: 4, dt: 1}\n"
        "auxiliaries:\n  x: {equation: 1 / (2 - TIME)}\n"
    )
    done = flywheel("run", str(model))
    assert done.returncode == 3
    assert "x became non-finite at t = 2" in done.stderr


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.parquet"
    target.write_bytes(b"old contents")
    (tmp_path / "sub").mkdir()
    done = flywheel("run", "sir", "--out", str(tmp_path / "nofolder" / "x.csv"))
    assert done.returncode == 1 and "does not exist" in done.stderr
    assert target.read_bytes() == b"old contents"


def test_models_describe_check(tmp_path: Path) -> None:
    listing = flywheel("models")
    assert listing.returncode == 0
    for name in ("bass", "delay", "exponential", "logistic", "sir"):
        assert name in listing.stdout
    described = flywheel("describe", "logistic")
    assert described.returncode == 0
    assert "growth_rate" in described.stdout and "crowding" in described.stdout
    assert "carrying capacity K" in described.stdout  # a parameter's description
    assert "crowding slows growth" in described.stdout  # a declared loop's
    checked = flywheel("check", "sir")
    assert checked.returncode == 0 and checked.stdout.startswith("ok: sir")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: b\ntime: {start: 0, stop: 4, dt: 1}\nauxiliaries:\n  x: {equation: y + 1}\n"
    )
    done = flywheel("check", str(broken))
    assert done.returncode == 1
    assert f"unknown name 'y' in auxiliary 'x' ({broken}:4)" in done.stderr


def test_help_everywhere() -> None:
    for command in ([], ["run"], ["models"], ["describe"], ["check"]):
        done = flywheel(*command, "--help")
        assert done.returncode == 0 and "Usage" in done.stdout


def test_parse_sets() -> None:
    assert cli.parse_sets(["a=1", " b = 2.5 "]) == {"a": 1.0, "b": 2.5}
