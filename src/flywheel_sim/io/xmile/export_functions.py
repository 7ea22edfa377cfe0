"""Our builtins that XMILE 1.0 does not have, written as standard XMILE when that is exact, or
refused (for :mod:`flywheel_sim.io.xmile.writer`).

Most of these come from Vensim files (io/mdl/functions.py turns Vensim's functions into them).
Each expansion is the one the compiler itself uses for the builtin (compile/emit.py,
compile/stateful_vensim.py), written with XMILE 1.0's builtins (§3.5: INT, MIN, MAX, TIME,
DT, SMTH1, SMTHN, DELAYN, DELAY, INIT, PREVIOUS(SELF, ...)) and IF THEN ELSE, so that another
tool, and our own reader, computes what our engine computes:

- TRUNC(x), Vensim's INTEGER: ``IF x < 0 THEN -INT(-x) ELSE INT(x)``; MODULO(a, b) as
  ``a - b * TRUNC(a / b)`` with that; GAME(x) as x; TIME_BASE(s, k) as ``s + TIME * k``;
- ZIDZ(a, b) / XIDZ(a, b, x): ``IF b = 0 THEN 0 (x) ELSE a / b``;
- PULSE_WINDOW / PULSE_TRAIN: IFs on ``TIME + DT / 2``, as Vensim's PULSE and PULSE TRAIN;
- DELAY_FIXED(in, t, init): XMILE's DELAY by ``INIT(MAX(1, INT(t / DT + 0.5)) * DT)``, a
  whole number of steps fixed at the start, from ``INIT(init)``;
- DELAY_N / SMOOTH_N: DELAYN / SMTHN with the order Vensim uses (lowered at the start to the
  steps in the delay when fewer), which needs the order and the delay's start value to be
  constants of the model (and, for DELAY N, whose stage times travel with the material, the
  delay time constant throughout);
- SAFE_TREND / SAFE_FORECAST: Vensim's TREND and FORECAST, with an SMTH1 for the average;
- SAMPLE_IF_TRUE(c, in, init) as a whole equation: ``IF c THEN in ELSE PREVIOUS(SELF, init)``;
- ELMCOUNT(Dim): the number of elements.

So that pysimlin and PySD read what they read differently (docs/xmile.md, "Other tools"):
isee's SAFEDIV(a, b[, c]) as ``IF b = 0 THEN c ELSE a / b`` (PySD 3.14.3 reads SAFEDIV as
Vensim's ZIDZ/XIDZ, which also give c for 0 < |b| < 1e-6), kept when b draws random numbers
(two draws would differ); STARTTIME as ``INIT(TIME)`` (PySD knows no STARTTIME); whole
numbers written with a decimal point, ``7.0`` (:func:`float_literals`).

Refused (one line naming the variable and the function; YAML keeps every function): ACTIVE
INITIAL (no initial-value equation in XMILE 1.0), Vensim's random functions (truncated
distributions, streams), the vector functions and ALLOCATE BY PRIORITY, and NPV (not in XMILE
1.0; isee's NPV is not checked to be Vensim's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import ARITHMETIC, Binary, Call, Expr, If, Num, Unary, Var, walk
from flywheel_sim.spec.builtins import ALIASES
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse, tokenize
from flywheel_sim.spec.size import MAX_ORDER

# written as they are: XMILE 1.0's builtins (§3.5), and isee's HISTORY
_STANDARD_NAMES = (
    "ABS SQRT EXP LN LOG10 SIN COS TAN ARCSIN ARCCOS ARCTAN INT MOD PI INF MIN MAX TIME DT "
    "STARTTIME STOPTIME STEP PULSE RAMP SMTH1 SMTH3 SMTHN DELAY1 DELAY3 DELAYN DELAY TREND "
    "FORCST INIT PREVIOUS RANDOM NORMAL LOGNORMAL EXPRND POISSON SUM MEAN PROD STDDEV SIZE "
    "RANK LOOKUP IF_THEN_ELSE HISTORY"
)
STANDARD = frozenset(_STANDARD_NAMES.split())
# XMILE's functions that draw random numbers: an expression with one is not written twice
RANDOM_DRAWS = frozenset({"RANDOM", "NORMAL", "LOGNORMAL", "EXPRND", "POISSON"})
# the argument (from 0) of these that is an order: written as a whole number (PySD: a count)
ORDER_ARGUMENT = {"SMTHN": 2, "DELAYN": 2}
# refused: the function as the user knows it, and why XMILE cannot hold it
REFUSED = {
    "ACTIVE_INITIAL": ("Vensim's ACTIVE INITIAL", "XMILE 1.0 has no initial-value equation"),
    "NPV": ("NPV", "XMILE 1.0 has no NPV, and isee's is not known to be Vensim's"),
    "NPVE": ("Vensim's NPVE", "XMILE 1.0 has no NPV"),
    "ELEMENT_AT": ("Vensim's VECTOR ELM MAP", "XMILE 1.0 has no such vector function"),
    "VECTOR_RANK": ("Vensim's VECTOR RANK", "XMILE 1.0 has no such vector function"),
    "VECTOR_SORT_ORDER": ("Vensim's VECTOR SORT ORDER", "XMILE 1.0 has no such vector function"),
    "VECTOR_SELECT": ("Vensim's VECTOR SELECT", "XMILE 1.0 has no such vector function"),
    "ALLOCATE_BY_PRIORITY": ("Vensim's ALLOCATE BY PRIORITY", "XMILE 1.0 has no such function"),
    "ALLOCATE_AVAILABLE": ("Vensim's ALLOCATE AVAILABLE", "XMILE 1.0 has no such function"),
    "INVERT_MATRIX": ("Vensim's INVERT MATRIX", "XMILE 1.0 has no matrix functions"),
    "RANDOM_BINOMIAL": ("Vensim's RANDOM BINOMIAL", "XMILE 1.0 has no binomial draws"),
    "RANDOM_NEGATIVE_BINOMIAL": (
        "Vensim's RANDOM NEGATIVE BINOMIAL",
        "XMILE 1.0 has no negative binomial draws",
    ),
    "DELAY_MATERIAL": (
        "Vensim's DELAY MATERIAL",
        "its delay time must be checked constant, which XMILE 1.0 cannot say",
    ),
    **{
        f"RANDOM_{kind}": (
            f"Vensim's RANDOM {kind}",
            "XMILE 1.0's random functions draw neither truncated nor from Vensim's streams",
        )
        for kind in ("UNIFORM", "NORMAL", "EXPONENTIAL", "POISSON", "TRIANGULAR", "BETA", "WEIBULL")
    },
}
WHAT_TO_DO = "convert to .yaml, which keeps every function"
TIME, DT = Var("time"), Var("dt")


def _int(x: Expr) -> Expr:
    return Call("INT", (x,))


def _trunc(x: Expr) -> Expr:
    """Rounded toward zero, from INT (the floor), as compile/emit.py computes TRUNC."""
    return If(Binary("<", x, Num(0.0)), Unary("-", _int(Unary("-", x))), _int(x))


def _modulo(a: Expr, b: Expr) -> Expr:
    return Binary("-", a, Binary("*", b, _trunc(Binary("/", a, b))))


def _safe_div(a: Expr, b: Expr, fallback: Expr) -> Expr:
    """a / b, or fallback where b is exactly 0 (as compile/emit.py computes SAFEDIV); isee's
    SAFEDIV when b draws random numbers, which the IF would draw twice."""
    if any(isinstance(n, Call) and n.func in RANDOM_DRAWS for n in walk(b)):
        return Call("SAFEDIV", (a, b, fallback))
    return If(Binary("=", b, Num(0.0)), fallback, Binary("/", a, b))


def _pulse(start: Expr, width: Expr, end: Expr | None, interval: Expr | None) -> Expr:
    """Vensim's PULSE (end None) and PULSE TRAIN: 1 while TIME + DT/2 is after start and
    before start + MAX(width, DT) (repeated every interval while before end + DT)."""
    plus = Binary("+", TIME, Binary("/", DT, Num(2.0)))
    width = Call("MAX", (width, DT))
    after = Binary(">", plus, start)
    if end is None or interval is None:
        on = Binary("AND", after, Binary("<", plus, Binary("+", start, width)))
    else:
        within = Binary("AND", after, Binary("<", plus, Binary("+", end, DT)))
        phase = _modulo(Binary("-", plus, start), interval)
        on = Binary("AND", within, Binary("<", phase, width))
    return If(on, Num(1.0), Num(0.0))


def _trend(source: Expr, time: Expr, initial: Expr) -> Expr:
    """Vensim's TREND: (input - average) / (time * |average|), 0 when that is 0."""
    start = Binary("/", source, Binary("+", Num(1.0), Binary("*", initial, time)))
    average = Call("SMTH1", (source, time, start))
    scale = Binary("*", time, Call("ABS", (average,)))
    return _safe_div(Binary("-", source, average), scale, Num(0.0))


