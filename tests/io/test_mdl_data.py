"""Vensim's GET XLS/DIRECT functions read from files beside the model (io/mdl/data.py).

The layouts are those of SDXorg/test-models (MIT), tests/get_constants_subranges,
get_data_args_3d_xls, get_lookups_data_3d_xls and get_subscript_3d_arrays_xls: their data
files are .xls/.xlsx; the tests build the same cells as .xlsx (openpyxl) and CSV in tmp_path,
and read the cases' own .xls files when tests/mdl holds copies of them. Expected values: the
cells themselves, and Vensim's own output for those cases (output.tab, quoted below).
Semantics: Vensim help, GET DIRECT CONSTANTS / DATA / LOOKUPS / SUBSCRIPT and "Data Equations".
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl import data_files
from flywheel_sim.io.mdl.data import (
    Where,
    cell_name,
    column_number,
    read_constants,
    read_data,
    read_lookups,
    read_subscript,
)
from flywheel_sim.io.mdl.data_series import NA, data_at, data_method, data_table
from flywheel_sim.spec.model import Element, Model, TimeSpec

HERE = Path(__file__).resolve().parents[1]
WHERE = Where(file="model.mdl", line=7, variable="sales data", function="GET DIRECT DATA")

# SDXorg tests/get_data_args_3d_xls input.xls, Sheet1 (also input2.xls of get_lookups_data_3d_xls)
DATA_ROWS: list[list[object]] = [
    [None] * 9,
    [None] * 9,
    [None] * 9,
    [None, "time", 0, 5, 10, 15, 20, 25, 30],
    ["A", "Row1", 0, -2, 10, 1, -5, 0, 5],
    ["A", "Row2", 4, 5, 5, 5, 5, 5, 2],
    ["B", "Row1", -1, -3, -5, 10, 4, 5, 5],
    ["B", "Row2", 0, 0, 1, 2, 1, 0, 0],
]
# SDXorg tests/get_subscript_3d_arrays_xls input.xls, Sheet1
CUBE_ROWS: list[list[object]] = [
    [],
    [None, None, "Column 1", None, "Column 2"],
    [None, "Entry\\Depth", 1, 2, 1, 2],
    [None, 1, 0.01, 0.02, 0.02, 0.05],
    [None, 2, 0.03, 0.04, 0.02, 0.04],
    [None, 3, 0.05, 0.06, 0.05, 0.06],
]


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=i, column=j, value=value)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


@pytest.fixture(params=["xlsx", "csv"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "xlsx":
        pytest.importorskip("openpyxl")
    return str(request.param)


def write(tmp_path: Path, kind: str, rows: list[list[object]], stem: str = "input") -> str:
    path = tmp_path / f"{stem}.{kind}"
    (write_xlsx if kind == "xlsx" else write_csv)(path, rows)
    return path.name


def refused(call: object, *args: object, **kwargs: object) -> ModelError:
    with pytest.raises(ModelError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    error = info.value
    text = str(error)
    assert "\n" not in text and "(model.mdl:7)" in text and "'sales data'" in text, text
    assert error.hint and error.variable == "sales data"
    return error


# -- cells -----------------------------------------------------------------------------------


def test_cell_names() -> None:
    assert [column_number(c) for c in ("A", "z", "AA", "AZ", "BA", "XFD")] == [
        0, 25, 26, 51, 52, 16383,
    ]  # fmt: skip
    assert [cell_name(4, 2), cell_name(0, 26), cell_name(9, 16383)] == ["C5", "AA1", "XFD10"]


# -- GET ... CONSTANTS -----------------------------------------------------------------------


def test_constants_vector_reads_across(tmp_path: Path, kind: str) -> None:
    # SDXorg get_constants_subranges: constant[dim1c] (C, D, E) = GET DIRECT CONSTANTS(
    # 'inputs.xlsx', 'Sheet1', 'A1'); Vensim's output: constant[C]=1, [D]=15, [E]=50
    name = write(tmp_path, kind, [[1, 15, 50]], "inputs")
    values = read_constants(tmp_path, name, "Sheet1", "A1", (3,), where=WHERE)
    assert values.tolist() == [1.0, 15.0, 50.0]
    assert read_constants(tmp_path, name, "Sheet1", "B1", (), where=WHERE).shape == ()
    assert float(read_constants(tmp_path, name, "Sheet1", "$B$1", (), where=WHERE)) == 15.0


def test_constants_table_rows_down_columns_across(tmp_path: Path, kind: str) -> None:
    # SDXorg get_subscript_3d_arrays_xls: Three Dimensional Constant[One Dimensional
    # Subscript, Column1, Third Dimension Subscript] = GET DIRECT CONSTANTS(..., 'C4'), and
    # Column2 from 'E4'; Vensim's output [Entry2, Column2, Depth1] = 0.02, [Entry3, ...] ...
    name = write(tmp_path, kind, CUBE_ROWS)
    column1 = read_constants(tmp_path, name, "Sheet1", "C4", (3, 2), where=WHERE)
    column2 = read_constants(tmp_path, name, "Sheet1", "E4", (3, 2), where=WHERE)
    assert column1.tolist() == [[0.01, 0.02], [0.03, 0.04], [0.05, 0.06]]
    assert column2.tolist() == [[0.02, 0.05], [0.02, 0.04], [0.05, 0.06]]


def test_constants_star_transposes(tmp_path: Path, kind: str) -> None:
    name = write(tmp_path, kind, CUBE_ROWS)
    down = read_constants(tmp_path, name, "Sheet1", "C4*", (3,), where=WHERE)
    assert down.tolist() == [0.01, 0.03, 0.05]
    table = read_constants(tmp_path, name, "Sheet1", "C4*", (2, 3), where=WHERE)
    assert table.tolist() == [[0.01, 0.03, 0.05], [0.02, 0.04, 0.06]]


def test_constants_refusals(tmp_path: Path, kind: str) -> None:
    name = write(tmp_path, kind, CUBE_ROWS)
    assert (
        "is empty"
        in refused(read_constants, tmp_path, name, "Sheet1", "C7", (), where=WHERE).message
    )
    exc = refused(read_constants, tmp_path, name, "Sheet1", "B3", (), where=WHERE)
    assert "cell B3" in exc.message and "not a number" in exc.message
    for bad in ("C0", "4C", "total_sales", "C4:D5", "", "ABCD1"):
        exc = refused(read_constants, tmp_path, name, "Sheet1", bad, (), where=WHERE)
        assert "is not a cell reference" in exc.message
    exc = refused(read_constants, tmp_path, name, "Sheet1", "C4", (2, 2, 2), where=WHERE)
    assert "3 subscript ranges" in exc.message


# -- GET ... DATA ----------------------------------------------------------------------------


def test_data_time_row_elements_down(tmp_path: Path, kind: str) -> None:
    # SDXorg get_data_args_3d_xls: data backward[A, Rows] := GET XLS DATA('input.xls',
    # 'Sheet1', '4', 'C5'), data backward[B, Rows] from 'C7'
    name = write(tmp_path, kind, DATA_ROWS)
    times, a = read_data(tmp_path, name, "Sheet1", "4", "C5", (2,), where=WHERE)
    _, b = read_data(tmp_path, name, "Sheet1", "4", "C7", (2,), where=WHERE)
    assert times.tolist() == [0, 5, 10, 15, 20, 25, 30]
    assert a.shape == (2, 7) and a[1].tolist() == [4, 5, 5, 5, 5, 5, 2]
    assert b[0].tolist() == [-1, -3, -5, 10, 4, 5, 5]
    _, one = read_data(tmp_path, name, "Sheet1", "4", "C8", (), where=WHERE)
    assert one.tolist() == [0, 0, 1, 2, 1, 0, 0]


def test_data_time_column_elements_across(tmp_path: Path, kind: str) -> None:
    rows = [[None, None, None], ["year", "x", "y"], [2000, 1, 10], [2001, None, 20], [2003, 3, 30]]
    name = write(tmp_path, kind, rows)
    times, values = read_data(tmp_path, name, "Sheet1", "A", "B3", (2,), where=WHERE)
    assert times.tolist() == [2000, 2001, 2003]
    assert np.isnan(values[0, 1]) and values[0, [0, 2]].tolist() == [1, 3]
    assert values[1].tolist() == [10, 20, 30]
    # a missing point is interpolated over (Vensim help, ":NA:")
    assert data_at(times, values[0], [2001.0], "interpolate").tolist() == [1 + 2 * 1 / 3]
    assert data_at(times, values[0], [2001.0], "raw").tolist() == [NA]


@pytest.mark.parametrize(
    ("method", "column", "expected"),
    [
        # Vensim's output for SDXorg get_data_args_3d_xls (TIME STEP 0.5, Euler), the stocks
        # accumulation backward[A,Row1] (:HOLD BACKWARD:) and accumulation forward[A,Row1]
        # (:LOOK FORWARD:) = INTEG(data ...[A,Row1], 0), at times 3, 8, 12.5 and 30
        ("hold backward", 0, [0, -6, 15, 20]),
        ("look forward", 0, [-5, 15, 42, 42.5]),
        ("hold backward", 1, [12, 35, 57.5, 145]),
        ("look forward", 1, [14.5, 39.5, 62, 136]),
        # SDXorg get_lookups_data_3d_xls: accumulation data[A,Row1] and [A,Row2] (data
        # interpolated, the default) = INTEG(data function table[...], 0)
        ("interpolate", 0, [-1.5, -1.5, 33, 31.25]),
        ("interpolate", 1, [12.75, 37.25, 59.75, 140.5]),
    ],
)
def test_data_methods_match_vensim(
    tmp_path: Path, kind: str, method: str, column: int, expected: list[float]
) -> None:
    name = write(tmp_path, kind, DATA_ROWS)
    times, values = read_data(tmp_path, name, "Sheet1", "4", "C5", (2,), where=WHERE)
    steps = np.arange(0, 30, 0.5)
    flow = data_at(times, values[column], steps, data_method(method))
    stock = np.concatenate([[0.0], np.cumsum(flow * 0.5)])  # Euler, TIME STEP 0.5
    at = [int(t / 0.5) for t in (3, 8, 12.5, 30)]
    assert stock[at].tolist() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("method", ["interpolate", "hold backward", "look forward", "raw"])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_data_table_runs_as_vensim_data(method: str, backend: str) -> None:
    """The lookup data_table makes, called with TIME by both VMs, gives data_at's values at
    and between the points, before the first and after the last."""
    times = np.array([1.0, 2.5, 4.0, 5.0])
    values = np.array([3.0, np.nan, -1.0, 7.0])
    table = data_table(times, values, data_method(method))
    model = Model(
        "m",
        (
            Element("series", "lookup", lookup=table),
            Element("x", "aux", equation="series(time)"),
        ),
        time=TimeSpec(0, 6, 0.25),
    )
    result = fs.simulate(model, options=fs.Options(backend=backend))
    steps = result["time"].values
    got = result["x"].values.reshape(-1)
    expected = data_at(times, values, steps, data_method(method)).tolist()
    if method == "interpolate":  # the VMs' interpolation formula may differ in the last bit
        assert got.tolist() == pytest.approx(expected, rel=1e-14)
    else:  # steps exactly: at a data time and one floating-point step after it
        assert got.tolist() == expected
    if method == "raw":
        assert got[steps == 2.5].tolist() == [NA] and got[steps == 4.0].tolist() == [-1.0]


def test_data_method_keywords() -> None:
    assert data_method(None) == data_method("") == "interpolate"
    assert data_method(":HOLD BACKWARD:") == data_method("hold_backward") == "hold backward"
    assert data_method(":LOOK FORWARD:") == "look forward" and data_method(":RAW:") == "raw"
    with pytest.raises(ModelError, match="unknown data keyword"):
        data_method(":SIDEWAYS:")


def test_data_refusals(tmp_path: Path, kind: str) -> None:
    name = write(tmp_path, kind, DATA_ROWS)
    exc = refused(read_data, tmp_path, name, "Sheet1", "4", "C5", (2, 2), where=WHERE)
    assert "a number or a vector" in exc.message
    exc = refused(read_data, tmp_path, name, "Sheet1", "3", "C5", (), where=WHERE)
    assert "cell C3" in exc.message and "where the time values start, is empty" in exc.message
    exc = refused(read_data, tmp_path, name, "Sheet1", "4?", "C5", (), where=WHERE)
    assert "not a time row number or column letter" in exc.message
    rows = [list(r) for r in DATA_ROWS]
    rows[3][5] = 4  # times 0, 5, 10, 4, ...
    other = write(tmp_path, kind, rows, "unsorted")
    exc = refused(read_data, tmp_path, other, "Sheet1", "4", "C5", (), where=WHERE)
    assert "do not increase at cell F4 (4 after 10)" in exc.message
    rows[3][5] = "15 years"
    other = write(tmp_path, kind, rows, "texts")
    exc = refused(read_data, tmp_path, other, "Sheet1", "4", "C5", (), where=WHERE)
    assert "cell F4" in exc.message and "'15 years', not a number" in exc.message


# -- GET ... LOOKUPS -------------------------------------------------------------------------


def test_lookups(tmp_path: Path, kind: str) -> None:
    # SDXorg get_lookups_data_3d_xls: lookup function[B, Rows] = GET XLS LOOKUPS('input.xls',
    # 'Sheet1', '4', 'C7'); Vensim: lookup call[A,Row1] = lookup function[A,Row1](Time) is
    # -1.2 at time 3 and 5.5 at 12.5
    name = write(tmp_path, kind, DATA_ROWS)
    xs, ys = read_lookups(tmp_path, name, "Sheet1", "4", "C5", (2,), where=WHERE)
    assert xs.tolist() == [0, 5, 10, 15, 20, 25, 30] and ys.shape == (2, 7)
    assert np.interp([3.0, 12.5], xs, ys[0]).tolist() == pytest.approx([-1.2, 5.5])
    rows = [list(r) for r in DATA_ROWS]
    rows[4][4] = None
    holed = write(tmp_path, kind, rows, "holed")
    exc = refused(read_lookups, tmp_path, holed, "Sheet1", "4", "C5", (2,), where=WHERE)
    assert "cell E5" in exc.message and "is empty" in exc.message


# -- GET ... SUBSCRIPT -----------------------------------------------------------------------


def test_subscripts(tmp_path: Path, kind: str) -> None:
    # SDXorg get_subscript_3d_arrays_xls: Third Dimension Subscript: GET DIRECT SUBSCRIPT(
    # 'input.xls', 'Sheet1', 'C3', 'D3', 'Depth'); One Dimensional Subscript: ('B4', 'B6',
    # 'Entry'); Vensim's output names Depth1, Depth2 and Entry1..Entry3
    name = write(tmp_path, kind, CUBE_ROWS)
    assert read_subscript(tmp_path, name, "Sheet1", "C3", "D3", "Depth", where=WHERE) == [
        "Depth1", "Depth2",
    ]  # fmt: skip
    entries = read_subscript(tmp_path, name, "Sheet1", "B4", "B6", "Entry", where=WHERE)
    assert entries == ["Entry1", "Entry2", "Entry3"]
    # across then down, empty cells skipped; a last column, a last row, or to the end
    assert read_subscript(tmp_path, name, "Sheet1", "C2", "D3", "", where=WHERE) == [
        "Column 1", "1", "2",
    ]  # fmt: skip
    assert read_subscript(tmp_path, name, "Sheet1", "B4", "B", "e", where=WHERE) == [
        "e1", "e2", "e3",
    ]  # fmt: skip
    assert read_subscript(tmp_path, name, "Sheet1", "C2", "2", "", where=WHERE) == [
        "Column 1", "Column 2",
    ]  # fmt: skip
    assert read_subscript(tmp_path, name, "Sheet1", "F3", "", "", where=WHERE) == [
        "2", "0.05", "0.04", "0.06",
    ]  # fmt: skip
    exc = refused(read_subscript, tmp_path, name, "Sheet1", "C3", "F3", "d", where=WHERE)
    assert "repeats the element 'd1'" in exc.message
    exc = refused(read_subscript, tmp_path, name, "Sheet1", "C3", "B3", "d", where=WHERE)
    assert "left of the first cell" in exc.message


# -- files -----------------------------------------------------------------------------------


def test_text_delimiters(tmp_path: Path) -> None:
    write_csv(tmp_path / "d.tab", [[1, 2, 3]], delimiter="\t")
    write_csv(tmp_path / "d.txt", [[4, 5, 6]], delimiter=";")
    assert read_constants(tmp_path, "d.tab", "", "A1", (3,), where=WHERE).tolist() == [1, 2, 3]
    assert read_constants(tmp_path, "d.txt", ";", "A1", (3,), where=WHERE).tolist() == [4, 5, 6]
    exc = refused(read_constants, tmp_path, "d.txt", "", "A1", (3,), where=WHERE)
    assert "cell A1 of 'd.txt' holds '4;5;6'" in exc.message


def test_sheet_names(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "book.xlsx", [[7.5]], sheet="Inputs")
    assert float(read_constants(tmp_path, "book.xlsx", "inputs", "A1", where=WHERE)) == 7.5
    exc = refused(read_constants, tmp_path, "book.xlsx", "Sheet1", "A1", where=WHERE)
    assert "'book.xlsx' has no tab 'Sheet1' (it has 'Inputs')" in exc.message


def test_xlsx_formula_cells_read_their_saved_value(tmp_path: Path) -> None:
    # openpyxl writes a formula without a cached value: the cell reads as empty, never as text
    write_xlsx(tmp_path / "f.xlsx", [[1, "=A1*2"]])
    exc = refused(read_constants, tmp_path, "f.xlsx", "Sheet1", "A1", (2,), where=WHERE)
    assert "cell B1 of 'f.xlsx' tab 'Sheet1' is empty" in exc.message


def case_copy(case: str, file: str) -> Path | None:
    """The SDXorg case's own data file, when tests/mdl holds a copy of the case."""
    found = sorted((HERE / "mdl").glob(f"**/*{case}*/{file}"))
    return found[0].parent if found else None


