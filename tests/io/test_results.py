"""Writers are atomic: a failed write never damages an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest

import flywheel_sim as fs
from flywheel_sim.io.results import atomic_path, write_result


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    target.write_text("precious")
    with pytest.raises(fs.OutputError, match="could not write"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["result.csv"]


def test_successful_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old")
    write_result(fs.simulate(fs.load_model("exponential")), target)
    assert target.read_text().startswith("run,time,stock,growth")


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(fs.OutputError, match=r"unknown format '\.txt'"):
        write_result(fs.simulate(fs.load_model("exponential")), tmp_path / "r.txt")
