"""Tests for the YAML model loader (flywheel_sim.io.yaml.reader)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import flywheel_sim.io.models as loader
from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import builtin_models, load_model, loads_model
from flywheel_sim.spec.model import Dimension, GraphicalFunction, Link, LoopSpec, Model, TimeSpec

HEADER = "name: m\ntime: {stop: 10}\n"  # lines 1-2; sections in tests start on line 3


def load(text: str, file: str | None = "m.yaml") -> Model:
    return loads_model(textwrap.dedent(text), file=file)


def load_error(text: str, file: str | None = "m.yaml") -> ModelError:
    with pytest.raises(ModelError) as info:
        load(text, file)
    return info.value


def assert_located(exc: ModelError, line: int, file: str = "m.yaml") -> None:
    message = str(exc)
    assert f"({file}:{line})" in message, message
    assert exc.file == file
    assert exc.line == line
    assert "\n" not in message, message


# -- a complete model ------------------------------------------------------------------------


def test_full_model_round_trip_of_fields() -> None:
    model = load(
        """\
        name: shop
        description: a small shop
        time: {start: 1, stop: 11, dt: 0.5, save_step: 1, units: month, method: RK4}
        parameters:
          price: {default: 10, min: 1, max: 100, unit: usd, description: list price}
        stocks:
          customers:
            initial: 100
            inflows: [joining]
            outflows: leaving
            non_negative: true
            unit: people
        flows:
          joining: price * 0.1
          leaving: {equation: customers / 12, non_negative: true}
        auxiliaries:
          revenue: {equation: customers * price, unit: usd/month}
        """
    )
    assert model.name == "shop"
    assert model.description == "a small shop"
    assert model.file == "m.yaml"
    assert model.time == TimeSpec(
        start=1.0, stop=11.0, dt=0.5, save_step=1.0, units="month", method="rk4"
    )
    assert [(e.name, e.kind, e.line) for e in model.elements] == [
        ("price", "parameter", 5),
        ("customers", "stock", 7),
        ("joining", "flow", 14),
        ("leaving", "flow", 15),
        ("revenue", "aux", 17),
    ]
    price = model.element("price")
    assert (price.default, price.minimum, price.maximum) == (10.0, 1.0, 100.0)
    assert price.unit == "usd" and price.description == "list price"
    stock = model.element("customers")
    assert stock.equation == "100"
    assert stock.inflows == ("joining",) and stock.outflows == ("leaving",)
    assert stock.non_negative is True
    assert model.element("joining").equation == "price * 0.1"
    assert model.element("leaving").non_negative is True
    assert model.element("revenue").unit == "usd/month"


def test_model_name_defaults_to_the_given_name() -> None:
    assert loads_model("time: {stop: 5}\n", file="x.yaml").name == "model"
    assert loads_model("time: {stop: 5}\n", file="x.yaml", name="fallback").name == "fallback"


# -- YAML syntax errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # bad indentation
        (HEADER + "parameters:\n  p: 1\n    q: 2\nflows: {}\n", 5),
        # a second colon on one line
        (HEADER + "parameters:\n  p: 1\n  q: a: b\n", 5),
        # a tab used for indentation
        (HEADER + "parameters:\n\tp: 1\n", 4),
        # a stray sequence entry
        (HEADER + "parameters:\n  p: 1\n- x\n", 5),
        # a duplicate key
        (HEADER + "parameters:\n  p: 1\n  p: 2\n", 5),
        (HEADER + "parameters:\n  p: 1\nparameters:\n  q: 2\n", 5),
        # an unclosed flow mapping on the last line
        ("name: m\ntime: {stop: 10\n", 3),
    ],
)
def test_yaml_syntax_errors_name_file_and_line(text: str, line: int) -> None:
    exc = load_error(text)
    assert_located(exc, line)


def test_yaml_syntax_error_message() -> None:
    exc = load_error(HEADER + "parameters:\n\tp: 1\n")
    assert exc.message.startswith("YAML syntax error: ")
    assert "cannot start any token" in exc.message


def test_duplicate_key_message() -> None:
    exc = load_error(HEADER + "parameters:\n  p: 1\n  p: 2\n")
    assert exc.message == "key 'p' appears twice"


def test_unclosed_quote_names_the_line_where_the_quote_opens() -> None:
    # the file has 5 lines; the problem starts on line 4. PyYAML's problem_mark points at the
    # end of the stream (line 6, past the end of the file); its context_mark at line 4.
    exc = load_error(HEADER + 'parameters:\n  p: "abc\n  q: 1\n')
    assert_located(exc, 4)


def test_yaml_errors_without_a_file_name_say_line() -> None:
    exc = load_error(HEADER + "parameters:\n\tp: 1\n", file=None)
    assert "(line 4)" in str(exc)
    assert exc.file is None and exc.line == 4


@pytest.mark.parametrize(
    "text",
    [
        "- a\n- b\n",
        "just text\n",
        "42\n",
    ],
)
def test_a_model_file_must_be_a_mapping(text: str) -> None:
    exc = load_error(text)
    assert exc.message.startswith("a model file must be a mapping")
    assert_located(exc, 1)


def test_several_documents_are_refused() -> None:
    exc = load_error("name: a\ntime: {stop: 1}\n---\nname: b\n")
    assert exc.message.startswith("YAML syntax error")
    assert_located(exc, 3)


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_text_is_refused(text: str) -> None:
    exc = load_error(text)
    assert exc.message == "the model file is empty"
    assert_located(exc, 1)


def test_control_characters_give_a_model_error() -> None:
    # yaml.SafeLoader(text) raises ReaderError from its constructor, before the try block in
    # _Reader.document(), so the raw PyYAML exception escapes.
    with pytest.raises(ModelError) as info:
        loads_model(HEADER + "parameters:\n  p\x00: 1\n", file="m.yaml")
    assert "m.yaml" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_tagged_scalar_gives_a_model_error() -> None:
    # construct_object raises ValueError (not a YAMLError) for !!int 'abc'
    for value in ("!!int 'abc'", "!!float 'x'"):
        with pytest.raises(ModelError) as info:
            loads_model(HEADER + f"parameters:\n  p: {value}\n", file="m.yaml")
        assert_located(info.value, 4)


def test_yaml_value_errors_are_one_line() -> None:
    exc = load_error(HEADER + "parameters:\n  p: !!binary 'zz'\n")
    assert exc.message.startswith("YAML value error")
    assert_located(exc, 4)


def test_recursive_yaml_alias_gives_a_model_error() -> None:
    # '&a [*a]' is a list that contains itself; converting it must not recurse forever
    for text in (HEADER + "parameters:\n  p: &a [*a]\n", HEADER + "parameters: &a\n  p: *a\n"):
        with pytest.raises(ModelError, match="a YAML alias refers to itself"):
            loads_model(text, file="m.yaml")


def test_alias_bomb_is_refused_quickly() -> None:
    # a 'billion laughs' document of ~500 bytes: PyYAML shares the aliased nodes, but the
    # loader's convert() copies every alias, so the work grows as 9**9.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\nname: m\ntime: {stop: 10}\n"
    assert len(text.encode()) < 1000
    code = (
        "import sys\n"
        "from flywheel_sim.errors import ModelError\n"
        "from flywheel_sim.io.yaml.reader import loads_model\n"
        "try:\n"
        "    loads_model(sys.stdin.read(), file='bomb.yaml')\n"
        "except ModelError as exc:\n"
        "    print('ModelError', exc)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a 500-byte alias bomb kept the loader busy for more than 10 s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ModelError")


# -- hostile YAML ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        "!!python/name:os.system ''",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/module:os ''",
    ],
)
def test_python_tags_never_execute(value: str, tmp_path: Path) -> None:
    marker = tmp_path / "flywheel_pwned"
    text = HEADER + "parameters:\n  p: " + value.format(marker=marker) + "\n"
    with pytest.raises(ModelError) as info:
        loads_model(text, file="m.yaml")
    assert not marker.exists()
    assert_located(info.value, 4)


# -- unknown keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "what", "suggestion", "line"),
    [
        (
            HEADER + "stocks:\n  s:\n    initial: 1\n    inflow: [f]\n",
            "inflow",
            "stock 's'",
            "inflows",
            6,
        ),
        (
            HEADER + "stocks:\n  s: {initial: 1, outflow: [f]}\n",
            "outflow",
            "stock 's'",
            "outflows",
            4,
        ),
        (HEADER + "stock:\n  s: 1\n", "stock", "the model", "stocks", 3),
        (HEADER + "auxiliary:\n  a: 1\n", "auxiliary", "the model", "auxiliaries", 3),
        ("name: m\ntime: {stop: 10, metod: rk4}\n", "metod", "time", "method", 2),
        (HEADER + "parameters:\n  p: {defualt: 1}\n", "defualt", "parameter 'p'", "default", 4),
        (HEADER + "flows:\n  f:\n    equaton: 1\n", "equaton", "flow 'f'", "equation", 5),
        (
            HEADER + "auxiliaries:\n  a: {equation: 1, unti: x}\n",
            "unti",
            "auxiliary 'a'",
            "unit",
            4,
        ),
        (HEADER + "lookups:\n  l: {pionts: [[0, 1]]}\n", "pionts", "lookup 'l'", "points", 4),
        (
            HEADER + "loops:\n  l: {variables: [a], polarty: R}\n",
            "polarty",
            "loop 'l'",
            "polarity",
            4,
        ),
    ],
)
def test_unknown_keys_give_did_you_mean_hints(
    text: str, key: str, what: str, suggestion: str, line: int
) -> None:
    exc = load_error(text)
    assert exc.message == f"unknown key '{key}' in {what}"
    assert exc.hint == f"did you mean '{suggestion}'?"
    assert str(exc).endswith(f"— did you mean '{suggestion}'?")
    assert_located(exc, line)


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    exc = load_error(HEADER + "parameters:\n  p: {zzzzzz: 1}\n")
    assert exc.hint == (
        "allowed: default, description, dims, elements, links, max, min, source, unit"
    )


def test_unquoted_equation_with_commas_in_flow_mapping_gets_a_quoting_hint() -> None:
    exc = load_error(HEADER + "flows:\n  f: {equation: MAX(a, b)}\n")
    assert exc.hint is not None and "must be quoted" in exc.hint
    assert_located(exc, 4)


# -- equation syntax errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "variable", "what", "column"),
    [
        (HEADER + "flows:\n  f: a + * b\n", 4, "f", "equation of 'f'", 5),
        (
            HEADER + "flows:\n  f:\n    unit: x\n    equation: a + * b\n",
            6,
            "f",
            "equation of 'f'",
            5,
        ),
        (
            HEADER + "auxiliaries:\n  Total Cost: {equation: '(1'}\n",
            4,
            "Total Cost",
            "equation of 'Total Cost'",
            3,
        ),
        (
            HEADER + "stocks:\n  s:\n    unit: x\n    initial: 2 ** 3\n",
            6,
            "s",
            "initial value of stock 's'",
            4,
        ),
        (
            HEADER + "auxiliaries:\n  a:\n    dims: [r]\n    elements:\n      x: 1\n      y: 2 +\n"
            "dimensions:\n  r: [x, y]\n",
            8,
            "a",
            "element 'y' of 'a'",
            4,
        ),
        # a block scalar: the line is the key's, the column an offset into the text
        (HEADER + "flows:\n  f: |\n    a +\n    b)\n", 4, "f", "equation of 'f'", 6),
    ],
)
def test_equation_syntax_errors_name_file_line_and_variable(
    text: str, line: int, variable: str, what: str, column: int
) -> None:
    exc = load_error(text)
    assert_located(exc, line)
    assert exc.variable == variable
    assert f" in {what}" in exc.message
    assert f"column {column}" in exc.message


def test_equation_must_be_text_not_null_or_bool() -> None:
    exc = load_error(HEADER + "flows:\n  f:\n    equation: null\n")
    assert exc.message == "equation of 'f' must be an equation, not None"
    assert_located(exc, 5)
    exc = load_error(HEADER + "auxiliaries:\n  a: {equation: true}\n")
    assert exc.message == "equation of 'a' must be an equation, not True"


# -- shorthand forms -------------------------------------------------------------------------


def test_shorthand_forms() -> None:
    model = load(
        HEADER
        + "parameters:\n  rate: 0.25\n  quarter: '1/4'\n"
        + "stocks:\n  s: 100\n"
        + "flows:\n  f: rate * s\n  g: 3\n"
        + "auxiliaries:\n  a: f + g\n"
    )
    assert model.element("rate").default == 0.25
    assert model.element("rate").line == 4
    assert model.element("quarter").default == 0.25
    assert model.element("s").equation == "100"
    assert model.element("f").equation == "rate * s"
    assert model.element("f").kind == "flow"
    assert model.element("g").equation == "3"
    assert model.element("a").equation == "f + g"


@pytest.mark.parametrize(
    ("section", "kind"),
    [
        ("flows", "flow"),
        ("auxiliaries", "auxiliary"),
        ("stocks", "stock"),
        ("parameters", "parameter"),
    ],
)
def test_a_definition_must_be_a_mapping_or_an_equation(section: str, kind: str) -> None:
    exc = load_error(HEADER + f"{section}:\n  x: [1, 2]\n")
    assert exc.message == f"{kind} 'x' must be a mapping or an equation"
    assert exc.variable == "x"
    assert_located(exc, 4)


def test_a_bare_boolean_is_not_an_equation() -> None:
    exc = load_error(HEADER + "flows:\n  f: true\n")
    assert_located(exc, 4)


# -- required fields -------------------------------------------------------------------------


def test_time_section_is_required() -> None:
    exc = load_error("name: m\nstocks:\n  s: 1\n")
    assert exc.message == "the model has no time settings"
    assert exc.hint == "add time: {start: 0, stop: 100, dt: 1}"
    assert_located(exc, 1)


def test_time_stop_is_required() -> None:
    exc = load_error("name: m\ntime: {start: 0, dt: 1}\n")
    assert exc.message == "time has no stop"
    assert_located(exc, 2)


def test_time_must_be_a_mapping() -> None:
    exc = load_error("name: m\ntime: 100\n")
    assert exc.message == "time must be a mapping"
    assert_located(exc, 2)


def test_time_defaults() -> None:
    assert loads_model("time: {stop: 7}\n").time == TimeSpec(stop=7.0)


def test_stock_initial_is_required() -> None:
    exc = load_error(HEADER + "stocks:\n  s: {inflows: [f]}\nflows:\n  f: 1\n")
    assert exc.message == "stock 's' has no initial value"
    assert exc.hint == "add initial: <equation>"
    assert exc.variable == "s"
    assert_located(exc, 4)


def test_flow_equation_is_required() -> None:
    exc = load_error(HEADER + "flows:\n  f: {unit: x}\n")
    assert exc.message == "flow 'f' has no equation"
    assert exc.hint == "add equation: <expression>"
    assert_located(exc, 4)


def test_auxiliary_equation_is_required() -> None:
    exc = load_error(HEADER + "auxiliaries:\n  a:\n    unit: x\n")
    assert exc.message == "auxiliary 'a' has no equation"
    assert_located(exc, 4)


def test_parameter_default_is_required() -> None:
    exc = load_error(HEADER + "parameters:\n  p: {min: 0, max: 1}\n")
    assert exc.message == "parameter 'p' has no default"
    assert exc.variable == "p"
    assert_located(exc, 4)


# -- numbers and time ------------------------------------------------------------------------


@pytest.mark.parametrize("dt", ["'1/4'", "1/4", '" 1 / 4 "', "0.25", "2.5e-1"])
def test_dt_may_be_a_fraction(dt: str) -> None:
    model = loads_model(f"time: {{stop: 10, dt: {dt}}}\n", file="m.yaml")
    assert model.time.dt == 0.25


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{stop: 10, dt: 1/0}", "time dt must be a number, not '1/0'"),
        ("{stop: 10, dt: abc}", "time dt must be a number, not 'abc'"),
        ("{stop: 10, dt: true}", "time dt must be a number, not True"),
        ("{stop: [10]}", "time stop must be a number, not [10]"),
        ("{stop: 10, dt: -1}", "time dt must be positive, not -1.0"),
        ("{start: 20, stop: 10}", "time stop (10.0) must be after start (20.0)"),
        ("{stop: 10, method: rk5}", "unknown integration method 'rk5'"),
        ("{stop: 10, save_step: 0}", "time save_step must be positive, not 0.0"),
    ],
)
def test_bad_time_settings(settings: str, message: str) -> None:
    exc = load_error(f"name: m\ntime: {settings}\n")
    assert exc.message == message
    assert_located(exc, 2)


def test_zero_dt_is_refused_not_replaced_by_the_default() -> None:
    # `dt=num("dt", 1.0) or 1.0` turns an explicit dt: 0 into 1.0
    exc = load_error("name: m\ntime: {stop: 10, dt: 0}\n")
    assert "dt must be positive" in exc.message
    assert_located(exc, 2)


def test_non_finite_save_step_is_refused() -> None:
    for value in (".nan", ".inf"):
        with pytest.raises(ModelError, match="save_step must be a finite number"):
            loads_model(f"name: m\ntime: {{stop: 10, save_step: {value}}}\n", file="m.yaml")


def test_start_zero_is_kept() -> None:
    assert loads_model("time: {start: 0, stop: 3}\n").time.start == 0.0
    assert loads_model("time: {start: -2, stop: 3}\n").time.start == -2.0


def test_method_hint() -> None:
    exc = load_error("name: m\ntime: {stop: 10, method: rk5}\n")
    assert exc.hint == "did you mean 'rk4'?"


def test_block_style_time_error_points_into_the_time_block() -> None:
    exc = load_error("name: m\ntime:\n  start: 20\n  stop: 10\n")
    assert exc.line in (2, 3, 4)
    assert "must be after start" in exc.message


# -- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{default: 5, max: 1}", "parameter 'p' default 5.0 is outside its range [None, 1.0]"),
        ("{default: -1, min: 0}", "parameter 'p' default -1.0 is outside its range [0.0, None]"),
        ("{default: 0.5, min: 2, max: 1}", "parameter 'p' has min 2.0 above max 1.0"),
        ("{default: .inf}", "parameter 'p' default must be finite"),
        ("{default: .nan}", "parameter 'p' default must be finite"),
        ("{default: abc}", "default of 'p' must be a number, not 'abc'"),
        ("{default: true}", "default of 'p' must be a number, not True"),
        ("{default: 1, min: low}", "min of 'p' must be a number, not 'low'"),
    ],
)
def test_bad_parameters(body: str, message: str) -> None:
    exc = load_error(HEADER + f"parameters:\n  p: {body}\n")
    assert exc.message == message
    assert_located(exc, 4)


def test_non_finite_parameter_bounds_are_refused() -> None:
    # min: .nan makes every range comparison False, so any default is accepted
    for bounds in ("min: .nan", "max: .nan"):
        with pytest.raises(ModelError, match="must be a finite number, not nan"):
            loads_model(HEADER + f"parameters:\n  p: {{default: 1, {bounds}}}\n", file="m.yaml")


# -- dimensions and per-element equations ----------------------------------------------------

ARRAYED = (
    HEADER
    + """\
