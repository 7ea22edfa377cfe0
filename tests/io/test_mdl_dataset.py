"""Data variables without an equation, given their series by data files the user names
(io/mdl/dataset.py, io/mdl/data_calls.py; ``load_mdl(..., data_files=...)``, ``--data``).

Formats: Vensim help, ".dat format" (a name line, then ``time value`` lines; comments after
``/`` or after the numbers; a name may repeat) and Vensim's tabular export (.tab/.csv: a
``Time`` row, one row a series, or turned on its side). Semantics: Vensim help, "Data
Variables" (no equation: the value comes from a dataset), "Data Equations" (the keywords) and
":NA:" (-2^109; "data need not be available for all members of a subscript range").
The models and data files are hand-written for the tests; expected values are worked out by
hand, or by ``data_at`` (the keyword rules, tested against Vensim's output in
test_mdl_reader_data.py). The last test runs public SDEverywhere test models (kept outside
the repository) against Vensim's own output.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from conftest import run_cli
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl, loads_mdl
from flywheel_sim.io.mdl.data_series import NA, data_at
from flywheel_sim.io.mdl.dataset import parse_dat, parse_table, read_datasets

CONTROL = """
FINAL TIME = 4 ~ Month ~ |
INITIAL TIME = 0 ~ Month ~ |
SAVEPER = TIME STEP ~ Month ~ |
TIME STEP = 0.5 ~ Month ~ |
"""

# hand-written: points at 0, 2, 4 (a missing at 2 in the .tab below), a comment after '/'
DAT = """\
price / a comment on the name line
0   10   a comment on a point
2\t20
  b[north]
0 1
4 5
price
4 40
"""
TAB = "Time\t0\t2\t4\nb[south]\t7\t\t9\nflat\t3\t3\t3\n"
CSV_DOWN = "Time,b[south],flat\n0,70,30\n2,,30\n4,90,30\n"

MODEL = (
    """{UTF-8}
Region: north, south ~~|
price ~ $ ~ data: interpolated |
held :HOLD BACKWARD: ~~|
b[Region] ~~|
flat ~~|
total = price + b[north] + b[south] ~~|
acc = INTEG(price, 0) ~~|
"""
    + CONTROL
)


def write(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in files.items():
        out[name] = folder / name
        out[name].write_text(text, encoding="utf-8")
    return out


def values(result: fs.Results, name: str) -> list[float]:
    return [float(v) for v in result[name].isel(run=0).values.reshape(len(result.time), -1)[:, 0]]


def test_dat_names_points_comments_and_repeats() -> None:
    found = parse_dat(DAT, "d.dat")
    assert found[("price", ())] == ([0.0, 2.0, 4.0], [10.0, 20.0, 40.0])
    assert found[("b", ("north",))] == ([0.0, 4.0], [1.0, 5.0])


@pytest.mark.parametrize(
    ("text", "what", "line"),
    [
        ("0 1\nx\n", "a data point comes before any variable's name", 1),
        ("x <years>\n0 1\n", "time base <years>: not supported yet", 1),
        ("x\n0 1\n1 lots\n", "'lots' is not a number", 3),
        ("x[]\n0 1\n", "has an empty subscript", 1),
        ("7\n", "cannot read '7' as a variable's name", 1),
    ],
)
def test_dat_refusals_name_the_line(text: str, what: str, line: int) -> None:
    with pytest.raises(ModelError) as caught:
        parse_dat(text, "d.dat")
    assert what in caught.value.message
    assert (caught.value.file, caught.value.line) == ("d.dat", line)


def test_tables_across_and_down_read_alike() -> None:
    across = parse_table(TAB, "d.tab", "\t")
    down = parse_table(CSV_DOWN, "d.csv", ",")
    times, south = across[("b", ("south",))]
    assert times == [0.0, 2.0, 4.0] and south[0] == 7 and np.isnan(south[1]) and south[2] == 9
    times, south = down[("b", ("south",))]
    assert times == [0.0, 2.0, 4.0] and south[0] == 70 and np.isnan(south[1])
    assert across[("flat", ())] == ([0.0, 2.0, 4.0], [3.0, 3.0, 3.0])
    with pytest.raises(ModelError, match="does not start with 'Time'"):
        parse_table("year\t0\nx\t1\n", "d.tab", "\t")


def test_files_the_last_one_wins_and_refusals(tmp_path: Path) -> None:
    files = write(
        tmp_path, {"a.dat": DAT, "b.tab": TAB, "c.csv": CSV_DOWN, "x.txt": "", "n.dat": ""}
    )
    data = read_datasets([files["b.tab"], files["c.csv"]])
    assert data.get("b", ("south",)) is not None
    assert data.series[("b", ("south",))].values[0] == 70  # from c.csv, the later file
    (tmp_path / "latin.dat").write_bytes(b"caf\xe9\n0 1\n")
    for path, what in [
        (files["x.txt"], "cannot tell the format of data file"),
        (tmp_path / "latin.dat", "is not UTF-8 text"),
        (tmp_path / "missing.dat", "is not a file"),
        (tmp_path, "cannot tell the format"),
        (tmp_path / "folder.dat", "is not a file"),
    ]:
        if path.name == "folder.dat":
            path.mkdir()
        with pytest.raises(ModelError, match=what):
            read_datasets([path])


def test_a_model_runs_with_its_data_files(tmp_path: Path) -> None:
    files = write(tmp_path, {"m.mdl": MODEL, "a.dat": DAT + "held\n0 1\n2 3\n", "b.tab": TAB})
    model = load_mdl(files["m.mdl"], data_files=[files["a.dat"], files["b.tab"]])
    result = fs.simulate(model)
    t = np.asarray(result.time, dtype=float)
    assert np.allclose(values(result, "price"), np.interp(t, [0, 2, 4], [10, 20, 40]))
    held = data_at(np.array([0.0, 2.0]), np.array([1.0, 3.0]), t, "hold backward")
    assert values(result, "held") == list(held)  # 1 until 2, then 3, held after the last point
    assert values(result, "flat") == [3.0] * len(t)
    south = result["b"].isel(run=0).sel(region="south").values
    assert list(south[[0, 2, 4, 8]]) == [7.0, 7.5, 8.0, 9.0]  # interpolated over the gap at 2
    assert model.element("price").unit == "$"
    # the same through load_model and read from text with the files named
    again = fs.load_model(files["m.mdl"], data_files=[files["a.dat"], files["b.tab"]])
    assert again.element("price series").lookup == model.element("price series").lookup
    text = loads_mdl(MODEL, data_files=[files["a.dat"], files["b.tab"]])
    assert text.element("b series[north]").lookup == model.element("b series[north]").lookup


def test_an_element_without_data_is_na_and_noted(tmp_path: Path) -> None:
    """Vensim: "data need not be available for all members of a subscript range"; the missing
    ones are :NA:, which ``x = :NA:`` tests (as SDEverywhere's sumif model does)."""
    model = "D: a, b ~~|\nx[D] ~~|\nknown[D] = IF THEN ELSE(x[D] = :NA:, 0, 1) ~~|\n" + CONTROL
    files = write(tmp_path, {"m.mdl": model, "d.dat": "x[a]\n0 5\n"})
    loaded = load_mdl(files["m.mdl"], data_files=[files["d.dat"]])
    assert any("x[b] has no series" in note for note in loaded.notes)
    result = fs.simulate(loaded)
    assert list(result["x"].isel(run=0, time=0).values) == [5.0, NA]
    assert list(result["known"].isel(run=0, time=0).values) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("files", "what"),
    [
        ((), "'b' is a data variable (no equation; Vensim reads it from a dataset), and no data"),
        (("d.dat",), "and none of "),
    ],
)
def test_a_data_variable_without_data_is_one_line_saying_how(
    tmp_path: Path, files: tuple[str, ...], what: str
) -> None:
    paths = write(tmp_path, {"m.mdl": "b ~ ~ |\nc = b ~~|\n" + CONTROL, "d.dat": "z\n0 1\n"})
    with pytest.raises(ModelError) as caught:
        load_mdl(paths["m.mdl"], data_files=[tmp_path / f for f in files])
    error = caught.value
    assert what in error.message and "\n" not in str(error)
    assert (error.file, error.line, error.variable) == (str(paths["m.mdl"]), 1, "b")
    assert "--data FILE" in (error.hint or "") and "data_files=" in (error.hint or "")