def _forecast(source: Expr, time: Expr, horizon: Expr) -> Expr:
    average = Call("SMTH1", (source, time, source))
    trend = _safe_div(Binary("-", source, average), Binary("*", time, average), Num(0.0))
    return Binary("*", source, Binary("+", Num(1.0), Binary("*", trend, horizon)))


def _delay_fixed(source: Expr, lag: Expr, initial: Expr) -> Expr:
    steps = _int(Binary("+", Binary("/", lag, DT), Num(0.5)))
    fixed = Call("INIT", (Binary("*", Call("MAX", (Num(1.0), steps)), DT),))
    return Call("DELAY", (source, fixed, Call("INIT", (initial,))))


SIMPLE: dict[str, Callable[[tuple[Expr, ...]], Expr]] = {
    "TRUNC": lambda a: _trunc(a[0]),
    "MODULO": lambda a: _modulo(a[0], a[1]),
    "GAME": lambda a: a[0],
    "TIME_BASE": lambda a: Binary("+", a[0], Binary("*", TIME, a[1])),
    "SAFEDIV": lambda a: _safe_div(a[0], a[1], a[2] if len(a) > 2 else Num(0.0)),
    "ZIDZ": lambda a: _safe_div(a[0], a[1], Num(0.0)),
    "XIDZ": lambda a: _safe_div(a[0], a[1], a[2]),
    "PULSE_WINDOW": lambda a: _pulse(a[0], a[1], None, None),
    "PULSE_TRAIN": lambda a: _pulse(a[0], a[1], a[3], a[2]),
    "DELAY_FIXED": lambda a: _delay_fixed(*a),
    "SAFE_TREND": lambda a: _trend(*a),
    "SAFE_FORECAST": lambda a: _forecast(*a),
}
EXPANDED = frozenset(SIMPLE) | {"DELAY_N", "SMOOTH_N", "SAMPLE_IF_TRUE", "ELMCOUNT"}