dimensions:
  region: [north, south]
  size: 3
parameters:
  price:
    dims: region
    default: {north: 1, south: '1/2'}
    max: 5
stocks:
  customers:
    dims: [region]
    elements:
      north: 10
      south: price[south] * 20
    inflows: [joining]
flows:
  joining:
    dims: [region]
    equation: 0.1 * customers
    elements:
      south: 0
auxiliaries:
  grid:
    dims: [region, size]
    equation: 1
    elements:
      "north,2": 2
"""
)


def test_dimensions_and_element_equations() -> None:
    model = load(ARRAYED)
    assert model.dimensions == (
        Dimension("region", ("north", "south"), 4),
        Dimension("size", ("1", "2", "3"), 5),
    )
    price = model.element("price")
    assert price.dims == ("region",)
    assert price.default == (("north", 1.0), ("south", 0.5))
    customers = model.element("customers")
    assert customers.equation == ""
    assert customers.element_equations == (("north", "10"), ("south", "price[south] * 20"))
    joining = model.element("joining")
    assert joining.equation == "0.1 * customers"
    assert joining.element_equations == (("south", "0"),)
    assert model.element("grid").element_equations == (("north,2", "2"),)
    assert model.element("grid").dims == ("region", "size")


def test_per_element_default_outside_range() -> None:
    exc = load_error(ARRAYED.replace("south: '1/2'", "south: 9"))
    assert exc.message == "parameter 'price' default 9.0 is outside its range [None, 5.0]"
    assert_located(exc, 7)


def test_per_element_default_must_be_a_number() -> None:
    exc = load_error(ARRAYED.replace("south: '1/2'", "south: lots"))
    assert exc.message == "default of 'price[south]' must be a number, not 'lots'"


def test_unknown_dimension_has_a_hint_and_the_element_line() -> None:
    exc = load_error(ARRAYED.replace("dims: [region, size]", "dims: [regoin, size]"))
    assert exc.message == "'grid' uses unknown dimension 'regoin'"
    assert exc.hint == "did you mean 'region'?"
    assert exc.variable == "grid"
    assert_located(exc, 25)


@pytest.mark.parametrize("body", ["[]", "0", "-2", "north", "{elements: north}"])
def test_bad_dimension(body: str) -> None:
    exc = load_error(HEADER + f"dimensions:\n  region: {body}\n")
    assert exc.message == "dimension 'region' must list its elements (or give a count)"
    assert_located(exc, 4)


def test_dimension_with_an_unknown_key() -> None:
    exc = load_error(HEADER + "dimensions:\n  region: {a: 1}\n")
    assert exc.message.startswith("unknown key 'a' in dimension 'region'")


@pytest.mark.parametrize(
    ("maps", "message"),
    [
        ("[size]", "dimension 'region' (2 elements) maps to 'size' (3) by position"),
        ("[nowhere]", "dimension 'region' maps to 'nowhere', which is not another dimension"),
        ("{size: [s1]}", "dimension 'region' lists pairs with 'size' that are not one set"),
        ("{size: 3}", "maps_to 'size' of dimension 'region' must list, for each element"),
    ],
)
def test_bad_dimension_mapping(maps: str, message: str) -> None:
    """A dimension's mapping (model-format.md): positional needs equal sizes, listed pairs one
    set of the target's elements per element."""
    body = f"dimensions:\n  region: {{elements: [n, s], maps_to: {maps}}}\n  size: [s1, s2, s3]\n"
    exc = load_error(HEADER + body)
    assert exc.message.startswith(message)


