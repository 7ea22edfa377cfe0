"""Writing Vensim's functions as XMILE (io/xmile/export_functions.py): each builtin XMILE 1.0
lacks is written in standard terms that our reader and engine compute to the same values, or
the export is refused in one line before anything is written.

The small models are hand-written for these tests (Vensim text, read with our .mdl reader);
the round trip over tests/mdl uses the SDXorg conformance cases (tests/mdl/SOURCES.md).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from defusedxml import ElementTree
from test_mdl_conformance import reference, vensim_output
from test_mdl_reader import mdl

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import loads_mdl
from flywheel_sim.io.xmile import dumps_xmile, loads_xmile, save_xmile
from flywheel_sim.io.xmile.export_functions import EXPANDED, REFUSED, STANDARD, float_literals
from flywheel_sim.spec.ast import Call, walk
from flywheel_sim.spec.builtins import BUILTINS
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.parser import parse

NS = "{http://docs.oasis-open.org/xmile/ns/XMILE/v1.0}"


def equations(text: str) -> list[str]:
    return [node.text or "" for node in ElementTree.fromstring(text).iter(f"{NS}eqn")]


def functions_written(text: str) -> set[str]:
    """The functions the XMILE text calls (``IF ... THEN`` is an If node, not a call)."""
    found = set()
    for eqn in equations(text):
        for node in walk(parse(eqn.replace("SELF", "self"))):
            if isinstance(node, Call):
                found.add(node.func)
    return found


def same_runs(model: Model) -> str:
    """Export ``model``, read it back, and check that both runs agree; the XMILE text."""
    text = dumps_xmile(model)
    back = loads_xmile(text, file="t.xmile")
    ours, theirs = fs.simulate(model), fs.simulate(back)
    for name in ours.data_vars:
        if "time" in ours[name].dims:
            np.testing.assert_allclose(
                ours[name].values, theirs[name].values, rtol=1e-12, atol=1e-12, err_msg=name
            )
    return text


def test_every_builtin_is_written_as_it_is_expanded_or_refused() -> None:
    """A new builtin must be classified here before it can be exported unnoticed."""
    assert set(BUILTINS) <= STANDARD | EXPANDED | set(REFUSED)
    assert not (STANDARD & EXPANDED) and not (STANDARD & set(REFUSED))


EXPANSIONS = mdl(
    """x = TIME - 2.5 ~ ~ |
