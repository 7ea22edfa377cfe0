"""Vensim's functions in our equation language: one table, one row per function.

Each row names a Vensim function (upper case, words separated by one space), how many
arguments it takes, and how to write it with our builtins or plain expressions, keeping
Vensim's semantics (``INTEGER`` truncates toward zero, ``PULSE(start, width)`` is 1 from start
for width, ...). A function without a row is refused ("not supported yet"): to add one, add a
row. Calls of the model's own lookups, ``x[d!]`` inside ``SUM``/``PROD``/``VMIN``/``VMAX``
and the control variables (``TIME STEP`` ...) are translated here too; the arguments of the
vector and random functions (``x[d]`` -> ``x[*]``, a seed named by a constant) are prepared
by :mod:`flywheel_sim.io.mdl.vector_args`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data_between import FUNC as BETWEEN
from flywheel_sim.io.mdl.data_between import between_call
from flywheel_sim.io.mdl.expr import Table
from flywheel_sim.io.mdl.lookup_area import lookup_area
from flywheel_sim.io.mdl.lookup_vectors import LookupVector, bang_lookups
from flywheel_sim.io.mdl.time_value import time_value
from flywheel_sim.io.mdl.vector_args import (
    count_elements,
    elm_map,
    option_values,
    profile_args,
    seed_value,
    vector_args,
)
from flywheel_sim.io.mdl.vector_lookup import draws_or_holds, vector_lookup
from flywheel_sim.spec.ast import (
    OPERATORS,
    Binary,
    Call,
    Expr,
    If,
    Num,
    Subscript,
    Unary,
    Var,
    VarList,
    rebuilt,
)
from flywheel_sim.spec.names import canonical

Build = Callable[[tuple[Expr, ...]], Expr]
MAX_TERMS = 10_000  # the most elements a SUM/PROD/VMIN/VMAX over x[d!] is expanded into


def _call(name: str) -> Build:
    return lambda args: Call(name, args)


def _bin(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def _and(*conds: Expr) -> Expr:
    out = conds[0]
    for cond in conds[1:]:
        out = Binary("AND", out, cond)
    return out


TIME = Var("time")
DT = Var("dt")


def _integer(x: Expr) -> Expr:
    """Vensim's INTEGER: the integer part, truncated toward zero (INT floors)."""
    return Call("TRUNC", (x,))


def _exps(x: Expr) -> tuple[Expr, Expr]:
    return Call("EXP", (x,)), Call("EXP", (Unary("-", x),))


def _sinh(a: tuple[Expr, ...]) -> Expr:
    up, down = _exps(a[0])
    return Binary("/", Binary("-", up, down), Num(2))


def _cosh(a: tuple[Expr, ...]) -> Expr:
    up, down = _exps(a[0])
    return Binary("/", Binary("+", up, down), Num(2))


def _tanh(a: tuple[Expr, ...]) -> Expr:
    """1 - 2 / (EXP(2x) + 1): no overflow to inf/inf for large x."""
    grown = Call("EXP", (Binary("*", Num(2), a[0]),))
    return Binary("-", Num(1), Binary("/", Num(2), Binary("+", grown, Num(1))))


def _quantum(a: tuple[Expr, ...]) -> Expr:
    """QUANTUM(x, q): q * INTEGER(x / q), or x when q <= 0."""
    x, q = a
    return If(Binary("<=", q, Num(0)), x, Binary("*", q, _integer(Binary("/", x, q))))