def test_dimension_listing_an_element_twice() -> None:
    exc = load_error(HEADER + "dimensions:\n  region: [North, north]\n")
    assert exc.message == "dimension 'region' lists an element twice"
    assert_located(exc, 4)


def test_dims_must_be_names() -> None:
    exc = load_error(HEADER + "auxiliaries:\n  a: {dims: [1], equation: 1}\n")
    assert exc.message == "dims of 'a' must be a list of dimension names"


def test_elements_must_be_a_mapping() -> None:
    exc = load_error(HEADER + "auxiliaries:\n  a:\n    equation: 1\n    elements: [1]\n")
    assert exc.message == "elements of 'a' must map element names to equations"
    assert_located(exc, 6)


# -- lookups ---------------------------------------------------------------------------------


def test_lookup_forms() -> None:
    model = load(
        HEADER
        + "lookups:\n"
        + "  by_points: {points: [[0, 1], [1, 3], [2, 2]]}\n"
        + "  by_xs: {xs: [0, 1], ys: [5, 6], unit: x, description: d}\n"
        + "  steps: {points: [[0, 1], [1, 2]], interpolation: Discrete}\n"
        + "  extrap: {points: [[0, 1], [1, 2]], extrapolation: linear}\n"
        + "  clamped: {points: [[0, 1]], interpolation: linear, extrapolation: clamp}\n"
        + "auxiliaries:\n"
        + "  effect:\n"
        + "    equation: TIME / 10\n"
        + "    lookup: {points: [[0, 0], ['1/2', 1]], extrapolation: linear}\n"
    )
    by_points = model.element("by_points")
    assert by_points.kind == "lookup"
    assert by_points.lookup == GraphicalFunction((0.0, 1.0, 2.0), (1.0, 3.0, 2.0), "continuous")
    assert by_points.line == 4
    assert model.element("by_xs").lookup == GraphicalFunction((0.0, 1.0), (5.0, 6.0))
    assert model.element("by_xs").unit == "x"
    assert model.element("steps").lookup.kind == "discrete"  # type: ignore[union-attr]
    assert model.element("extrap").lookup.kind == "extrapolate"  # type: ignore[union-attr]
    assert model.element("clamped").lookup.kind == "continuous"  # type: ignore[union-attr]
    effect = model.element("effect")
    assert effect.kind == "aux"
    assert effect.equation == "TIME / 10"
    assert effect.lookup == GraphicalFunction((0.0, 0.5), (0.0, 1.0), "extrapolate")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "{points: [[0, 1], [1, 2]], interpolation: cubic}",
            "lookup of 'l' has interpolation 'cubic' and extrapolation 'clamp'",
        ),
        (
            "{points: [[0, 1], [1, 2]], extrapolation: mirror}",
            "lookup of 'l' has interpolation 'linear' and extrapolation 'mirror'",
        ),
        ("{points: [[0, 1], [1, x]]}", "lookup y of 'l' must be a number, not 'x'"),
        ("{points: [[0, 1], [true, 1]]}", "lookup x of 'l' must be a number, not True"),
        ("{points: [[0, 1], [1]]}", "points of 'l' must be a list of [x, y] pairs"),
        ("{points: [0, 1]}", "points of 'l' must be a list of [x, y] pairs"),
        ("{points: 5}", "points of 'l' must be a list of [x, y] pairs"),
        ("{points: [[1, 1], [0, 2]]}", "lookup x values must be in increasing order in 'l'"),
        ("{points: []}", "lookup needs at least one point in 'l'"),
        ("{points: [[0, .inf]]}", "lookup points must be finite numbers in 'l'"),
        ("{xs: [0, 1], ys: [1]}", "lookup has 2 x values but 1 y values in 'l'"),
        ("{xs: [0, 1]}", "lookup of 'l' needs points: [[x, y], ...]"),
        ("{unit: x}", "lookup of 'l' needs points: [[x, y], ...]"),
    ],
)
def test_bad_lookups(body: str, message: str) -> None:
    exc = load_error(HEADER + f"lookups:\n  l: {body}\n")
    assert exc.message == message
    assert_located(exc, 4)


