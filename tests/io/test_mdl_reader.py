"""The Vensim .mdl reader (io/mdl): the file's text, expressions, functions, subscripts and how
a Model is assembled. Small models written here; expected values worked out by hand from the
Vensim reference manual's definitions (cited per test). Every simulation runs on both VMs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flywheel_sim as fs
from flywheel_sim import ModelError
from flywheel_sim.io.mdl import load_mdl, loads_mdl
from flywheel_sim.io.mdl.text import decode, read_document

CONTROL = """
********************************************************
\t.Control
********************************************************~
\t\tSimulation Control Parameters
\t|

FINAL TIME  = {stop}
\t~\tMonth
\t~\tThe final time for the simulation.
\t|

INITIAL TIME  = 0
\t~\tMonth
\t~\tThe initial time for the simulation.
\t|

SAVEPER  =
        TIME STEP
\t~\tMonth [0,?]
\t~\tThe frequency with which output is stored.
\t|

TIME STEP  = {dt}
\t~\tMonth [0,?]
\t~\tThe time step for the simulation.
\t|

\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0
///---\\\\\\
:L<%^E!@
1:Current.vdf
15:0,0,0,{method},0,0
"""


def mdl(equations: str, *, stop: float = 4, dt: float = 1, method: int = 0) -> str:
    return "{UTF-8}\n" + equations + CONTROL.format(stop=stop, dt=dt, method=method)


def run(text: str, options: fs.Options) -> xr.Dataset:
    return fs.simulate(loads_mdl(text, file="t.mdl"), options=options)


def values(result: xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(result[name].isel(run=0), dtype=float)


def start(result: xr.Dataset, name: str) -> list[float]:
    """The values at the start (a variable that never changes has no time axis)."""
    data = result[name].isel(run=0)
    return [float(v) for v in np.ravel(data.isel(time=0) if "time" in data.dims else data)]


TEACUP = mdl(
    """Teacup Temperature= INTEG (
\t-Heat Loss to Room,
\t\t180)
\t~\tDegrees
\t~\tThe temperature of the tea.
\t|

Heat Loss to Room=
\t(Teacup Temperature - Room Temperature) / Characteristic Time
\t~\tDegrees/Month
\t|

Room Temperature= 70 ~ Degrees [0, 200] ~ |

