"""The .mdl reader's GET XLS/DIRECT calls and data equations, on small models and data files
written in tmp_path (io/mdl/data_calls.py over io/mdl/data.py).

Semantics: Vensim help, GET DIRECT CONSTANTS / LOOKUPS / DATA / SUBSCRIPT, "Data Equations"
(:INTERPOLATE:, :HOLD BACKWARD:, :LOOK FORWARD:, :RAW:) and GET TIME VALUE. Expected values are
worked out by hand from the cells written below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl, loads_mdl
from flywheel_sim.io.mdl.data_series import NA

CONTROL = """
FINAL TIME = 4 ~ Month ~ |
INITIAL TIME = 0 ~ Month ~ |
SAVEPER = TIME STEP ~ Month ~ |
TIME STEP = 1 ~ Month ~ |
"""

# times across row 1 from B1; element a in row 2 (C2 empty: a missing point), b in row 3
DATA_CSV = "time,0,2,4\na,1,,5\nb,10,20,30\n"
LOOKUP_CSV = "0,2,4\n1,3,5\n10,20,30\n"
CONSTANTS_CSV = "1.5,2.5\n3.5,4.5\n"
NAMES_CSV = "north,south\n"

MODEL = (
    """{UTF-8}
Region: GET DIRECT SUBSCRIPT('names.csv', ',', 'A1', 'B1', 'r ') ~~|
D: a, b ~~|
k[Region, D] = GET DIRECT CONSTANTS('const.csv', ',', 'A1') ~~|
one = GET DIRECT CONSTANTS('const.csv', ',', 'B2') ~~|
tab[D](GET DIRECT LOOKUPS('lookup.csv', ',', '1', 'A2')) ~~|
l[D] = tab[D](TIME) ~~|
interp[D] := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|
hold[D] :HOLD BACKWARD: := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|
fwd[D] :LOOK FORWARD: := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|
raw[D] :RAW: := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|
e[a] := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|
e[b] := GET DIRECT DATA('data.csv', ',', '1', 'B3') ~~|
s :HOLD BACKWARD: := GET DIRECT DATA('data.csv', ',', '1', 'B3') ~~|
acc = INTEG(s, 0) ~~|
tv = GET TIME VALUE(0, 5, 0) ~~|
"""
    + CONTROL
)


def write(folder: Path, files: dict[str, str], model: str = MODEL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "model.mdl"
    path.write_text(model, encoding="utf-8")
    return path


def series(result: xr.Dataset, name: str) -> list[float]:
    """The values of ``name`` (``l[a]``: element a of D) at times 0 ... 4."""
    base, _, element = name.partition("[")
    data = result[base].isel(run=0)
    if element:
        data = data.sel(d=element.rstrip("]"))
    if "time" not in data.dims:
        return [float(data)] * 5
    return [float(v) for v in np.asarray(data, dtype=float)]


@pytest.fixture
def csv_model(tmp_path: Path) -> Path:
    files = {
        "data.csv": DATA_CSV,
        "lookup.csv": LOOKUP_CSV,
        "const.csv": CONSTANTS_CSV,
        "names.csv": NAMES_CSV,
    }
    return write(tmp_path, files)


def test_constants_and_subscripts_from_csv(csv_model: Path) -> None:
    model = load_mdl(csv_model)
    region = next(d for d in model.dimensions if d.name == "Region")
    assert region.elements == ("r north", "r south")
    # across on D, down on Region, from A1
    assert model.element("k").kind == "parameter"
    assert dict(model.element("k").default) == {
        "r north,a": 1.5,
        "r north,b": 2.5,
        "r south,a": 3.5,
        "r south,b": 4.5,
    }
    assert model.element("one").default == 4.5


def test_subscript_from_a_file_with_a_mapping(tmp_path: Path, options: fs.Options) -> None:
    """Vensim help, GET DIRECT SUBSCRIPT: "not followed by anything other than a mapping"."""
    model = (
        "{UTF-8}\nRegion: GET DIRECT SUBSCRIPT('names.csv', ',', 'A1', '', 'r ') -> Zone ~~|\n"
        "Zone: z1, z2 ~~|\nr[Region] = 1, 2 ~~|\nm[Zone] = r[Region] * 10 ~~|\n" + CONTROL
    )
    loaded = load_mdl(write(tmp_path, {"names.csv": NAMES_CSV}, model))
    region = next(d for d in loaded.dimensions if d.name == "Region")
    assert region.elements == ("r north", "r south") and region.maps_to == ("Zone",)
    result = fs.simulate(loaded, options=options)
    assert np.asarray(result["m"].isel(run=0), dtype=float).tolist() == [[10, 20]] * 5


def test_lookups_and_data_with_each_keyword(csv_model: Path, options: fs.Options) -> None:
    result = fs.simulate(load_mdl(csv_model), options=options)
    assert series(result, "l[a]") == [1, 2, 3, 4, 5]
    assert series(result, "l[b]") == [10, 15, 20, 25, 30]
    # a: points (0, 1) and (4, 5), the point at 2 missing; b: (0, 10), (2, 20), (4, 30)
    assert series(result, "interp[a]") == [1, 2, 3, 4, 5]
    assert series(result, "interp[b]") == [10, 15, 20, 25, 30]
    assert series(result, "hold[a]") == [1, 1, 1, 1, 5]
    assert series(result, "hold[b]") == [10, 10, 20, 20, 30]
    assert series(result, "fwd[a]") == [1, 5, 5, 5, 5]
    assert series(result, "fwd[b]") == [10, 20, 20, 30, 30]
    assert series(result, "raw[a]") == [1, NA, NA, NA, 5]
    assert series(result, "raw[b]") == [10, NA, 20, NA, 30]
    assert series(result, "e[a]") == [1, 2, 3, 4, 5]
    assert series(result, "e[b]") == [10, 15, 20, 25, 30]
    assert series(result, "s") == [10, 10, 20, 20, 30]
    assert series(result, "acc") == [0, 10, 20, 40, 60]
    assert series(result, "tv") == [5, 6, 7, 8, 9]


def test_xlsx_in_a_subfolder(tmp_path: Path, options: fs.Options) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Inputs"
    for row in [["", 0, 1, 2], ["x", 3, 4, 8], [], [7, 9]]:
        sheet.append(row)
    (tmp_path / "data").mkdir()
    book.save(tmp_path / "data" / "in.xlsx")
    model = (
        "{UTF-8}\nD: a, b ~~|\n"
        "k[D] = GET XLS CONSTANTS('data\\in.xlsx', 'Inputs', 'A4') ~~|\n"
        "x := GET XLS DATA('data\\in.xlsx', 'Inputs', '1', 'B2') ~~|\n"
        "y = x * k[b] ~~|\n" + CONTROL
    )
    result = fs.simulate(load_mdl(write(tmp_path, {}, model)), options=options)
    assert series(result, "x") == [3, 4, 8, 8, 8]  # held after the last point
    assert series(result, "y") == [27, 36, 72, 72, 72]


@pytest.mark.parametrize(
    ("equation", "what"),
    [
        ("x = GET DIRECT CONSTANTS('../secret.csv', ',', 'A1') ~~|", "secret.csv"),
        ("x = GET DIRECT CONSTANTS('/etc/passwd', ',', 'A1') ~~|", "passwd"),
        ("x := GET DIRECT DATA('missing.csv', ',', '1', 'B2') ~~|", "missing.csv"),
        ("x = GET DIRECT DATA('data.csv', ',', '1', 'B2') * 2 ~~|", "whole equation"),
        ("x = GET TIME VALUE(0, 0, 3) ~~|", "calendar units"),
        ("x = GET DIRECT SUBSCRIPT('data.csv', ',', 'A1', 'B1', '') ~~|", "subscript range"),
        ("x = GET TIME VALUE(2, 0, 0) ~~|", "computer's clock"),
    ],
)
def test_refused_in_one_line(tmp_path: Path, equation: str, what: str) -> None:
    (tmp_path / "secret.csv").write_text("1\n", encoding="utf-8")
    path = write(tmp_path / "model", {"data.csv": DATA_CSV}, "{UTF-8}\n" + equation + CONTROL)
    with pytest.raises(ModelError) as caught:
        load_mdl(path)
    text = str(caught.value)
    assert what in text and "\n" not in text
    assert caught.value.line == 2 and caught.value.variable == "x"


def test_from_text_a_get_call_needs_the_folder() -> None:
    text = "{UTF-8}\nx = GET XLS CONSTANTS('a.xlsx', 'S', 'A1') ~~|\n" + CONTROL
    with pytest.raises(ModelError, match="read from text"):
        loads_mdl(text)


def test_converted_to_yaml_and_xmile_runs_the_same(csv_model: Path) -> None:
    """The data series are ordinary (discrete) lookups: a converted model needs no data file."""
    from flywheel_sim.io.models import save_model

    model = load_mdl(csv_model)
    before = fs.simulate(model)
    for suffix in ("yaml", "xmile"):
        target = csv_model.parent / f"converted.{suffix}"
        save_model(model, target)
        after = fs.simulate(fs.load_model(target))
        for name in ("hold", "fwd", "raw", "interp", "l", "acc", "tv", "k"):
            assert np.array_equal(before[name].values, after[name].values), (suffix, name)


def test_from_text_with_a_folder_and_the_series_names(tmp_path: Path) -> None:
    """``loads_mdl(text, root=folder)`` reads GET calls from ``folder``; a data variable's
    series are lookups named ``<name> series[element]`` (docs/vensim.md)."""
    (tmp_path / "data.csv").write_text(DATA_CSV, encoding="utf-8")
    text = "{UTF-8}\nD: a, b ~~|\nx[D] := GET DIRECT DATA('data.csv', ',', '1', 'B2') ~~|\n"
    model = loads_mdl(text + CONTROL, root=tmp_path)
    assert model.element("x series[a]").kind == "lookup"
    assert model.element("x series[b]").lookup.ys == (10, 20, 30)
    assert model.element("x").kind == "aux"


@pytest.mark.parametrize("scope", ["tab", "workbook"])
def test_constants_from_a_named_range(tmp_path: Path, scope: str) -> None:
    """Seen in SDXorg tests/with_lookup: GET DIRECT CONSTANTS('inputs.xlsx', 'tab1', 'var1_'),
    'var1_' an Excel name; Vensim reads from the range's top-left cell."""
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.workbook.defined_name import DefinedName

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Inputs"
    for row in [[None, 0, 1], [0, 6, 7]]:
        sheet.append(row)
    named = DefinedName("k_", attr_text="'Inputs'!$B$2:$C$2")
    if scope == "tab":
        sheet.defined_names["k_"] = named
    else:
        book.defined_names["k_"] = named
    book.save(tmp_path / "in.xlsx")
    text = "{UTF-8}\nD: a, b ~~|\nk[D] = GET DIRECT CONSTANTS('in.xlsx', 'Inputs', 'k_') ~~|\n"
    model = load_mdl(write(tmp_path, {}, text + CONTROL))
    assert dict(model.element("k").default) == {"a": 6, "b": 7}
    series_text = "{UTF-8}\nx := GET DIRECT DATA('in.xlsx', 'Inputs', '1', 'k_') ~~|\n"
    data = load_mdl(write(tmp_path, {}, series_text + CONTROL))
    assert data.element("x series").lookup.xs == (0, 1)  # times across row 1 from B1
    assert data.element("x series").lookup.ys == (6, 7)
    with pytest.raises(ModelError, match="'other' is not a cell reference"):
        load_mdl(write(tmp_path, {}, text.replace("'k_'", "'other'") + CONTROL))