def test_interpolation_hint() -> None:
    exc = load_error(HEADER + "lookups:\n  l: {points: [[0, 1]], interpolation: cubic}\n")
    assert exc.hint == "interpolation: linear|discrete, extrapolation: clamp|linear"


@pytest.mark.parametrize("xs", ["5", "null", "{a: 1}"])
def test_lookup_xs_that_is_not_a_list_gives_a_model_error(xs: str) -> None:
    # `for v in node["xs"]` raises TypeError for a number or null
    with pytest.raises(ModelError) as info:
        loads_model(HEADER + f"lookups:\n  l: {{xs: {xs}, ys: [1]}}\n", file="m.yaml")
    assert_located(info.value, 4)


def test_lookup_shorthand_is_a_list_of_points() -> None:
    # lookup_element() passes "points" as the shorthand key, but mapping() only accepts a bare
    # string or number, which can never be a list of points: the shorthand cannot work.
    model = load(HEADER + "lookups:\n  l: [[0, 1], [1, 2]]\n")
    assert model.element("l").lookup == GraphicalFunction((0.0, 1.0), (1.0, 2.0))


def test_auxiliary_lookup_must_be_a_mapping() -> None:
    exc = load_error(HEADER + "auxiliaries:\n  a:\n    equation: TIME\n    lookup: 3\n")
    assert exc.message == "lookup of 'a' must be a mapping with points"
    assert_located(exc, 6)


