"""Dimensional analysis of a model: every equation's units against what its variable declares.

The check infers the units of each expression from the units its variables declare
(:mod:`flywheel_sim.spec.units`) and reports, one :class:`UnitIssue` each:

- both sides of ``+``, ``-``, comparisons, ``MOD``, ``MIN``/``MAX``/``MEAN`` and the two
  branches of ``IF`` that differ;
- an equation whose units differ from its variable's declared unit (a stock's initial value
  included);
- a flow whose units are not its stock's units per time unit;
- builtins used against their signature: ``SMTH1(x, t)``, the delays, ``TREND``, ``FORCST``
  need ``t`` in the model's time unit; ``STEP``/``PULSE``/``RAMP`` times too; ``EXP``, ``LN``,
  trigonometry and exponents need dimensionless arguments; a power with a variable exponent
  needs a dimensionless base.

Numbers written in equations are wildcards, as Vensim treats them: in a sum they take the
units of the other side, in a product they are dimensionless. A variable that declares no
unit is unknown: nothing involving it is reported (``flywheel check`` counts such variables).
Scale factors are part of the units (``thousand sellers`` is not ``sellers``), and time units
are not converted into each other: both are the kind of error the check is for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, VarList, to_text
from flywheel_sim.spec.builtins import ALIASES, CONSTANT_NAMES
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse
from flywheel_sim.spec.units import DIMENSIONLESS, Unit, UnitTable, format_unit

if TYPE_CHECKING:
    from flywheel_sim.spec.model import Element, Model


class _Wild:
    """A number written in an equation: takes the units its context needs."""

    def __repr__(self) -> str:
        return "WILD"


WILD = _Wild()
Inferred = Unit | _Wild | None  # None: unknown (a variable that declares no unit)


@dataclass(frozen=True, slots=True)
class UnitIssue:
    """One inconsistency: where (file, line, variable), what, the units met, and a hint."""

    variable: str
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        place = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        text = f"{place}: {self.variable}: {self.message}" if place else f"{self.variable}: "
        if not place:
            text += self.message
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True, slots=True)
class UnitReport:
    """The outcome of :func:`check_units`: the issues, and the variables without units."""

    issues: tuple[UnitIssue, ...]
    undeclared: tuple[str, ...]
    checked: int

    @property
    def ok(self) -> bool:
        return not self.issues


_TIMED = {  # builtins whose listed argument positions are durations or times
    "SMTH1": (1,),
    "SMTH3": (1,),
    "SMTHN": (1,),
    "DELAY1": (1,),
    "DELAY3": (1,),
    "DELAYN": (1,),
    "DELAY": (1,),
    "TREND": (1,),
    "FORCST": (1, 2),
    "STEP": (1,),
    "PULSE": (1, 2),
    "RAMP": (1, 2),
    "HISTORY": (1,),
    "DELAY_FIXED": (1,),
    "DELAY_MATERIAL": (1,),
    "DELAY_N": (1,),
    "SMOOTH_N": (1,),
    "SAFE_TREND": (1,),
    "SAFE_FORECAST": (1, 2),
}
_DIMENSIONLESS_ARGUMENT = frozenset(
    {"EXP", "LN", "LOG10", "SIN", "COS", "TAN", "ARCSIN", "ARCCOS", "ARCTAN"}
)
_SAME_AS_FIRST = frozenset({"ABS", "INT", "INIT", "SUM", "EXPRND", "POISSON", "HISTORY", "MODULO"})
_SAME_AS_FIRST |= {"GAME", "SAFE_FORECAST", "TRUNC"}
_ALL_ALIKE = frozenset({"MIN", "MAX", "MEAN", "RANDOM", "NORMAL", "LOGNORMAL", "ACTIVE_INITIAL"})


class _Checker:
    def __init__(self, model: Model, table: UnitTable) -> None:
        self.model = model
        self.table = table
        self.issues: list[UnitIssue] = []
        self.units: dict[str, Unit | None] = {}
        self.lookups = {e.key for e in model.elements if e.kind == "lookup"}
        self.time = self._time_unit()
        for element in model.elements:
            self.units[element.key] = self._declared(element)
        self.element: Element | None = None

    def _time_unit(self) -> Unit | None:
        try:
            return self.table.parse(self.model.time.units)
        except ValueError:
            return None

    def _declared(self, element: Element) -> Unit | None:
        try:
            return self.table.parse(element.unit)
        except ValueError as exc:
            self.report(element, f"unit '{element.unit}' cannot be read: {exc}", "e.g. 'USD/year'")
            return None

    # -- reporting ------------------------------------------------------------------------
    def report(self, element: Element | None, message: str, hint: str = "") -> None:
        target = element or self.element
        self.issues.append(
            UnitIssue(
                variable=target.name if target else "",
                message=message,
                hint=hint,
                file=self.model.file,
                line=target.line if target else None,
            )
        )

    # -- inference ------------------------------------------------------------------------
    def infer(self, expr: Expr) -> Inferred:
        if isinstance(expr, Num):
            return WILD
        if isinstance(expr, Var):
            return self._var(expr)
        if isinstance(expr, Unary):
            inner = self.infer(expr.operand)
            return DIMENSIONLESS if expr.op == "NOT" else inner
        if isinstance(expr, Binary):
            return self._binary(expr)
        if isinstance(expr, If):
            self.infer(expr.cond)
            return self.alike([expr.then, expr.orelse], "the branches of IF")
        if isinstance(expr, Call):
            return self._call(expr)
        if isinstance(expr, VarList):
            return self.alike(list(expr.items), "the items of the list")
        return None

    def _var(self, expr: Var) -> Inferred:
        key = canonical(expr.name)
        if key in self.units:
            return self.units[key]
        builtin = CONSTANT_NAMES.get(key)
        if builtin in ("TIME", "DT", "STARTTIME", "STOPTIME"):
            return self.time
        if builtin == "PI":
            return WILD
        return None

    def _binary(self, expr: Binary) -> Inferred:
        op = expr.op
        if op in ("+", "-", "MOD"):
            return self.alike([expr.left, expr.right], f"the two sides of '{op}'")
        if op in ("=", "<>", "<", "<=", ">", ">="):
            self.alike([expr.left, expr.right], f"the two sides of '{op}'")
            return DIMENSIONLESS
        if op in ("AND", "OR"):
            self.infer(expr.left)
            self.infer(expr.right)
            return DIMENSIONLESS
        left, right = self.infer(expr.left), self.infer(expr.right)
        if op in ("*", "/"):
            self._conversion(expr, left, right)
            if left is None or right is None:
                return None
            if left is WILD and right is WILD:
                return WILD
            a = DIMENSIONLESS if isinstance(left, _Wild) else left
            b = DIMENSIONLESS if isinstance(right, _Wild) else right
            return a * b if op == "*" else a / b
        if op == "^":
            return self._power(expr, left, right)
        return None

    def _conversion(self, expr: Binary, left: Inferred, right: Inferred) -> None:
        """A power of ten multiplying or dividing a scaled quantity is a unit conversion
        written as a number, which the check cannot see (numbers are dimensionless in a
        product): ask for it in units instead."""
        for number, other in ((expr.left, right), (expr.right, left)):
            value = number.value if isinstance(number, Num) else None
            if value is None or not isinstance(other, Unit) or other.scale == 1:
                continue
            if value > 0 and value != 1 and math.log10(value).is_integer() and value != 10:
                self.report(
                    None,
                    f"'{to_text(expr)}' converts {format_unit(other)} with the number "
                    f"{value:g}, which the unit check cannot see",
                    "declare the conversion as a parameter with units (e.g. 0.001 in "
                    "'million/thousand') or change the variables' units",
                )

    def _power(self, expr: Binary, base: Inferred, exponent: Inferred) -> Inferred:
        if isinstance(exponent, Unit) and not exponent.dimensionless:
            self.report(
                None,
                f"the exponent of '^' has units {format_unit(exponent)}",
                "an exponent must be dimensionless",
            )
        if not isinstance(base, Unit):
            return base
        constant = _constant(expr.right)
        if constant is not None:
            try:
                return base ** Fraction(constant).limit_denominator(1000)
            except (OverflowError, ZeroDivisionError):
                return None
        if not base.dimensionless:
            self.report(
                None,
                f"a power with a variable exponent of {format_unit(base)}",
                "raise a dimensionless ratio (x / reference) to a variable power",
            )
            return None
        return DIMENSIONLESS

    def alike(self, exprs: list[Expr], what: str) -> Inferred:
        """Infer each expression; report if two declared units differ; the common unit."""
        found: list[tuple[Expr, Inferred]] = [(e, self.infer(e)) for e in exprs]
        known = [(e, u) for e, u in found if isinstance(u, Unit)]
        if any(u is None for _, u in found) and not known:
            return None
        if not known:
            return WILD
        first_expr, first = known[0]
        for other_expr, other in known[1:]:
            if other != first:
                self.report(
                    None,
                    f"{what} differ: {_show(first_expr)} is {format_unit(first)}, "
                    f"{_show(other_expr)} is {format_unit(other)}",
                    _hint(first, other),
                )
                return None  # one report per mistake: what follows from it stays quiet
        return first

    def _call(self, expr: Call) -> Inferred:
        name = ALIASES.get(expr.func, expr.func)
        key = canonical(expr.func)
        if key in self.lookups:
            table = self.model.element(key).lookup
            for arg in expr.args:
                self.expect_input(arg, table.x_unit if table else "", expr.func.lower())
            return self.units.get(key)
        args = list(expr.args)
        for position in _TIMED.get(name, ()):
            if position < len(args):
                self.expect_time(args[position], name)
        if name in _DIMENSIONLESS_ARGUMENT and args:
            unit = self.infer(args[0])
            if isinstance(unit, Unit) and not unit.dimensionless:
                self.report(
                    None,
                    f"{name} of {_show(args[0])}, which is {format_unit(unit)}",
                    f"{name} needs a dimensionless argument",
                )
            return DIMENSIONLESS
        if name == "SQRT" and args:
            unit = self.infer(args[0])
            return unit ** Fraction(1, 2) if isinstance(unit, Unit) else unit
        if name in _SAME_AS_FIRST and args:
            return self.infer(args[0])
        if name in _ALL_ALIKE:
            count = 2 if name in ("RANDOM", "NORMAL", "LOGNORMAL") else len(args)
            return self.alike(args[:count], f"the arguments of {name}")
        if name in ("IF_THEN_ELSE",) and len(args) == 3:
            self.infer(args[0])
            return self.alike(args[1:], "the branches of IF_THEN_ELSE")
        if name in ("SAFEDIV", "ZIDZ", "XIDZ") and len(args) >= 2:
            a, b = self.infer(args[0]), self.infer(args[1])
            if a is None or b is None:
                return None
            ratio = (DIMENSIONLESS if isinstance(a, _Wild) else a) / (
                DIMENSIONLESS if isinstance(b, _Wild) else b
            )
            if len(args) == 3:
                c = self.infer(args[2])
                if isinstance(c, Unit) and c != ratio:
                    self.report(
                        None,
                        f"SAFEDIV's fallback is {format_unit(c)} but a/b is {format_unit(ratio)}",
                        _hint(ratio, c),
                    )
            return ratio
        if name in ("SMTH1", "SMTH3", "DELAY1", "DELAY3", "DELAY", "SMTHN", "DELAYN", "FORCST") or (
            name in ("DELAY_FIXED", "DELAY_MATERIAL", "DELAY_N", "SMOOTH_N")
        ):
            initial = {"SMTHN": 3, "DELAYN": 3, "FORCST": 3}.get(name, 2)
            if name in ("SMTHN", "DELAYN") and len(args) > 2:
                self.expect_dimensionless(args[2], f"the order of {name}")
            if name == "FORCST" and len(args) > initial:
                self.infer(args[initial])  # an initial trend: 1/time, not the input's units
                return self.infer(args[0])
            return self.alike(
                [args[0], *args[initial : initial + 1]], f"{name}'s input and initial value"
            )
        if name == "SAMPLE_IF_TRUE" and len(args) == 3:
            self.infer(args[0])
            return self.alike(args[1:], "SAMPLE_IF_TRUE's input and initial value")
        if name in ("TREND", "SAFE_TREND"):
            self.infer(args[0])
            return DIMENSIONLESS / self.time if self.time is not None else None
        if name == "PREVIOUS":
            return self.alike(args[:2], "PREVIOUS's input and initial value")
        if name == "STEP":
            return self.infer(args[0])
        if name == "PULSE":
            volume = self.infer(args[0])
            if isinstance(volume, Unit) and self.time is not None:
                return volume / self.time
            return volume
        if name == "RAMP":
            slope = self.infer(args[0])
            if isinstance(slope, Unit) and self.time is not None:
                return slope * self.time
            return slope
        if name == "PROD":
            unit = self.infer(args[0])
            return unit if not isinstance(unit, Unit) or unit.dimensionless else None
        if name in ("TIME", "DT", "STARTTIME", "STOPTIME"):
            return self.time
        for arg in args:
            self.infer(arg)
        return None  # macros and anything else: unknown

    def expect_time(self, expr: Expr, name: str) -> None:
        unit = self.infer(expr)
        if isinstance(unit, Unit) and self.time is not None and unit != self.time:
            self.report(
                None,
                f"{name} needs a time in {format_unit(self.time)}, and {_show(expr)} is "
                f"{format_unit(unit)}",
                _hint(self.time, unit),
            )

    def expect_input(self, expr: Expr, declared: str, what: str) -> None:
        """A lookup's input against the input unit its table declares (if it does)."""
        unit = self.infer(expr)
        try:
            wanted = self.table.parse(declared)
        except ValueError as exc:
            self.report(None, f"the input unit '{declared}' of {what} cannot be read: {exc}")
            return
        if isinstance(unit, Unit) and wanted is not None and unit != wanted:
            self.report(
                None,
                f"{what} takes {format_unit(wanted)} and is given {_show(expr)}, which is "
                f"{format_unit(unit)}",
                _hint(wanted, unit),
            )

    def expect_dimensionless(self, expr: Expr, what: str) -> None:
        unit = self.infer(expr)
        if isinstance(unit, Unit) and not unit.dimensionless:
            self.report(None, f"{what} is {format_unit(unit)}", "it must be dimensionless")

    # -- elements -------------------------------------------------------------------------
    def check(self) -> None:
        for element in self.model.elements:
            self.element = element
            if element.kind in ("parameter", "lookup"):
                continue
            declared = self.units.get(element.key)
            equations = [element.equation, *(eq for _, eq in element.element_equations)]
            for text in equations:
                if not text.strip():
                    continue
                try:
                    tree = parse(text)
                except ModelError:
                    continue  # the compiler reports syntax errors
                if element.lookup is not None:  # the equation is the lookup's input
                    self.expect_input(tree, element.lookup.x_unit, f"the lookup of {element.name}")
                    continue
                found = self.infer(tree)
                if isinstance(found, Unit) and declared is not None and found != declared:
                    what = "initial value" if element.kind == "stock" else "equation"
                    self.report(
                        element,
                        f"the {what} gives {format_unit(found)} but the variable declares "
                        f"{format_unit(declared)}",
                        _hint(declared, found),
                    )
            if element.kind == "stock":
                self._flows(element, declared)

    def _flows(self, stock: Element, declared: Unit | None) -> None:
        if declared is None or self.time is None:
            return
        wanted = declared / self.time
        for name in (*stock.inflows, *stock.outflows):
            flow = self.units.get(canonical(name))
            if flow is not None and flow != wanted:
                self.report(
                    stock,
                    f"flow '{name}' is {format_unit(flow)} but the stock needs "
                    f"{format_unit(wanted)} (its units per {format_unit(self.time)})",
                    _hint(wanted, flow),
                )