ROWS: dict[str, tuple[int, int, Build]] = {
    "IF THEN ELSE": (3, 3, lambda a: If(a[0], a[1], a[2])),
    "GET TIME VALUE": (3, 3, time_value),
    "MIN": (2, 2, _call("MIN")),
    "MAX": (2, 2, _call("MAX")),
    "ABS": (1, 1, _call("ABS")),
    "SQRT": (1, 1, _call("SQRT")),
    "EXP": (1, 1, _call("EXP")),
    "LN": (1, 1, _call("LN")),
    "LOG": (2, 2, lambda a: _bin("/", Call("LN", (a[0],)), Call("LN", (a[1],)))),
    "POWER": (2, 2, lambda a: _bin("^", a[0], a[1])),
    "SIN": (1, 1, _call("SIN")),
    "COS": (1, 1, _call("COS")),
    "TAN": (1, 1, _call("TAN")),
    "ARCSIN": (1, 1, _call("ARCSIN")),
    "ARCCOS": (1, 1, _call("ARCCOS")),
    "ARCTAN": (1, 1, _call("ARCTAN")),
    "SINH": (1, 1, _sinh),
    "COSH": (1, 1, _cosh),
    "TANH": (1, 1, _tanh),
    "INTEGER": (1, 1, lambda a: _integer(a[0])),
    "MODULO": (2, 2, _call("MODULO")),
    "ZIDZ": (2, 2, _call("ZIDZ")),
    "XIDZ": (3, 3, _call("XIDZ")),
    "QUANTUM": (2, 2, _quantum),
    "STEP": (2, 2, _call("STEP")),
    "RAMP": (3, 3, _call("RAMP")),
    "PULSE": (2, 2, _call("PULSE_WINDOW")),
    "PULSE TRAIN": (4, 4, _call("PULSE_TRAIN")),
    "SMOOTH": (2, 2, _call("SMTH1")),
    "SMOOTHI": (3, 3, _call("SMTH1")),
    "SMOOTH3": (2, 2, _call("SMTH3")),
    "SMOOTH3I": (3, 3, _call("SMTH3")),
    "DELAY1": (2, 2, _call("DELAY1")),
    "DELAY1I": (3, 3, _call("DELAY1")),
    "DELAY3": (2, 2, _call("DELAY3")),
    "DELAY3I": (3, 3, _call("DELAY3")),
    "INITIAL": (1, 1, _call("INIT")),
    "DELAY FIXED": (3, 3, _call("DELAY_FIXED")),
    "DELAY MATERIAL": (4, 4, _call("DELAY_MATERIAL")),
    "DELAY N": (4, 4, _call("DELAY_N")),
    "SMOOTH N": (4, 4, _call("SMOOTH_N")),
    "TREND": (3, 3, _call("SAFE_TREND")),
    "FORECAST": (3, 3, _call("SAFE_FORECAST")),
    "NPV": (4, 4, _call("NPV")),
    "NPVE": (4, 4, _call("NPVE")),
    "SAMPLE IF TRUE": (3, 3, _call("SAMPLE_IF_TRUE")),
    "ACTIVE INITIAL": (2, 2, _call("ACTIVE_INITIAL")),
    "RANDOM 0 1": (0, 0, lambda a: Call("RANDOM", (Num(0), Num(1)))),
    "RANDOM UNIFORM": (3, 3, _call("RANDOM_UNIFORM")),
    "RANDOM NORMAL": (5, 5, _call("RANDOM_NORMAL")),
    "RANDOM EXPONENTIAL": (5, 5, _call("RANDOM_EXPONENTIAL")),
    "RANDOM POISSON": (6, 6, _call("RANDOM_POISSON")),
    "RANDOM TRIANGULAR": (6, 6, _call("RANDOM_TRIANGULAR")),
    "RANDOM BETA": (7, 7, _call("RANDOM_BETA")),
    "RANDOM BINOMIAL": (7, 7, _call("RANDOM_BINOMIAL")),
    "RANDOM NEGATIVE BINOMIAL": (7, 7, _call("RANDOM_NEGATIVE_BINOMIAL")),
    "RANDOM WEIBULL": (6, 6, _call("RANDOM_WEIBULL")),
    "VECTOR ELM MAP": (2, 2, _call("ELEMENT_AT")),  # the position written by elm_map
    "VECTOR REORDER": (2, 2, lambda a: Call("ELEMENT_AT", (a[0], _bin("+", a[1], Num(1))))),
    "VECTOR SORT ORDER": (2, 2, _call("VECTOR_SORT_ORDER")),
    "VECTOR RANK": (2, 2, _call("VECTOR_RANK")),
    "VECTOR SELECT": (5, 5, _call("VECTOR_SELECT")),
    "ALLOCATE BY PRIORITY": (5, 5, _call("ALLOCATE_BY_PRIORITY")),
    "INVERT MATRIX": (2, 2, _call("INVERT_MATRIX")),
    "ALLOCATE AVAILABLE": (3, 3, _call("ALLOCATE_AVAILABLE")),  # 5 once profile_args wrote them
    "GAME": (1, 1, _call("GAME")),
    "TIME BASE": (2, 2, _call("TIME_BASE")),
    "ELMCOUNT": (1, 1, _call("ELMCOUNT")),  # a number, written by count_elements
}