# -- links and loops -------------------------------------------------------------------------

LINKED = (
    HEADER
    + """\
flows:
  f:
    equation: a * b
    links:
      a: '+'
      b: {polarity: '-', source: Sterman (2000)}
      c: {}
auxiliaries:
  a: 1
  b: 2
  c: 3
loops:
  growth: {variables: [a, f], polarity: r, description: more a, source: book}
  limit:
    variables: [b, f]
    polarity: B
  unsure: {variables: [c]}
"""
)


def test_links_and_loops() -> None:
    model = load(LINKED)
    assert model.element("f").links == (
        Link("a", "+", ""),
        Link("b", "-", "Sterman (2000)"),
        Link("c", "?", ""),
    )
    assert model.loops == (
        LoopSpec("growth", ("a", "f"), "R", "more a", "book", 15),
        LoopSpec("limit", ("b", "f"), "B", "", "", 16),
        LoopSpec("unsure", ("c",), "?", "", "", 19),
    )


@pytest.mark.parametrize(
    ("old", "new", "message", "hint", "line"),
    [
        ("a: '+'", "a: up", "link a -> f has polarity 'up'", "use '+', '-' or '?'", 7),
        (
            "a: '+'",
            "a: {sign: '+'}",
            "unknown key 'sign' in link a -> f",
            "allowed: polarity, source",
            7,
        ),
        ("a: '+'", "a: [x]", "link a -> f must be a mapping", None, 7),
        (
            "polarity: B",
            "polarity: X",
            "loop 'limit' has polarity 'X'",
            "use R (reinforcing) or B (balancing)",
            16,
        ),
        (
            "variables: [c]",
            "variables: []",
            "loop 'unsure' must list its variables in order",
            None,
            19,
        ),
        (
            "variables: [c]",
            "description: x",
            "loop 'unsure' must list its variables in order",
            None,
            19,
        ),
    ],
)
def test_bad_links_and_loops(old: str, new: str, message: str, hint: str | None, line: int) -> None:
    exc = load_error(LINKED.replace(old, new))
    assert exc.message == message
    assert exc.hint == hint
    assert_located(exc, line)


