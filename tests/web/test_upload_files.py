"""Uploading a model with the data files it reads (web/upload_files.py, Registry.upload,
callbacks.receive): several files in one upload, as the page's dcc.Upload (multiple=True)
sends them, through Flask's test client. The models and data files are hand-written for the
tests; the values are worked out by hand from the files."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dash")
pytest.importorskip("dash_cytoscape")

from flywheel_sim.web.app import create_app
from flywheel_sim.web.budgets import Budgets
from flywheel_sim.web.callbacks import run
from flywheel_sim.web.session import Registry
from flywheel_sim.web.upload_files import safe_name

SESSION = "c" * 32
CONTROL = "FINAL TIME = 2 ~~|\nINITIAL TIME = 0 ~~|\nTIME STEP = 1 ~~|\nSAVEPER = 1 ~~|\n"
# GET DIRECT DATA from a CSV beside the model (times across row 1), and a data variable
# without an equation whose series comes in a .dat file (Vensim help, ".dat format")
MODEL = (
    "{UTF-8}\n"
    "from csv := GET DIRECT DATA('inputs.csv', ',', '1', 'B2') ~~|\n"
    "from dat ~~|\n"
    "x = from csv + from dat ~~|\n" + CONTROL
)
CSV = b"time,0,2\nseries,10,30\n"
DAT = b"from dat\n0 1\n2 3\n"


def post(app: Any, files: list[tuple[str, bytes]], session: str = SESSION) -> dict[str, Any]:
    """Upload ``files`` together as the page does; the callback's outputs by component."""
    key = next(k for k in app.callback_map if "model.options" in k)
    outputs = [dict(zip(("id", "property"), p.split(".", 1), strict=True))
               for p in key.strip(".").split("...")]  # fmt: skip
    contents = ["data:;base64," + base64.b64encode(data).decode() for _, data in files]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": "upload", "property": "contents", "value": contents}],
        "state": [
            {"id": "upload", "property": "filename", "value": [name for name, _ in files]},
            {"id": "session", "property": "data", "value": session},
        ],
        "changedPropIds": ["upload.contents"],
    }
    answer = app.server.test_client().post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    out: dict[str, Any] = json.loads(answer.get_data(as_text=True))["response"]
    return out


def refused(app: Any, files: list[tuple[str, bytes]]) -> str:
    out = post(app, files)
    assert out["error"]["hidden"] is False and "model" not in out, out
    text = str(out["error"]["children"])
    assert text.startswith("could not load") and "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture()
def app(tmp_path: Path) -> Any:
    made = create_app("logistic", budgets=Budgets(max_upload_bytes=10_000, max_upload_files=3))
    made.registry.root = tmp_path  # the uploads' folders, to look into
    return made


def test_a_model_runs_with_the_files_uploaded_beside_it(app: Any, tmp_path: Path) -> None:
    out = post(app, [("inputs.csv", CSV), ("model.mdl", MODEL.encode()), ("d.dat", DAT)])
    assert out["error"]["hidden"] is True, out
    entry = app.registry.get(out["model"]["value"])
    assert entry.folder is not None and entry.folder.parent == tmp_path
    assert sorted(p.name for p in entry.folder.iterdir()) == ["d.dat", "inputs.csv", "model.mdl"]
    result = run(entry, {})
    assert [float(v) for v in result["x"].isel(run=0).values] == [11.0, 22.0, 33.0]
    # without the .dat file the data variable is refused in one line saying how to give it
    assert "'from dat' is a data variable" in refused(
        app, [("inputs.csv", CSV), ("model.mdl", MODEL.encode())]
    )
    # and without the CSV, the GET call finds no file
    assert "inputs.csv" in refused(app, [("model.mdl", MODEL.encode()), ("d.dat", DAT)])


@pytest.mark.parametrize(
    ("files", "what"),
    [
        ([("a.mdl", b"x"), ("b.yaml", b"y")], "an upload is one model file"),
        ([("a.csv", CSV), ("b.dat", DAT)], "this one has 0"),
        ([("m.mdl", MODEL.encode()), ("run.exe", b"MZ")], "'run.exe' is not a data file"),
        ([("m.mdl", MODEL.encode()), ("big.csv", b"1" * 10_001)], "limited to 10,000 bytes"),
        ([("m.mdl", MODEL.encode())] + [(f"{i}.csv", CSV) for i in range(4)], "at most 3"),
        ([("m.mdl", MODEL.encode()), ("a.csv", CSV), ("A.csv", CSV)], "two files of the"),
        ([("m.mdl", MODEL.encode()), ("sub/m.mdl", CSV)], "this one has 2"),
    ],
)
def test_uploads_beyond_the_limits_are_one_line(
    app: Any, files: list[tuple[str, bytes]], what: str, tmp_path: Path
) -> None:
    assert what in refused(app, files)
    assert list(tmp_path.iterdir()) == []  # nothing kept


def test_names_cannot_leave_the_uploads_folder(app: Any, tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd.csv") == "passwd.csv"
    assert safe_name("..\\..\\x.csv") == "x.csv"
    assert safe_name(".hidden.csv") == "hidden.csv"
    assert safe_name("a b(1);rm -rf.csv") == "a b(1)_rm -rf.csv"
    assert safe_name("..") == "data" and safe_name("") == "data"
    model = MODEL.replace("inputs.csv", "in put.csv").encode()
    out = post(app, [("m.mdl", model), ("../../in put.csv", CSV), ("/tmp/d.dat", DAT)])
    assert out["error"]["hidden"] is True, out
    folder = app.registry.get(out["model"]["value"]).folder
    assert sorted(p.name for p in folder.iterdir()) == ["d.dat", "in put.csv", "m.mdl"]
    assert [p.parent for p in tmp_path.iterdir()] == [tmp_path]  # one folder, nothing beside


def test_the_same_model_with_other_data_is_another_upload(app: Any) -> None:
    first = post(app, [("m.mdl", MODEL.encode()), ("inputs.csv", CSV), ("d.dat", DAT)])
    other = CSV.replace(b"10,30", b"20,40")
    second = post(app, [("m.mdl", MODEL.encode()), ("inputs.csv", other), ("d.dat", DAT)])
    assert first["model"]["value"] != second["model"]["value"]
    entry = app.registry.get(second["model"]["value"])
    assert float(run(entry, {})["x"].isel(run=0).values[0]) == 21.0


def test_a_single_file_upload_is_read_as_before(tmp_path: Path) -> None:
    """A page that sends one file (not a list), as the hostile-upload tests do."""
    from flywheel_sim.web.callbacks import receive

    registry = Registry(root=tmp_path)
    encoded = "data:;base64," + base64.b64encode(MODEL.encode()).decode()
    _, _, error, hidden = receive(registry, encoded, "m.mdl", SESSION)
    assert hidden is False and "'inputs.csv' is not a file in the model's folder" in error
