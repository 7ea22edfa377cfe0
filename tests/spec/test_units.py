"""The unit algebra (flywheel_sim.spec.units): parsing the unit strings found in our models,
Vensim's and Stella's, exact products, quotients, powers, scale words and aliases."""

from fractions import Fraction

import pytest

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.units import DIMENSIONLESS, Unit, UnitTable, format_unit, unit_table

T = UnitTable()


def u(text: str) -> Unit:
    unit = T.parse(text)
    assert unit is not None
    return unit


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("people/year", "person/yr"),
        ("USD million/year", "million $/year"),
        ("dollars/seller/year", "USD/(seller*year)"),
        ("thousand sellers/(million visits)", "sellers/visit / thousand"),
        ("customer-years", "customer*year"),
        ("1/year", "year^-1"),
        ("Dmnl", "dimensionless"),
        ("fraction", "1"),
        ("(people/year)^2", "people^2/year^2"),
        ("Sellers", "seller"),
        ("deg/minute", "degrees/minutes"),  # the teacup sample writes both
    ],
)
def test_equal_units_compare_equal(a: str, b: str) -> None:
    assert u(a) == u(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("thousand sellers", "sellers"),  # a scale is kept, not dropped
        ("week", "year"),  # time units are not converted into each other
        ("people", "drivers"),
        ("USD", "USD/year"),
        ("percent", "1"),
    ],
)
def test_different_units_differ(a: str, b: str) -> None:
    assert u(a) != u(b)


def test_scales_multiply_exactly() -> None:
    assert u("USD million/(thousand partners*year)").scale == Fraction(1000)
    assert u("thousand sellers/(million visits)").scale == Fraction(1, 1000)
    assert (u("million") / u("thousand")) == Unit(Fraction(1000))


def test_powers_with_fractional_exponents_are_exact() -> None:
    root = u("(drivers/person)^(1/2)")
    assert root**2 == u("drivers/person")
    assert dict(root.dims) == {"driver": Fraction(1, 2), "person": Fraction(-1, 2)}


def test_empty_text_is_undeclared_not_dimensionless() -> None:
    assert T.parse("") is None
    assert T.parse("  ") is None
    assert u("1") == DIMENSIONLESS


@pytest.mark.parametrize("bad", ["USD/", "(year", "year^x", "a & b", "x" * 500])
def test_bad_unit_text_is_a_value_error_with_the_reason(bad: str) -> None:
    with pytest.raises(ValueError, match=r"unit|characters"):
        T.parse(bad)


def test_format_is_readable_and_parses_back() -> None:
    for text in ["USD million/(person*year)", "thousand seller/year", "1/week", "person"]:
        shown = format_unit(u(text))
        assert u(shown) == u(text), shown
    assert format_unit(u("USD million/(person*year)")) == "million USD/(person*year)"
    assert format_unit(DIMENSIONLESS) == "1"


def test_model_definitions_are_aliases_or_scaled_units() -> None:
    table = unit_table({"customer": "person", "dozen": "12 item", "rank": "1"})
    assert table.parse("customers/year") == T.parse("people/year")
    assert table.parse("dozen") == Unit(Fraction(12), (("item", Fraction(1)),))
    assert table.parse("rank") == DIMENSIONLESS
    # a definition may use an earlier one
    chained = unit_table([("customer", "person"), ("household", "4 customers")])
    assert chained.parse("household") == Unit(Fraction(4), (("person", Fraction(1)),))


def test_bad_definition_names_the_unit() -> None:
    with pytest.raises(ModelError, match="unit 'widget'"):
        unit_table({"widget": "USD/"})
    with pytest.raises(ModelError, match="must be a word"):
        unit_table({"two words": "person"})


def test_symbol_names_defined_by_a_model() -> None:
    """Stella's default unit list defines Dollar as ``$`` with the alias ``$s`` (seen in
    bpowers/simlin's land model, saved by Stella): a name that is not a word, matched whole
    between operators, so '$s/year' is dollars per year, not dollar-seconds per year."""
    table = unit_table([("Dollar", "$"), ("Dollars", "Dollar"), ("$s", "Dollar"), ("€", "EUR")])
    dollars = table.parse("$")
    assert table.parse("$s") == dollars and table.parse("Dollars") == dollars
    per_year = table.parse("$/year")
    assert table.parse("$s/year") == per_year and table.parse("($s) / year") == per_year
    assert table.parse("$s year") == dollars * table.parse("year")
    assert table.parse("€/person") == table.parse("EUR/person")
    for bad in ("a b", "x/y", "(x)"):
        with pytest.raises(ModelError, match="must be a word"):
            unit_table({bad: "person"})
