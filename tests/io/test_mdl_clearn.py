"""What Climate Interactive's C-LEARN model (the teaching version of C-ROADS) needed from the
.mdl reader: small models written here for each construct (expected values worked out by hand
from the Vensim reference manual's definitions), and the model itself when it is on this
machine (public, from bpowers/simlin's test/xmutil_test_models; not committed here)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl, loads_mdl

CONTROL = """
INITIAL TIME = 0 ~ year ~ |
FINAL TIME = 2 ~ year ~ |
TIME STEP = 1 ~ year ~ |
SAVEPER = TIME STEP ~ year ~ |
"""


def run(equations: str, options: fs.Options) -> dict[str, list[list[float]]]:
    """Each variable's values, a row per time."""
    result = fs.simulate(
        loads_mdl("{UTF-8}\n" + equations + CONTROL, file="t.mdl"), options=options
    )
    out = {}
    for name in result.data_vars:
        data = np.asarray(result[name].isel(run=0), dtype=float)
        out[str(name)] = data.reshape(data.shape[0], -1).tolist()
    return out


# hand-written: per-element tables called over a range marked with ! inside VECTOR SELECT (as
# C-LEARN's "RS FF CO2 FF Aggregated" calls "RS CO2 FF[COP!](Time/One year)")
TABLES = """
d: a, b ~ ~ |
r: r1, r2 ~ ~ |
tab[a]( (0,0), (10,10) ) ~ ~ |
tab[b]( (0,0), (10,20) ) ~ ~ |
w[d, r] = 1, 0; 1, 1; ~ ~ |
y[r] = VECTOR SELECT(w[d!, r], tab[d!](Time) * w[d!, r], -1, 0, 0) ~ ~ |
"""


def test_element_tables_called_over_a_marked_range(options: fs.Options) -> None:
    """tab[d!](x) is the vector of each element's own table read at x (tab[a](t) = t,
    tab[b](t) = 2t): y[r1] selects a and b, t + 2t; y[r2] selects b only, 2t."""
    model = loads_mdl("{UTF-8}\n" + TABLES + CONTROL, file="t.mdl")
    hidden = model.element("tab at 1")
    assert hidden.dims == ("d",)
    assert hidden.element_equations == (("a", '"tab[a]"(time)'), ("b", '"tab[b]"(time)'))
    assert run(TABLES, options)["y"] == [[0, 0], [3, 2], [6, 4]]


def test_element_tables_over_a_marked_range_refuse_an_input_over_a_range() -> None:
    """The hidden vector reads every table at one x: an x over a range is refused."""
    text = TABLES.replace("tab[d!](Time)", "tab[d!](w[a, r])")
    with pytest.raises(ModelError, match=r"tab\[d!\]\(x\).*depends on a subscript range.*t\.mdl:8"):
        loads_mdl("{UTF-8}\n" + text + CONTROL, file="t.mdl")


# hand-written: a vector marked with a subrange of its dimension (C-LEARN's "Last Set Target
# Year" selects over "set targets", two of the three elements of "Target")
SUBRANGE = """
t: t1, t2, t3 ~ ~ |
s: t1, t2 ~ ~ |
c: c1, c2 ~ ~ |
x[c, t] = 1, 2, 3; 4, 5, 6; ~ ~ |
y[c] = VECTOR SELECT(x[c, s!], x[c, s!], 0, 0, 0) ~ ~ |
"""


def test_vector_select_over_a_subrange_reads_its_elements_only(options: fs.Options) -> None:
    """Vensim: x[c, s!] runs over the elements of s (t1, t2), not all of x's range t: action
    0 sums selection * value, 1*1 + 2*2 = 5 and 4*4 + 5*5 = 41 (t3 would add 9 and 36)."""
    model = loads_mdl("{UTF-8}\n" + SUBRANGE + CONTROL, file="t.mdl")
    assert model.element("y").equation == "VECTOR_SELECT(x[c, s.*], x[c, s.*], 0, 0, 0)"
    assert run(SUBRANGE, options)["y"][0] == [5, 41]


# -- the public model, when present --------------------------------------------------------

# the surveyed real models (not committed): $FLYWHEEL_MDL_WILD, else shared/mdl_wild beside the repo
WILD = Path(
    os.environ.get("FLYWHEEL_MDL_WILD") or Path(__file__).parents[3] / "shared" / "mdl_wild"
)
CLEARN = WILD / "test_xmutil_test_models" / "C-LEARN v77 for Vensim.mdl"


# Vensim's own run, Ref.vdf beside the model (read with pysimlin 0.8.5's load_vdf; float32):
# (variable, scenario or None, year) -> value
VENSIM = {
    ("temperature_change_from_preindustrial", "deterministic", 2000): 0.656867,
    ("temperature_change_from_preindustrial", "deterministic", 2100): 4.52676,
    ("atm_conc_co2", "deterministic", 2050): 548.456,
    ("atm_conc_co2", "deterministic", 2100): 935.743,
    ("global_co2_ff_emissions", None, 2050): 74.0836,
    ("global_total_co2_emissions", None, 2100): 108.807,
}


def test_clearn_runs_and_agrees_with_vensim() -> None:
    """bpowers/simlin test/xmutil_test_models/C-LEARN v77 for Vensim.mdl (53,000 lines):
    temperature, CO2 concentration and emissions as in Vensim's run (which keeps 6 digits)."""
    if not CLEARN.exists():
        pytest.skip(f"{CLEARN} is not on this machine (public models are not committed)")
    result = fs.simulate(load_mdl(CLEARN))
    assert str(result.status.values[0]) == "ok"
    for (name, scenario, year), want in VENSIM.items():
        got = result[name].isel(run=0).sel(time=year)
        if scenario is not None:
            got = got.sel(scenario=scenario)
        assert float(got) == pytest.approx(want, rel=1e-5), (name, year)
