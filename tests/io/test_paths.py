"""Files a model names are confined to the model's folder (issue 18 item 4): no absolute
path, no ``..`` or symlink out of it, no directory, pipe, huge or binary file, and errors that
read the same whether the named file exists or not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import load_model
from flywheel_sim.io.paths import confined, read_bytes, read_csv, read_text
from flywheel_sim.studies.history import history_frame


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inside = tmp_path / "model"
    (inside / "sub").mkdir(parents=True)
    (inside / "data.csv").write_text("year,x\n1,2\n")
    (inside / "sub" / "more.csv").write_text("year,y\n1,3\n")
    (tmp_path / "secret.csv").write_text("year,password\n1,42\n")
    return inside


def message(path: str, root: Path | None) -> str:
    with pytest.raises(ModelError) as info:
        read_text(path, root, what="history data", file="m.yaml", line=7)
    return str(info.value)


def test_relative_paths_inside_the_folder_are_read(folder: Path) -> None:
    assert read_text("data.csv", folder, what="d") == "year,x\n1,2\n"
    assert read_text("sub/more.csv", folder, what="d").startswith("year,y")
    assert read_text("sub/../data.csv", folder, what="d").startswith("year,x")
    assert confined("data.csv", folder, what="d") == (folder / "data.csv").resolve()
    assert read_csv("data.csv", folder, what="d")["x"].tolist() == [2]


@pytest.mark.parametrize("path", ["../secret.csv", "sub/../../secret.csv", "SECRET_ABSOLUTE"])
def test_paths_out_of_the_folder_are_refused(folder: Path, path: str) -> None:
    path = path.replace("SECRET_ABSOLUTE", str(folder.parent / "secret.csv"))
    text = message(path, folder)
    assert f"history data '{path}' is outside the model's folder (m.yaml:7)" in text
    assert "42" not in text


def test_the_error_does_not_say_whether_a_file_outside_exists(folder: Path) -> None:
    exists = message("../secret.csv", folder)
    missing = message("../no_such_file.csv", folder)
    assert exists.replace("secret", "X") == missing.replace("no_such_file", "X")
    assert message("/etc/passwd", folder).replace("/etc/passwd", "X") == message(
        "/etc/no_such_file", folder
    ).replace("/etc/no_such_file", "X")
    # inside the folder a missing file and a directory read alike too
    assert message("nothing.csv", folder).replace("nothing.csv", "X") == message(
        "sub", folder
    ).replace("sub", "X")


def test_symlinks_out_of_the_folder_are_refused(folder: Path) -> None:
    (folder / "link.csv").symlink_to(folder.parent / "secret.csv")
    (folder / "dangling.csv").symlink_to(folder.parent / "nothing.csv")
    (folder / "out").symlink_to(folder.parent)
    for path in ("link.csv", "dangling.csv", "out/secret.csv"):
        assert "outside the model's folder" in message(path, folder)
    (folder / "inner.csv").symlink_to(folder / "data.csv")
    assert read_text("inner.csv", folder, what="d").startswith("year,x")


def test_directories_pipes_loops_and_odd_names_are_not_files(folder: Path) -> None:
    os.mkfifo(folder / "pipe.csv")
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    for path in ("sub", "pipe.csv", "loop.csv", ".", "nul\x00.csv", "x" * 5000):
        assert "is not a file in the model's folder" in message(path, folder), path
    assert "outside the model's folder" in message("", folder)


def test_large_and_binary_files_are_refused(folder: Path) -> None:
    (folder / "big.csv").write_text("year,x\n" + "1,2\n" * 100)
    with pytest.raises(ModelError, match=r"'big\.csv' is larger than 100 bytes"):
        read_bytes("big.csv", folder, what="d", limit=100)
    (folder / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "nul.csv").write_bytes(b"year,x\n1,\x002\n")
    for path in ("bin.csv", "nul.csv"):
        assert "is not a CSV file (not UTF-8 text)" in message(path, folder)
    (folder / "bad.csv").write_text('year,x\n1,"2\n')
    with pytest.raises(ModelError, match=r"'bad\.csv' is not a CSV file"):
        read_csv("bad.csv", folder, what="d")
    (folder / "empty.csv").write_text("")
    with pytest.raises(ModelError, match=r"'empty\.csv' is not a CSV file"):
        read_csv("empty.csv", folder, what="d")


def test_without_a_folder_nothing_is_read() -> None:
    assert "the model was not read from a file" in message("data.csv", None)


MODEL = """name: h
time: {start: 0, stop: 2, dt: 1}
stocks:
  s: {initial: 1}
history: {data: DATA, time: year, series: {s: {column: password}}}
"""


@pytest.mark.parametrize("data", ["../secret.csv", "ABSOLUTE"])
def test_history_data_cannot_name_a_file_outside_the_model_folder(folder: Path, data: str) -> None:
    data = data.replace("ABSOLUTE", str(folder.parent / "secret.csv"))
    path = folder / "h.yaml"
    path.write_text(MODEL.replace("DATA", data))
    with pytest.raises(ModelError, match="outside the model's folder") as info:
        history_frame(load_model(path))
    assert "h.yaml:5" in str(info.value)
    (folder / "inside.csv").write_text("year,password\n1,42\n")
    path.write_text(MODEL.replace("DATA", "inside.csv"))
    assert history_frame(load_model(path))["password"].tolist() == [42]


def test_history_data_must_be_a_csv_file(folder: Path) -> None:
    (folder / "image.csv").write_bytes(bytes(range(256)))
    path = folder / "h.yaml"
    path.write_text(MODEL.replace("DATA", "image.csv"))
    with pytest.raises(ModelError, match=r"'image\.csv' is not a CSV file"):
        history_frame(load_model(path))


def test_a_scenario_data_series_is_confined_to_the_scenario_file_folder(folder: Path) -> None:
    from flywheel_sim.studies.scenarios import load_study

    path = folder / "h.yaml"
    path.write_text(
        "name: h\ntime: {start: 0, stop: 2, dt: 1}\nparameters:\n  p: {default: 1}\n"
        "stocks:\n  s: {initial: 1, inflows: [f]}\nflows:\n  f: p\n"
    )
    model = load_model(path)
    scenarios = folder / "h.scenarios.yaml"
    body = (
        "scenarios:\n  a:\n    policies:\n      p: {series: {file: FILE, time: year, column: x}}\n"
    )
    scenarios.write_text(body.replace("FILE", "../secret.csv"))
    with pytest.raises(ModelError, match=r"data series '\.\./secret\.csv' is outside the model's"):
        load_study(path, model)
    scenarios.write_text(body.replace("FILE", "data.csv"))
    assert load_study(path, model).scenario("a").policies[0][1].values == (2.0,)