def test_links_must_be_a_mapping() -> None:
    exc = load_error(HEADER + "flows:\n  f:\n    equation: a\n    links: [a]\n")
    assert exc.message == "links of 'f' must map source variables to their polarity and citation"
    assert_located(exc, 6)


def test_loop_shorthand_is_a_list_of_variables() -> None:
    # loop() passes "variables" as the shorthand key, but mapping() rejects a bare list, and
    # a bare string is then refused by the list check: the shorthand cannot work.
    model = load(HEADER + "auxiliaries:\n  a: 1\nloops:\n  wom: [a, a]\n")
    assert model.loops == (LoopSpec("wom", ("a", "a"), "?", "", "", 6),)


def test_sections_must_be_mappings() -> None:
    exc = load_error(HEADER + "stocks: [a]\n")
    assert exc.message == "'stocks' must be a mapping of names to definitions"
    assert_located(exc, 3)


def test_empty_sections_are_allowed() -> None:
    model = load(HEADER + "stocks:\nflows: {}\nloops:\n")
    assert model.elements == ()


# -- model validation seen through the loader ------------------------------------------------


def test_duplicate_names_across_sections_name_the_second_line() -> None:
    exc = load_error(HEADER + "parameters:\n  growth: 1\nflows:\n  Growth: 2\n")
    assert exc.message == "'Growth' is defined twice"
    assert exc.variable == "Growth"
    assert_located(exc, 6)


