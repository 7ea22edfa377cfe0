"""Units of measure as exact algebra: a scale factor times a product of named base units with
rational exponents (``USD million/year`` is 10⁶ · USD · year⁻¹).

Why our own and not pint: a system-dynamics unit check asks "do these two sides have the same
units?", where pint answers "can these be converted?". Pint converts silently (``month`` to
``year``, ``thousand`` to one), which is what the check must refuse: an equation that adds
``thousand sellers`` to ``sellers`` or uses a time constant in weeks in a model that runs in
years is wrong by a factor, and the factor must be reported, not applied. Pint would also need
every modeller's word (``people``, ``offers``, ``customer-years``) declared before use, and its
import costs more than the whole check. What is needed is small: products, quotients, powers
with constant exponents, scale words and aliases; it is exact here (``fractions.Fraction``), so
``(a/b)^0.5^2`` gives back ``a/b`` and equal units compare equal.

The grammar of a unit string (Vensim's and Stella's, and our YAML's):

- names: letters, digits and ``_``, ``$`` and ``%``; a hyphen joins words into their product
  (``customer-years`` is ``customer * year``, as ``person-hours``);
- ``*``, ``/``, ``^`` (a number, possibly negative or a fraction in parentheses) and
  parentheses; two names side by side multiply (``USD million`` = ``USD * million``);
- ``1``, ``dimensionless``, ``dmnl``, ``fraction``, ``unitless``, ``ratio``, ``index`` mean
  dimensionless; ``hundred``, ``thousand``, ``million``, ``billion``, ``trillion`` and
  ``percent``/``%`` are scale factors, kept and compared;
- names are matched ignoring case and a plural ``s`` (``sellers`` = ``seller``), ``people`` =
  ``person``, ``$``/``dollar``/``usd`` = ``USD``; time units have their usual short forms
  (``yr``, ``wk``, ``mo``). Models add their own aliases and definitions
  (:func:`unit_table`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from flywheel_sim.errors import ModelError

Dims = tuple[tuple[str, Fraction], ...]


@dataclass(frozen=True, slots=True)
class Unit:
    """``scale`` times the product of ``base ** exponent`` over ``dims`` (sorted, no zero
    exponents). Equal units compare equal."""

    scale: Fraction = Fraction(1)
    dims: Dims = ()

    def __mul__(self, other: Unit) -> Unit:
        merged = dict(self.dims)
        for name, power in other.dims:
            merged[name] = merged.get(name, Fraction(0)) + power
        return Unit(self.scale * other.scale, _dims(merged))

    def __truediv__(self, other: Unit) -> Unit:
        return self * other ** Fraction(-1)

    def __pow__(self, power: Fraction | int) -> Unit:
        power = Fraction(power)
        scale = _scale_power(self.scale, power)
        return Unit(scale, _dims({name: p * power for name, p in self.dims}))

    @property
    def dimensionless(self) -> bool:
        return not self.dims

    def same_dimensions(self, other: Unit) -> bool:
        return self.dims == other.dims

    def __str__(self) -> str:
        return format_unit(self)


DIMENSIONLESS = Unit()
_DIMENSIONLESS_WORDS = frozenset(
    {"1", "dimensionless", "dmnl", "fraction", "unitless", "ratio", "index", "none", "nil"}
)
SCALES: dict[str, Fraction] = {
    "hundred": Fraction(100),
    "thousand": Fraction(1000),
    "million": Fraction(10**6),
    "billion": Fraction(10**9),
    "trillion": Fraction(10**12),
    "percent": Fraction(1, 100),
    "%": Fraction(1, 100),
}
ALIASES: dict[str, str] = {
    "$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "people": "person",
    "persons": "person",
    "yr": "year",
    "annum": "year",
    "y": "year",
    "mo": "month",
    "wk": "week",
    "d": "day",
    "hr": "hour",
    "h": "hour",
    "min": "minute",
    "sec": "second",
    "s": "second",
    "deg": "degree",
}
TIME_UNITS = frozenset({"year", "quarter", "month", "week", "day", "hour", "minute", "second"})
_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][\w]*(?:-[A-Za-z_]\w*)*)"
    r"|(?P<symbol>[$%])|(?P<op>[*/^()-]))"
)
MAX_UNIT_TEXT = 400
_SYMBOL_NAME = re.compile(r"[^\s*/^()]+")  # '$s', '€', 'm²': a name that is not a word


def _dims(exponents: Mapping[str, Fraction]) -> Dims:
    return tuple(sorted((n, p) for n, p in exponents.items() if p != 0))


def _scale_power(scale: Fraction, power: Fraction) -> Fraction:
    if power.denominator == 1:
        return scale**power.numerator
    root = float(scale) ** float(power)  # a root of a scale: exact when it is a perfect power
    exact = Fraction(root).limit_denominator(10**9)
    return exact


def base_name(word: str) -> str:
    """The canonical name of one unit word: aliases, case and a plural ``s`` folded."""
    lower = word.lower()
    if lower in ALIASES:
        return ALIASES[lower]
    if lower.endswith("s") and len(lower) > 3 and not lower.endswith("ss"):
        singular = lower[:-1]
        return ALIASES.get(singular, singular)
    return lower


def format_unit(unit: Unit) -> str:
    """A readable form: ``thousand seller/year``, ``USD million/(person*year)``, ``1``."""
    scale = ""
    if unit.scale != 1:
        named = {v: k for k, v in SCALES.items() if k != "%"}
        scale = named.get(unit.scale, _number(unit.scale))
    top = [_power(n, p) for n, p in unit.dims if p > 0]
    bottom = [_power(n, -p) for n, p in unit.dims if p < 0]
    head = " ".join(x for x in (scale, "*".join(top)) if x) or "1"
    if not bottom:
        return head
    tail = bottom[0] if len(bottom) == 1 else "(" + "*".join(bottom) + ")"
    return f"{head}/{tail}"


def _power(name: str, power: Fraction) -> str:
    if power == 1:
        return name
    shown = str(power) if power.denominator == 1 else f"({power})"
    return f"{name}^{shown}"


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):g}"


class UnitTable:
    """How a model's unit words resolve: the built-in rules plus the model's own definitions
    (``name -> Unit``), which may be aliases (``customer: person``) or scaled units
    (``dozen: 12 item``)."""

    def __init__(self, definitions: Mapping[str, Unit] | None = None) -> None:
        self.definitions = {base_name(k): v for k, v in (definitions or {}).items()}
        # names that are not words (Stella's '$s' for dollars), matched whole between
        # spaces, operators and parentheses: '$s/year' is dollars per year
        self.symbols: dict[str, Unit] = {}

    def word(self, word: str) -> Unit:
        if "-" in word:  # 'customer-years' is customer * year, as 'person-hours'
            unit = DIMENSIONLESS
            for part in word.split("-"):
                unit = unit * self.word(part)
            return unit
        lower = word.lower()
        if lower in _DIMENSIONLESS_WORDS:
            return DIMENSIONLESS
        if lower in SCALES:
            return Unit(SCALES[lower])
        name = base_name(word)
        if name in self.definitions:
            return self.definitions[name]
        return Unit(Fraction(1), ((name, Fraction(1)),))

    def parse(self, text: str) -> Unit | None:
        """The unit a string names; None for an empty string (undeclared). ValueError with
        the reason for text that is not a unit."""
        text = text.strip()
        if not text:
            return None
        if len(text) > MAX_UNIT_TEXT:
            raise ValueError(f"a unit is at most {MAX_UNIT_TEXT} characters")
        return _Parser(text, self).parse()


def unit_table(raw: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> UnitTable:
    """A table from a model's ``units:`` definitions (``name: unit text``), resolved in order
    so that a definition may use earlier ones. ModelError names the bad definition."""
    table = UnitTable()
    items = raw.items() if isinstance(raw, Mapping) else raw
    for name, text in items:
        symbol = not re.fullmatch(r"[A-Za-z_][\w]*(?:-[A-Za-z_]\w*)*", name.strip())
        if symbol and not _SYMBOL_NAME.fullmatch(name.strip()):
            raise ModelError(
                f"unit name '{name}' must be a word (letters, digits, _ and -) or a symbol "
                "without spaces, operators or parentheses"
            )
        try:
            unit = table.parse(str(text))
        except ValueError as exc:
            raise ModelError(f"unit '{name}': {exc}", hint="write it like 'USD/year'") from None
        if unit is None:
            raise ModelError(f"unit '{name}' needs a definition", hint="e.g. customer: person")
        if symbol:
            table.symbols[name.strip()] = unit
            continue
        if unit == Unit(Fraction(1), ((base_name(name), Fraction(1)),)):
            continue  # 'person: people' names what the built-in rules already equate
        table.definitions[base_name(name)] = unit
    return table


class _Parser:
    """Recursive descent over the unit grammar (precedence: ``^`` over ``*``, ``/`` and
    juxtaposition, which group left to right)."""

    def __init__(self, text: str, table: UnitTable) -> None:
        self.text = text
        self.table = table
        self.tokens = self._tokenise(text)
        self.at = 0

    def _tokenise(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos].isspace():
                pos += 1
                continue
            symbol = _SYMBOL_NAME.match(text, pos)
            if symbol is not None and symbol.group() in self.table.symbols:
                out.append(("unit", symbol.group()))
                pos = symbol.end()
                continue
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"unexpected '{text[pos]}' in unit '{text}'")
            kind = match.lastgroup or "op"
            out.append((kind, match.group(kind)))
            pos = match.end()
        return out

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Unit:
        unit = self.product()
        if self.peek() is not None:
            raise ValueError(f"unexpected '{self.peek()[1]}' in unit '{self.text}'")  # type: ignore[index]
        return unit

    def product(self) -> Unit:
        unit = self.power()
        while (token := self.peek()) is not None:
            if token == ("op", "*"):
                self.take()
                unit = unit * self.power()
            elif token == ("op", "/"):
                self.take()
                unit = unit / self.power()
            elif token[0] in ("name", "number", "symbol", "unit") or token == ("op", "("):
                unit = unit * self.power()  # juxtaposition: 'USD million'
            else:
                break
        return unit

    def power(self) -> Unit:
        unit = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            unit = unit ** self.exponent()
        return unit

    def exponent(self) -> Fraction:
        sign = 1
        token = self.peek()
        if token == ("op", "("):
            self.take()
            value = self.exponent()
            if self.peek() == ("op", "/"):
                self.take()
                value = value / self.exponent()
            if self.peek() != ("op", ")"):
                raise ValueError(f"missing ')' in unit '{self.text}'")
            self.take()
            return value
        if token is not None and token[1] == "-":
            self.take()
            sign = -1
        token = self.peek()
        if token is None or token[0] != "number":
            raise ValueError(f"an exponent must be a number in unit '{self.text}'")
        self.take()
        return sign * Fraction(token[1])

    def atom(self) -> Unit:
        token = self.peek()
        if token is None:
            raise ValueError(f"unit '{self.text}' ends too early")
        kind, text = self.take()
        if kind == "op" and text == "(":
            unit = self.product()
            if self.peek() != ("op", ")"):
                raise ValueError(f"missing ')' in unit '{self.text}'")
            self.take()
            return unit
        if kind == "number":
            value = Fraction(text)
            if value == 1:
                return DIMENSIONLESS
            return Unit(value)
        if kind == "unit":  # a symbol the model defines ('$s')
            return self.table.symbols[text]
        if kind in ("name", "symbol"):
            return self.table.word(text)
        raise ValueError(f"unexpected '{text}' in unit '{self.text}'")


__all__ = [
    "DIMENSIONLESS",
    "TIME_UNITS",
    "Unit",
    "UnitTable",
    "base_name",
    "format_unit",
    "unit_table",
]
