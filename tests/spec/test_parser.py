"""Tests for the equation parser (flywheel_sim.spec.parser) and the AST helpers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flywheel_sim import compile_model
from flywheel_sim.errors import ModelError
from flywheel_sim.io.yaml.reader import loads_model
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Unary,
    Var,
    VarList,
    names_in,
    to_text,
    walk,
)
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import MAX_DEPTH, MAX_LENGTH, MAX_TREE_DEPTH, parse, tokenize

AST_TYPES = (Num, Var, Unary, Binary, If, Call, VarList)
KEYWORDS = ("if", "then", "else", "and", "or", "not", "mod")


def a(name: str, *subs: str | int) -> Var:
    return Var(name, tuple(subs))


def n(value: float) -> Num:
    return Num(float(value))


def parse_error(text: str) -> ModelError:
    with pytest.raises(ModelError) as info:
        parse(text)
    return info.value


# -- precedence and associativity ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ^ binds tighter than unary minus: -2^2 is -(2^2)
        ("-2^2", Unary("-", Binary("^", n(2), n(2)))),
        ("+a^b", Unary("+", Binary("^", a("a"), a("b")))),
        ("NOT a^b", Unary("NOT", Binary("^", a("a"), a("b")))),
        ("(-2)^2", Binary("^", Unary("-", n(2)), n(2))),
        # ^ groups right to left (XMILE 1.0): 2^3^2 is 2^(3^2)
        ("2^3^2", Binary("^", n(2), Binary("^", n(3), n(2)))),
        ("2^(3^2)", Binary("^", n(2), Binary("^", n(3), n(2)))),
        ("(2^3)^2", Binary("^", Binary("^", n(2), n(3)), n(2))),
        ("a^b^c^d", Binary("^", a("a"), Binary("^", a("b"), Binary("^", a("c"), a("d"))))),
        # a unary minus in an exponent takes the power to its right, not the rest
        ("2^-1^2", Binary("^", n(2), Unary("-", Binary("^", n(1), n(2))))),
        ("2^-a*b", Binary("*", Binary("^", n(2), Unary("-", a("a"))), a("b"))),
        ("-a^b^c", Unary("-", Binary("^", a("a"), Binary("^", a("b"), a("c"))))),
        ("a^b*c^d", Binary("*", Binary("^", a("a"), a("b")), Binary("^", a("c"), a("d")))),
        # unary minus binds tighter than * /
        ("-a*b", Binary("*", Unary("-", a("a")), a("b"))),
        ("a*-b", Binary("*", a("a"), Unary("-", a("b")))),
        ("--a", Unary("-", Unary("-", a("a")))),
        # * / MOD over + -
        ("1+2*3", Binary("+", n(1), Binary("*", n(2), n(3)))),
        ("1*2+3", Binary("+", Binary("*", n(1), n(2)), n(3))),
        ("a - b / c", Binary("-", a("a"), Binary("/", a("b"), a("c")))),
        ("a + b MOD c", Binary("+", a("a"), Binary("MOD", a("b"), a("c")))),
        ("a MOD b * c", Binary("*", Binary("MOD", a("a"), a("b")), a("c"))),
        ("2*3^2", Binary("*", n(2), Binary("^", n(3), n(2)))),
        # left associativity of + - * /
        ("a-b-c", Binary("-", Binary("-", a("a"), a("b")), a("c"))),
        ("a/b/c", Binary("/", Binary("/", a("a"), a("b")), a("c"))),
        ("a/b*c", Binary("*", Binary("/", a("a"), a("b")), a("c"))),
        ("(a+b)*c", Binary("*", Binary("+", a("a"), a("b")), a("c"))),
        # comparisons below arithmetic, = and <> below < <= > >=
        ("a + 1 < b * 2", Binary("<", Binary("+", a("a"), n(1)), Binary("*", a("b"), n(2)))),
        ("a <= b", Binary("<=", a("a"), a("b"))),
        ("a >= b", Binary(">=", a("a"), a("b"))),
        ("a > b", Binary(">", a("a"), a("b"))),
        ("a < b = c > d", Binary("=", Binary("<", a("a"), a("b")), Binary(">", a("c"), a("d")))),
        ("a <> b < c", Binary("<>", a("a"), Binary("<", a("b"), a("c")))),
        ("a < b < c", Binary("<", Binary("<", a("a"), a("b")), a("c"))),
        ("a = b = c", Binary("=", Binary("=", a("a"), a("b")), a("c"))),
        # AND over OR, both below comparisons
        ("a OR b AND c", Binary("OR", a("a"), Binary("AND", a("b"), a("c")))),
        ("a AND b OR c", Binary("OR", Binary("AND", a("a"), a("b")), a("c"))),
        ("a = 1 AND b <> 2", Binary("AND", Binary("=", a("a"), n(1)), Binary("<>", a("b"), n(2)))),
        ("a OR b OR c", Binary("OR", Binary("OR", a("a"), a("b")), a("c"))),
        # NOT is a prefix operator at the level of unary minus
        ("NOT a AND b", Binary("AND", Unary("NOT", a("a")), a("b"))),
        ("NOT (a AND b)", Unary("NOT", Binary("AND", a("a"), a("b")))),
        ("NOT NOT a", Unary("NOT", Unary("NOT", a("a")))),
        # IF THEN ELSE has the lowest precedence: each part extends as far as it can
        ("IF a THEN b ELSE c + 1", If(a("a"), a("b"), Binary("+", a("c"), n(1)))),
        (
            "IF a > 1 OR b THEN x * 2 ELSE y",
            If(Binary("OR", Binary(">", a("a"), n(1)), a("b")), Binary("*", a("x"), n(2)), a("y")),
        ),
        ("1 + IF a THEN b ELSE c", Binary("+", n(1), If(a("a"), a("b"), a("c")))),
        ("(IF a THEN b ELSE c) + 1", Binary("+", If(a("a"), a("b"), a("c")), n(1))),
        ("IF a THEN IF b THEN 1 ELSE 2 ELSE 3", If(a("a"), If(a("b"), n(1), n(2)), n(3))),
        ("IF a THEN 1 ELSE IF b THEN 2 ELSE 3", If(a("a"), n(1), If(a("b"), n(2), n(3)))),
    ],
)
def test_precedence_and_associativity(text: str, expected: Expr) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a != b", Binary("<>", a("a"), a("b"))),
        ("a <> b", Binary("<>", a("a"), a("b"))),
        ("a == b", Binary("=", a("a"), a("b"))),
        ("a = b", Binary("=", a("a"), a("b"))),
    ],
)
def test_comparison_synonyms(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_synonyms_have_the_same_precedence_as_the_canonical_operators() -> None:
    assert parse("a < b != c AND d == e") == parse("a < b <> c AND d = e")


@pytest.mark.parametrize(
    "text",
    [
        "if x > 1 and y < 2 or not z then a mod b else c",
        "If x > 1 And y < 2 Or Not z Then a Mod b Else c",
        "IF x > 1 AND y < 2 OR NOT z THEN a MOD b ELSE c",
        "iF x > 1 aNd y < 2 oR nOt z tHeN a mOd b eLsE c",
    ],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    expected = If(
        Binary(
            "OR",
            Binary("AND", Binary(">", a("x"), n(1)), Binary("<", a("y"), n(2))),
            Unary("NOT", a("z")),
        ),
        Binary("MOD", a("a"), a("b")),
        a("c"),
    )
    assert parse(text) == expected


def test_keyword_tokens_are_normalised_to_upper_case() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("a mod b")]
    assert kinds == [("name", "a"), ("kw", "MOD"), ("name", "b"), ("end", "")]


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Total Population"', a("total_population")),
        ("Total_Population", a("total_population")),
        ("TOTAL_population", a("total_population")),
        ('"Total   Population"', a("total_population")),
        ('"total_ population"', a("total_population")),
        ('"New Customers" * 2', Binary("*", a("new_customers"), n(2))),
        ('"Sales"["North East", 2]', a("sales", "north_east", 2)),
        ("growth_rate2", a("growth_rate2")),
        ("a.b", a("a.b")),
        ("_x", a("_x")),
        ("déjà_vu", a("déjà_vu")),
    ],
)
def test_names_are_canonical(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_quoted_and_bare_names_are_the_same_variable() -> None:
    assert parse('"Total Population" / total_population') == Binary(
        "/", a("total_population"), a("total_population")
    )
    assert names_in(parse('"A b" + A_B + a__b')) == {"a_b"}


def test_quoted_name_may_contain_a_keyword() -> None:
    assert parse('"if rate"') == a("if_rate")
    assert parse('"rate and level" + 1') == Binary("+", a("rate_and_level"), n(1))


# -- comments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a {the rate} * b", Binary("*", a("a"), a("b"))),
        ("{leading}1", n(1)),
        ("1{trailing}", n(1)),
        ("a {multi\nline ( ] comment} + {another} b", Binary("+", a("a"), a("b"))),
        ("a{}+b", Binary("+", a("a"), a("b"))),
    ],
)
def test_comments_are_ignored(text: str, expected: Expr) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["{only a comment}", "", "   ", "\n\t", "{a} {b}"])
def test_empty_equation_is_a_model_error(text: str) -> None:
    assert parse_error(text).message == "empty equation"


def test_unclosed_comment_is_an_error_at_its_column() -> None:
    assert "column 3" in str(parse_error("a {unclosed + b"))


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("007", 7.0),
        ("1e-3", 0.001),
        ("1E3", 1000.0),
        ("2E+4", 20000.0),
        ("2.5e2", 250.0),
        (".5e1", 5.0),
        ("123456789012", 123456789012.0),
    ],
)
def test_numbers(text: str, value: float) -> None:
    result = parse(text)
    assert isinstance(result, Num)
    assert result.value == value


def test_numbers_are_never_negative_literals() -> None:
    assert parse("-1") == Unary("-", n(1))
    assert parse("3-1") == Binary("-", n(3), n(1))
    assert parse("3 - -1") == Binary("-", n(3), Unary("-", n(1)))
    assert parse("1e-3-1") == Binary("-", n(0.001), n(1))


@pytest.mark.parametrize(("text", "column"), [("1.2.3", 4), ("1 2", 3), ("1e3e4", 4)])
def test_malformed_numbers_fail_at_the_right_column(text: str, column: int) -> None:
    assert f"column {column}" in str(parse_error(text))


# -- subscripts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sales[amazon]", a("sales", "amazon")),
        ("sales[Region]", a("sales", "region")),
        ("sales[1]", a("sales", 1)),
        ("sales[3.0]", a("sales", 3)),
        ("sales[*]", a("sales", "*")),
        ("sales[region, 2, *]", a("sales", "region", 2, "*")),
        ('sales["North America"]', a("sales", "north_america")),
        ("SUM(sales[*])", Call("SUM", (a("sales", "*"),))),
        ("x[a] * y[1]", Binary("*", a("x", "a"), a("y", 1))),
    ],
)
def test_subscripts(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_integer_subscripts_are_ints_not_floats() -> None:
    result = parse("x[2]")
    assert isinstance(result, Var)
    assert type(result.subscripts[0]) is int


@pytest.mark.parametrize("text", ["x[1.5]", "x[a + 1]", "x[-1]", "x[INT(TIME) + 1]"])
def test_computed_subscripts_are_expressions(text: str) -> None:
    # XMILE 1.0 §3.7.1: "equations can specify subscripts using equations"
    tree = parse(text)
    assert isinstance(tree, Var) and not isinstance(tree.subscripts[0], str | int)
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    ("text", "column", "found"),
    [
        ("x[]", 3, "]"),
        ("x[a,]", 5, "]"),
        ("x[", 3, "end of equation"),
        ("x[1:]", 5, None),
        ("x[@a]", 4, None),
        ("x[@0]", 4, None),
        ("x[a + 1:3]", 3, None),
    ],
)
def test_bad_subscripts(text: str, column: int, found: str | None) -> None:
    exc = parse_error(text)
    assert f"column {column}" in str(exc)
    if found is not None:
        assert f"'{found}'" in exc.message
        assert "subscript" in exc.message
        assert exc.hint is not None and "1-based" in exc.hint


# -- function calls --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PI()", Call("PI", ())),
        ("time()", Call("TIME", ())),
        ("ABS(-x)", Call("ABS", (Unary("-", a("x")),))),
        ("max(a, b)", Call("MAX", (a("a"), a("b")))),
        ("Smth1(x, 3, 0)", Call("SMTH1", (a("x"), n(3), n(0)))),
        ("MIN(a, b, c, d)", Call("MIN", (a("a"), a("b"), a("c"), a("d")))),
        ("f(g(1), h())", Call("F", (Call("G", (n(1),)), Call("H", ())))),
        ('"effect of price"(p)', Call("EFFECT_OF_PRICE", (a("p"),))),
        ("STEP(h, 5) + 1", Binary("+", Call("STEP", (a("h"), n(5))), n(1))),
        (
            "f(IF a THEN 1 ELSE 2, b OR c)",
            Call("F", (If(a("a"), n(1), n(2)), Binary("OR", a("b"), a("c")))),
        ),
        ("f (1)", Call("F", (n(1),))),
        # MOD is an infix keyword, but MOD( ... ) is the function call form
        ("MOD(a, b)", Call("MOD", (a("a"), a("b")))),
        (
            "mod(7, 3) + a mod (b)",
            Binary("+", Call("MOD", (n(7), n(3))), Binary("MOD", a("a"), a("b"))),
        ),
    ],
)
def test_function_calls(text: str, expected: Expr) -> None:
    assert parse(text) == expected


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("1 +", 4),
        ("a + * b", 5),
        ("(1", 3),
        ("(1 + 2))", 8),
        (")", 1),
        ("a $ b", 3),
        ("a ! b", 3),
        ("a & b", 3),
        ("a; b", 2),
        ("x = 'y'", 5),
        ('"unterminated', 1),
        ("a.b.", 4),
        ("f(1,)", 5),
        ("f(1 2)", 5),
        ("f(,1)", 3),
        ("IF a THEN b", 12),
        ("IF a b ELSE c", 6),
        ("IF a THEN b c", 13),
        ("THEN a", 1),
        ("a ELSE b", 3),
        ("2 ** 3", 4),
        ("a = = b", 5),
        ("NOT", 4),
        ("MOD a", 1),
        ("a\tb", 3),
        ("#", 1),
        ("a @ b", 3),
    ],
)
def test_syntax_errors_are_model_errors_naming_the_column(text: str, column: int) -> None:
    exc = parse_error(text)
    message = str(exc)
    assert re.search(rf"\bcolumn {column}\b", message), message
    assert "\n" not in message
    # no location yet: the loader adds file, line and variable
    assert exc.file is None and exc.line is None and exc.variable is None


def test_error_messages_quote_the_offending_token() -> None:
    assert parse_error("a + * b").message == "unexpected '*' at column 5"
    assert parse_error("(1").message == "expected ')' but found 'end of equation' at column 3"
    assert parse_error("IF a b").message == "expected 'THEN' but found 'b' at column 6"
    assert parse_error("a ? b").message == "unexpected character '?' at column 3"


def test_non_text_equation_is_a_model_error() -> None:
    for value in (None, 1, 1.5, b"1 + 2"):
        with pytest.raises(ModelError, match="equation must be text"):
            parse(value)  # type: ignore[arg-type]


def test_unhashable_non_text_equation_is_a_model_error() -> None:
    # parse() is wrapped in functools.lru_cache, which hashes the argument before the
    # isinstance check in the body can turn it into a ModelError.
    for value in (["1"], {"a": 1}):
        with pytest.raises(ModelError, match="equation must be text"):
            parse(value)  # type: ignore[arg-type]


def test_overlong_equation_is_refused() -> None:
    with pytest.raises(ModelError, match=f"longer than {MAX_LENGTH}"):
        parse("1" * (MAX_LENGTH + 1))
    assert parse("1" + " " * (MAX_LENGTH - 1)) == n(1.0)
    with pytest.raises(ModelError, match="too large"):  # 10**99999 overflows a float
        parse("1" * MAX_LENGTH)


def test_empty_quoted_name_is_an_error() -> None:
    # '""' and '"  "' parse to Var('') - a reference to a variable with no name.
    for text in ('""', '"  "', '"" + 1'):
        with pytest.raises(ModelError, match="empty name at column 1"):
            parse(text)


# -- nesting depth ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("f(", ")"), ("-", ""), ("NOT ", ""), ("IF 1 THEN ", " ELSE 0"), ("a^", "")],
)
def test_nesting_up_to_max_depth_is_fine(opening: str, closing: str) -> None:
    depth = MAX_DEPTH - 1
    result = parse(opening * depth + "1" + closing * depth)
    assert isinstance(result, AST_TYPES)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ("(", ")"),
        ("f(", ")"),
        ("-", ""),
        ("+", ""),
        ("NOT ", ""),
        ("IF 1 THEN ", " ELSE 0"),
        ("x[", "]"),
        ("IF ", " THEN 1 ELSE 0"),
        ("1 + (", ")"),
    ],
)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 30_000])
def test_deep_nesting_is_a_model_error_not_recursion_error(
    opening: str, closing: str, depth: int
) -> None:
    text = opening * depth + "1" + closing * depth
    if len(text) > MAX_LENGTH:
        text = text[: MAX_LENGTH // 2] + text[-(MAX_LENGTH // 2) :]
    with pytest.raises(ModelError) as info:
        parse(text)
    assert not isinstance(info.value, RecursionError)


def test_deep_nesting_message_names_the_limit() -> None:
    depth = MAX_DEPTH + 1
    exc = parse_error("(" * depth + "1" + ")" * depth)
    assert exc.message == f"equation nested more than {MAX_DEPTH} levels deep"


def test_long_flat_chains_are_not_nesting() -> None:
    count = MAX_DEPTH + 150  # longer than the nesting limit: a chain is not nesting
    result = parse(" + ".join(["x"] * count))
    assert isinstance(result, Binary)
    assert sum(1 for node in walk(result) if isinstance(node, Var)) == count


def test_overlong_chains_are_refused_with_a_fix() -> None:
    # deeper trees would overflow the recursion of later compiler passes
    with pytest.raises(ModelError, match=f"chains more than {MAX_TREE_DEPTH} operations"):
        parse(" + ".join(["x"] * 5_000))


# -- to_text round trip ----------------------------------------------------------------------

ROUND_TRIP_SOURCES = [
    "1",
    "0.1",
    "1e-7",
    "1.5e300",
    "123456789012345678",
    "-2^2",
    "2^3^2",
    "2^(3^2)",
    "2^-2",
    "a - (b - c)",
    "a / (b * c)",
    "NOT a AND b",
    "NOT (a AND b)",
    "a OR b AND c",
    "(a OR b) AND c",
    "a <> b = (c < d)",
    "a != b",
    "a == b",
    "x MOD 3 + 1",
    "MOD(x, 3) MOD 2",
    "IF a > 1 THEN b ELSE IF c THEN d ELSE e",
    "1 + (IF a THEN b ELSE c) * 2",
    "SUM(sales[*]) / COUNT(sales[region])",
    'sales["North East", 2] * PI()',
    '"Total Population" {comment} * f(g(1), h(), +x)',
    "SMTH1(input, delay_time, 0) - DELAY3(input, 4)",
]


@pytest.mark.parametrize("text", ROUND_TRIP_SOURCES)
def test_to_text_round_trip(text: str) -> None:
    tree = parse(text)
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize("text", ["(-2)^2", "(+a)^b", "(NOT a)^b", "(-x)^2 + 1"])
def test_to_text_keeps_a_unary_base_of_a_power(text: str) -> None:
    # (-2)^2 is 4, but to_text renders it as '(-(2) ^ 2)', which parses as -(2^2) = -4.
    tree = parse(text)
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    "text", ['"if"', '"mod"', '"a-b"', '"1st stage"', '"x"["else"]', '"rate (%)"', '"a/b"']
)
def test_to_text_round_trips_names_that_need_quotes(text: str) -> None:
    # the parser accepts these quoted names; to_text must quote them again
    tree = parse(text)
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize("count", [MAX_DEPTH + 50, MAX_TREE_DEPTH])
def test_to_text_round_trips_long_flat_chains(count: int) -> None:
    # 'x + x + ... + x' parses fine (it is not nested), so its text form must parse too.
    tree = parse(" + ".join(["x"] * count))
    assert parse(to_text(tree)) == tree


def test_overflowing_number_literal_is_refused_or_round_trips() -> None:
    # 1e999 overflows to inf; to_text gives 'inf', which parses back as a variable.
    try:
        tree = parse("1e999")
    except ModelError:
        return
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # tools disagree on how ^ groups (flywheel-sim before issue 19: left to right)
        # and on unary minus against ^, so a power inside a power or under a unary operator
        # is always written in parentheses
        ("a^3^2", "a ^ (3 ^ 2)"),
        ("(a^3)^2", "(a ^ 3) ^ 2"),
        ("-a^2", "-(a ^ 2)"),
        ("NOT a^b", "NOT (a ^ b)"),
        ("(-a)^2", "(-a) ^ 2"),
        ("2^-1^2", "2 ^ (-(1 ^ 2))"),
        ("a^b*c", "a ^ b * c"),
        ("--a", "--a"),
        ("a-b-c", "a - b - c"),
        ("a-(b-c)", "a - (b - c)"),
    ],
)
def test_to_text_writes_powers_unambiguously(text: str, expected: str) -> None:
    assert to_text(parse(text)) == expected
    assert parse(expected) == parse(text)


def test_to_text_renders_expected_text() -> None:
    assert to_text(parse('"A b"[c, 1, *]')) == "a_b[c, 1, *]"
    assert to_text(parse("max(1, 2.5, x)")) == "MAX(1, 2.5, x)"
    assert to_text(Num(1e20)) == "1e+20"
    assert to_text(VarList((a("x"), a("y")))) == "x, y"


# -- AST helpers -----------------------------------------------------------------------------


def test_walk_and_names_in() -> None:
    tree = parse("IF a > b[1] THEN LOOKUP_FN(c) ELSE -d")
    kinds = [type(node).__name__ for node in walk(tree)]
    assert kinds == ["If", "Binary", "Var", "Var", "Call", "Var", "Unary", "Var"]
    assert names_in(tree) == {"a", "b", "c", "d"}


# -- hypothesis: arbitrary text --------------------------------------------------------------

TOKEN_PIECES = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "+",
    "-",
    "*",
    "/",
    "^",
    "<",
    ">",
    "=",
    "!",
    '"',
    "<=",
    ">=",
    "<>",
    "!=",
    "==",
    " ",
    "\t",
    "\n",
    ".",
    "e",
    "E",
    "$",
    "_",
    "\\",
    "'",
    "*",
    "1",
    "0",
    "2.5",
    ".5",
    "1e3",
    "1e-3",
    "1e999",
    "9" * 30,
    "IF",
    "THEN",
    "ELSE",
    "AND",
    "OR",
    "NOT",
    "MOD",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "mod",
    "x",
    "rate",
    "Total Population",
    '"a b"',
    "f(",
    "SUM(",
    "x[",
    "*]",
    "{c}",
    "é",
    "𝟏",
    "١",
    "²",
    "\x00",
    "\u2028",
]
token_text = st.lists(st.sampled_from(TOKEN_PIECES), max_size=40).map("".join)
language_alphabet = st.text(
    alphabet="()[]{},+-*/^<>=!\"'. \t\n0123456789eE_abxIFTHENLSNDORMT$", max_size=60
)


def _parse_is_total(text: str) -> None:
    try:
        result = parse(text)
    except ModelError as exc:
        assert "\n" not in exc.message or "\n" in text
        return
    assert isinstance(result, AST_TYPES)
    for node in walk(result):
        assert isinstance(node, AST_TYPES)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_model_error(text: str) -> None:
    _parse_is_total(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(token_text, language_alphabet))
def test_token_soup_parses_or_raises_model_error(text: str) -> None:
    _parse_is_total(text)


# -- hypothesis: generated ASTs round-trip ---------------------------------------------------

_BINARY_OPS = ["+", "-", "*", "/", "^", "MOD", "=", "<>", "<", "<=", ">", ">=", "AND", "OR"]


def _plain_name(name: str) -> bool:
    return canonical(name) == name and name not in KEYWORDS


var_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(_plain_name)
func_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True).filter(
    lambda f: _plain_name(f.lower())
)
subscript = st.one_of(var_names, st.integers(min_value=1, max_value=999), st.just("*"))
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**18).map(float),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(lambda v: abs(v)),
)
leaves = st.one_of(
    numbers.map(Num),
    st.builds(Var, var_names, st.lists(subscript, max_size=3).map(tuple)),
    st.builds(Call, func_names, st.just(())),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    unary = st.builds(Unary, st.sampled_from(["-", "+", "NOT"]), children)
    return st.one_of(
        unary,
        st.builds(Binary, st.sampled_from(_BINARY_OPS), children, children),
        # prefix operators next to tight infix operators are where precedence bugs hide
        st.builds(Binary, st.sampled_from(["^", "*", "MOD"]), unary, children),
        st.builds(Binary, st.sampled_from(["^", "-", "/"]), children, unary),
        st.builds(If, children, children, children),
        st.builds(Call, func_names, st.lists(children, min_size=1, max_size=4).map(tuple)),
    )


asts = st.recursive(leaves, _extend, max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asts)
def test_generated_asts_round_trip_through_text(tree: Expr) -> None:
    text = to_text(tree)
    assert parse(text) == tree


@settings(max_examples=200, deadline=None)
@given(asts)
def test_parsed_text_round_trips(tree: Expr) -> None:
    # the tree the parser builds from to_text(tree) is itself a fixed point of to_text/parse
    try:
        reparsed = parse(to_text(tree))
    except ModelError:
        pytest.fail(f"to_text produced unparseable text {to_text(tree)!r}")
    assert parse(to_text(reparsed)) == reparsed


# -- hostile input never executes ------------------------------------------------------------

MARKER = Path("/tmp/flywheel_pwned")


def _hostile(marker: Path) -> list[str]:
    touch = f"touch {marker}"
    return [
        f"__import__('os').system('{touch}')",
        f'__import__("os").system("{touch}")',
        f"exec(\"open('{marker}', 'w').write('x')\")",
        f"eval(\"__import__('os').system('{touch}')\")",
        f"(lambda: __import__('os').system('{touch}'))()",
        "lambda x: x",
        "().__class__.__bases__[0].__subclasses__()",
        "__builtins__.open",
        "x.__class__",
        "__import__(os).system(touch)",
        f"compile('import os', 'x', 'exec'); open('{marker}', 'w')",
        "globals()['__builtins__']",
        "{}.__class__.__mro__",
        "1; import os",
        f'os.system("{touch}")',
        "[x for x in ().__class__.__base__.__subclasses__()]",
        f"getattr(__import__('os'), 'system')('{touch}')",
        f'"{touch}"',
        f'SYSTEM("{touch}")',
        'f\'{__import__("os").system("id")}\'',
    ]


def test_hostile_equations_never_execute(tmp_path: Path) -> None:
    local_marker = tmp_path / "flywheel_pwned"
    assert not MARKER.exists(), "marker exists before the test; remove /tmp/flywheel_pwned"
    for text in _hostile(MARKER) + _hostile(local_marker):
        try:
            result = parse(text)
        except ModelError:
            continue
        assert all(isinstance(node, AST_TYPES) for node in walk(result)), text
    assert not MARKER.exists()
    assert not local_marker.exists()


def test_hostile_text_that_parses_is_inert_data() -> None:
    # what does parse is plain data: names become canonical Vars and Calls, nothing runs
    assert parse("__import__(os)") == Call("_IMPORT_", (a("os"),))
    assert parse("x.__class__") == a("x._class_")
    assert parse(f'"touch {MARKER}"') == a(f"touch_{MARKER}".lower())
    assert not MARKER.exists()


def test_hostile_equation_in_a_model_fails_cleanly(tmp_path: Path) -> None:
    local_marker = tmp_path / "flywheel_pwned"
    payloads = _hostile(MARKER) + _hostile(local_marker)
    for text in payloads:
        quoted = "'" + text.replace("'", "''") + "'"
        yaml_text = (
            "name: hostile\n"
            "time: {stop: 1}\n"
            "stocks:\n"
            "  s: {initial: 0, inflows: [f]}\n"
            "flows:\n"
            f"  f: {quoted}\n"
        )
        try:
            loads_model(yaml_text, file="hostile.yaml")
        except ModelError as exc:
            message = str(exc)
            assert "hostile.yaml:6" in message, message
            assert exc.variable == "f"
            assert "\n" not in message
            continue
        # the text parsed: it can only be an inert AST, and compiling must reject it
        model = loads_model(yaml_text, file="hostile.yaml")
        with pytest.raises(ModelError):
            compile_model(model)
    assert not MARKER.exists()
    assert not local_marker.exists()
