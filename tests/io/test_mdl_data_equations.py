"""Data equations ``x := expression`` (io/mdl/data_equations.py) and GET DATA BETWEEN TIMES
(io/mdl/data_between.py).

Semantics: Vensim help, "Data Equations" (only data and constants on the right; values at
distinct time points, fixed between them by the keyword), "X IF MISSING" (an expression is
not computed where some of its data is missing) and "GET DATA BETWEEN TIMES" (modes 0, 1,
-1; :NA: before the first and after the last point, and for a variable that is not data).
The models and data files here are hand-written for the tests, with values worked out by
hand; the last tests run public models (kept outside the repository): SDEverywhere's
``getdata`` against Vensim's own output, MetaSD's THEIL macro with a hand-written dataset.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl
from flywheel_sim.io.mdl.data_series import NA
from flywheel_sim.io.mdl.dataset import parse_dat

CONTROL = """
FINAL TIME = 6 ~~|
INITIAL TIME = 0 ~~|
SAVEPER = TIME STEP ~~|
TIME STEP = 0.5 ~~|
"""
DAT = "d\n1 1\n3 3\n5 2\n"  # hand-written: points at 1, 3 and 5


def run(tmp_path: Path, model: str, dat: str = DAT) -> fs.Results:
    (tmp_path / "m.mdl").write_text("{UTF-8}\n" + model + CONTROL, encoding="utf-8")
    (tmp_path / "d.dat").write_text(dat, encoding="utf-8")
    return fs.simulate(load_mdl(tmp_path / "m.mdl", data_files=[tmp_path / "d.dat"]))


def values(result: fs.Results, name: str) -> list[float]:
    return [float(v) for v in result[name].isel(run=0).values]


def test_a_data_equation_has_the_points_of_its_data_and_its_keywords_rule(
    tmp_path: Path,
) -> None:
    model = """d ~~|
k = 2 ~~|
lin := d * k ~~|
sq := d * d ~~|
hb :HOLD BACKWARD: := d * k ~~|
lf :LOOK FORWARD: := d * k ~~|
rw :RAW: := d * k ~~|
chain := sq + 1 ~~|
filled := X IF MISSING(d * k, 0) ~~|
"""
    result = run(tmp_path, model)
    # times 0, 0.5, ... 6; points of d: 1 -> 1, 3 -> 3, 5 -> 2
    assert values(result, "lin") == [2, 2, 2, 3, 4, 5, 6, 5.5, 5, 4.5, 4, 4, 4]
    # the squares 1, 9, 4 at the points, interpolated between (not d's interpolation squared)
    assert values(result, "sq") == [1, 1, 1, 3, 5, 7, 9, 7.75, 6.5, 5.25, 4, 4, 4]
    assert values(result, "hb") == [2, 2, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4]
    assert values(result, "lf") == [2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4]
    raw = [NA] * 13
    raw[2], raw[6], raw[10] = 2, 6, 4
    assert values(result, "rw") == raw
    assert values(result, "chain") == [2, 2, 2, 4, 6, 8, 10, 8.75, 7.5, 6.25, 5, 5, 5]
    assert values(result, "filled") == values(result, "lin")  # the data share their times


def test_a_data_equation_over_subscripted_data(tmp_path: Path) -> None:
    model = "R: a, b ~~|\nd[R] ~~|\nscaled[R] := d[R] * 10 ~~|\ntotal := SUM(d[R!]) ~~|\n"
    result = run(tmp_path, model, "d[a]\n0 1\n4 3\nd[b]\n0 5\n4 5\n")
    scaled = result["scaled"].isel(run=0)
    assert list(scaled.sel(r="a").values[[0, 4, 8, 12]]) == [10, 20, 30, 30]
    assert list(scaled.sel(r="b").values[[0, 4, 8]]) == [50, 50, 50]
    assert values(result, "total")[:9:4] == [6, 7, 8]


@pytest.mark.parametrize(
    ("model", "dat", "what"),
    [
        ("d ~~|\ny = TIME ~~|\nx := d + y ~~|\n", DAT, "'y' is neither"),
        ("d ~~|\ne ~~|\nx := d + e ~~|\n", DAT + "e\n0 1\n6 2\n", "data with different times"),
        ("R: a, b ~~|\nd[R] ~~|\nx := d[a] ~~|\n", "d[a]\n0 1\nd[b]\n1 1\n", "different times"),
        ("d ~~|\nx := 3 ~~|\n", DAT, "with no data on its right side"),
        ("R: a, b ~~|\nd ~~|\nx[a] := d ~~|\nx[b] := d ~~|\n", DAT, "element by element"),
    ],
)
def test_data_equations_we_cannot_read_exactly_are_refused(
    tmp_path: Path, model: str, dat: str, what: str
) -> None:
    with pytest.raises(ModelError, match=what) as caught:
        run(tmp_path, model, dat)
    assert caught.value.variable == "x"
    assert caught.value.line is not None


def test_a_data_equation_inside_a_macro(tmp_path: Path) -> None:
    """As MetaSD's THEIL and SSTATS macros use them: ``X :RAW: := historical`` marks the
    times with data, which the macro counts."""
    model = """:MACRO: STAT(historical, simulated : Count)