Characteristic Time= 10
\t~\tMonth [1, 5]
\t~\t|
""",
    stop=2,
)


def test_records_lines_units_comments_and_the_control_section(options: fs.Options) -> None:
    model = loads_mdl(TEACUP, file="t.mdl")
    stock = model.element("teacup temperature")
    assert (stock.kind, stock.outflows, stock.inflows) == ("stock", ("Heat Loss to Room",), ())
    assert (stock.unit, stock.description, stock.line) == (
        "Degrees",
        "The temperature of the tea.",
        2,
    )
    assert model.element("heat loss to room").kind == "flow"
    room = model.element("room temperature")
    assert (room.kind, room.default, room.minimum, room.maximum) == ("parameter", 70, 0, 200)
    # a range that leaves out the value is not kept (10 is outside [1, 5])
    assert model.element("characteristic time").minimum is None
    assert model.time == fs.TimeSpec(0, 2, 1, save_step=1, units="Month", method="euler")
    result = run(TEACUP, options)
    # Euler by hand: 180 -> 180 - 11 = 169 -> 169 - 9.9 = 159.1
    assert values(result, "teacup_temperature") == pytest.approx([180, 169, 159.1])


def test_rk4_from_the_settings_and_continuations() -> None:
    text = mdl("a very long \\\n\t\tname = 3 ~ ~ |\n", method=1)
    model = loads_mdl(text)
    assert model.time.method == "rk4"
    assert model.element("a very long name").default == 3
    assert loads_mdl(mdl("x = 1 ~~|", method=2)).time.method == "euler"
    assert "automatic step" in loads_mdl(mdl("x = 1 ~~|", method=5)).notes[0]


@pytest.mark.parametrize("code", [3, 4])
def test_vensim_rk2_is_refused(code: int) -> None:
    """Vensim help, Runge-Kutta integration: its RK2 takes a half step and uses the rates
    there (the midpoint method), unlike our heun."""
    with pytest.raises(ModelError, match=r"RK2.*not supported yet"):
        loads_mdl(mdl("x = 1 ~~|", method=code), file="m.mdl")


def test_reality_checks_are_skipped_with_a_note() -> None:
    """Vensim reference, reality checks: ``:THE CONDITION:`` and ``:TEST INPUT:`` records test
    the model and do not change its run; they are skipped and noted."""
    text = (
        "x = 1 ~~|\nc :THE CONDITION: t :IMPLIES: x >= 0 ~~|\n"
        "t :TEST INPUT: x = 0 ~~|\nFINAL TIME = 1 ~~|\n"
    )
    model = loads_mdl(text)
    assert [e.name for e in model.elements] == ["x"]
    assert model.notes == (
        "reality check 'c' (line 2) is not run",
        "reality check input 't' (line 3) is not run",
    )


def test_control_values_from_constants() -> None:
    """FINAL TIME may be an expression of numbers and constants; one computed while the model
    runs is refused (seen in test-models' dynamic_final_time)."""
    text = "start = 2000 ~~|\nINITIAL TIME = start ~~|\nFINAL TIME = INITIAL TIME + 2 * 5 ~~|\n"
    assert loads_mdl(text).time.stop == 2010
    with pytest.raises(ModelError, match="computed while the model runs is not supported yet"):
        loads_mdl("x = TIME ~~|\nFINAL TIME = IF THEN ELSE(x > 5, 5, 10) ~~|\n")


def test_decode_utf8_header_and_windows_1252() -> None:
    assert decode("{UTF-8}\nx = 1 ~ € ~ |".encode()) == "{UTF-8}\nx = 1 ~ € ~ |"
    assert decode(b"x = 1 ~ \x80 ~ \x81 |") == "x = 1 ~ € ~ \x81 |"


def test_sketch_is_split_off_and_group_markers_skipped() -> None:
    doc = read_document(TEACUP)
    assert doc.sketch.startswith("\\\\\\---/// Sketch information")
    assert [r.equation.split("=")[0].strip() for r in doc.records][:2] == [
        "Teacup Temperature",
        "Heat Loss to Room",
    ]
    assert not any(r.equation.startswith("*") for r in doc.records)
    assert loads_mdl(TEACUP).notes == ()  # the sketch is read (tests/io/test_mdl_sketch.py)


def test_flags_after_the_comment_are_not_part_of_it() -> None:
    """Vensim help, equation format: a third ~ after the comment carries flags (:SUP)."""
    model = loads_mdl(mdl("x = 1 ~ Widget ~ The comment. ~ :SUPPLEMENTARY\n|\n"))
    assert model.element("x").description == "The comment."


def test_expressions_operators_logic_na_and_quoted_names(options: fs.Options) -> None:
    text = mdl(
        '"a-b" = 2 ~ ~ |\n'
        'p = -"a-b" ^ 2 + 10 / 4 * 2 ~ ~ |\n'  # -(2^2) + (10/4)*2 = 1
        "q = IF THEN ELSE(TIME >= 2 :AND: :NOT: TIME = 3, 1, 0) ~ ~ |\n"
        "r = IF THEN ELSE(TIME <> 1 :OR: TIME < 0, 5, :NA:) ~ ~ |\n"
        "s = 1e+003 ~ ~ |\n"
    )
    result = run(text, options)
    assert values(result, "p") == pytest.approx([1] * 5)
    assert list(values(result, "q")) == [0, 0, 1, 0, 1]
    assert list(values(result, "r")) == [5, -(2.0**109), 5, 5, 5]  # Vensim help, ":NA:": -2^109
    assert loads_mdl(text).element("s").default == 1000


def test_vensim_functions_with_vensim_semantics(options: fs.Options) -> None:
    """Vensim reference manual: INTEGER truncates toward zero; PULSE(start, width) is 1 from
    start for width; PULSE TRAIN repeats every interval until end; QUANTUM(x, q) is
    q*INTEGER(x/q); LOG(x, base); MODULO keeps the sign of the dividend; RAMP holds after end."""
    text = mdl(
        "i = INTEGER(-2.5) + INTEGER(2.5) * 10 ~ ~ |\n"  # -2 + 20
        "pu = PULSE(1, 2) ~ ~ |\n"
        "pz = PULSE(2, 0) ~ ~ |\n"  # width 0: one TIME STEP
        "pt = PULSE TRAIN(0, 1, 2, 3) ~ ~ |\n"
        "qu = QUANTUM(-7, 2) + QUANTUM(5, 0) ~ ~ |\n"  # -6 + 5
        "lg = LOG(8, 2) ~ ~ |\n"
        "mo = MODULO(-7, 3) ~ ~ |\n"
        "ra = RAMP(2, 1, 3) ~ ~ |\n"
        "st = STEP(5, 2) ~ ~ |\n"
        "mx = MAX(TIME, 2) + MIN(TIME, 1) + ABS(-1) ~ ~ |\n"
        "zx = ZIDZ(1, 0) + XIDZ(1, 0, 7) + XIDZ(6, 3, 7) ~ ~ |\n"
        "ti = TIME STEP + INITIAL TIME + FINAL TIME + SAVEPER ~ ~ |\n"
        "hy = SINH(1) + COSH(1) + TANH(1000) + TANH(-1000) + TANH(0.5) ~ ~ |\n"
    )
    result = run(text, options)
    assert list(values(result, "i")) == [18] * 5
    assert list(values(result, "pu")) == [0, 1, 1, 0, 0]
    assert list(values(result, "pz")) == [0, 0, 1, 0, 0]
    assert list(values(result, "pt")) == [1, 0, 1, 0, 0]
    assert list(values(result, "qu")) == [-1] * 5
    assert values(result, "lg") == pytest.approx([3] * 5)
    assert list(values(result, "mo")) == [-1] * 5
    assert list(values(result, "ra")) == [0, 0, 2, 4, 4]
    assert list(values(result, "st")) == [0, 0, 5, 5, 5]
    assert list(values(result, "mx")) == [3, 4, 4, 5, 6]
    assert list(values(result, "zx")) == [9] * 5
    assert list(values(result, "ti")) == [1 + 0 + 4 + 1] * 5
    # sinh 1 + cosh 1 = e; tanh saturates at +-1 without overflow
    assert values(result, "hy") == pytest.approx([np.e + np.tanh(0.5)] * 5, rel=1e-12)


def test_pulses_switch_at_times_that_are_not_exact_in_binary(options: fs.Options) -> None:
    """With TIME STEP 0.1, TIME reaches 0.3 as 0.30000000000000004 or 0.29999999999999993
    depending on the sums: the pulses switch at the same steps as STEP."""
    text = mdl(
        "p = PULSE(0.3, 0.2) ~~|\ns = STEP(1, 0.3) - STEP(1, 0.5) ~~|\n"
        "t = PULSE TRAIN(0.3, 0.1, 0.3, 0.9) ~~|\n",
        stop=1.2,
        dt=0.1,
    )
    result = run(text, options)
    assert list(values(result, "p")) == list(values(result, "s"))
    assert list(values(result, "p")) == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert list(values(result, "t")) == [0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0]


def test_smooth_delay_and_initial(options: fs.Options) -> None:
    """SMOOTHI(x, t, init) is a first-order smooth from init; DELAY1I a first-order material
    delay whose outflow starts at init; INITIAL holds the value at the start."""
    text = mdl(
        "x = 10 ~ ~ |\n"
        "sm = SMOOTHI(x, 2, 0) ~ ~ |\n"  # 0, 5, 7.5, 8.75, 9.375
        "d = DELAY1I(x, 2, 0) ~ ~ |\n"  # stock 0 -> +10 each step, out = stock/2
        "ini = INITIAL(TIME + 3) ~ ~ |\n"
    )
    result = run(text, options)
    assert values(result, "sm") == pytest.approx([0, 5, 7.5, 8.75, 9.375])
    assert values(result, "d") == pytest.approx([0, 5, 7.5, 8.75, 9.375])
    assert list(values(result, "ini")) == [3] * 5


ARRAYS = mdl(
    """Region: (r1-r3) -> Place ~ ~ |
Place: north, middle, south ~ ~ |
Southern: r2, r3 ~ ~ |
Other <-> Region ~ ~ |
pop[Region] = 1, 2, 3 ~ people ~ |
grid[Region, Place] = 1, 2, 3; 4, 5, 6; 7, 8, 9; ~ ~ |
share[r1] = 10 ~ ~ |
share[Southern] = pop[Southern] * 2 ~ ~ |
rest[Region] :EXCEPT: [r1] = 1 ~ ~ |
rest[r1] = 100 ~ ~ |
total = SUM(pop[Region!]) ~ ~ |
diag = SUM(grid[Region!, Place!]) + VMAX(pop[Region!]) + PROD(pop[Region!]) ~ ~ |
low = VMIN(grid[r2, Place!]) ~ ~ |
mapped[Place] = pop[Region] * 10 ~ ~ |
same[Other] = pop[Other] ~ ~ |
"""
)


def test_subscripts_ranges_lists_per_element_except_and_sums(options: fs.Options) -> None:
    model = loads_mdl(ARRAYS)
    region = model.dimension("Region")
    assert (region.elements, region.maps_to) == (("r1", "r2", "r3"), ("Place",))
    assert model.dimension("Other").elements == ("r1", "r2", "r3")
    assert model.element("grid").default[:4] == (
        ("r1,north", 1),
        ("r1,middle", 2),
        ("r1,south", 3),
        ("r2,north", 4),
    )
    assert model.element("share").dims == ("Region",)
    result = run(ARRAYS, options)
    assert start(result, "share") == [10, 4, 6]
    assert start(result, "rest") == [100, 1, 1]
    assert start(result, "total") == [6]
    assert start(result, "diag") == [45 + 3 + 6]
    assert start(result, "low") == [4]
    assert start(result, "mapped") == [10, 20, 30]
    assert start(result, "same") == [1, 2, 3]


def test_stock_flows_and_net_flow(options: fs.Options) -> None:
    text = mdl(
        "s = INTEG(inflow - outflow, 1) ~ ~ |\n"
        "inflow = 3 ~ ~ |\n"
        "outflow = s / 2 ~ ~ |\n"
        "t = INTEG(2 * s, 0) ~ Widget * Person ~ |\n"
        "arr[d] = INTEG(grow[d], 1) ~ ~ |\n"
        "d: d1, d2 ~ ~ |\n"
        "grow[d] = 1, 2 ~ ~ |\n"
    )
    model = loads_mdl(text)
    s = model.element("s")
    assert (s.inflows, s.outflows) == (("inflow",), ("outflow",))
    assert model.element("inflow").kind == "flow"
    assert model.element("t").inflows == ("t net flow",)
    assert model.element("t net flow").equation == "2 * s"
    assert model.element("t net flow").unit == "(Widget * Person)/Month"
    assert model.element("arr").inflows == ("grow",)
    result = run(text, options)
    # s: 1 -> 1 + 3 - 0.5 = 3.5 -> 3.5 + 3 - 1.75 = 4.75
    assert values(result, "s")[:3] == pytest.approx([1, 3.5, 4.75])
    assert values(result, "t")[:3] == pytest.approx([0, 2, 9])
    assert list(result["arr"].isel(run=0, time=2).values) == [3, 5]


def test_lookups_standalone_inline_and_without_range(options: fs.Options) -> None:
    """Vensim: lookups interpolate linearly and hold their end values outside the table."""
    text = mdl(
        "tab([(0,0)-(10,10)],(0,0),(2,4),(4,4)) ~ ~ |\n"
        "old(0, 2, 0, 10) ~ ~ |\n"  # the old form: x values, then y values
        "a = tab(TIME) ~ ~ |\n"
        "b = WITH LOOKUP(TIME, ((0,1),(4,5))) ~ ~ |\n"
        "c = old(TIME) ~ ~ |\n"
    )
    model = loads_mdl(text)
    assert model.element("tab").kind == "lookup"
    result = run(text, options)
    assert list(values(result, "a")) == [0, 2, 4, 4, 4]
    assert list(values(result, "b")) == [1, 2, 3, 4, 5]
    assert list(values(result, "c")) == [0, 5, 10, 10, 10]


@pytest.mark.parametrize(
    ("equation", "what"),
    [
        ("x = ALLOCATE AVAILABLE(1, 2, 0) ~ ~ |", "takes its priority profile as pp[d, ptype]"),
        ("x = RANDOM GAMMA(0, 9, 1, 0, 1, 0, 3) ~ ~ |", "RANDOM GAMMA is not supported yet"),
        ("x = DELAY N(1, 2, 0) ~ ~ |", "DELAY N takes 4 arguments, not 3"),
        ("x := GET XLS DATA('a.xlsx', 's', 'A', 'B2') ~ ~ |", "was read from text"),
        ("x := y * 2 ~ ~ |", "a data equation (:=) with no data on its right side"),
        ("x :RAW: ~ ~ |", "is a data variable (no equation"),
        (
            "x(GET XLS LOOKUPS('a.xlsx', 's', '1', 'B2')) ~ ~ |",
            "GET XLS LOOKUPS reads a file beside the model",
        ),
    ],
)
def test_unsupported_is_one_line_naming_file_line_and_variable(equation: str, what: str) -> None:
    text = mdl("y = 1 ~ ~ |\n" + equation + "\n")
    with pytest.raises(ModelError) as caught:
        loads_mdl(text, file="m.mdl")
    error = caught.value
    assert what in error.message
    assert (error.file, error.line) == ("m.mdl", 3)
    assert error.variable == "x"


def test_load_model_reads_mdl_and_the_cli_runs_it(tmp_path: Path) -> None:
    from conftest import run_cli

    path = tmp_path / "Teacup.MDL"
    path.write_bytes(TEACUP.encode("utf-8"))
    model = fs.load_model(path)
    assert model.name == "Teacup" and model.element("teacup temperature").kind == "stock"
    with pytest.raises(ModelError, match="does not exist"):
        load_mdl(tmp_path / "missing.mdl")
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_dimension_and_element_names_as_values(options: fs.Options) -> None:
    """Vensim: a range's name in an equation is the element's position (in the largest range
    holding it, so in the subrange ``Sub: b, a``, ``a`` is 1); so is an element's name. Seen in
    test-models' conditional_subscripts."""
    text = mdl(
        "D: a, b, c ~ ~ |\n"
        "Sub: b, a ~ ~ |\n"
        "pos[D] = D * 10 ~ ~ |\n"
        "eye[D, Sub] = IF THEN ELSE(D = Sub, 1, 0) ~ ~ |\n"
        "isb[D] = IF THEN ELSE(D = b, 1, 0) ~ ~ |\n"
    )
    result = run(text, options)
    assert start(result, "pos") == [10, 20, 30]
    assert start(result, "eye") == [0, 1, 1, 0, 0, 0]  # rows a, b, c; columns b, a
    assert start(result, "isb") == [0, 1, 0]


def test_tabbed_array_strings_and_a_short_sketch_marker() -> None:
    """TABBED ARRAY (values pasted from a spreadsheet), a GET function's quoted file name (the
    refusal names the function) and ``\\\\---///``, as some files write the sketch marker."""
    text = (
        "D: a, b ~ ~ |\nE: x, y ~ ~ |\n"
        "t[D, E] = TABBED ARRAY(\n\t1\t2\n\t3\t4\n\t) ~ ~ |\n"
        "FINAL TIME = 1 ~ Month [0, inf] ~ |\n\\\\---/// Sketch\n"
    )
    model = loads_mdl(text)
    assert model.element("t").default == (("a,x", 1), ("a,y", 2), ("b,x", 3), ("b,y", 4))
    with pytest.raises(ModelError, match="GET DIRECT CONSTANTS reads a file beside the model"):
        loads_mdl(
            text.replace(
                "t[D, E] = TABBED",
                "u = GET DIRECT CONSTANTS('a.xlsx', 'S', 'A1')\n~~|\nt[D, E] = TABBED",
            )
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"abc = 1 ~~|', "a quoted name is not closed"),
        ("x = " + "(" * 500 + "1" + ")" * 500 + " ~~|", "nested more than 200 levels"),
        ("x = 1 # 2 ~~|", "unexpected character '#'"),
        ("A: B ~~|\nB: A ~~|", "defined through itself"),
        ("x = 1 ~~|\nx = 2 ~~|", "'x' is defined twice"),
        ("D: (a1-a200) ~~|\nE: (e1-e200) ~~|\nx = SUM(y[D!, E!]) ~~|", "40000 elements"),
        ("x :HOLD BACKWARD: := 1 ~~|", "a data equation \\(:=\\) with no data"),
        (":MACRO: M(a)\nM = M(a) ~~|\n:END OF MACRO:\nx = M(1) ~~|", "more than 20 deep"),
    ],
)
def test_hostile_text_is_one_error(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        loads_mdl(text + "\nFINAL TIME = 1 ~~|\n", file="h.mdl")


def test_sizes_are_checked_before_elements_are_made() -> None:
    from flywheel_sim.errors import LimitError

    text = "D: (a1-a900000) ~~|\nE: (e1-e900000) ~~|\nx[D, E] = 1 ~~|\nx[a1, e1] = 2 ~~|"
    with pytest.raises(LimitError, match="max_instances"):
        loads_mdl(text + "\nFINAL TIME = 1 ~~|\n")


def test_lookup_tables_per_element(options: fs.Options) -> None:
    """Vensim reference, subscripted lookups: ``tab[a](...)`` gives an element its own table
    (``tab[D](...)`` one table to each); ``tab[D](x)`` in an equation over D reads each
    element's table."""
    text = mdl(
        "D: a, b ~~|\n"
        "tab[a]((0,0),(10,10)) ~~|\n"
        "tab[b]((0,0),(10,20)) ~~|\n"
        "both[D]((0,1),(10,1)) ~~|\n"
        "x[D] = tab[D](TIME) + both[D](TIME) ~~|\n"
        "y = tab[b](3) ~~|\n"
    )
    model = loads_mdl(text)
    assert {e.name for e in model.of_kind("lookup")} == {"tab[a]", "tab[b]", "both[a]", "both[b]"}
    result = run(text, options)
    assert result["x"].isel(run=0).values.tolist() == [[1, 1], [2, 3], [3, 5], [4, 7], [5, 9]]
    assert start(result, "y") == [6]
    with pytest.raises(ModelError, match="no lookup table 'tab\\[c\\]'"):
        loads_mdl(text.replace("D: a, b", "D: a, b, c").replace("both[D]", "both[a]"))


def test_runs_mappings_listed_and_constants_over_ranges() -> None:
    """Vensim reference, subscripts: a numbered run keeps its leading zeros; ``-> (E: e1,
    e2)`` lists the target's elements (in E's own order it is a mapping by position; other
    orders: tests/io/test_mdl_mappings.py); ``x[D] = 5`` gives every element 5."""
    text = (
        "D: (d08-d10) -> (E: e1, e2, e3) ~~|\nE: e1, e2, e3 ~~|\nx[D] = 5 ~~|\nFINAL TIME = 1 ~~|"
    )
    model = loads_mdl(text)
    assert model.dimension("D").elements == ("d08", "d09", "d10")
    assert model.dimension("D").maps_to == ("E",)
    assert model.element("x").default == (("d08", 5), ("d09", 5), ("d10", 5))
    assert loads_mdl(text.replace("(E: e1, e2, e3)", "(E: e2, e1, e3)")).dimension("D").pairs
    with pytest.raises(ModelError, match=r"\(2\) without listing the pairs"):
        loads_mdl(text.replace("(E: e1, e2, e3)", "E").replace("e1, e2, e3 ~", "e1, e2 ~"))


def test_the_dashboard_accepts_an_mdl_upload() -> None:
    pytest.importorskip("dash")
    from flywheel_sim.web.session import Registry

    entry = Registry().upload("Teacup.mdl", TEACUP.encode("utf-8"))
    assert entry.model.element("teacup temperature").kind == "stock"
    with pytest.raises(ModelError, match=r"Vensim \(\.mdl\)"):
        Registry().upload("teacup.exe", b"x")


def test_a_variable_defined_for_some_elements_is_over_those(options: fs.Options) -> None:
    """Vensim computes and saves only the elements a variable is defined for (seen in
    test-models' smaller_range): the variable gets a range of its own."""
    text = mdl("D: a, b, c ~~|\nv[a] = 5 * TIME ~~|\nv[c] = -TIME ~~|\n")
    model = loads_mdl(text)
    assert model.element("v").dims == ("v elements",)
    assert model.dimension("v elements").elements == ("a", "c")
    assert result_rows(run(text, options), "v")[1] == [5, -1]
    with pytest.raises(ModelError, match=r"element \[b, b\] of 'w' has no equation"):
        loads_mdl(mdl("D: a, b ~~|\nw[a, D] = 1 ~~|\nw[b, a] = 2 ~~|\n"))


def result_rows(result: xr.Dataset, name: str) -> list[list[float]]:
    return result[name].isel(run=0).values.tolist()


def test_delays_smooths_of_order_n_trend_and_forecast(options: fs.Options) -> None:
    """Vensim reference manual: DELAY FIXED holds the input the delay time back (the initial
    value before); DELAY N and SMOOTH N of order 1 are DELAY1I and SMOOTHI (values as in
    test_smooth_delay_and_initial), of order 3 DELAY3I and SMOOTH3I; TREND = (input -
    average) / (time * average), the average a first-order smooth from input / (1 + init *
    time); FORECAST = input * (1 + horizon * (input - average) / (time * average)), the
    average starting at the input."""
    text = mdl(
        "x = 10 ~ ~ |\n"
        "fx = DELAY FIXED(TIME, 2, -1) ~ ~ |\n"
        "dn = DELAY N(x, 2, 0, 1) ~ ~ |\n"
        "sn = SMOOTH N(x, 2, 0, 1) ~ ~ |\n"
        "d3 = DELAY N(x, 3, 1, 3) - DELAY3I(x, 3, 1) ~ ~ |\n"
        "s3 = SMOOTH N(x, 3, 1, 3) - SMOOTH3I(x, 3, 1) ~ ~ |\n"
        "tr = TREND(x, 2, 0.5) ~ ~ |\n"  # average 5, 7.5, 8.75, 9.375, 9.6875
        "y = 10 + STEP(10, 1) ~ ~ |\n"
        "fc = FORECAST(y, 2, 1) ~ ~ |\n"  # average 10, 10, 15, 17.5, 18.75
    )
    result = run(text, options)
    assert list(values(result, "fx")) == [-1, -1, 0, 1, 2]
    assert values(result, "dn") == pytest.approx([0, 5, 7.5, 8.75, 9.375])
    assert values(result, "sn") == pytest.approx([0, 5, 7.5, 8.75, 9.375])
    assert values(result, "d3") == pytest.approx([0] * 5, abs=1e-12)
    assert values(result, "s3") == pytest.approx([0] * 5, abs=1e-12)
    assert values(result, "tr") == pytest.approx([0.5, 1 / 6, 1 / 14, 1 / 30, 1 / 62])
    assert values(result, "fc") == pytest.approx([10, 30, 20 * 7 / 6, 20 * 15 / 14, 20 * 31 / 30])


def test_npv_follows_vensims_equations(options: fs.Options) -> None:
    """Vensim reference manual, NPV: (accumulated + stream * TIME STEP * df) * factor, the
    accumulation INTEG(stream * df, init), df = INTEG(-df * rate / (1 + rate * TIME STEP), 1):
    with TIME STEP 1, the sum of stream / 1.1^k for k = 0 .. TIME."""
    result = run(mdl("v = NPV(100, 0.1, 0, 2) ~ ~ |\n"), options)
    sums = np.cumsum([100 / 1.1**k for k in range(5)])
    assert values(result, "v") == pytest.approx(2 * sums)


def test_sample_if_true_active_initial_game_and_time_base(options: fs.Options) -> None:
    """Vensim reference manual: SAMPLE IF TRUE(c, in, init) is the input while c holds, else
    the value it last had (init at first), and may name its own variable (its previous
    value); ACTIVE INITIAL(eq, init) is init for the initial values, eq when running; GAME(x)
    is x outside a game; TIME BASE(s, r) is s + r * TIME."""
    text = mdl(
        "sa = SAMPLE IF TRUE(MODULO(TIME, 2) = 0, TIME, -1) ~ ~ |\n"
        "late = SAMPLE IF TRUE(TIME >= 2, TIME, -1) ~ ~ |\n"
        "own = SAMPLE IF TRUE(TIME = 2, own + 10, 1) ~ ~ |\n"
        "stock = INTEG(1, ai) ~ ~ |\n"
        "ai = ACTIVE INITIAL(stock * 2, 5) ~ ~ |\n"
        "ga = GAME(TIME + 1) ~ ~ |\n"
        "tb = TIME BASE(10, 2) ~ ~ |\n"
    )
    result = run(text, options)
    assert list(values(result, "sa")) == [0, 0, 2, 2, 4]
    assert list(values(result, "late")) == [-1, -1, 2, 3, 4]
    assert list(values(result, "own")) == [1, 1, 11, 11, 11]
    assert list(values(result, "stock")) == [5, 6, 7, 8, 9]
    assert list(values(result, "ai")) == [10, 12, 14, 16, 18]
    assert list(values(result, "ga")) == [1, 2, 3, 4, 5]
    assert list(values(result, "tb")) == [10, 12, 14, 16, 18]


def test_random_functions_and_a_seed_named_by_a_constant(options: fs.Options) -> None:
    """Vensim reference manual: RANDOM 0 1() draws in [0, 1], RANDOM UNIFORM(min, max, seed)
    in [min, max], the other distributions truncated to [min, max]; our builtins take the
    seed as a number: a constant's name is replaced by its value."""
    text = mdl(
        "stream id = 7 ~ ~ |\n"
        "r01 = RANDOM 0 1() ~ ~ |\n"
        "u = RANDOM UNIFORM(2, 3, stream id) ~ ~ |\n"
        "n = RANDOM NORMAL(-1, 1, 0, 10, 0) ~ ~ |\n"
        "e = RANDOM EXPONENTIAL(0, 2, 0, 1, stream id) ~ ~ |\n"
        "p = RANDOM POISSON(0, 3, 2, 0, 1, 0) ~ ~ |\n"
        "t = RANDOM TRIANGULAR(0, 10, 1, 2, 4, 0) ~ ~ |\n",
        stop=20,
    )
    model = loads_mdl(text)
    assert model.element("u").equation == "RANDOM_UNIFORM(2, 3, 7)"
    assert model.element("r01").equation == "RANDOM(0, 1)"
    result = run(text, options)
    for name, low, high in [("r01", 0, 1), ("u", 2, 3), ("n", -1, 1), ("e", 0, 2), ("t", 1, 4)]:
        drawn = values(result, name)
        assert np.all((drawn >= low) & (drawn <= high)), name
        assert len(set(drawn)) > 5, name  # a new draw each step
    counts = values(result, "p")
    assert np.all((counts >= 0) & (counts <= 3) & (counts == np.round(counts)))


VECTORS = mdl(
    """d: (e1-e3) ~ ~ |
sub: e2, e3 ~ ~ |
x[d] = 30, 10, 20 ~ ~ |
sel[d] = 0, 1, 1 ~ ~ |
req[d] = 5, 5, 5 ~ ~ |
pri[d] = 3, 1, 2 ~ ~ |
order[d] = VECTOR SORT ORDER(x[d], 1) ~ ~ |
down[d] = VECTOR SORT ORDER(x[d], -1) ~ ~ |
rank[d] = VECTOR RANK(x[d], 1) ~ ~ |
sorted[d] = VECTOR REORDER(x[d], order[d]) ~ ~ |
same[d] = VECTOR ELM MAP(x[d], 0) ~ ~ |
second = VECTOR ELM MAP(x[e1], 1) ~ ~ |
before[sub] = VECTOR ELM MAP(x[sub], -1) ~ ~ |
chosen = VECTOR SELECT(sel[d!], x[d!], -1, 0, 0) ~ ~ |
none = VECTOR SELECT(sel[d!] * 0, x[d!], -1, 0, 0) ~ ~ |
VSSUM = 0 ~ ~ |
VSERRNONE == 0 ~ ~ |
named = VECTOR SELECT(sel[d!], x[d!], -1, VSSUM, VSERRNONE) ~ ~ |
count = ELMCOUNT(d) + ELMCOUNT(sub) ~ ~ |
plus[d] = ELMCOUNT(d) + d ~ ~ |
share[d] = ALLOCATE BY PRIORITY(req[d], pri[d], ELMCOUNT(d), 1, 7) ~ ~ |
"""
)


def test_vector_functions_take_the_whole_vector(options: fs.Options) -> None:
    """Vensim reference manual ("Arrays, Vectors, and Subscripts"): VECTOR SORT ORDER gives
    the 0-based index of the element sorting to each place; VECTOR RANK the 1-based rank;
    VECTOR REORDER(x, order) x[order]; VECTOR ELM MAP(x[e], k) the element k places after e;
    VECTOR SELECT with action 0 sums the selected values (missing when none is); ELMCOUNT
    counts a range's elements; ALLOCATE BY PRIORITY fills the requests of highest priority
    first (width 1: priority 3 gets 5, priority 2 the 2 left)."""
    model = loads_mdl(VECTORS)
    assert model.element("order").equation == "VECTOR_SORT_ORDER(x[*], 1)"
    assert model.element("chosen").equation == "VECTOR_SELECT(sel[d.*], x[d.*], (-1), 0, 0)"
    # the actions named by constants (as SDEverywhere's extdata and vector models write them)
    assert model.element("named").equation == "VECTOR_SELECT(sel[d.*], x[d.*], (-1), 0, 0)"
    result = run(VECTORS, options)
    assert start(result, "order") == [1, 2, 0]
    assert start(result, "down") == [0, 2, 1]
    assert start(result, "rank") == [3, 1, 2]
    assert start(result, "sorted") == [10, 20, 30]
    assert start(result, "same") == [30, 10, 20]
    assert start(result, "second") == [10]
    assert start(result, "before") == [30, 10]
    assert start(result, "chosen") == start(result, "named") == [30]
    assert start(result, "none") == [-1]
    assert start(result, "count") == [5]
    assert start(result, "plus") == [4, 5, 6]
    assert start(result, "share") == pytest.approx([5, 0, 2])


def test_pulse_train_includes_a_pulse_starting_at_its_end(options: fs.Options) -> None:
    """Vensim's output for SDEverywhere's pulsetrain model (PULSE TRAIN(10, 1, 5, 30), TIME
    STEP 0.25): 1 at TIME = 30 = end, 0 from 30.25; pulses start at start + k * interval."""
    text = mdl("p = PULSE TRAIN(1, 1, 2, 5) ~ ~ |\nq = PULSE(1.3, 1) ~ ~ |\n", stop=7)
    result = run(text, options)
    assert list(values(result, "p")) == [0, 1, 0, 1, 0, 1, 0, 0]
    # PULSE: 1 while TIME + TIME STEP / 2 lies in (start, start + width): at TIME 1 only
    assert list(values(result, "q")) == [0, 1, 0, 0, 0, 0, 0, 0]


def test_vector_elm_map_counts_row_by_row(options: fs.Options) -> None:
    """Vensim reference manual, VECTOR ELM MAP: the offset counts on from the element named,
    over the whole array in the order its values are stored (row by row)."""
    text = mdl(
        "r: r1, r2 ~ ~ |\nc: c1, c2, c3 ~ ~ |\n"
        "g[r, c] = 1, 2, 3; 4, 5, 6; ~ ~ |\n"
        "a = VECTOR ELM MAP(g[r1, c1], 4) ~ ~ |\n"  # the 5th value
        "k[c] = VECTOR ELM MAP(g[r2, c], -1) ~ ~ |\n"  # one before each of the second row
    )
    result = run(text, options)
    assert start(result, "a") == [5]
    assert start(result, "k") == [3, 4, 5]


def test_lookup_extrapolate_forward_and_backward(options: fs.Options) -> None:
    """Vensim's reference: LOOKUP EXTRAPOLATE continues the end segments' lines; LOOKUP
    FORWARD gives the y of the point at or above x, LOOKUP BACKWARD of the point at or below;
    both hold the end values beyond the table. Values by hand at x = TIME = 0, 0.5, ..., 5 for
    the table (0,0),(1,10),(2,20),(4,0)."""
    text = mdl(
        "tab(\n\t(0,0),(1,10),(2,20),(4,0))\n\t~\t~\t|\n\n"
        "plain = tab(Time) ~ ~ |\n"
        "extra = LOOKUP EXTRAPOLATE(tab, Time) ~ ~ |\n"
        "fwd = LOOKUP FORWARD(tab, Time) ~ ~ |\n"
        "back = LOOKUP BACKWARD(tab, Time) ~ ~ |\n",
        stop=5,
        dt=0.5,
    )
    result = run(text, options)
    assert values(result, "plain").tolist() == [0, 5, 10, 15, 20, 15, 10, 5, 0, 0, 0]
    assert values(result, "extra").tolist() == [0, 5, 10, 15, 20, 15, 10, 5, 0, -5, -10]
    assert values(result, "fwd").tolist() == [0, 10, 10, 20, 20, 0, 0, 0, 0, 0, 0]
    assert values(result, "back").tolist() == [0, 0, 10, 10, 20, 20, 20, 20, 0, 0, 0]
    with pytest.raises(ModelError, match="no lookup table 'nope' for LOOKUP FORWARD"):
        loads_mdl(mdl("y = LOOKUP FORWARD(nope, Time) ~ ~ |\n"), file="t.mdl")


def test_the_same_range_marked_twice_in_a_sum_is_refused() -> None:
    """SUM(sq[DimA!, DimA!]): every cell (pysimlin 0.8.5 sums all nine) or the diagonal (our
    reader wrote the diagonal)? Vensim's reference does not say, so it is refused rather than
    read one way (seen in simlin's vensim-probes/repeated_dimension.mdl)."""
    text = mdl(
        "DimA: A1, A2 ~ ~ |\nsq[DimA, DimA] = 1 ~ ~ |\ntotal = SUM(sq[DimA!, DimA!]) ~ ~ |\n"
    )
    with pytest.raises(ModelError, match="marks the same range twice with !"):
        loads_mdl(text, file="t.mdl")


def test_the_settings_marker_as_vensim_writes_it_gives_the_method() -> None:
    """Vensim writes the settings' marker with a DEL character, ``:L\\x7f<%^E!@``; it was
    missed, so a model saved for RK4 (integration code 1, or 5: RK4 with automatic step) ran
    with Euler and no word (seen in simlin's examples/rabfox_birgit.mdl, saved for RK4)."""
    for marker in (":L\x7f<%^E!@", ":L<%^E!@"):
        for code, method in (("1", "rk4"), ("5", "rk4"), ("0", "euler")):
            text = mdl("x = 1 ~ ~ |\n").replace(":L<%^E!@", marker)
            text = re.sub(r"15:0,0,0,\d+,0,0", f"15:0,0,0,{code},0,0", text)
            assert f"15:0,0,0,{code},0,0" in text and marker in text
            assert loads_mdl(text, file="t.mdl").time.method == method


def test_comments_between_constants_and_nested_comments(options: fs.Options) -> None:
    """Written like SDEverywhere's ``comments`` test model (whose Vensim output gives a = 0, 1,
    2 and d = 8760): ``{...}`` between a constant list's values, and a comment holding a
    commented-out equation with comments of its own."""
    text = mdl(
        "R: r1, r2, r3 ~~|\na[R] = 0, {transport} 1, {power}\n 2 {unused} ~~|\n"
        "d = 8760 { leap years: IF THEN ELSE(x, 8784 {leap}, 8760 {normal}) } ~~|\n"
        'e = 2 * "odd {name}" ~~|\n"odd {name}" = 3 ~~|\n'
    )
    result = run(text, options)
    assert start(result, "a") == [0, 1, 2]
    assert start(result, "d") == [8760]
    assert start(result, "e") == [6]


def test_a_causal_loop_diagram_without_equations_is_refused_plainly() -> None:
    """MetaSD's FREE models include diagrams whose variables are ``A FUNCTION OF(...)``
    (Vensim's placeholder for a variable without an equation): refused in one line saying so."""
    text = mdl("Capital = A FUNCTION OF(Investment, -Discards) ~~|\nInvestment = 1 ~~|\n")
    with pytest.raises(ModelError) as info:
        loads_mdl(text, file="cld.mdl")
    message = str(info.value)
    assert message.startswith("A FUNCTION OF is not supported yet: it marks a causal-loop")
    assert "(cld.mdl:2)" in message and "\n" not in message