trunc = INTEGER(x) + MODULO(x, 2) * 10 + QUANTUM(x, 0.75) ~ ~ |
div = ZIDZ(1, x + 0.5) + XIDZ(3, TIME - 2, 7) ~ ~ |
game = GAME(x) + TIME BASE(3, 2) ~ ~ |
pulse = PULSE(1.5, 1) + PULSE(2, 0) * 10 ~ ~ |
train = PULSE TRAIN(0.5, 0.5, 1.25, 3) ~ ~ |
fixed = DELAY FIXED(x * x, 1.2, 4) + DELAY FIXED(x, 0.375, 4) * 100 ~ ~ |
trend = TREND(x * x + 1, 2, 0.1) + FORECAST(x + 3, 2, 1.5) ~ ~ |
sampled = SAMPLE IF TRUE(x > 0, TIME, -1) ~ ~ |
""",
    stop=6,
    dt=0.25,
)


def test_vensim_functions_are_written_in_standard_xmile_with_the_same_values() -> None:
    # hand-written: every expanded function, at times around its edges (DT 0.25)
    text = same_runs(loads_mdl(EXPANSIONS, file="t.mdl"))
    assert functions_written(text) <= STANDARD, functions_written(text) - STANDARD
    # whole numbers with a decimal point, for PySD (export_functions.float_literals)
    assert "PREVIOUS(SELF, -1.0)" in text.replace("(-1.0)", "-1.0")


@pytest.mark.parametrize(
    ("delay", "order", "written"),
    [
        # the order stays a whole number, the other numbers get a decimal point (for PySD)
        ("3", "2", "(input, 3.0, 2, 5.0)"),  # as written
        ("3", "k", "(input, 3.0, 2, 5.0)"),  # the order a constant's name
        ("0.75", "4", "(input, 0.75, 3, 5.0)"),  # lowered to the 3 steps in 0.75 (DT 0.25)
        ("t", "2 + STEP(1, 10)", "(input, t, 2, 5.0)"),  # Vensim takes the order at the start
    ],
)
def test_delay_n_and_smooth_n_are_delayn_and_smthn_of_vensims_order(
    delay: str, order: str, written: str
) -> None:
    # hand-written; Vensim's reference: the order is lowered "so that delay time >= order *
    # TIME STEP" (compile/stateful_vensim.py)
    body = (
        f"input = 1 + STEP(2, 1) ~ ~ |\nk = 2 ~ ~ |\nt = 3 ~ ~ |\n"
        f"d = DELAY N(input, {delay}, 5, {order}) ~ ~ |\n"
        f"s = SMOOTH N(input, {delay}, 5, {order}) ~ ~ |\n"
    )
    text = same_runs(loads_mdl(mdl(body, stop=8, dt=0.25), file="t.mdl"))
    assert f"DELAYN{written}" in text and f"SMTHN{written}" in text


@pytest.mark.parametrize(
    ("equation", "function"),
    [
        ("ACTIVE INITIAL(TIME, 3)", "ACTIVE INITIAL"),
        ("NPV(10, 0.1, 0, 1)", "NPV"),
        ("RANDOM UNIFORM(0, 1, 0)", "RANDOM UNIFORM"),
        ("RANDOM NORMAL(0, 1, 0, 1, 0)", "RANDOM NORMAL"),
        ("DELAY N(TIME, 2 + TIME, 0, 2)", "DELAY N"),  # a varying delay: stage times travel
        ("1 + SAMPLE IF TRUE(TIME > 2, TIME, 0)", "SAMPLE IF TRUE"),  # not the whole equation
        ("SAMPLE IF TRUE(TIME > 2, v + 1, 0)", "SAMPLE IF TRUE"),  # its own variable
    ],
)
def test_what_xmile_cannot_hold_is_refused_in_one_line(
    tmp_path: Path, equation: str, function: str
) -> None:
    # hand-written; the old file must survive the refused export
    model = loads_mdl(mdl(f"v = {equation} ~ ~ |\n"), file="t.mdl")
    path = tmp_path / "old.xmile"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        save_xmile(model, path)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(rf"variable 'v' uses .*{function}", message), message
    assert "t.mdl:" in message and "convert to .yaml" in message
    assert path.read_text(encoding="utf-8") == "old"


def test_vector_functions_are_refused() -> None:
    # hand-written: VECTOR RANK over a dimension
    text = mdl("D: a, b ~ ~ |\nx[D] = 2, 1 ~ ~ |\nr[D] = VECTOR RANK(x[D], 1) ~ ~ |\n")
    with pytest.raises(ModelError, match=r"variable 'r' uses Vensim's VECTOR RANK"):
        dumps_xmile(loads_mdl(text, file="t.mdl"))


# -- the conformance cases: .mdl -> XMILE -> our reader ---------------------------------------

HERE = Path(__file__).parents[1] / "mdl"
CASES = sorted(p.name for p in HERE.iterdir() if p.is_dir())
# the loadable cases whose export is refused, and why (docs/vensim.md)
REFUSED_CASES = {
    "tests__active_initial_circular__test_active_initial_circular": "ACTIVE INITIAL",
    "tests__delays__test_delays": "DELAY N",  # its delay time steps up at 15
    "tests__subscripted_delays__test_subscripted_delays": "DELAY N",  # the same
    "tests__allocate_available__test_allocate_available": "ALLOCATE AVAILABLE",
    "tests__invert_matrix__test_invert_matrix": "INVERT MATRIX",
}


@functools.cache
def loaded(name: str) -> Model | None:
    folder = HERE / name
    path = next(p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".mdl")
    try:
        return fs.load_model(path)
    except ModelError:
        return None  # refused by the .mdl reader (tests/mdl/expected.yaml)


def run_back(model: Model, text: str) -> tuple[xr.Dataset, xr.Dataset, Model]:
    back = loads_xmile(text, file="t.xmile")
    return fs.simulate(model), fs.simulate(back), back


@pytest.mark.parametrize("name", CASES)
def test_a_vensim_case_reads_back_from_its_xmile_export_with_the_same_values(name: str) -> None:
    model = loaded(name)
    if model is None:
        return
    try:
        text = dumps_xmile(model)
    except ModelError as exc:
        assert name in REFUSED_CASES, str(exc)
        assert REFUSED_CASES[name] in str(exc) and "\n" not in str(exc)
        return
    assert name not in REFUSED_CASES
    assert functions_written(text) <= STANDARD, functions_written(text) - STANDARD
    ours, theirs, back = run_back(model, text)
    constants = {e.key for e in back.elements if e.kind == "parameter"}
    for var in ours.data_vars:
        if "time" not in ours[var].dims:
            continue
        if var not in theirs.data_vars:  # per-element constants read back as parameters
            assert var in constants, var
            continue
        np.testing.assert_allclose(
            ours[var].values, theirs[var].values, rtol=1e-9, atol=1e-12, err_msg=var
        )


# -- the exports read by pysimlin, against Vensim's output ------------------------------------

# pysimlin 0.8.5 (docs/vensim.md): 88 cases export, it reads 72 and agrees with Vensim on 68
PYSIMLIN_READS, PYSIMLIN_AGREES = 72, 68


def column_key(name: object) -> str:
    """A column name compared across tools: case, spaces/underscores and quotes ignored."""
    text = str(name).replace("\u00b7", ".").replace('"', "").lower()
    return re.sub(r"\s*,\s*", ",", re.sub(r"[\s_]+", "_", text))


def agrees_with_vensim(results: pd.DataFrame, name: str) -> bool:
    """pysimlin's results against Vensim's output, with the conformance tolerances."""
    want = vensim_output(reference(HERE / name))
    columns = {column_key(c): c for c in results.columns}
    times = np.asarray(results.index, dtype=float)
    for column in want.columns[1:]:
        if column_key(column) not in columns:
            return False
        got = np.asarray(results[columns[column_key(column)]], dtype=float)
        for t, value in zip(want[want.columns[0]], want[column], strict=True):
            at = np.flatnonzero(np.isclose(times, t, rtol=1e-6, atol=5e-4))
            if np.isnan(value):
                continue
            if at.size == 0 or not np.isclose(got[at[0]], value, rtol=1e-3, atol=1e-5):
                return False
    return True


def test_pysimlin_reads_the_exports_and_agrees_with_vensim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simlin = pytest.importorskip("simlin")
    exported = read = agree = 0
    for name in CASES:
        model = loaded(name)
        if model is None or name in REFUSED_CASES:
            continue
        path = save_xmile(model, tmp_path / f"{name}.xmile")
        exported += 1
        try:
            results = simlin.load(str(path)).run(analyze_loops=False).results
        except Exception:  # pysimlin cannot read or run it (docs/vensim.md says why)
            continue
        read += 1
        agree += agrees_with_vensim(results, name)
    with capsys.disabled():
        print(
            f"\nXMILE export: {exported} cases, pysimlin reads {read}, agrees with Vensim {agree}"
        )
    assert exported == len([n for n in CASES if loaded(n) is not None]) - len(REFUSED_CASES)
    assert read >= PYSIMLIN_READS and agree >= PYSIMLIN_AGREES


@pytest.mark.parametrize(
    ("text", "written"),
    [
        # hand-written: the forms xmile_equation writes (to_text's spelling)
        ("SMTH1(x, 2, 1) + (-3)", "SMTH1(x, 2.0, 1.0) + (-3.0)"),
        ("x[2] + y[1, @1] * 0.5 + 1e+20", "x[2] + y[1, @1] * 0.5 + 1e+20"),  # positions stay
        ("SMTHN(x, 4, 3, 0) + DELAYN(x, 4, (2), MAX(1, 2))", "SMTHN(x, 4.0, 3, 0.0) + "),
        ('"a 2" + b2 + MIN(c, 10)', '"a 2" + b2 + MIN(c, 10.0)'),
    ],
)
def test_whole_numbers_get_a_decimal_point_except_positions_and_orders(
    text: str, written: str
) -> None:
    assert float_literals(text).startswith(written)
    if "DELAYN" in text:
        assert float_literals(text).endswith("DELAYN(x, 4.0, (2), MAX(1.0, 2.0))")


def test_safediv_is_written_as_if_unless_its_divisor_draws() -> None:
    # hand-written: isee's SAFEDIV is no XMILE 1.0 builtin, and PySD 3.14.3 reads it as
    # Vensim's ZIDZ/XIDZ (0 below |b| < 1e-6); an IF would draw a random divisor twice
    text = same_runs(fs.loads_model(DIVIDED_YAML))  # rate is 0 at the start (TIME 1)
    assert "SAFEDIV" not in text and "IF rate = 0.0 THEN 7.0 ELSE s / rate" in text
    assert "(time - INIT(time))" in text  # STARTTIME, which PySD 3.14.3 does not know
    drawn = equations(dumps_xmile(fs.loads_model(DRAWN_YAML)))
    assert "SAFEDIV(1.0, RANDOM(1.0, 2.0), 0.0)" in drawn


DIVIDED_YAML = """name: t
time: {start: 1, stop: 5, dt: 0.25}
auxiliaries:
  rate: {equation: "STEP(1, 2) - STEP(1, 3) - (TIME - STARTTIME) / 4"}
  f: {equation: "SAFEDIV(s, rate, 7) + SAFEDIV(s, rate)"}