def test_stock_naming_a_missing_flow() -> None:
    exc = load_error(
        HEADER + "stocks:\n  s: {initial: 1, outflows: [leaving]}\nflows:\n  leave: 2\n"
    )
    assert exc.message == "stock 's' names 'leaving' as a flow but there is no such flow"
    assert exc.hint == "did you mean 'leave'?"
    assert_located(exc, 4)


def test_model_keeps_its_text() -> None:
    text = HEADER + "parameters:\n  p: 1\n"
    assert loads_model(text, file="m.yaml").text == text


# -- files and built-in models ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["bass", "delay", "exponential", "logistic", "sir"])
def test_builtin_models_load_by_name(name: str) -> None:
    assert name in builtin_models()
    model = load_model(name)
    assert model.name == name
    assert model.file == f"{name}.yaml"
    assert model.elements
    assert model.time.stop > model.time.start


def test_builtin_model_contents() -> None:
    sir = load_model("sir")
    assert [e.name for e in sir.of_kind("stock")] == ["susceptible", "infectious", "recovered"]
    assert sir.element("infectious").inflows == ("succumbing",)
    assert sir.time.dt == 0.03125
    assert {loop.name for loop in sir.loops} == {"contagion", "depletion", "recovery"}


def test_wrong_builtin_name_gives_a_hint() -> None:
    with pytest.raises(ModelError) as info:
        load_model("sri")
    assert str(info.value) == "no model file or built-in model called 'sri' — did you mean 'sir'?"


def test_unknown_builtin_name_lists_the_builtins() -> None:
    with pytest.raises(ModelError) as info:
        load_model("zzzz")
    assert info.value.hint == "built-in models: " + ", ".join(builtin_models())


def test_load_model_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(HEADER.replace("name: m\n", "") + "parameters:\n  p: 2\n", encoding="utf-8")
    for source in (path, str(path)):
        model = load_model(source)
        assert model.name == "shop"
        assert model.file == str(path)


def test_errors_in_a_file_name_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEADER + "flows:\n  f: 1 +\n", encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert f"({path}:4)" in str(info.value)


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(info.value) == f"model file '{path}' does not exist"


def test_directory_is_not_reported_as_missing(tmp_path: Path) -> None:
    # load_model(<existing directory>) says "does not exist", which is misleading
    with pytest.raises(ModelError) as info:
        load_model(tmp_path)
    assert "does not exist" not in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_non_utf8_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEADER.encode() + "description: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(info.value) == f"model file '{path}' is not UTF-8 text"


def test_empty_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(info.value) == f"the model file is empty ({path}:1)"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode())
    assert load_model(path).name == "m"


def test_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(HEADER, encoding="utf-8")
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", len(HEADER) - 1)
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(info.value) == f"model file '{path}' is larger than {len(HEADER) - 1} bytes"
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", len(HEADER))
    assert load_model(path).name == "m"