STAT = Count ~~|
X :RAW: := historical ~~|
pick = IF THEN ELSE(X = :NA:, 0, 1) ~~|
Count = INTEG(pick / TIME STEP$, 0) ~~|
:END OF MACRO:
d ~~|
stat out = STAT(d, TIME : n points) ~~|
"""
    result = run(tmp_path, model)
    # the points at 1, 3, 5 are counted one step later (Euler)
    assert values(result, "n_points") == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]


def test_get_data_between_times(tmp_path: Path) -> None:
    model = """d ~~|
back = -1 ~~|
at1 = GET DATA BETWEEN TIMES(d, TIME + 1, 0) ~~|
fwd = GET DATA BETWEEN TIMES(d, TIME, 1) ~~|
bwd = GET DATA BETWEEN TIMES(d, TIME, back) ~~|
aux = TIME ~~|
notdata = GET DATA BETWEEN TIMES(aux, TIME, 0) ~~|
first = INITIAL(GET DATA BETWEEN TIMES(d, 4, 0)) ~~|
"""
    result = run(tmp_path, model)
    # d: 1 -> 1, 3 -> 3, 5 -> 2; :NA: before 1 and after 5
    assert values(result, "at1") == [1, 1.5, 2, 2.5, 3, 2.75, 2.5, 2.25, 2] + [NA] * 4
    # forward: the point at or after the time; backward: the point before it (at a point's
    # own time the one before, as Vensim's output of SDEverywhere's getdata model shows)
    assert values(result, "fwd") == [NA, NA, 1, 3, 3, 3, 3, 2, 2, 2, 2, NA, NA]
    assert values(result, "bwd") == [NA, NA, 1, 1, 1, 1, 1, 3, 3, 3, 3, NA, NA]
    assert values(result, "notdata") == [NA] * 13  # Vensim: :NA: for a non-data variable
    assert values(result, "first") == [2.5] * 13


@pytest.mark.parametrize(
    ("call", "what"),
    [
        ("GET DATA BETWEEN TIMES(d, TIME, m)", "mode must be 0"),
        ("GET DATA BETWEEN TIMES(d, TIME, 2)", "mode must be 0"),
        ("GET DATA BETWEEN TIMES(d, TIME)", "takes 3 arguments"),
        ("GET DATA BETWEEN TIMES(e, TIME, 0)", "only data read from files"),
    ],
)
def test_get_data_between_times_refusals(tmp_path: Path, call: str, what: str) -> None:
    model = f"d ~~|\nm = TIME ~~|\ne := d * 2 ~~|\nx = {call} ~~|\n"
    with pytest.raises(ModelError, match=what) as caught:
        run(tmp_path, model)
    assert caught.value.variable == "x"


def test_time_shift_moves_the_points(tmp_path: Path) -> None:
    """Vensim help, TIME SHIFT: ``x := TIME SHIFT(d, s)`` is d seen s ahead (its points moved
    by -s), with x's own keyword between them; s a number or a constant."""
    model = """R: a, b ~~|
d ~~|
e[R] ~~|
h = 2 ~~|
ahead := TIME SHIFT(d, 1) ~~|
back :HOLD BACKWARD: := TIME SHIFT(d, -h) ~~|
eahead[R] := TIME SHIFT(e[R], 1) ~~|
dbl := ahead * 2 ~~|
between = GET DATA BETWEEN TIMES(ahead, TIME, 1) ~~|
"""
    result = run(tmp_path, model, DAT + "e[a]\n0 1\n4 5\ne[b]\n0 2\n4 2\n")
    # ahead: points at 0, 2, 4 (values 1, 3, 2); back: at 3, 5, 7, held backward
    assert values(result, "ahead") == [1, 1.5, 2, 2.5, 3, 2.75, 2.5, 2.25, 2, 2, 2, 2, 2]
    assert values(result, "back") == [1] * 10 + [3] * 3
    assert values(result, "dbl") == [2 * v for v in values(result, "ahead")]
    assert values(result, "between") == [1, 3, 3, 3, 3, 2, 2, 2, 2] + [NA] * 4
    eahead = result["eahead"].isel(run=0)
    assert list(eahead.sel(r="a").values[[0, 2, 6]]) == [2, 3, 5]  # e[a] at 1, 2, 4
    assert list(eahead.sel(r="b").values[[0, 6]]) == [2, 2]