def test_sdxorg_case_files() -> None:
    """The SDXorg cases' own files (.xls by xlrd, .xlsx by openpyxl), with the arguments of
    their .mdl lines, give the values Vensim's output shows."""
    pytest.importorskip("xlrd")
    pytest.importorskip("openpyxl")
    data = case_copy("get_data_args_3d_xls", "input.xls")
    lookups = case_copy("get_lookups_subset", "input.xls")
    cube = case_copy("get_subscript_3d_arrays_xls", "input.xls")
    subranges = case_copy("get_constants_subranges", "inputs.xlsx")
    if None in (data, lookups, cube, subranges):
        pytest.skip("tests/mdl holds no copy of the SDXorg get_* cases")
    assert data and lookups and cube and subranges
    times, values = read_data(data, "input.xls", "Sheet1", "4", "C7", (2,), where=WHERE)
    assert times.tolist() == [0, 5, 10, 15, 20, 25, 30]
    assert values.tolist() == [[-1, -3, -5, 10, 4, 5, 5], [0, 0, 1, 2, 1, 0, 0]]
    xs, ys = read_lookups(lookups, "input.xls", "Sheet1", "4", "C5", (2,), where=WHERE)
    assert xs.tolist() == times.tolist() and ys[1].tolist() == [4, 5, 5, 5, 5, 5, 2]
    names = read_subscript(cube, "input.xls", "Sheet1", "C3", "D3", "Depth", where=WHERE)
    assert names == ["Depth1", "Depth2"]
    table = read_constants(cube, "input.xls", "Sheet1", "E4", (3, 2), where=WHERE)
    assert table.tolist() == [[0.02, 0.05], [0.02, 0.04], [0.05, 0.06]]
    constant = read_constants(subranges, "inputs.xlsx", "Sheet1", "A1", (3,), where=WHERE)
    assert constant.tolist() == [1, 15, 50]