def test_xmile_files_go_to_the_xmile_reader(tmp_path: Path) -> None:
    path = tmp_path / "model.xmile"
    path.write_text("<xmile/>", encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert info.value.message == "the XMILE file has no <model>"  # tests/test_xmile.py: more
    assert info.value.file == str(path)


def test_history_report_and_diagnostics_sections_are_checked() -> None:
    base = "name: h\ntime: {start: 0, stop: 2, dt: 1}\nstocks:\n  s: {initial: 1}\n"
    cases = [
        (
            "history: {data: d, series: {sales: {column: c}}}\n",
            "history names 'sales', which is not a variable of the model",
        ),
        (
            "history: {data: d, series: {s: {column: c, aggregate: sum}}}\n",
            "history series 's' is malformed",
        ),
        ("history: {data: d}\n", "history needs data:"),
        (
            "report: {times: [1], variables: [t]}\n",
            "report names 't', which is not a variable of the model",
        ),
        ("report: {times: 1, variables: [s]}\n", "report times, variables and chart must be lists"),
        ("report: {times: [1], variabels: [s]}\n", "unknown key 'variabels' in report"),
        ("diagnostics: {push: nope}\n", "diagnostics names 'nope'"),
    ]
    for extra, message in cases:
        with pytest.raises(ModelError) as info:
            loads_model(base + extra, file="h.yaml")
        assert message in str(info.value), (extra, str(info.value))
        assert "h.yaml" in str(info.value)


def test_history_data_must_exist_and_have_the_columns(tmp_path: Path) -> None:
    from flywheel_sim.studies.history import history_frame

    text = (
        "name: h\ntime: {start: 0, stop: 2, dt: 1}\nstocks:\n  s: {initial: 1}\n"
        "history: {data: missing.csv, series: {s: {column: c}}}\n"
    )
    path = tmp_path / "h.yaml"
    path.write_text(text)
    with pytest.raises(
        ModelError, match=r"history data 'missing\.csv' is not a file in the model's folder"
    ):
        history_frame(load_model(path))
    (tmp_path / "missing.csv").write_text("year,other\n0,1\n")
    with pytest.raises(ModelError, match="has no column 'c'"):
        history_frame(load_model(path))


def test_history_joins_several_data_sets_on_the_time_column(tmp_path: Path) -> None:
    from flywheel_sim.studies.history import history_frame

    text = (
        "name: h\ntime: {start: 0, stop: 4, dt: 1}\nstocks:\n  s: {initial: 1}\n"
        "history: {data: [a.csv, b.csv], series: {s: {column: x}}}\n"
    )
    path = tmp_path / "h.yaml"
    path.write_text(text)
    (tmp_path / "a.csv").write_text("year,x\n1,10\n2,20\n")
    (tmp_path / "b.csv").write_text("year,y\n0,5\n2,7\n")
    frame = history_frame(load_model(path))
    assert frame["year"].tolist() == [0, 1, 2]
    assert frame["x"].tolist()[1:] == [10, 20] and np.isnan(frame["x"].iloc[0])
    assert frame["y"].tolist()[2] == 7 and np.isnan(frame["y"].iloc[1])
    (tmp_path / "b.csv").write_text("year,x\n0,5\n")
    with pytest.raises(ModelError, match=r"history data 'b\.csv' repeats column 'x'"):
        history_frame(load_model(path))
    (tmp_path / "b.csv").write_text("t,y\n0,5\n")
    with pytest.raises(ModelError, match=r"history data 'b\.csv' has no time column 'year'"):
        history_frame(load_model(path))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("units:\n  widget: USD/\n", r"unit 'widget': unit 'USD/' ends too early \(u\.yaml:4\)"),
        (
            "units:\n  widget: [a, b]\n",
            r"unit 'widget' must be defined by a unit text \(u\.yaml:4\)",
        ),
        (
            "auxiliaries:\n  a: {equation: '1', bounds: [0]}\n",
            r"bounds of 'a' must be a pair \[low, high\] \(u\.yaml:4",
        ),
        (
            "auxiliaries:\n  a: {equation: '1', bounds: [2, 1]}\n",
            r"bounds of 'a' are reversed: 2\.0 > 1\.0 \(u\.yaml:4",
        ),
        (
            "auxiliaries:\n  a: {equation: '1', bounds: [0, nobody]}\n",
            r"the bounds of 'a' names 'nobody', which is not a variable of the model",
        ),
        ("lookups:\n  f: {points: [[0, 1]], input_unit: 3}\n", None),
    ],
)
def test_units_and_bounds_are_read_with_one_line_errors(body: str, message: str | None) -> None:
    text = "name: u\ntime: {start: 0, stop: 1, dt: 0.5}\n" + body
    if message is None:  # a number given as a unit text is read as its text
        assert loads_model(text, file="u.yaml").element("f").lookup.x_unit == "3"  # type: ignore[union-attr]
        return
    with pytest.raises(ModelError, match=message) as caught:
        loads_model(text, file="u.yaml")
    assert "\n" not in str(caught.value)
