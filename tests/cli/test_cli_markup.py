"""The CLI prints names, paths and messages as they are, never as rich markup (issue 18
item 5): a ``[/x]`` in a model's path or a variable's name used to crash the error printer with
a traceback, and bracketed text of our own messages vanished ("a list of  pairs")."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import flywheel_in_process

flywheel = flywheel_in_process


def test_an_error_in_a_file_whose_path_looks_like_markup_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a["
    folder.mkdir()
    (folder / "x].yaml").write_text("name: m\ntime: {start: 0, stop: 1, dt: 1}\nstocks:\n  s: {}\n")
    code, _, err = flywheel(["check", str(tmp_path / "a[/x].yaml")], capsys)
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "a[/x].yaml:4" in err


def test_bracketed_text_of_our_own_messages_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lookup.yaml"
    path.write_text("name: m\ntime: {start: 0, stop: 1, dt: 1}\nlookups:\n  l: {points: [1, 2]}\n")
    code, _, err = flywheel(["check", str(path)], capsys)
    assert code == 1
    assert "points of 'l' must be a list of [x, y] pairs" in err


MODEL = """name: m[/b]
description: "see [/x] and [bold]"
time: {start: 0, stop: 1, dt: 1, units: "[year]"}
parameters:
  "p[/q]": {default: 2, unit: "[red]"}
stocks:
  "s[/x]": {initial: 1, inflows: [f]}
flows:
  f: 0
"""


def test_names_with_brackets_show_in_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MODEL)
    code, out, err = flywheel(["describe", str(path)], capsys)
    assert code == 0, err
    for text in ("m[/b]: see [/x] and [bold]", "[year]", "s[/x]", "p[/q]", "[red]", "m[/b]: var"):
        assert text in out, text
    code, out, err = flywheel(["run", str(path), "--no-chart", "--no-store"], capsys)
    assert code == 0, err
    assert "s[/x]" in out and "m[/b]: 1 run(s)" in out
