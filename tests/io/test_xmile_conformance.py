"""XMILE conformance: every model in tests/xmile against the output Vensim or Stella produced.

Tolerances and name matching as in tests/xmile/README.md: every expected column at every
expected time, relative 1e-3 (absolute 1e-5 near zero); names matched case-insensitively with
spaces and underscores equivalent. Models that cannot pass because the file itself is broken
must fail with one clear error instead (listed in EXPECTED_ERRORS, with the reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from flywheel_sim import ModelError, load_model, simulate
from flywheel_sim.spec.names import canonical

FOLDER = Path(__file__).parents[1] / "xmile"
MODELS = sorted(p for p in FOLDER.iterdir() if p.is_dir())
RTOL, ATOL = 1e-3, 1e-5

# folder -> a fragment of the one-line error, and why the file cannot be simulated
EXPECTED_ERRORS = {
    # the placeholder model: Vensim's '???' equation
    "tests__subscript_1d_arrays__test_subscript_1d_arrays": "placeholder ('???') in auxiliary "
    "'Rate A'",
    # XMILE exported by Vensim without the <macro> definitions: the call cannot be expanded
    "tests__macro_expression__test_macro_expression": "unknown function 'EXPRESSION MACRO'",
    "tests__macro_multi_macros__test_macro_multi_macros": "unknown function 'SECOND MACRO'",
    # not well-formed XML: <flow name="if_else3"> is never closed
    "tests__non_negative_flows__test_non_negative_flows": '<flow name="if_else3"> opened at '
    "line 34 is not closed",
}


def references(folder: Path) -> list[Path]:
    """The expected outputs: Vensim's or Stella's ``output.csv``/``output.tab`` first, then
    Stella's own (``output_stella*.csv``, present where Stella, which runs XMILE natively,
    computes something else from the same file)."""
    primary = [p for p in (folder / "output.csv", folder / "output.tab") if p.exists()]
    return primary + sorted(folder.glob("output_stella*.csv"))


# folder -> why our result (which follows the XMILE 1.0 standard) differs from the sample's
# expected output; each is checked to still differ, so a fix shows up as a failure here
KNOWN_DIFFERENCES = {
    "tests__rounding__test_rounding": "Vensim's output truncates INT and MOD toward zero; "
    "XMILE defines INT as the floor (INT(-9.9) = -10) and MOD from it",
    "tests__zeroled_decimals__test_zeroled_decimals": "the file asks for RK4 "
    '(<sim_specs method="RK4">) but the expected output was computed with Euler',
    # XMILE 1.0 puts a non-negative stock's logic in the flows that drain it ("non-negative
    # stocks implement the non-negative logic in the stock's outflows, not in the stock
    # itself") and says the stock equation SHOULD NOT be violated; negative inflows flow
    # outward. These two samples clamp the stock instead (max(0, stock), as PySD does) and
    # report every flow unlimited. Each file also has one flow serving two stocks, so the
    # flow we limit for the non-negative one is the flow the other one sees: see
    # test_non_negative_samples_differ_only_where_a_flow_serves_two_stocks
    "tests__non_negative_stocks__test_non_negative_stocks": "the sample clamps non-negative "
    "stocks and reports flows unlimited; XMILE limits the flows (and a negative inflow), so "
    "OutFlow and if_else, each shared by two stocks, and their other stocks differ",
    "tests__non_negative_all__test_non_negative_all1": "the same: if_else drains a "
    "non-negative stock and a negative-allowed one; the sample lets the second take the whole "
    "flow while the first is clamped, we limit the flow both see",
}


def read_expected(path: Path) -> pd.DataFrame:
    sep = "\t" if path.suffix == ".tab" else ","
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # Vensim on Windows writes its .tab output in Windows-1252
        text = raw.decode("cp1252", errors="replace")
    text = text.replace("\r\n", "\n")
    lines = [line for line in text.replace("\r", "\n").split("\n") if line.strip()]
    rows = [line.split(sep) for line in lines]
    frame = pd.DataFrame(rows[1:], columns=[c.strip() for c in rows[0]])
    return frame.apply(pd.to_numeric, errors="coerce")


def series_of(result: xr.Dataset, column: str) -> np.ndarray | None:
    """The simulated values of an expected column (name[element, ...]) over time."""
    match = re.fullmatch(r"(.*?)\[(.*)\]", column.strip())
    name, subs = (match.group(1), match.group(2).split(",")) if match else (column, [])
    key = canonical(name)
    if key not in result.variables:
        return None
    data = result[key].isel(run=0)
    # elements chosen by position: a variable may use one dimension twice (Vensim's x[D, D])
    index: list[int | slice] = [slice(None)] * len(data.dims)
    axes = [i for i, d in enumerate(data.dims) if d != "time"]
    for axis, sub in zip(axes, subs, strict=False):
        elements = [str(e) for e in result.coords[data.dims[axis]].values]
        index[axis] = elements.index(canonical(sub))
    values = np.asarray(data.values, dtype=float)[tuple(index)]
    if "time" not in data.dims:
        values = np.full(result.sizes["time"], float(values))
    return values


def compare(folder: Path) -> list[str]:
    """Mismatches with the first expected output (empty when the model reproduces one of its
    expected outputs)."""
    model_file = next(folder.glob("*.xmile"))
    result = simulate(load_model(model_file))
    first: list[str] = []
    for path in references(folder):
        problems = mismatches(result, read_expected(path))
        if not problems:
            return []
        first = first or [f"{path.name}: {p}" for p in problems]
    return first


CONTROL = {"initial_time": "start", "final_time": "stop", "time_step": "dt", "saveper": "save"}


def mismatches(result: xr.Dataset, expected: pd.DataFrame) -> list[str]:
    time_col = expected.columns[0]  # "Time", or Stella's time units ("Months")
    times = np.asarray(result["time"], dtype=float)
    problems = []
    for column in expected.columns:
        if column == time_col:
            continue
        values = series_of(result, column)
        if values is None and canonical(column) in CONTROL:
            # Vensim's control variables, when the XMILE file does not define them: the
            # <sim_specs> values
            spec = {
                "start": times[0],
                "stop": times[-1],
                "dt": result.attrs["dt"],
                "save": result.attrs["save_step"],
            }[CONTROL[canonical(column)]]
            values = np.full(times.size, float(spec))
        if values is None:
            problems.append(f"no variable for column '{column}'")
            continue
        for t, want in zip(expected[time_col], expected[column], strict=True):
            if np.isnan(want):
                continue
            idx = np.flatnonzero(np.isclose(times, t, rtol=1e-6, atol=5e-4))  # times rounded
            if idx.size == 0:
                problems.append(f"time {t} is not saved")
                break
            got = values[idx[0]]
            if not np.isclose(got, want, rtol=RTOL, atol=ATOL):
                problems.append(f"'{column}' at time {t}: {got!r}, expected {want!r}")
                break
    return problems


def run_all() -> dict[str, str]:
    """Folder -> 'pass', 'clear error' or what went wrong."""
    outcome = {}
    for folder in MODELS:
        try:
            problems = compare(folder)
        except ModelError as exc:
            wanted = EXPECTED_ERRORS.get(folder.name)
            ok = wanted is not None and wanted in str(exc) and "\n" not in str(exc)
            outcome[folder.name] = "clear error" if ok else f"error: {exc}"
            continue
        outcome[folder.name] = "pass" if not problems else "; ".join(problems[:3])
    return outcome


def test_every_conformance_model_passes_or_fails_clearly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = run_all()
    passed = sum(v == "pass" for v in outcome.values())
    clear = sum(v == "clear error" for v in outcome.values())
    with capsys.disabled():
        print(
            f"\nXMILE conformance: {passed} of {len(outcome)} models pass, {clear} refused "
            "with the expected clear error"
        )
    bad = {
        k: v
        for k, v in outcome.items()
        if v not in ("pass", "clear error") and k not in KNOWN_DIFFERENCES
    }
    assert not bad, bad
    assert passed == len(MODELS) - len(EXPECTED_ERRORS) - len(KNOWN_DIFFERENCES)


@pytest.mark.parametrize("folder", MODELS, ids=[p.name for p in MODELS])
def test_model(folder: Path) -> None:
    if folder.name in KNOWN_DIFFERENCES:
        assert compare(folder) != [], "now passes: remove it from KNOWN_DIFFERENCES"
    elif folder.name in EXPECTED_ERRORS:
        with pytest.raises(ModelError, match=re.escape(EXPECTED_ERRORS[folder.name])):
            compare(folder)
    else:
        assert compare(folder) == []


# the columns where each non-negative sample differs from us: the shared flows and the stock
# that may go negative beside a non-negative one; every non-negative stock matches
NON_NEGATIVE_DIFFERENCES = {
    "tests__non_negative_stocks__test_non_negative_stocks": {
        "OutFlow",  # outflow of TestStock0 and of the non-negative TestStock1
        "if_else",  # inflow of TestStock2 and of the non-negative TestStock3, negative first
        "TestStock0",
        "TestStock2",
    },
    "tests__non_negative_all__test_non_negative_all1": {
        "OutFlow",  # reported unlimited in the sample although both its stocks stop at zero
        "if_else",  # outflow of the non-negative TestStock2 and of TestStock3 (not)
        "TestStock3",
    },
}


@pytest.mark.parametrize("name", sorted(NON_NEGATIVE_DIFFERENCES))
def test_non_negative_samples_differ_only_where_a_flow_serves_two_stocks(name: str) -> None:
    folder = FOLDER / name
    result = simulate(load_model(next(folder.glob("*.xmile"))))
    expected = read_expected(folder / "output.tab")
    differing = set()
    for column in expected.columns[1:]:
        if mismatches(result, expected[["Time", column]]):
            differing.add(column)
    assert differing == NON_NEGATIVE_DIFFERENCES[name]


def test_the_non_negative_sample_breaks_the_stock_equation_and_we_keep_it() -> None:
    """Between 24 and 25.5 the sample's TestStock1 (non-negative, only outflow OutFlow) falls
    by 1 while OutFlow reports 1 per time unit over DT 1.5: the stock is clamped, not its
    flow. Ours limits OutFlow to 1/1.5, so each stock moves by DT times its reported flows."""
    folder = FOLDER / "tests__non_negative_stocks__test_non_negative_stocks"
    expected = read_expected(folder / "output.tab").set_index("Time")
    dt = 1.5
    assert expected.loc[25.5, "TestStock1"] - expected.loc[24.0, "TestStock1"] == -1.0
    assert -dt * expected.loc[24.0, "OutFlow"] == -1.5
    ours = simulate(load_model(next(folder.glob("*.xmile")))).isel(run=0)
    out, tide = ours["outflow"].values[:-1], ours["if_else"].values[:-1]
    for stock, change in {
        "teststock0": -out,
        "teststock1": -out,
        "teststock2": tide,
        "teststock3": tide,
    }.items():
        np.testing.assert_allclose(np.diff(ours[stock].values), dt * change, atol=1e-12)
        if stock in ("teststock1", "teststock3"):
            assert ours[stock].values.min() >= 0