# why some functions are refused (after "... is not supported yet")
WHY = {
    "RANDOM GAMMA": ": Vensim's reference says 'GAMMA with order O' without saying whether its "
    "scale is 1 or 1/O (mean 1)",
    "RANDOM LOOKUP": " (a draw from a lookup table read as a density)",
    "DELAY CONVEYOR": " (Vensim's conveyor with leakage and profiles)",
    "A FUNCTION OF": ": it marks a causal-loop diagram's variable, which has no equation to "
    "simulate (write its equation in Vensim first)",
}

# functions over all elements of the x[d!] in their argument: how two terms combine
REDUCTIONS: dict[str, Callable[[Expr, Expr], Expr]] = {
    "SUM": lambda a, b: Binary("+", a, b),
    "PROD": lambda a, b: Binary("*", a, b),
    "VMIN": lambda a, b: Call("MIN", (a, b)),
    "VMAX": lambda a, b: Call("MAX", (a, b)),
}

# LOOKUP EXTRAPOLATE/FORWARD/BACKWARD(tab, x): tab read with extrapolation, or at the point at
# or above x, or at or below x (Vensim's reference), through a copy of the table
LOOKUP_MODES = {
    "LOOKUP EXTRAPOLATE": "extrapolate",
    "LOOKUP FORWARD": "forward",
    "LOOKUP BACKWARD": "backward",
}

# the control variables as our names (SAVEPER is replaced by its value)
CONTROL = {"time": "time", "time_step": "dt", "initial_time": "starttime", "final_time": "stoptime"}