# -- hostile files ---------------------------------------------------------------------------


def test_windows_separators(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write_csv(tmp_path / "data" / "in.csv", [[3.0]])
    assert float(read_constants(tmp_path, "data\\in.csv", ",", "A1", where=WHERE)) == 3.0


@pytest.mark.parametrize(
    "path",
    [
        "../outside.csv",
        "/etc/passwd",
        "sub/../../outside.csv",
        "..\\outside.csv",
        "C:\\outside.csv",
        "c:outside.csv",
        "\\\\server\\share\\outside.csv",
    ],
)
def test_paths_outside_the_folder(tmp_path: Path, path: str) -> None:
    model = tmp_path / "model"
    model.mkdir()
    write_csv(tmp_path / "outside.csv", [[1]])
    exc = refused(read_constants, model, path, "", "A1", where=WHERE)
    assert f"data file '{path}' is outside the model's folder" in exc.message


def test_symlink_out_of_the_folder(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    write_csv(tmp_path / "secret.csv", [[42]])
    os.symlink(tmp_path / "secret.csv", model / "data.csv")
    exc = refused(read_constants, model, "data.csv", "", "A1", where=WHERE)
    assert "outside the model's folder" in exc.message


def test_missing_file_and_indirect_names(tmp_path: Path) -> None:
    exc = refused(read_constants, tmp_path, "nothere.xlsx", "Sheet1", "A1", where=WHERE)
    assert "'nothere.xlsx' is not a file in the model's folder" in exc.message
    exc = refused(read_constants, tmp_path, "?inputs", "Sheet1", "A1", where=WHERE)
    assert "indirect reference" in exc.message
    exc = refused(read_constants, None, "data.csv", "", "A1", where=WHERE)
    assert "not read from a file" in exc.message


def test_not_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_text("time,1,2\n", encoding="utf-8")
    exc = refused(read_constants, tmp_path, "fake.xlsx", "Sheet1", "A1", where=WHERE)
    assert "'fake.xlsx' is not an Excel .xlsx file" in exc.message
    with zipfile.ZipFile(tmp_path / "zip.xlsx", "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    pytest.importorskip("openpyxl")
    exc = refused(read_constants, tmp_path, "zip.xlsx", "Sheet1", "A1", where=WHERE)
    assert "'zip.xlsx' is not an Excel .xlsx file" in exc.message
    (tmp_path / "fake.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really OLE2")
    pytest.importorskip("xlrd")
    exc = refused(read_constants, tmp_path, "fake.xls", "Sheet1", "A1", where=WHERE)
    assert "'fake.xls' is not an Excel 97-2003 .xls file" in exc.message
    (tmp_path / "bin.csv").write_bytes(b"1,2\x00,3\xff")
    exc = refused(read_constants, tmp_path, "bin.csv", "", "A1", where=WHERE)
    assert "not UTF-8 text" in exc.message


def test_zip_bomb_refused_before_unpacking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_xlsx(tmp_path / "book.xlsx", [[1]])
    monkeypatch.setattr(data_files, "MAX_UNPACKED_BYTES", 1000)
    exc = refused(read_constants, tmp_path, "book.xlsx", "Sheet1", "A1", where=WHERE)
    assert "unpacks to more than 1,000 bytes" in exc.message


def test_huge_sheets_refused(tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_files, "MAX_GRID_CELLS", 500)
    name = write(tmp_path, kind, [list(range(1000)), list(range(1000))])
    exc = refused(read_data, tmp_path, name, "Sheet1", "1", "A2", where=WHERE)
    assert "more than 500 cells" in exc.message
    tall = write(tmp_path, kind, [[t, t] for t in range(1000)], "tall")
    exc = refused(read_data, tmp_path, tall, "Sheet1", "A", "B1", where=WHERE)
    assert "more than 500 cells" in exc.message


def test_xlsx_sheet_claiming_excels_full_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet whose cells reach XFD1048576 is read only as far as the function needs: a time
    column ends at its first empty cell; reading to the tab's end hits the cell limit."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    for r in range(1, 4):
        ws.cell(r, 1, float(r))
        ws.cell(r, 2, 10.0 * r)
    ws["XFD1048576"] = 9.0
    book.save(tmp_path / "wide.xlsx")
    values = read_constants(tmp_path, "wide.xlsx", "Sheet", "A1", (2,), where=WHERE)
    assert values.tolist() == [1.0, 10.0]
    times, series = read_data(tmp_path, "wide.xlsx", "Sheet", "A", "B1", where=WHERE)
    assert times.tolist() == [1, 2, 3] and series.tolist() == [10, 20, 30]
    monkeypatch.setattr(data_files, "MAX_GRID_CELLS", 100_000)
    exc = refused(read_subscript, tmp_path, "wide.xlsx", "Sheet", "A1", "", "x", where=WHERE)
    assert "more than 100,000 cells" in exc.message


def test_a_tab_is_parsed_once_and_changes_are_seen(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET calls on one tab share one parse (keyed by the file's content, so an edited file
    is read again)."""
    name = write(tmp_path, kind, DATA_ROWS)
    calls: list[str] = []
    real = data_files._read

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(args[1]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(data_files, "_read", counting)
    monkeypatch.setattr(data_files, "_TABS", type(data_files._TABS)())
    _, a = read_data(tmp_path, name, "Sheet1", "4", "C5", (2,), where=WHERE)
    _, b = read_data(tmp_path, name, "Sheet1", "4", "C7", (2,), where=WHERE)
    assert calls == [name] and a[0, 1] == -2 and b[0, 1] == -3
    rows = [list(r) for r in DATA_ROWS]
    rows[4][3] = 99
    write(tmp_path, kind, rows)
    _, a = read_data(tmp_path, name, "Sheet1", "4", "C5", (2,), where=WHERE)
    assert calls == [name, name] and a[0, 1] == 99


def test_xlsx_with_an_entity_declaration_is_refused(tmp_path: Path) -> None:
    """openpyxl parses with defusedxml: a worksheet declaring entities (a billion-laughs
    bomb, an external file) is refused as a damaged workbook, never expanded."""
    write_xlsx(tmp_path / "good.xlsx", [[1.0]])
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    with (
        zipfile.ZipFile(tmp_path / "good.xlsx") as source,
        zipfile.ZipFile(tmp_path / "bomb.xlsx", "w") as target,
    ):
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = part.split(b"?>", 1)[1] if part.startswith(b"<?xml") else part
                part = bomb.encode() + body.replace(b"<v>1</v>", b"<v>&b;</v>", 1)
            target.writestr(info, part)
    exc = refused(read_constants, tmp_path, "bomb.xlsx", "Sheet1", "A1", where=WHERE)
    assert "'bomb.xlsx' is not an Excel .xlsx file" in exc.message


def test_openpyxl_without_defusedxml_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    write_xlsx(tmp_path / "book.xlsx", [[1.0]])
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    exc = refused(read_constants, tmp_path, "book.xlsx", "Sheet1", "A1", where=WHERE)
    assert "without defusedxml" in exc.message