@pytest.mark.parametrize(
    "rhs", ["TIME SHIFT(d * 2, 1)", "TIME SHIFT(d, y)", "TIME SHIFT(d, 1) + 1", "TIME SHIFT(d)"]
)
def test_time_shift_refusals(tmp_path: Path, rhs: str) -> None:
    with pytest.raises(ModelError, match="TIME SHIFT must be the whole data equation"):
        run(tmp_path, f"d ~~|\ny = TIME ~~|\nx := {rhs} ~~|\n")


# -- public models (kept outside the repository) -------------------------------------------

# the surveyed real models (not committed): $FLYWHEEL_MDL_WILD, else shared/mdl_wild beside the repo
WILD = Path(
    os.environ.get("FLYWHEEL_MDL_WILD") or Path(__file__).parents[3] / "shared" / "mdl_wild"
)


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine (public models are not committed)")
    return path


def test_sdeverywhere_getdata_agrees_with_vensim_at_whole_number_times() -> None:
    """bpowers/simlin test/sdeverywhere/models/getdata: getdata.mdl reads getdata_data.dat;
    getdata.dat is Vensim's own output (names written with spaces). Every series whose time
    argument is a whole number agrees; the six ``half year`` series (times such as 1.5) do
    not: Vensim's output there is not what its documentation says (see docs/vensim-data.md)."""
    folder = _need(WILD / "test_sdeverywhere_models_getdata")
    model = load_mdl(folder / "getdata.mdl", data_files=[folder / "getdata_data.dat"])
    result = fs.simulate(model)
    expected = parse_dat((folder / "getdata.dat").read_text(encoding="utf-8"), "getdata.dat")
    agree, differ = set(), set()
    for (key, cell), (times, want) in expected.items():
        column = key.replace(" ", "_")
        if column not in result.data_vars:
            continue
        got = result[column].isel(run=0)
        for dim, element in zip([d for d in got.dims if d != "time"], cell, strict=True):
            got = got.isel({dim: [str(e).lower() for e in got[dim].values].index(element)})
        same = np.allclose(got.sel(time=np.asarray(times)).values, want, rtol=1e-3, atol=1e-5)
        (agree if same else differ).add((key, cell))
    assert len(agree) == 30
    assert differ and all("half_year" in key for key, _ in differ)


def test_metasd_theil_runs_with_a_dataset(tmp_path: Path) -> None:
    """bpowers/simlin test/metasd/theil-statistics/Theil_2011.mdl: its data variables come
    from a dataset it does not ship; given a hand-written one, the statistics are those of
    the four points (x - y = 0.5, -0.5, 0.5, -1 at 0, 10, 20, 30)."""
    path = _need(WILD / "test_metasd_theil-statistics" / "Theil_2011.mdl")
    dat = tmp_path / "theil.dat"
    dat.write_text(
        "dummy data\n0 1\n10 3\n20 2\n30 5\ndummy simulation\n0 1.5\n10 2.5\n20 2.5\n30 4\n",
        encoding="utf-8",
    )
    result = fs.simulate(fs.load_model(path, data_files=[dat]))
    assert values(result, "count")[-1] == 4
    assert values(result, "mse")[-1] == pytest.approx((0.25 * 3 + 1) / 4)
    assert values(result, "sse")[-1] == pytest.approx(1.75)


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("test_metasd_covid19-us-homer_homer_v8/Covid19US v8.mdl", "Covid19US data.xlsx"),
        ("test_metasd_social-network-valuation/groupon 2.mdl", "'?groupon data'"),
        ("test_metasd_social-network-valuation/groupon 3.mdl", "'?groupon data'"),
    ],
)
def test_metasd_models_with_data_equations_stop_on_their_missing_data(path: str, what: str) -> None:
    """Their data equations (SSTATS's ``X :RAW: := historical``, ``data revenue[Interval] :=
    data revenue k$[Interval] * "$ per k$"``) are read; what stops them is data the
    repository does not hold."""
    with pytest.raises(ModelError, match=what.replace("?", "\\?")):
        fs.load_model(_need(WILD / path))