@dataclass
class FunctionExport:
    """Writes one model's calls of non-XMILE builtins; ``variable`` is the one being written
    (for SELF and the messages), set by the writer."""

    model: Model
    variable: str = ""
    elements: dict[str, tuple[str, str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for e in self.model.elements:
            self.elements[e.key] = (e.kind, e.equation if not e.dims else "", e.default)

    def refuse(self, func: str, why: str) -> ModelError:
        return ModelError(f"variable '{self.variable}' uses {func}: {why}", hint=WHAT_TO_DO)

    def call(
        self, func: str, original: tuple[Expr, ...], args: tuple[Expr, ...], whole: bool
    ) -> Expr:
        """The XMILE form of ``func(args)`` (``original``: the arguments before renaming;
        ``whole``: the call is the whole equation)."""
        func = ALIASES.get(func, func)
        if func in STANDARD:
            return Call(func, args)
        if func in SIMPLE:
            return SIMPLE[func](args)
        if func in REFUSED:
            name, why = REFUSED[func]
            raise self.refuse(name, why)
        if func in ("DELAY_N", "SMOOTH_N"):
            return self.order_n(func, original, args)
        if func == "SAMPLE_IF_TRUE":
            return self.sample_if_true(original, args, whole)
        if func == "ELMCOUNT":
            return self.elmcount(original)
        return Call(func, args)  # not a builtin: the compiler says what is wrong

    def order_n(self, func: str, original: tuple[Expr, ...], args: tuple[Expr, ...]) -> Expr:
        """DELAY_N / SMOOTH_N as DELAYN / SMTHN of the order Vensim uses: its order and the
        delay's value at the start (as compile/orders.py finds them), the order lowered to
        the steps in the delay when fewer (compile/stateful_vensim.py); DELAY N's stage times
        travel with the material, so its delay time must be a constant to be DELAYN's."""
        vensim = "Vensim's DELAY N" if func == "DELAY_N" else "Vensim's SMOOTH N"
        xmile = "DELAYN" if func == "DELAY_N" else "SMTHN"
        n, time = self.value(original[3], True, 0), self.value(original[1], True, 0)
        if func == "DELAY_N" and self.value(original[1], False, 0) is None:
            raise self.refuse(vensim, f"its delay time varies or is not known, unlike {xmile}'s")
        if n is None or time is None:
            raise self.refuse(
                vensim, f"its order and time must be known at the start to write it as {xmile}"
            )
        if n != int(n) or not 1 <= n <= MAX_ORDER:
            raise self.refuse(vensim, f"its order must be a whole number from 1 to {MAX_ORDER}")
        steps = math.floor(time / self.model.time.dt + 1e-9)
        order = min(int(n), max(1, steps))
        return Call(xmile, (args[0], args[1], Num(float(order)), args[2]))

    def sample_if_true(
        self, original: tuple[Expr, ...], args: tuple[Expr, ...], whole: bool
    ) -> Expr:
        own = canonical(self.variable)
        mentions = any(isinstance(n, Var) and n.name == own for a in original for n in walk(a))
        if not whole or mentions:
            raise self.refuse(
                "Vensim's SAMPLE IF TRUE",
                "XMILE writes it as PREVIOUS(SELF, ...), so it must be the whole equation and "
                "not name its own variable",
            )
        return If(args[0], args[1], Call("PREVIOUS", (Var("SELF"), args[2])))

    def elmcount(self, original: tuple[Expr, ...]) -> Expr:
        arg = original[0]
        for dim in self.model.dimensions:
            if isinstance(arg, Var) and canonical(dim.name) == arg.name:
                return Num(float(len(dim.elements)))
        raise self.refuse("ELMCOUNT", "its argument is not a dimension of the model")

    def value(self, expr: Expr, start: bool, depth: int) -> float | None:
        """``expr``'s value when made of numbers, DT and the model's scalar constants
        (parameters, auxiliaries with such an equation), else None; with ``start``, its value
        at the start time, TIME, STEP, MIN, MAX, INT, ABS and IF folded too (as
        compile/orders.py finds Vensim's order)."""
        if depth > 50:
            return None
        if isinstance(expr, Num):
            return expr.value
        if isinstance(expr, Var) and not expr.subscripts:
            return self.value_of(expr.name, start, depth)
        if isinstance(expr, Unary) and expr.op in ("-", "+"):
            inner = self.value(expr.operand, start, depth + 1)
            return None if inner is None else (-inner if expr.op == "-" else inner)
        if isinstance(expr, Binary) and expr.op in ARITHMETIC:
            a, b = (self.value(x, start, depth + 1) for x in (expr.left, expr.right))
            try:
                return None if a is None or b is None else ARITHMETIC[expr.op](a, b)
            except (ArithmeticError, ValueError):
                return None
        if not start or not isinstance(expr, Call | If):
            return None
        parts = (expr.cond, expr.then, expr.orelse) if isinstance(expr, If) else expr.args
        found = [self.value(x, start, depth + 1) for x in parts]
        known = [x for x in found if x is not None]
        func = "IF_THEN_ELSE" if isinstance(expr, If) else expr.func
        if len(known) != len(found):
            return None
        return _folded(func, known, self.model.time.start)

    def value_of(self, name: str, start: bool, depth: int) -> float | None:
        if name == "dt":
            return self.model.time.dt
        if name in ("time", "starttime"):
            return self.model.time.start if start else None
        kind, equation, default = self.elements.get(name, ("", "", None))
        if kind == "parameter" and isinstance(default, int | float):
            return float(default)
        if kind == "aux" and equation.strip():
            return self.value(parse(equation), start, depth + 1)
        return None


def _folded(func: str, args: list[float], start: float) -> float | None:
    """A function of known arguments at the start time (compile/orders.py's set)."""
    if func == "STEP" and len(args) == 2:
        return args[0] if start >= args[1] else 0.0
    if func in ("MIN", "MAX") and args:
        return min(args) if func == "MIN" else max(args)
    if func in ("INT", "ABS") and len(args) == 1:
        return float(math.floor(args[0])) if func == "INT" else abs(args[0])
    if func == "IF_THEN_ELSE" and len(args) == 3:
        return args[1] if args[0] else args[2]
    return None


def float_literals(text: str) -> str:
    """XMILE equation text with each whole number written with a decimal point (``7`` as
    ``7.0``, the same value), except subscripts (positions) and the order of SMTHN and DELAYN.
    PySD 3.14.3 keeps a Python integer as it is: SMTH1(x, t, 1) then holds its state in an
    integer array and its first step truncates the input to a whole number."""
    tokens = tokenize(text)
    frames: list[tuple[str, int]] = []  # open "(" (function or "") and "[" with argument no.
    inserts: list[int] = []
    for i, token in enumerate(tokens):
        if token.kind == "op" and token.text in "([":
            called = i > 0 and tokens[i - 1].kind == "name" and token.text == "("
            frames.append((tokens[i - 1].text.upper() if called else token.text, 0))
        elif token.kind == "op" and token.text in ")]" and frames:
            frames.pop()
        elif token.kind == "op" and token.text == "," and frames:
            frames[-1] = (frames[-1][0], frames[-1][1] + 1)
        elif token.kind == "number" and token.text.isdigit() and _is_value(frames):
            inserts.append(token.col - 1 + len(token.text))
    for at in reversed(inserts):
        text = f"{text[:at]}.0{text[at:]}"
    return text


def _is_value(frames: list[tuple[str, int]]) -> bool:
    if any(func == "[" for func, _ in frames):
        return False
    named = [(func, arg) for func, arg in frames if func != "("]
    return not named or ORDER_ARGUMENT.get(named[-1][0]) != named[-1][1]