@dataclass
class Translator:
    """Rewrites a parsed Vensim expression into our language.

    ``lookups``: canonical names of the model's lookups (called like functions);
    ``dims``: each dimension's canonical element names (for ``x[d!]``); ``saveper``: its value;
    ``names``: the variables; ``positions``: each element's position, its value when an
    equation uses it as a number.
    """

    lookups: set[str]
    dims: Mapping[str, tuple[str, ...]]
    saveper: float | None = None
    names: set[str] = field(default_factory=set)  # the model's variables
    positions: Mapping[str, float] = field(default_factory=dict)  # element -> its position
    bang: dict[str, str] = field(default_factory=dict)  # d! -> the element being summed
    constants: Mapping[str, float] = field(default_factory=dict)  # scalar constants' values
    variants: dict[str, tuple[str, str]] = field(default_factory=dict)  # LOOKUP FORWARD ...
    renames: Mapping[str, str] = field(default_factory=dict)  # a variable named DT -> new name
    tables: Mapping[str, Table] = field(default_factory=dict)  # standalone lookups' points
    vectors: dict[str, LookupVector] = field(default_factory=dict)  # tab[d!](x) in VECTOR SELECT
    data_series: dict[str, str] = field(default_factory=dict)  # data variable -> its series
    data_derived: set[str] = field(default_factory=set)  # data equations other than GET DATA

    def rewrite(self, node: Expr) -> Expr:
        if isinstance(node, Num):
            return node
        if isinstance(node, Var):
            return self.var(node)
        if isinstance(node, OPERATORS):
            return rebuilt(node, self.rewrite)
        return self.call(node)

    def var(self, node: Var) -> Expr:
        if not node.subscripts:
            if node.name in CONTROL:
                return Var(CONTROL[node.name])
            if node.name == "saveper" and self.saveper is not None:
                return Num(self.saveper)
            if node.name not in self.names and node.name in self.positions:
                return Num(self.positions[node.name])
        name = self.renames.get(node.name, node.name)
        return Var(name, tuple(self.subscript(s) for s in node.subscripts))

    def subscript(self, sub: Subscript) -> Subscript:
        if isinstance(sub, str) and sub.endswith("!"):
            if sub not in self.bang:
                raise ModelError(
                    f"'{sub[:-1]}!' outside SUM, PROD, VMIN or VMAX is not supported yet"
                )
            return self.bang[sub]
        return sub

    def call(self, node: Call) -> Expr:
        func = node.func
        if canonical(func) in self.lookups or func in self.lookups:
            name = func if func in self.lookups else canonical(func)
            if len(node.args) != 1:
                raise ModelError(f"the lookup '{name}' is called with {len(node.args)} arguments")
            return Call(name, (self.rewrite(node.args[0]),))
        if func == "LOOKUP" and node.args and isinstance(node.args[0], Var):
            return self.element_lookup(node.args[0], node.args[1:])
        if func in LOOKUP_MODES:
            return self.lookup_variant(func, node.args)
        if func in REDUCTIONS:
            return self.reduce(func, node.args)
        if func == "VECTOR LOOKUP":
            return vector_lookup(node.args, self.dims, self.constants, self.rewrite)
        if func == "LOOKUP AREA":
            return self.area(node.args)
        if func == BETWEEN:
            found = between_call(
                node.args, self.data_series, self.names - self.data_derived, dict(self.constants)
            )
            return self.rewrite(found)
        row = ROWS.get(func)
        if row is None:
            if func in ("INTEG", "SINTEG", "WITH LOOKUP"):
                raise ModelError(f"{func} must be the whole equation of a variable")
            raise ModelError(
                f"{func} is not supported yet{WHY.get(func, '')}",
                hint=None
                if func == "A FUNCTION OF"
                else "docs/vensim.md lists what is read; rewrite it with the functions there",
            )
        low, high, build = row
        if not low <= len(node.args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise ModelError(f"{func} takes {wanted} arguments, not {len(node.args)}")
        args = node.args
        if func == "VECTOR SELECT":
            args = tuple(
                bang_lookups(
                    a, self.dims, self.lookups, self.vectors, self.rewrite, self.names.__contains__
                )
                for a in args
            )
        args = seed_value(func, vector_args(func, args), self.constants)
        args = option_values(func, args, self.constants)
        if func == "VECTOR ELM MAP":
            args = elm_map(args, self.dims)
        elif func == "ALLOCATE AVAILABLE":
            args = profile_args(args, self.dims)
        elif func == "ELMCOUNT":
            return count_elements(node, self.dims)
        return build(tuple(self.rewrite(a) for a in args))

    def element_lookup(self, table: Var, args: tuple[Expr, ...]) -> Expr:
        """``tab[a, b](x)``: the lookup table of that element (``tab[D](x)`` has been written
        per element before, the range replaced by each element)."""
        subs = [self.subscript(s) for s in table.subscripts]
        if not all(isinstance(s, str) and s not in self.dims for s in subs):
            raise ModelError(f"the lookup '{table.name}' needs one element per subscript")
        key = f"{table.name}[{','.join(str(s) for s in subs)}]"
        if key not in self.lookups:
            raise ModelError(f"there is no lookup table '{key}'")
        if len(args) != 1:
            raise ModelError(f"the lookup '{key}' is called with {len(args)} arguments")
        return Call(key, (self.rewrite(args[0]),))

    def area(self, args: tuple[Expr, ...]) -> Expr:
        """``LOOKUP AREA(tab, start, end)`` of a standalone lookup (io/mdl/lookup_area.py)."""
        table = args[0] if args else None
        key = canonical(table.name) if isinstance(table, Var) and not table.subscripts else ""
        if len(args) != 3 or key not in self.tables:
            raise ModelError("LOOKUP AREA takes a lookup table (not per element), start and end")
        start, end = (self.rewrite(a) for a in args[1:])
        if draws_or_holds(start) or draws_or_holds(end):
            raise ModelError(
                "LOOKUP AREA's start and end are used several times in its expansion, so they "
                "may not hold a random or stateful function",
                hint="give them auxiliaries of their own",
            )
        return lookup_area(key, self.tables[key], start, end)

    def lookup_variant(self, func: str, args: tuple[Expr, ...]) -> Expr:
        """``LOOKUP EXTRAPOLATE(tab, x)``, ``LOOKUP FORWARD`` and ``LOOKUP BACKWARD``: a call of
        a copy of the table read another way (io/mdl/lookups.py makes it, named
        ``tab extrapolate`` ...), recorded in ``variants``."""
        if len(args) != 2 or not isinstance(args[0], Var):
            raise ModelError(f"{func} takes a lookup table and a value")
        table = args[0]
        if table.subscripts:
            called = self.element_lookup(table, args[1:])
            assert isinstance(called, Call)
            key, x = called.func, called.args[0]
        else:
            key, x = canonical(table.name), self.rewrite(args[1])
            if key not in self.lookups:
                raise ModelError(f"there is no lookup table '{table.name}' for {func}")
        mode = LOOKUP_MODES[func]
        name = f"{key} {mode}"
        if canonical(name) in self.names or canonical(name) in self.lookups:
            raise ModelError(f"{func}: the name '{name}' of its table is taken")
        self.variants[name] = (key, mode)
        return Call(name, (x,))

    def reduce(self, func: str, args: tuple[Expr, ...]) -> Expr:
        """SUM(expr) etc. over every element of the x[d!] in ``expr``, written out."""
        if len(args) != 1:
            raise ModelError(f"{func} takes one argument, not {len(args)}")
        banged = sorted(_bangs(args[0]) - set(self.bang))
        if not banged:
            raise ModelError(f"{func} needs a subscript marked with ! (x[dim!])")
        lists = []
        for sub in banged:
            elements = self.dims.get(sub[:-1])
            if elements is None:
                raise ModelError(f"'{sub}' is not a dimension")
            lists.append(elements)
        total = 1
        for members in lists:
            total *= len(members)
        if total > MAX_TERMS:
            raise ModelError(f"{func} over {total} elements is not supported yet")
        combine = REDUCTIONS[func]
        out: Expr | None = None
        outer = dict(self.bang)
        for combo in itertools.product(*lists):
            self.bang = {**outer, **dict(zip(banged, combo, strict=True))}
            term = self.rewrite(args[0])
            out = term if out is None else combine(out, term)
        self.bang = outer
        assert out is not None
        return out


def _bangs(node: Expr) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Var):
            marked = [s for s in current.subscripts if isinstance(s, str) and s.endswith("!")]
            if len(set(marked)) < len(marked):
                raise ModelError(
                    f"'{current.name}' marks the same range twice with ! ({', '.join(marked)}): "
                    "whether that sums every cell or the diagonal is not documented",
                    hint="define an equivalent range (DimB <-> DimA) for the second index",
                )
            out.update(marked)
        elif isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.extend((current.left, current.right))
        elif isinstance(current, If):
            stack.extend((current.cond, current.then, current.orelse))
        elif isinstance(current, Call | VarList):
            stack.extend(current.args if isinstance(current, Call) else current.items)
    return out