def test_data_files_are_for_mdl_models_only(tmp_path: Path) -> None:
    files = write(tmp_path, {"d.dat": "x\n0 1\n"})
    with pytest.raises(ModelError, match=r"data files are read for Vensim \.mdl models"):
        fs.load_model("logistic", data_files=[files["d.dat"]])


def test_the_cli_takes_data_files(tmp_path: Path) -> None:
    files = write(tmp_path, {"m.mdl": MODEL, "a.dat": DAT + "held\n0 1\n", "b.tab": TAB})
    done = run_cli("check", str(files["m.mdl"]))
    assert done.returncode == 1 and "--data FILE" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("check", str(files["m.mdl"]), "--data", "a.dat", "--data", "b.tab", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    args = ["run", str(files["m.mdl"]), "--data", str(files["a.dat"])]
    done = run_cli(*args, "--data", str(files["b.tab"]), "--no-store", "--vars", "total")
    assert done.returncode == 0, done.stderr
    assert "total" in done.stdout
    done = run_cli("convert", str(files["m.mdl"]), str(tmp_path / "m.xmile"), "--data", "a.dat",
                   "--data", "b.tab", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.xmile").exists()


# -- public models: SDEverywhere's test models (MIT), as kept in bpowers/simlin's test/ ----------

# the surveyed real models (not committed): $FLYWHEEL_MDL_WILD, else shared/mdl_wild beside the repo
WILD = Path(
    os.environ.get("FLYWHEEL_MDL_WILD") or Path(__file__).parents[3] / "shared" / "mdl_wild"
)


@pytest.mark.parametrize("name", ["extdata", "sumif", "prune"])
def test_sdeverywhere_models_with_a_dat_file_agree_with_vensim(name: str) -> None:
    """bpowers/simlin test/sdeverywhere/models/NAME: NAME.mdl reads NAME_data.dat (its
    spec.json's externalDatfiles); NAME.dat is Vensim's own output of the run."""
    folder = WILD / f"test_sdeverywhere_models_{name}"
    if not (folder / f"{name}.mdl").exists():
        pytest.skip(f"{folder} is not on this machine (public models are not committed)")
    model = load_mdl(folder / f"{name}.mdl", data_files=[folder / f"{name}_data.dat"])
    result = fs.simulate(model)
    expected = parse_dat((folder / f"{name}.dat").read_text(encoding="utf-8"), f"{name}.dat")
    compared = 0
    for (key, cell), (times, want) in expected.items():
        column = key.replace(" ", "_")
        if column not in result.data_vars:
            continue  # constants and the control variables are not result columns
        got = result[column].isel(run=0)
        for dim, element in zip([d for d in got.dims if d != "time"], cell, strict=True):
            got = got.isel({dim: [str(e).lower() for e in got[dim].values].index(element)})
        at = got.sel(time=np.asarray(times)).values
        assert np.allclose(at, want, rtol=1e-3, atol=1e-5), (key, cell)
        compared += 1
    assert compared >= 3