def _constant(expr: Expr) -> float | None:
    """The value of an exponent written with numbers only (``2``, ``-1``, ``1/3``)."""
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Unary) and expr.op in ("-", "+"):
        inner = _constant(expr.operand)
        return None if inner is None else (-inner if expr.op == "-" else inner)
    if isinstance(expr, Binary) and expr.op in ("+", "-", "*", "/"):
        a, b = _constant(expr.left), _constant(expr.right)
        if a is None or b is None:
            return None
        if expr.op == "/":
            return None if b == 0 else a / b
        return {"+": a + b, "-": a - b, "*": a * b}[expr.op]
    return None


def _show(expr: Expr) -> str:
    text = to_text(expr)
    return f"'{text}'" if len(text) <= 40 else f"'{text[:37]}...'"


def _hint(wanted: Unit, found: Unit) -> str:
    if wanted.same_dimensions(found) and wanted.scale != found.scale:
        factor = wanted.scale / found.scale
        shown = f"{float(factor):g}" if factor.denominator != 1 else str(factor.numerator)
        return f"the scales differ by a factor of {shown}: convert one side"
    ratio = found / wanted
    return f"the two differ by {format_unit(ratio)}"


def check_units(model: Model, table: UnitTable | None = None) -> UnitReport:
    """Check every equation of ``model`` for consistent units (see the module's notes)."""
    checker = _Checker(model, table or model_unit_table(model))
    checker.check()
    undeclared = tuple(e.name for e in model.elements if not e.unit.strip() and e.kind != "lookup")
    checked = sum(1 for e in model.elements if e.kind not in ("parameter", "lookup"))
    return UnitReport(tuple(checker.issues), undeclared, checked)


def model_unit_table(model: Model) -> UnitTable:
    """The unit words of ``model``: the built-in rules and the model's own ``units:``."""
    from flywheel_sim.spec.units import unit_table

    return unit_table(model.units)


__all__ = ["UnitIssue", "UnitReport", "check_units", "model_unit_table"]
