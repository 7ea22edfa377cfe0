"""XMILE as tools write it in the wild (issue 19): how ``^`` groups, pre-1.0 files, elements
without simulation meaning, method lists, module connections and an export other tools read.

Each model here is small and written for the test; expected values are computed by hand
(or by pysimlin, an independent engine, where it is said)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from test_xmile import run, values, xmile

from conftest import run_cli
from flywheel_sim import ModelError, loads_model, simulate
from flywheel_sim.io.xmile import dumps_xmile, load_xmile, loads_xmile, save_xmile
from flywheel_sim.io.xmile.reader import XMILE_1_0
from flywheel_sim.io.yaml.writer import dumps_yaml, save_yaml
from flywheel_sim.spec.model import Model

# -- ^ groups right to left (XMILE 1.0 §3.3.1 operator precedence) ----------------------------

POWERS = (
    '<aux name="a"><eqn>2</eqn></aux>'
    '<aux name="right"><eqn>a^3^2</eqn></aux>'  # a^(3^2) = 2^9
    '<aux name="left"><eqn>(a^3)^2</eqn></aux>'  # 8^2
    '<aux name="neg"><eqn>-a^2</eqn></aux>'  # -(a^2), not (-a)^2
    '<aux name="neg exponent"><eqn>a^-1^2</eqn></aux>'  # a^(-(1^2)) = 0.5
    '<aux name="times"><eqn>3*a^2^2</eqn></aux>'  # 3 * 2^4
)
EXPECTED = {"right": 512.0, "left": 64.0, "neg": -4.0, "neg_exponent": 0.5, "times": 48.0}


def test_power_groups_right_to_left_in_an_xmile_model() -> None:
    result = run(xmile(POWERS))
    for name, want in EXPECTED.items():
        assert values(result, name)[0] == want, name


def test_power_round_trip_read_write_read_keeps_the_values() -> None:
    model = loads_xmile(xmile(POWERS))
    text = dumps_xmile(model)
    # the export spells out the grouping, so tools that group ^ left to right read it alike
    # (whole numbers with a decimal point, for PySD: io/xmile/export_functions.float_literals)
    assert "a ^ (3.0 ^ 2.0)" in text and "(a ^ 3.0) ^ 2.0" in text and "-(a ^ 2.0)" in text
    back = loads_xmile(text)
    result = simulate(back)
    for name, want in EXPECTED.items():
        assert values(result, name)[0] == want, name
    assert dumps_xmile(back) == text


def test_power_round_trip_through_yaml() -> None:
    model = loads_model(
        "name: p\ntime: {start: 0, stop: 1, dt: 1}\nparameters:\n  a: {default: 2}\n"
        "auxiliaries:\n  r: {equation: a^3^2}\n  l: {equation: (a^3)^2}\n"
        "  plain: {equation: 'a^2 + 1  {kept as written}'}\n"
    )
    result = simulate(model)
    assert values(result, "r")[0] == 512.0 and values(result, "l")[0] == 64.0
    text = dumps_yaml(model)
    # a chain of powers is written with its parentheses; other equations as written
    assert "a ^ (3 ^ 2)" in text and "(a ^ 3) ^ 2" in text and "{kept as written}" in text
    back = simulate(loads_model(text))
    assert values(back, "r")[0] == 512.0 and values(back, "l")[0] == 64.0


def test_pysimlin_reads_our_powers_with_the_same_values(tmp_path: Path) -> None:
    simlin = pytest.importorskip("simlin")
    path = save_xmile(loads_xmile(xmile(POWERS)), tmp_path / "powers.xmile")
    theirs = simlin.load(str(path)).run(analyze_loops=False).results
    for name, want in EXPECTED.items():
        assert float(np.asarray(theirs[name])[0]) == want, name


# -- files older than XMILE 1.0 ------------------------------------------------------------------

SPECS = "<sim_specs><start>0</start><stop>2</stop><dt>1</dt></sim_specs>"
STOCK = '<stock name="s"><eqn>5</eqn></stock>'


@pytest.mark.parametrize(
    ("root", "model", "reason"),
    [
        # an old Stella save: version 0.x, the variables directly in <model>
        ('<xmile version="0.9">', f"<model>{STOCK}</model>", 'version="0.9"'),
        # no namespace and no <variables>: the layout before the standard
        ('<xmile version="1.0">', f"<model>{STOCK}</model>", "no XMILE namespace"),
        # the draft namespace, the model empty: nothing would be read
        (
            '<xmile version="1.0" xmlns="http://www.systemdynamics.org/XMILE">',
            "<model><views/></model>",
            'namespace "http://www.systemdynamics.org/XMILE"',
        ),
        # even with the 1.0 namespace, variables outside <variables> would be lost
        (f'<xmile version="1.0" xmlns="{XMILE_1_0}">', f"<model>{STOCK}</model>", "<stock>"),
    ],
)
def test_a_file_older_than_xmile_1_0_is_refused(
    root: str, model: str, reason: str, tmp_path: Path
) -> None:
    path = tmp_path / "old model.stmx"
    path.write_text(f"{root}<header><name>m</name></header>{SPECS}{model}</xmile>")
    with pytest.raises(ModelError) as info:
        load_xmile(path)
    text = str(info.value)
    assert "\n" not in text and "old model.stmx" in text and reason in text
    assert "has no <variables>" in text and "save it again as XMILE 1.0" in text


def test_an_old_file_is_refused_as_old_before_its_other_parts_are_read() -> None:
    # an old save whose <sim_specs> is not the 1.0 one either: the error says why it is old
    specs = "<sim_specs><length>10</length></sim_specs>"
    text = f'<xmile version="0.5">{specs}<model>{STOCK}</model></xmile>'
    with pytest.raises(ModelError, match=r"older than the 1.0 standard \(version=\"0.5\"\)"):
        loads_xmile(text, file="t.stmx")


def test_an_old_file_with_variables_in_a_named_model_is_refused() -> None:
    text = (
        f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}'
        '<model><variables><module name="m"/></variables></model>'
        f'<model name="m">{STOCK}</model></xmile>'
    )
    with pytest.raises(ModelError, match=r'<model name="m"> has no <variables> but <stock>'):
        loads_xmile(text, file="t.xmile")


@pytest.mark.parametrize(
    "model",
    [
        # an XMILE 1.0 model with nothing in it yet: empty, not refused
        "<model/>",
        "<model><variables/><views/></model>",
    ],
)
def test_an_empty_xmile_1_0_model_is_not_refused(model: str) -> None:
    text = f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}{model}</xmile>'
    assert loads_xmile(text).elements == ()


def test_a_root_model_of_modules_only_and_an_empty_module_model_load() -> None:
    # XMILE 1.0 (modules): the root model may hold only modules; a module's model with nothing
    # in it (no <variables>) is empty, not an old file
    text = (
        f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}'
        '<model><variables><module name="full"/><module name="empty"/></variables></model>'
        '<model name="full"><variables><aux name="x"><eqn>3</eqn></aux></variables></model>'
        '<model name="empty"><views/></model></xmile>'
    )
    model = loads_xmile(text)
    assert [e.name for e in model.elements] == ["full.x"]


def test_a_binary_stella_file_is_refused_as_not_xml(tmp_path: Path) -> None:
    # Stella 9 and earlier save .stm/.itm in a binary format; renamed to .stmx it is no XML
    path = tmp_path / "model.stmx"
    path.write_bytes(b"\x00\x01sTMd\x00\xff\xfe binary model")
    with pytest.raises(ModelError, match=r"not an XMILE file: it is not XML text .*model\.stmx"):
        load_xmile(path)


# -- elements without simulation meaning --------------------------------------------------------

STELLA_TOP = (
    # as Stella Architect writes them around the model (Stella 1.x-3.x saves): formats,
    # preferences, AI settings, data links, display styles, its own namespace
    '<isee:prefs show_module_prefix="true" layer="model"/>'
    '<isee:multiplayer_settings include_chat="true" enabled="false"/>'
    '<isee:time_formats default_format="Builtin"><isee:time_format name="Builtin"/>'
    "</isee:time_formats>"
    "<default_format/>"
    '<ai_information><status>off</status><settings enabled="false"/></ai_information>'
    '<prefs saved_runs="5"/>'
    '<equation_prefs order_by="module"/>'
    '<style color="black"><stock color="blue"/></style>'
    '<data><export frequency="on_demand" resource="out.xlsx"/></data>'
    '<vendorx:thing xmlns:vendorx="urn:vendor-x">anything</vendorx:thing>'
)
STELLA_STOCK = (
    '<stock name="s"><eqn>5</eqn><inflow>f</inflow>'
    '<format precision="0.01" scale_by="1" delimit_000s="true"/>'
    '<range min="0" max="100"/><scale min="0" max="10"/><display color="red"/>'
    '<isee:summing/><event_poster min="0" max="1"/><units>widgets</units></stock>'
    '<flow name="f"><eqn>2</eqn><format precision="1"/><isee:delay_aux/></flow>'
    '<aux name="a"><eqn>s*2</eqn><range min="0" max="50"/></aux>'
    '<group name="sector"><entity name="s"/></group>'
)


def test_stella_display_elements_are_ignored() -> None:
    head = f'<xmile version="1.0" xmlns="{XMILE_1_0}" xmlns:isee="http://iseesystems.com/XMILE">'
    text = (
        f"{head}<header><name>t</name><isee:options/></header>{SPECS}{STELLA_TOP}"
        f"<model><variables>{STELLA_STOCK}</variables><views><view/></views>"
        "<isee:model_notes/></model></xmile>"
    )
    model = loads_xmile(text, file="t.stmx")
    result = simulate(model)
    assert list(values(result, "s")) == [5.0, 7.0, 9.0]  # 5 + 2 per step, by hand
    assert list(values(result, "a")) == [10.0, 14.0, 18.0]
    assert model.notes == ()  # none of them needs saying


def test_unknown_and_linking_top_level_elements_are_noted_in_check(tmp_path: Path) -> None:
    text = xmile(
        '<aux name="a"><eqn>1</eqn></aux>',
        extra='<data><import frequency="automatic" resource="in.xlsx"/></data><tool_settings/>',
    )
    model = loads_xmile(text, file="t.xmile")
    assert len(model.notes) == 2
    assert "data import links (<data><import>) are not followed" in model.notes[0]
    assert "ignored <tool_settings>, which XMILE 1.0 does not define (t.xmile:1)" in model.notes[1]
    path = tmp_path / "m.xmile"
    path.write_text(text)
    done = run_cli("check", str(path))
    assert done.returncode == 0, done.stderr
    assert "note: ignored <tool_settings>" in done.stdout


def test_includes_of_other_files_are_refused() -> None:
    text = xmile(
        '<aux name="a"><eqn>1</eqn></aux>', extra='<includes><include resource="x"/></includes>'
    )
    with pytest.raises(ModelError, match=r"<includes> \(definitions from other files\) is not"):
        loads_xmile(text, file="t.xmile")


def test_a_models_own_behavior_sets_its_non_negative_defaults() -> None:
    # XMILE 1.0: <behavior> may be given for the file and for one model; the model's wins
    stock = (
        '<stock name="s"><eqn>1</eqn><outflow>f</outflow></stock><flow name="f"><eqn>3</eqn></flow>'
    )
    text = (
        f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}'
        f"<model><behavior><stock><non_negative/></stock></behavior><variables>{stock}"
        '<module name="m"/></variables></model>'
        f'<model name="m"><variables>{stock}</variables></model></xmile>'
    )
    result = run(text)
    assert list(values(result, "s")) == [1.0, 0.0, 0.0]  # limited to what it holds
    assert list(values(result, "m.s")) == [1.0, -2.0, -5.0]  # the module's model: no default


def test_a_model_with_its_own_dt_is_refused_and_the_same_specs_are_accepted() -> None:
    def text(own: str) -> str:
        return (
            f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}'
            '<model><variables><module name="m"/></variables></model>'
            f'<model name="m"><sim_specs>{own}</sim_specs><variables>'
            '<aux name="x"><eqn>1</eqn></aux></variables></model></xmile>'
        )

    assert loads_xmile(text("<dt>1</dt>")).time.dt == 1.0
    with pytest.raises(ModelError, match=r"model 'm' has its own <sim_specs> .*dt 0.5"):
        loads_xmile(text("<dt>0.5</dt>"), file="t.xmile")


# -- integration methods listed in order of preference (XMILE 1.0 <sim_specs method>) ---------


@pytest.mark.parametrize(
    ("listed", "method", "noted"),
    [
        ("gear, rk4", "rk4", "gear"),
        ("RK45,RK2, euler", "heun", "rk45"),
        ("rk45, gear, Euler", "euler", "rk45, gear"),
        ("rk4, euler", "rk4", ""),  # the first is supported: nothing to say
        ("Euler", "euler", ""),
    ],
)
def test_the_first_supported_method_of_a_list_is_used(listed: str, method: str, noted: str) -> None:
    model = loads_xmile(
        xmile('<aux name="a"><eqn>1</eqn></aux>', sim_attrs=f' method="{listed}"'), file="t.xmile"
    )
    assert model.time.method == method
    if noted:
        (note,) = model.notes
        assert note.startswith(f"integration method {noted} is not supported: using ")
        assert f'method="{listed}"' in note and "(t.xmile:1)" in note
    else:
        assert model.notes == ()


def test_a_list_of_unsupported_methods_is_one_error() -> None:
    text = xmile('<aux name="a"><eqn>1</eqn></aux>', sim_attrs=' method="gear, rk45"')
    with pytest.raises(ModelError) as info:
        loads_xmile(text, file="t.xmile")
    assert str(info.value) == (
        "none of the integration methods 'gear, rk45' is supported (t.xmile:1) — "
        "use Euler, RK2 or RK4"
    )


# -- modules connected as Stella writes them (XMILE 1.0 modules; Stella 1.x-3.x saves) -----------


def modules(root_vars: str, *models: tuple[str, str], dims: str = "") -> str:
    named = "".join(f'<model name="{n}"><variables>{v}</variables></model>' for n, v in models)
    return (
        f'<xmile version="1.0" xmlns="{XMILE_1_0}"><header/>{SPECS}{dims}'
        f"<model><variables>{root_vars}</variables></model>{named}</xmile>"
    )


HARES = (
    '<aux name="area" access="input"><eqn>0</eqn></aux>'
    '<aux name="lynxes" access="input"><eqn>0</eqn></aux>'
    '<aux name="hare density" access="output"><eqn>area * 10 + lynxes</eqn></aux>'
)
LYNXES = (
    '<aux name="hare density" access="input"><eqn>0</eqn></aux>'
    '<stock name="lynxes" access="output"><eqn>5</eqn><inflow>births</inflow></stock>'
    '<flow name="births"><eqn>hare_density / 2</eqn></flow>'
)


def test_stella_connect_and_connect2_with_module_qualified_targets() -> None:
    # Stella writes each binding as <connect> (".area": the enclosing model's) and again as
    # <connect2> ("area"), qualifies targets with the module's name, and lists a binding
    # into a sibling module (to="lynxes.hare_density") under both modules
    both = (
        '<connect to="lynxes.hare_density" from="hares.hare_density"/>'
        '<connect2 to="lynxes.hare_density" from="hares.hare_density"/>'
    )
    root = (
        '<aux name="area"><eqn>3</eqn></aux>'
        '<module name="hares"><connect to="hares.area" from=".area"/>'
        '<connect2 to="hares.area" from="area"/>'
        '<connect to="hares.lynxes" from="lynxes.lynxes"/>'
        f'<connect2 to="hares.lynxes" from="lynxes.lynxes"/>{both}</module>'
        f'<module name="lynxes">{both}</module>'
    )
    model = loads_xmile(modules(root, ("hares", HARES), ("lynxes", LYNXES)))
    assert model.element("hares.area").equation == "area"
    assert model.element("hares.lynxes").equation == "lynxes.lynxes"
    assert model.element("lynxes.hare density").equation == "hares.hare_density"
    result = simulate(model)
    # by hand: density = 3 * 10 + lynxes; lynxes = 5, then + density / 2 per step
    assert list(values(result, "hares.hare_density")) == [35.0, 52.5, 78.75]
    assert list(values(result, "lynxes.lynxes")) == [5.0, 22.5, 48.75]


def test_a_connect2_alone_is_used() -> None:
    root = (
        '<aux name="area"><eqn>4</eqn></aux>'
        '<module name="m"><connect2 to="m.area" from="area"/></module>'
    )
    model = loads_xmile(modules(root, ("m", '<aux name="area"><eqn>0</eqn></aux>')))
    assert values(simulate(model), "m.area")[0] == 4.0


def test_a_target_connected_to_two_sources_is_refused() -> None:
    root = (
        '<aux name="a"><eqn>1</eqn></aux><aux name="b"><eqn>2</eqn></aux>'
        '<module name="m"><connect to="x" from=".a"/><connect to="m.x" from=".b"/></module>'
    )
    with pytest.raises(ModelError, match=r"'m.x' is connected twice \(t.xmile:1\)"):
        loads_xmile(modules(root, ("m", '<aux name="x"><eqn>0</eqn></aux>')), file="t.xmile")


def test_quoted_and_dotted_module_names_in_connects_and_equations() -> None:
    inner = (
        '<aux name="the input" access="input"><eqn>0</eqn></aux>'
        '<aux name="the output" access="output"><eqn>"the input" * 10</eqn></aux>'
    )
    root = (
        '<aux name="outside"><eqn>2</eqn></aux>'
        '<module name="My Module">'
        '<connect to="&quot;My Module&quot;.&quot;the input&quot;" from=".outside"/></module>'
        '<aux name="quoted"><eqn>"My Module"."the output" + 1</eqn></aux>'
        '<aux name="underscored"><eqn>My_Module.the_output + 2</eqn></aux>'
        '<aux name="back"><eqn>0</eqn></aux>'
        '<module name="Other"><connect to=".&quot;back&quot;" from="Other.y"/></module>'
    )
    model = loads_xmile(
        modules(root, ("My Module", inner), ("Other", '<aux name="y"><eqn>7</eqn></aux>'))
    )
    result = simulate(model)
    # the module's variables keep their readable names
    assert {"My Module.the input", "My Module.the output", "Other.y"} <= {
        e.name for e in model.elements
    }
    assert values(result, "my_module.the_output")[0] == 20.0
    assert values(result, "quoted")[0] == 21.0 and values(result, "underscored")[0] == 22.0
    assert values(result, "back")[0] == 7.0  # set from the module's output


def test_an_arrayed_module_input_takes_the_array_element_by_element() -> None:
    dims = (
        '<dimensions><dim name="Region"><elem name="north"/><elem name="south"/></dim></dimensions>'
    )
    inner = (
        '<aux name="demand" access="input"><dimensions><dim name="Region"/></dimensions>'
        "<eqn>0</eqn></aux>"
        '<aux name="supply" access="output"><dimensions><dim name="Region"/></dimensions>'
        "<eqn>demand * 10</eqn></aux>"
    )
    root = (
        '<aux name="demand"><dimensions><dim name="Region"/></dimensions><eqn>1, 2</eqn></aux>'
        '<module name="plant"><connect to="plant.demand" from=".demand"/></module>'
    )
    result = run(modules(root, ("plant", inner), dims=dims))
    supply = result["plant.supply"].isel(run=0, time=0)
    assert [float(supply.sel(region=r)) for r in ("north", "south")] == [10.0, 20.0]


def test_a_connect2_with_a_bare_target_sets_the_enclosing_models_variable() -> None:
    # seen in Stella Enterprise 4.0's WithModulesAndArrays.stmx (simlin's test/ai-information):
    # an arrayed module output read back into an enclosing variable of the same name is
    # written <connect to=".z" from="m.z"/> and again <connect2 to="z" from="m.z"/>. In a
    # <connect2> the bare "z" is the enclosing model's z (the same binding again), not the
    # module's z: read as the module's, it connected m.z to itself, an "algebraic loop"
    dims = '<dimensions><dim name="D"><elem name="e1"/><elem name="e2"/></dim></dimensions>'
    over_d = '<dimensions><dim name="D"/></dimensions>'
    inner = (
        f'<aux name="a" access="input">{over_d}<eqn>0</eqn></aux>'
        f'<aux name="b">{over_d}<element subscript="e1"><eqn>a[D] * 10</eqn></element>'
        '<element subscript="e2"><eqn>a[e2] * 100</eqn></element></aux>'
        f'<aux name="z" access="output">{over_d}<eqn>b + 1</eqn></aux>'
    )
    root = (
        f'<aux name="a">{over_d}<eqn>1, 2</eqn></aux>'
        '<module name="m"><connect to=".z" from="m.z"/><connect2 to="z" from="m.z"/>'
        '<connect to="m.a" from=".a"/><connect2 to="m.a" from="a"/></module>'
        # Stella's placeholder equation for a variable set from a module: the module's name
        f'<aux name="z" access="input">{over_d}<eqn>m</eqn></aux>'
        f'<aux name="twice">{over_d}<eqn>z * 2</eqn></aux>'
    )
    model = loads_xmile(modules(root, ("m", inner), dims=dims))
    assert model.element("z").equation == "m.z"
    assert model.element("m.a").equation == "a"
    result = simulate(model)
    # by hand: b = [1 * 10, 2 * 100], z = b + 1, twice = 2 z (a[D] in e1's equation is a[e1])
    for name, want in (("m.z", [11.0, 201.0]), ("z", [11.0, 201.0]), ("twice", [22.0, 402.0])):
        got = result[name].isel(run=0, time=-1)
        assert [float(got.sel(d=e)) for e in ("e1", "e2")] == want, name


def test_a_variable_connected_to_itself_is_refused() -> None:
    root = '<module name="m"><connect2 to="m.x" from="m.x"/></module>'
    with pytest.raises(ModelError, match=r"connects 'm.x' to itself \(t.xmile:1\)"):
        loads_xmile(modules(root, ("m", '<aux name="x"><eqn>0</eqn></aux>')), file="t.xmile")


def test_an_initial_equation_is_refused_not_ignored() -> None:
    # <init_eqn> (simlin and Vensim exports: ACTIVE INITIAL) changes the initial values
    text = xmile('<aux name="a"><eqn>TIME</eqn><init_eqn>5</init_eqn></aux>')
    with pytest.raises(ModelError, match=r"<init_eqn> .* is not supported in auxiliary 'a'"):
        loads_xmile(text, file="t.xmile")


# -- export that other tools read -----------------------------------------------------------------


def test_exports_get_normal_permissions_and_keep_an_old_files(tmp_path: Path) -> None:
    model = loads_xmile(xmile('<aux name="a"><eqn>1</eqn></aux>'))
    old = os.umask(0o022)
    try:
        for save, name in ((save_xmile, "m.xmile"), (save_yaml, "m.yaml")):
            path = save(model, tmp_path / name)
            assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not the temporary file's 0600
            path.chmod(0o640)
            save(model, path)  # overwriting keeps the mode the file had
            assert stat.S_IMODE(path.stat().st_mode) == 0o640
        os.umask(0o077)
        assert stat.S_IMODE(save_xmile(model, tmp_path / "private.xmile").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def same_results(a: Model, b: Model) -> None:
    ours, theirs = simulate(a), simulate(b)
    for name in ours.data_vars:
        if "time" in ours[name].dims:
            np.testing.assert_array_equal(ours[name].values, theirs[name].values, err_msg=name)


def pysimlin_values(tmp_path: Path, text: str) -> dict[str, np.ndarray]:
    simlin = pytest.importorskip("simlin")
    path = tmp_path / "export.xmile"
    path.write_text(text)
    results = simlin.load(str(path)).run(analyze_loops=False).results
    return {str(c).replace("\u00b7", "."): np.asarray(results[c]) for c in results.columns}


SUB = (
    '<aux name="inp" access="input"><eqn>0</eqn></aux>'
    '<stock name="acc"><eqn>0</eqn><inflow>add</inflow></stock>'
    '<flow name="add"><eqn>inp + .Total / 3</eqn></flow>'  # a root variable, not connected
    '<aux name="out" access="output"><eqn>acc + 1</eqn></aux>'
)
MODULE_MODEL = modules(
    '<aux name="Total"><eqn>3</eqn></aux>'
    '<module name="Sub Model"><connect to="Sub_Model.inp" from=".Total"/></module>'
    '<aux name="From module"><eqn>Sub_Model.out * 2</eqn></aux>',
    ("Sub Model", SUB),
)


def test_module_variables_are_exported_as_a_module(tmp_path: Path) -> None:
    model = loads_xmile(MODULE_MODEL)
    text = dumps_xmile(model)
    assert '<module name="Sub Model">' in text and '<model name="Sub Model">' in text
    assert '<connect to="sub_model.inp" from=".total" />' in text
    assert '<aux name="out" access="output">' in text and "<uses_submodels />" in text
    back = loads_xmile(text)
    # the module's own variables come back under their names; the root variable its flow
    # read directly now comes through an input of the module
    assert {e.name for e in model.elements} <= {e.name for e in back.elements}
    same_results(model, back)
    assert dumps_xmile(back) == dumps_xmile(loads_xmile(dumps_xmile(back)))
    # by hand: add = 3 + 1 per step, so acc = 0, 4, 8 and From module = 2, 10, 18
    theirs = pysimlin_values(tmp_path, text)
    assert list(theirs["from_module"]) == [2.0, 10.0, 18.0]
    assert list(theirs["sub_model.acc"]) == [0.0, 4.0, 8.0]


def test_nested_modules_export_as_nested_modules_and_read_back(tmp_path: Path) -> None:
    inner = '<aux name="k" access="input"><eqn>0</eqn></aux><aux name="y"><eqn>k * 2</eqn></aux>'
    outer = (
        '<aux name="x"><eqn>5</eqn></aux>'
        '<module name="inner"><connect to="inner.k" from=".x"/></module>'
        '<aux name="z"><eqn>inner.y + .base</eqn></aux>'
    )
    model = loads_xmile(
        modules(
            '<aux name="base"><eqn>100</eqn></aux><module name="outer"/>'
            '<aux name="w"><eqn>outer.z</eqn></aux>',
            ("outer", outer),
            ("inner", inner),
        )
    )
    text = dumps_xmile(model)
    assert text.count("<module ") == 2
    back = loads_xmile(text)
    same_results(model, back)
    assert values(simulate(back), "w")[0] == 110.0  # 5 * 2 + 100, by hand
    assert pysimlin_values(tmp_path, text)["w"][0] == 110.0


def test_lookups_arrays_and_dimension_names_as_written(tmp_path: Path) -> None:
    dims = (
        '<dimensions><dim name="Region"><elem name="North"/><elem name="South"/></dim></dimensions>'
    )
    body = (
        '<aux name="Demand"><dimensions><dim name="Region"/></dimensions>'
        '<element subscript="North"><eqn>1</eqn></element>'
        '<element subscript="South"><eqn>2</eqn></element></aux>'
        '<aux name="Price"><dimensions><dim name="Region"/></dimensions>'
        "<eqn>Demand[Region] * 3</eqn></aux>"
        '<aux name="Total"><eqn>SUM(Price[*]) + Price[South]</eqn></aux>'
        '<gf name="Effect"><xscale min="0" max="2"/><ypts>0,1,4</ypts></gf>'
        '<aux name="Called"><eqn>Effect(TIME) + LOOKUP(Effect, 1.5)</eqn></aux>'
    )
    model = loads_xmile(modules(body, dims=dims))
    text = dumps_xmile(model)
    # XMILE 1.0: a named graphical function is applied with LOOKUP(name, x)
    assert "LOOKUP(effect, time) + LOOKUP(effect, 1.5)" in text
    assert "demand[Region] * 3" in text and "price[South]" in text
    assert '<uses_arrays maximum_dimensions="1" />' in text
    back = loads_xmile(text)
    same_results(model, back)
    assert list(values(simulate(back), "called")) == [2.5, 3.5, 6.5]  # by hand
    # pysimlin 0.8.5 reads the arrays; a standalone <gf> it does not read, so the variable
    # that calls one is left out of what it is given
    theirs = pysimlin_values(
        tmp_path, re.sub(r'<aux name="Called">.*?</aux>', "", text, flags=re.S)
    )
    assert list(theirs["total"]) == [15.0, 15.0, 15.0]


def test_the_hares_and_lynxes_modules_export_as_modules_pysimlin_runs(tmp_path: Path) -> None:
    sample = Path(__file__).parents[1] / "xmile/samples__bpowers-hares_and_lynxes_modules__model"
    model = load_xmile(sample / "model.xmile")
    text = dumps_xmile(model)
    assert text.count("<module ") == 2
    back = loads_xmile(text)
    assert [e.name for e in back.elements] == [e.name for e in model.elements]
    same_results(model, back)
    ours = simulate(model)
    compared = 0
    for name, column in pysimlin_values(tmp_path, text).items():
        if name in ours.data_vars and "time" in ours[name].dims:
            np.testing.assert_allclose(
                np.asarray(ours[name].isel(run=0)), column, rtol=1e-9, err_msg=name
            )
            compared += 1
    assert compared >= 8


def test_two_instances_of_one_model_by_model_name() -> None:
    # simlin writes <module name="b" simlin:model_name="m"> for a second instance of model m
    root = (
        '<aux name="p"><eqn>2</eqn></aux>'
        '<module name="a" xmlns:simlin="https://simlin.com/XMILE/v1.0" simlin:model_name="m">'
        '<connect to="a.inp" from=".p"/></module>'
        '<module name="b" xmlns:simlin="https://simlin.com/XMILE/v1.0" simlin:model_name="m">'
        '<connect to="b.inp" from="a.out"/></module>'
    )
    inner = '<aux name="inp"><eqn>0</eqn></aux><aux name="out"><eqn>inp * 10</eqn></aux>'
    result = run(modules(root, ("m", inner)))
    assert values(result, "a.out")[0] == 20.0 and values(result, "b.out")[0] == 200.0


def test_a_module_whose_flow_feeds_an_outside_stock_is_written_flat() -> None:
    # XMILE connects values, not flows: a stock outside a module cannot take the module's
    # flow, so those dotted names are written as they are (and read back as they were)
    model = loads_model(
        "name: m\ntime: {start: 0, stop: 2, dt: 1}\n"
        "stocks:\n  s: {initial: 0, inflows: [m.f]}\n"
        "flows:\n  m.f: {equation: m.rate}\n"
        "auxiliaries:\n  m.rate: {equation: '2'}\n  n.x: {equation: s * 10}\n"
    )
    text = dumps_xmile(model)
    assert '<flow name="m.f">' in text and '<module name="n">' in text
    back = loads_xmile(text)
    same_results(model, back)
    assert list(values(simulate(back), "n.x")) == [0.0, 20.0, 40.0]
