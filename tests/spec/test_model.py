"""Tests for the in-memory model (flywheel_sim.spec.model) and name rules (spec.names)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.model import (
    KINDS,
    METHODS,
    Dimension,
    Element,
    GraphicalFunction,
    Link,
    LoopSpec,
    Model,
    TimeSpec,
)
from flywheel_sim.spec.names import canonical


def stock(name: str, equation: str = "1", **fields: object) -> Element:
    return Element(name, "stock", equation=equation, **fields)  # type: ignore[arg-type]


def flow(name: str, equation: str = "1", **fields: object) -> Element:
    return Element(name, "flow", equation=equation, **fields)  # type: ignore[arg-type]


def aux(name: str, equation: str = "1", **fields: object) -> Element:
    return Element(name, "aux", equation=equation, **fields)  # type: ignore[arg-type]


def param(name: str, default: object = 1.0, **fields: object) -> Element:
    return Element(name, "parameter", default=default, **fields)  # type: ignore[arg-type]


def model_error(*elements: Element, **fields: object) -> ModelError:
    with pytest.raises(ModelError) as info:
        Model("m", tuple(elements), **fields)  # type: ignore[arg-type]
    return info.value


def small_model() -> Model:
    return Model(
        "shop",
        (
            param("Growth Rate", 0.1, minimum=0.0, maximum=1.0),
            stock("Customers", "100", inflows=("New Customers",), outflows=("churn",)),
            flow("New Customers", "growth_rate * customers"),
            flow("churn", "customers / 10"),
            aux("revenue", "customers * 2", dims=("Region",)),
            Element("effect", "lookup", lookup=GraphicalFunction((0.0, 1.0), (0.0, 2.0))),
        ),
        time=TimeSpec(0, 10, 0.5),
        dimensions=(Dimension("Region", ("North", "South")),),
        loops=(LoopSpec("growth", ("customers", "new_customers"), "R"),),
        file="shop.yaml",
    )


# -- a valid model ---------------------------------------------------------------------------


def test_a_valid_model_is_plain_data() -> None:
    model = small_model()
    assert model.name == "shop"
    assert [e.kind for e in model] == ["parameter", "stock", "flow", "flow", "aux", "lookup"]
    assert [e.name for e in model.of_kind("flow")] == ["New Customers", "churn"]
    assert model.of_kind("lookup")[0].lookup == GraphicalFunction((0.0, 1.0), (0.0, 2.0))
    assert model.time == TimeSpec(start=0, stop=10, dt=0.5)
    assert model.element("growth rate").key == "growth_rate"
    assert model.file == "shop.yaml" and model.text is None
    assert set(KINDS) == {"stock", "flow", "aux", "parameter", "lookup"}


def test_defaults() -> None:
    element = Element("x", "aux", equation="1")
    assert element.dims == () and element.element_equations == ()
    assert element.inflows == () and element.outflows == ()
    assert element.non_negative is False and element.default is None
    assert element.lookup is None and element.links == () and element.line is None
    time = TimeSpec()
    assert (time.start, time.stop, time.dt, time.save_step, time.units, time.method) == (
        0.0,
        100.0,
        1.0,
        None,
        "time",
        "euler",
    )
    assert Model("empty", ()).time == TimeSpec()
    assert Link("a").polarity == "?" and Link("a").citation == ""
    assert LoopSpec("l", ("a",)).polarity == "?"


# -- duplicate names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Total Population", "total_population"),
        ("total population", "TOTAL POPULATION"),
        ("a b", "a  b"),
        ("a_b", "A__B"),
        ("a b", "a _ b"),
        ("growth", " Growth "),
        ("x", "x"),
        ('"Total Population"', "total population"),
    ],
)
def test_duplicate_names_are_refused(first: str, second: str) -> None:
    exc = model_error(aux(first, line=3), flow(second, line=9), file="f.yaml")
    assert exc.message == f"'{second}' is defined twice"
    assert exc.hint == "rename one of them (names ignore case, spaces and _)"
    assert exc.variable == second
    assert exc.line == 9 and exc.file == "f.yaml"
    assert "(f.yaml:9)" in str(exc)


def test_distinct_names_are_fine() -> None:
    model = Model("m", (aux("ab"), aux("a b"), aux("a_b_c"), aux("a1")))
    assert [e.key for e in model] == ["ab", "a_b", "a_b_c", "a1"]


def test_lookup_and_variable_share_one_namespace() -> None:
    table = GraphicalFunction((0.0,), (1.0,))
    exc = model_error(aux("effect"), Element("Effect", "lookup", lookup=table))
    assert exc.message == "'Effect' is defined twice"


# -- stocks and flows ------------------------------------------------------------------------


def test_stock_naming_a_missing_flow_gets_a_hint() -> None:
    exc = model_error(stock("s", inflows=("grwth",), line=4), flow("growth"), file="f.yaml")
    assert exc.message == "stock 's' names 'grwth' as a flow but there is no such flow"
    assert exc.hint == "did you mean 'growth'?"
    assert exc.variable == "s" and exc.line == 4
    assert str(exc) == (
        "stock 's' names 'grwth' as a flow but there is no such flow "
        "(f.yaml:4) — did you mean 'growth'?"
    )


def test_stock_naming_a_missing_outflow() -> None:
    exc = model_error(stock("s", outflows=("leaving",)), flow("joining"))
    assert exc.message == "stock 's' names 'leaving' as a flow but there is no such flow"


def test_stock_flow_names_follow_xmile_matching() -> None:
    model = Model(
        "m",
        (
            stock("s", inflows=('"New Customers"',)),
            stock("t", outflows=("NEW_customers",)),
            flow("new customers"),
        ),
    )
    assert model.element("s").inflows == ('"New Customers"',)
    assert model.element("t").outflows == ("NEW_customers",)


def test_stock_flow_must_be_a_flow() -> None:
    exc = model_error(stock("s", inflows=("growth",)), aux("growth"))
    assert "names 'growth' as a flow" in exc.message
    exc = model_error(stock("s", inflows=("t",)), stock("t"), flow("f"))
    assert "names 't' as a flow" in exc.message


def test_flow_may_be_defined_after_its_stock() -> None:
    Model("m", (stock("s", inflows=("f",)), flow("f")))
    Model("m", (flow("f"), stock("s", outflows=("f",))))


# -- dimensions ------------------------------------------------------------------------------


def test_unknown_dimension_with_hint() -> None:
    exc = model_error(
        aux("x", dims=("regon",), line=2),
        dimensions=(Dimension("region", ("a", "b")),),
        file="f.yaml",
    )
    assert exc.message == "'x' uses unknown dimension 'regon'"
    assert exc.hint == "did you mean 'region'?"
    assert exc.variable == "x" and exc.line == 2


def test_unknown_dimension_without_a_close_match() -> None:
    exc = model_error(aux("x", dims=("zzz",)))
    assert exc.hint == "declare it under dimensions:"


def test_dimension_names_follow_xmile_matching() -> None:
    model = Model(
        "m", (aux("x", dims=("sales region",)),), dimensions=(Dimension("Sales_Region", ("a",)),)
    )
    assert model.dimension('"SALES REGION"').name == "Sales_Region"


def test_dimension_lookup_gives_a_hint() -> None:
    model = Model("m", (), dimensions=(Dimension("Region", ("a",)),), file="f.yaml")
    with pytest.raises(ModelError) as info:
        model.dimension("regoin")
    assert str(info.value) == "unknown dimension 'regoin' (f.yaml) — did you mean 'region'?"


def test_dimension_without_elements() -> None:
    exc = model_error(dimensions=(Dimension("r", (), line=5),), file="f.yaml")
    assert str(exc) == "dimension 'r' has no elements (f.yaml:5)"


def test_dimension_listing_an_element_twice() -> None:
    exc = model_error(dimensions=(Dimension("r", ("North", "north"), line=5),))
    assert exc.message == "dimension 'r' lists an element twice"
    assert exc.line == 5
    exc = model_error(dimensions=(Dimension("r", ("a b", "A_B")),))
    assert exc.message == "dimension 'r' lists an element twice"


# -- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"default": 5.0, "minimum": 0.0, "maximum": 1.0},
            "parameter 'p' default 5.0 is outside its range [0.0, 1.0]",
        ),
        (
            {"default": -0.5, "minimum": 0.0},
            "parameter 'p' default -0.5 is outside its range [0.0, None]",
        ),
        (
            {"default": 2.0, "maximum": 1.0},
            "parameter 'p' default 2.0 is outside its range [None, 1.0]",
        ),
        (
            {"default": (("a", 1.0), ("b", 7.0)), "maximum": 5.0},
            "parameter 'p' default 7.0 is outside its range [None, 5.0]",
        ),
        (
            {"default": 0.5, "minimum": 2.0, "maximum": 1.0},
            "parameter 'p' has min 2.0 above max 1.0",
        ),
        ({"default": math.inf}, "parameter 'p' default must be finite"),
        ({"default": -math.inf}, "parameter 'p' default must be finite"),
        ({"default": math.nan}, "parameter 'p' default must be finite"),
        ({"default": (("a", 1.0), ("b", math.nan))}, "parameter 'p' default must be finite"),
        ({"default": None}, "parameter 'p' has no default"),
    ],
)
def test_bad_parameters(fields: dict[str, object], message: str) -> None:
    exc = model_error(
        Element("p", "parameter", line=7, **fields),  # type: ignore[arg-type]
        file="f.yaml",
    )
    assert exc.message == message
    assert exc.variable == "p"
    assert exc.line == 7 and exc.file == "f.yaml"


@pytest.mark.parametrize(
    "fields",
    [
        {"default": 0.0, "minimum": 0.0, "maximum": 0.0},
        {"default": 1.0, "minimum": 0.0, "maximum": 1.0},
        {"default": -3},
        {"default": (("a", 0.0), ("b", 1.0)), "minimum": 0.0, "maximum": 1.0},
    ],
)
def test_good_parameters(fields: dict[str, object]) -> None:
    Model("m", (Element("p", "parameter", **fields),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bounds",
    [{"minimum": math.nan}, {"maximum": math.nan}, {"minimum": math.nan, "maximum": math.nan}],
)
def test_nan_bounds_are_refused(bounds: dict[str, float]) -> None:
    # NaN bounds make every comparison False, so the range check silently passes
    with pytest.raises(ModelError, match="must be a finite number, not nan"):
        Model("m", (param("p", 1.0, **bounds),))


# -- time ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": 0.0, "stop": 0.0}, "time stop (0.0) must be after start (0.0)"),
        ({"start": 10.0, "stop": 5.0}, "time stop (5.0) must be after start (10.0)"),
        ({"dt": 0.0}, "time dt must be positive, not 0.0"),
        ({"dt": -0.25}, "time dt must be positive, not -0.25"),
        ({"save_step": 0.0}, "time save_step must be positive, not 0.0"),
        ({"save_step": -1.0}, "time save_step must be positive, not -1.0"),
        ({"start": math.nan}, "time start must be a finite number, not nan"),
        ({"stop": math.inf}, "time stop must be a finite number, not inf"),
        ({"dt": math.nan}, "time dt must be a finite number, not nan"),
        ({"stop": "10"}, "time stop must be a finite number, not '10'"),
        ({"method": "rk45"}, "unknown integration method 'rk45'"),
        ({"method": "ruler"}, "unknown integration method 'ruler'"),
    ],
)
def test_bad_time_settings(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError) as info:
        TimeSpec(**fields)  # type: ignore[arg-type]
    assert info.value.message == message


def test_stop_before_start_has_a_hint() -> None:
    with pytest.raises(ModelError) as info:
        TimeSpec(start=5, stop=1)
    assert info.value.hint == "set time.stop greater than time.start"


@pytest.mark.parametrize(
    ("method", "suggestion"),
    [("rk45", "rk4"), ("eular", "euler"), ("huen", "heun"), ("RK5", "rk4")],
)
def test_unknown_method_hint(method: str, suggestion: str) -> None:
    with pytest.raises(ModelError) as info:
        TimeSpec(method=method)
    assert info.value.hint == f"did you mean '{suggestion}'?"


def test_unknown_method_fallback_hint_names_every_method() -> None:
    # the fallback hint says "use euler or rk4" although heun is supported too
    with pytest.raises(ModelError) as info:
        TimeSpec(method="zzzz")
    assert info.value.hint is not None
    for method in METHODS:
        assert method in info.value.hint


@pytest.mark.parametrize("method", ["euler", "heun", "rk4", "RK4", "Euler"])
def test_known_methods(method: str) -> None:
    assert TimeSpec(method=method).method.lower() == method.lower()


@pytest.mark.parametrize("save_step", [math.nan, math.inf])
def test_non_finite_save_step_is_refused(save_step: float) -> None:
    # start, stop and dt are checked for finiteness; save_step is not (nan <= 0 is False)
    with pytest.raises(ModelError, match="save_step must be a finite number"):
        TimeSpec(save_step=save_step)


def test_integer_time_settings_are_accepted() -> None:
    time = TimeSpec(start=1, stop=3, dt=1, save_step=1)
    assert (time.start, time.stop, time.dt) == (1, 3, 1)


# -- lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xs", "ys", "kind", "message"),
    [
        (
            (0.0, 2.0, 1.0),
            (0.0, 1.0, 2.0),
            "continuous",
            "lookup x values must be in increasing order",
        ),
        ((1.0, 0.0), (0.0, 1.0), "discrete", "lookup x values must be in increasing order"),
        ((0.0, 1.0), (0.0,), "continuous", "lookup has 2 x values but 1 y values"),
        ((0.0,), (0.0, 1.0, 2.0), "continuous", "lookup has 1 x values but 3 y values"),
        ((), (), "continuous", "lookup needs at least one point"),
        ((0.0, math.inf), (0.0, 1.0), "continuous", "lookup points must be finite numbers"),
        ((0.0, 1.0), (math.nan, 1.0), "continuous", "lookup points must be finite numbers"),
        ((0.0,), (0.0,), "cubic", "unknown lookup type 'cubic'"),
    ],
)
def test_bad_lookups(xs: tuple[float, ...], ys: tuple[float, ...], kind: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        GraphicalFunction(xs, ys, kind)  # type: ignore[arg-type]
    assert info.value.message == message


@pytest.mark.parametrize("kind", ["continuous", "extrapolate", "discrete"])
def test_good_lookups(kind: str) -> None:
    table = GraphicalFunction((0.0, 0.5, 1.0), (3.0, -1.0, 2.0), kind)  # type: ignore[arg-type]
    assert table.kind == kind
    assert GraphicalFunction((2.0,), (5.0,)).kind == "continuous"


def test_lookup_element_needs_a_table() -> None:
    exc = model_error(Element("effect", "lookup", line=3))
    assert exc.message == "lookup 'effect' has no points"
    assert exc.variable == "effect"


# -- other element checks --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["stock", "flow", "aux"])
@pytest.mark.parametrize("equation", ["", "   ", "\n"])
def test_missing_equation(kind: str, equation: str) -> None:
    exc = model_error(Element("x", kind, equation=equation))  # type: ignore[arg-type]
    assert exc.message == f"{kind} 'x' has no equation"
    assert exc.hint == "give it an equation (a stock's is its initial value)"


def test_element_equations_replace_the_equation() -> None:
    Model(
        "m",
        (aux("x", "", dims=("r",), element_equations=(("a", "1"), ("b", "2"))),),
        dimensions=(Dimension("r", ("a", "b")),),
    )


def test_unknown_kind() -> None:
    exc = model_error(Element("x", "variable", equation="1"))  # type: ignore[arg-type]
    assert exc.message == "'x' has unknown kind 'variable'"


@pytest.mark.parametrize("name", ["", "  ", '""', "\t"])
def test_empty_name(name: str) -> None:
    exc = model_error(aux(name))
    assert exc.message == "a variable has an empty name"


# -- Model.element ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "New Customers",
        "new customers",
        "new_customers",
        "NEW__CUSTOMERS",
        '"New Customers"',
        "  new   customers ",
        "New\tCustomers",
        "new\\ncustomers",
    ],
)
def test_element_lookup_uses_xmile_matching(query: str) -> None:
    assert small_model().element(query).name == "New Customers"


def test_element_lookup_gives_did_you_mean() -> None:
    with pytest.raises(ModelError) as info:
        small_model().element("custmers")
    exc = info.value
    assert exc.message == "model 'shop' has no variable 'custmers'"
    assert exc.hint == "did you mean 'customers'?"
    assert exc.file == "shop.yaml"
    expected = "model 'shop' has no variable 'custmers' (shop.yaml) — did you mean 'customers'?"
    assert str(exc) == expected


def test_element_lookup_hint_uses_canonical_names() -> None:
    with pytest.raises(ModelError) as info:
        small_model().element("Growth Rat")
    assert info.value.hint == "did you mean 'growth_rate'?"


def test_element_lookup_without_a_close_match() -> None:
    with pytest.raises(ModelError) as info:
        small_model().element("zzzzzz")
    assert info.value.hint is None
    assert str(info.value) == "model 'shop' has no variable 'zzzzzz' (shop.yaml)"


# -- immutability and replace ----------------------------------------------------------------


def test_models_are_immutable() -> None:
    model = small_model()
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.elements[0].equation = "2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.time.dt = 0.1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.element("effect").lookup.xs = (1.0,)  # type: ignore[misc, union-attr]
    with pytest.raises((AttributeError, TypeError)):
        model.extra = 1  # type: ignore[attr-defined]
    assert isinstance(model.elements, tuple)
    assert hash(model) == hash(small_model())
    assert model == small_model()


def test_replace_makes_a_new_valid_model() -> None:
    model = small_model()
    faster = dataclasses.replace(model, time=dataclasses.replace(model.time, dt=0.25))
    assert faster.time.dt == 0.25
    assert model.time.dt == 0.5
    renamed = dataclasses.replace(model, name="other")
    assert renamed.name == "other" and renamed.elements is model.elements
    rate = model.element("growth rate")
    bumped = dataclasses.replace(
        model,
        elements=tuple(
            dataclasses.replace(e, default=0.2) if e is rate else e for e in model.elements
        ),
    )
    assert bumped.element("growth_rate").default == 0.2
    assert model.element("growth_rate").default == 0.1


def test_replace_validates_again() -> None:
    model = small_model()
    with pytest.raises(ModelError, match="no such flow"):
        dataclasses.replace(model, elements=model.elements[:2])
    with pytest.raises(ModelError, match="defined twice"):
        dataclasses.replace(model, elements=(*model.elements, aux("CHURN")))
    with pytest.raises(ModelError, match="dt must be positive"):
        dataclasses.replace(model.time, dt=0)
    rate = model.element("growth rate")
    too_big = tuple(dataclasses.replace(e, default=2.0) if e is rate else e for e in model.elements)
    with pytest.raises(ModelError, match="outside its range"):
        dataclasses.replace(model, elements=too_big)
    with pytest.raises(ModelError, match="unknown dimension"):
        dataclasses.replace(model, dimensions=())


# -- canonical names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Total Population", "total_population"),
        ("Total  Population", "total_population"),
        ("total_population", "total_population"),
        ("TOTAL__POPULATION", "total_population"),
        ("total _ population", "total_population"),
        ('"Total Population"', "total_population"),
        ('  "Total Population"  ', "total_population"),
        ('" padded "', "padded"),
        ("  spaced  ", "spaced"),
        ("tab\tand\nnewline", "tab_and_newline"),
        ("escaped\\nnewline", "escaped_newline"),
        ("x", "x"),
        ("", ""),
        ('"', '"'),
        ("Ünïcode Name", "ünïcode_name"),
        ("a.b", "a.b"),
    ],
)
def test_canonical(name: str, expected: str) -> None:
    assert canonical(name) == expected


def test_canonical_is_idempotent() -> None:
    for name in ["Total Population", '"a  b"', "A__B", " x ", "a\\nb"]:
        once = canonical(name)
        assert canonical(once) == once


def test_element_key_is_canonical() -> None:
    assert aux('"New  Customers"').key == "new_customers"


def test_did_you_mean() -> None:
    assert did_you_mean("custmers", ["customers", "churn"]) == "did you mean 'customers'?"
    assert did_you_mean("zzz", ["customers"]) is None
    assert did_you_mean("x", []) is None