stocks:
  s: {initial: 1, inflows: [g]}
flows:
  g: {equation: "f / 100"}
"""
DRAWN_YAML = """name: t
time: {start: 0, stop: 1, dt: 0.25}
auxiliaries:
  r: {equation: "SAFEDIV(1, RANDOM(1, 2))"}
"""


AMAZON_SERIES = ("net_sales", "customers", "prime_members", "sellers", "third_party_share")


def test_amazon_export_reads_back_and_runs_in_pysimlin(tmp_path: Path) -> None:
    # the built-in flagship model (library/models/amazon.yaml, RK4, DT 1/16): issue 21 asks
    # pysimlin and PySD to run its export; PySD is checked by hand (docs/xmile.md)
    model = fs.load_model("amazon")
    path = save_xmile(model, tmp_path / "amazon.xmile")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"STARTTIME|SAFEDIV", text, re.IGNORECASE)  # what PySD lacks
    assert "SMTH1(price_index, price_perception_time, 1.0)" in text
    ours = fs.simulate(model)
    back = fs.simulate(fs.load_model(path))
    for name in ours.data_vars:  # our reader: the same values, bit for bit
        if "time" in ours[name].dims:
            np.testing.assert_array_equal(ours[name].values, back[name].values, err_msg=name)
    simlin = pytest.importorskip("simlin")
    theirs = simlin.load(str(path)).run(analyze_loops=False).results
    at = np.searchsorted(theirs.index.values, ours["time"].values - 1e-9)
    np.testing.assert_allclose(theirs.index.values[at], ours["time"].values, rtol=0, atol=1e-9)
    for name in (*AMAZON_SERIES, "operating_income"):
        want = ours[name].values[0]
        # measured: at most 4e-12 relative (operating_income, a difference of large sums)
        atol = 1e-9 * float(np.max(np.abs(want)))
        got = theirs[name].values[at]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=atol, err_msg=name)
