"""Vensim's data equations ``x :KEYWORD: := expression`` (other than a GET DATA call).

Vensim help, *Data Equations*: "Only other data and constants may appear on the right-hand
side"; data variables "will have values at distinct time points only", and between those
points the equation's keyword fixes the value (:INTERPOLATE:, the default; :HOLD BACKWARD:;
:LOOK FORWARD:; :RAW:, :NA: off the points). *X IF MISSING*: "if some but not all data for
an expression is available at once, the expression will not be computed at all". So a data
equation has points of its own: the times at which all of its data have a point; its value at
such a time is the expression of the data's values there; between them, its keyword's rule
(the same table as a GET DATA series: :mod:`flywheel_sim.io.mdl.data_series`).

Written in our language: two hidden lookups of TIME over the equation's points, ``x data
times before`` (the last point at or before TIME, the first before it) and ``x data times
after`` (the first at or after TIME, the last after it); the expression at a point ``p`` is
the expression with each data reference ``d[s]`` read from its series at ``p``
(``LOOKUP(d series[s], p)``; another data equation is written out the same way); then

- :INTERPOLATE: ``IF after = before THEN f(before) ELSE f(before) + (f(after) - f(before)) *
  (TIME - before) / (after - before)``; :HOLD BACKWARD: ``f(before)``; :LOOK FORWARD:
  ``f(after)``; :RAW: ``IF TIME = before THEN f(before) ELSE :NA:``.

Supported so far: data whose series (every element of every data variable used) share one set
of times, so that the points are those times (no element's point is missing); ``X IF
MISSING(e, n)`` as the whole right side (with shared times it is ``e``). Refused, in one line:
a reference to anything but data and constants (a number, ``==``, GET CONSTANTS), data with
different times, a data equation with no data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data_series import NA, FloatArray, data_method, data_table
from flywheel_sim.io.mdl.expr import parse_expression
from flywheel_sim.io.mdl.text import Record
from flywheel_sim.io.mdl.variables import Lhs, parse_values, substitute
from flywheel_sim.spec.ast import OPERATORS, Binary, Call, Expr, If, Num, Unary, Var, rebuilt, walk
from flywheel_sim.spec.model import Element, GraphicalFunction
from flywheel_sim.spec.names import canonical

TIME = Var("time")
ALLOWED = {"initial_time", "final_time", "time_step"}  # the control constants


class DataEquations:
    """Turns a model's data equations into equations over hidden lookups of their points.

    ``series``: each data variable read from a file -> its series' name; ``times``: the known
    times of each of its series (one array per element); ``constants``: the names a data
    equation may use besides data; ``equations``: the data equations (canonical name -> left
    side, its ``rhs`` the expression)."""

    def __init__(
        self,
        series: Mapping[str, str],
        times: Mapping[str, list[FloatArray]],
        constants: set[str],
        equations: dict[str, Lhs],
    ) -> None:
        self.series = series
        self.times = times
        self.constants = constants
        self.equations = equations
        self.trees: dict[str, Expr] = {}
        self.resolving: set[str] = set()

    def tree(self, key: str) -> Expr:
        """The expression of the data equation ``key`` (X IF MISSING unwrapped)."""
        if key not in self.trees:
            lhs = self.equations[key]
            tree = lhs.tree if lhs.tree is not None else parse_expression(lhs.rhs)[0]
            if isinstance(tree, Call) and tree.func == "X IF MISSING":
                if len(tree.args) != 2:
                    raise ModelError("X IF MISSING takes 2 arguments (expression, number)")
                tree = tree.args[0]
            self.trees[key] = tree
        return self.trees[key]

    def points(self, key: str) -> FloatArray:
        """The times at which the data variable ``key`` has its points."""
        if key in self.series:
            return _same_times(
                self.times[key],
                ModelError(
                    f"data equations over '{key}' whose elements have points at different "
                    "times are not supported yet",
                    hint="give every element the same times (no empty cells)",
                ),
            )
        if key in self.resolving:
            raise ModelError(f"the data equations of '{key}' use each other in a circle")
        self.resolving.add(key)
        try:
            used = self.data_used(self.tree(key))
            if not used:
                raise ModelError(
                    "a data equation (:=) with no data on its right side is not supported",
                    hint="write it with = (an ordinary equation)",
                )
            arrays = [self.points(k) for k in sorted(used)]
        finally:
            self.resolving.discard(key)
        return _same_times(
            arrays,
            ModelError(
                f"a data equation over data with different times ({', '.join(sorted(used))}) "
                "is not supported yet",
                hint="give the data the same times",
            ),
        )

    def data_used(self, tree: Expr) -> set[str]:
        """The data variables ``tree`` reads; anything but data and constants is refused."""
        used: set[str] = set()
        for node in walk(tree):
            if not isinstance(node, Var) or node.name.startswith("'"):
                continue
            if node.name in self.series or node.name in self.equations:
                used.add(node.name)
            elif node.name not in self.constants and node.name not in ALLOWED:
                raise ModelError(
                    f"a data equation (:=) may use only data and constants, and "
                    f"'{node.name}' is neither (Vensim help, Data Equations)",
                    hint="define it with = instead of :=, or make the inputs data",
                )
        return used

    def at(self, tree: Expr, when: Expr) -> Expr:
        """``tree`` with each data reference read at the time ``when`` (one of its points)."""

        def visit(node: Expr) -> Expr:
            if isinstance(node, Var) and node.name in self.series:
                hidden = self.series[node.name]
                if node.subscripts:
                    return Call("LOOKUP", (Var(hidden, node.subscripts), when))
                return Call(hidden, (when,))
            if isinstance(node, Var) and node.name in self.equations:
                return self.at(self.inlined(node), when)
            return _map(node, visit)

        return visit(tree)

    def inlined(self, node: Var) -> Expr:
        """Another data equation's expression, its subscripts replaced by those of ``node``."""
        lhs = self.equations[node.name]
        if len(lhs.subs) != len(node.subscripts):
            raise ModelError(f"'{node.name}' is used with other subscripts than it is defined")
        table = {canonical(s): str(u) for s, u in zip(lhs.subs, node.subscripts, strict=True)}
        return substitute(self.tree(node.name), table)

    def build(
        self,
        key: str,
        record: Record,
        lhs: Lhs,
        variables: Mapping[str, object],
        lookups: set[str],
    ) -> tuple[Lhs, list[Element]]:
        """The data equation ``key`` as an ordinary equation, and the two lookups of its
        points' times that it reads (named so that no variable or lookup has their names)."""
        names = (
            free_name(f"{lhs.name} data times before", variables, lookups),
            free_name(f"{lhs.name} data times after", variables, lookups),
        )
        try:
            if lhs.excepts:
                raise ModelError(":EXCEPT: in a data equation is not supported yet")
            points = self.points(key)
            found = self.equation(key, lhs, names)
        except ModelError as exc:
            raise exc.located(line=lhs.line, variable=lhs.name) from None
        tables = [
            Element(
                name=name,
                kind="lookup",
                lookup=table,
                description=f"the times of the points of the data equation '{lhs.name}'",
                line=record.line,
            )
            for name, table in zip(names, time_tables(points), strict=True)
        ]
        return found, tables

    def equation(self, key: str, lhs: Lhs, names: tuple[str, str]) -> Lhs:
        """The data equation as an ordinary one (``names``: its two hidden lookups)."""
        before, after = (Call(canonical(n), (TIME,)) for n in names)
        tree = self.tree(key)
        f_before, f_after = self.at(tree, before), self.at(tree, after)
        method = data_method(lhs.keyword or None)
        out: Expr
        if method == "hold backward":
            out = f_before
        elif method == "look forward":
            out = f_after
        elif method == "raw":
            out = If(Binary("=", TIME, before), f_before, Num(NA))
        else:
            gap = Binary("-", after, before)
            weight = Binary(
                "/", Binary("-", TIME, before), If(Binary("=", gap, Num(0)), Num(1), gap)
            )
            slope = Binary("*", Binary("-", f_after, f_before), weight)
            out = If(Binary("=", gap, Num(0)), f_before, Binary("+", f_before, slope))
        return Lhs(lhs.name, lhs.subs, lhs.excepts, "=", lhs.rhs, lhs.line, tree=out)


def free_name(name: str, variables: Mapping[str, object], lookups: set[str]) -> str:
    """``name``, or with " table" added until no variable or lookup has it."""
    while canonical(name) in variables or canonical(name) in lookups:
        name += " table"
    return name


def time_tables(points: FloatArray) -> tuple[GraphicalFunction, GraphicalFunction]:
    """The lookups of TIME giving the last point at or before it and the first at or after it
    (each clamped to the points' ends)."""
    before = GraphicalFunction(tuple(points.tolist()), tuple(points.tolist()), "discrete")
    after = data_table(points, points, "look forward")
    return before, after


def _map(node: Expr, visit: Callable[[Expr], Expr]) -> Expr:
    if isinstance(node, OPERATORS):
        return rebuilt(node, visit)
    if isinstance(node, Call):
        return Call(node.func, tuple(visit(a) for a in node.args))
    return node


def data_constants(
    variables: Mapping[str, list[tuple[Record, Lhs]]],
    dims: Mapping[str, object],
    positions: Mapping[str, float],
) -> set[str]:
    """The names a data equation may use besides data: constants (numbers, ``==``, GET
    CONSTANTS once read), ranges and elements."""
    out = {k for k, records in variables.items() if all(_constant(lhs) for _, lhs in records)}
    return out | set(dims) | set(positions)


def _constant(lhs: Lhs) -> bool:
    return lhs.op == "==" or (lhs.tree is None and parse_values(lhs.rhs) is not None)


Shift = tuple[str, tuple[str, ...], float]  # the data's name, its subscripts, the shift
TIME_SHIFT = re.compile(r"\s*TIME\s+SHIFT\s*\(", re.I)


def is_time_shift(lhs: Lhs) -> bool:
    """Whether the record is ``x := TIME SHIFT(...)``."""
    return lhs.op == ":=" and TIME_SHIFT.match(lhs.rhs) is not None


def time_shift(lhs: Lhs, constants: Mapping[str, float]) -> Shift | None:
    """``x := TIME SHIFT(d, s)`` (Vensim help, TIME SHIFT: "must directly follow the colon
    equal := sign", "DATA ... a single variable name", "SHIFT ... a number or a constant"):
    the data's name, subscripts and the shift; None for another equation."""
    if not is_time_shift(lhs):
        return None
    tree, _ = parse_expression(lhs.rhs)
    wrong = ModelError(
        "TIME SHIFT must be the whole data equation, of a data variable's name and a number "
        "or a constant (Vensim help, TIME SHIFT)",
        line=lhs.line,
        variable=lhs.name,
    )
    if not (isinstance(tree, Call) and tree.func == "TIME SHIFT" and len(tree.args) == 2):
        raise wrong
    data, amount = tree.args
    sign = 1.0
    if isinstance(amount, Unary) and amount.op == "-":
        sign, amount = -1.0, amount.operand
    value = amount.value if isinstance(amount, Num) else None
    if isinstance(amount, Var) and not amount.subscripts:
        value = constants.get(amount.name)
    if not isinstance(data, Var) or value is None:
        raise wrong
    subs = tuple(str(s) for s in data.subscripts)
    return data.name, subs, sign * value


def shifted_points(
    shift: Shift,
    lhs: Lhs,
    cells: list[tuple[str, ...]],
    raw: Mapping[str, Mapping[tuple[str, ...], tuple[FloatArray, FloatArray]]],
) -> list[tuple[tuple[str, ...], FloatArray, FloatArray]]:
    """Each element's points of ``x := TIME SHIFT(d, s)``: d's, at times moved by -s (x at t
    is d at t + s: "TROUBLE coming := TIME SHIFT(TROUBLE, 2)" takes "the same value as
    TROUBLE two months before TROUBLE does")."""
    name, subs, amount = shift
    if name not in raw:
        raise ModelError(
            f"TIME SHIFT of '{name}': only data read from files (GET DATA, data files) is "
            "supported so far",
            line=lhs.line,
            variable=lhs.name,
        )
    own = [canonical(s) for s in lhs.subs]
    out = []
    for cell in cells:
        table = dict(zip(own, cell, strict=True))
        source = tuple(table.get(s, s) for s in subs)
        if source not in raw[name]:
            raise ModelError(
                f"TIME SHIFT: '{name}' has no series [{', '.join(source)}]",
                line=lhs.line,
                variable=lhs.name,
            )
        times, values = raw[name][source]
        out.append((cell, times - amount, values))
    return out


def _same_times(arrays: list[FloatArray], error: ModelError) -> FloatArray:
    """The one set of times every array of ``arrays`` holds; ``error`` when they differ."""
    first = arrays[0]
    if any(len(a) != len(first) or not np.array_equal(a, first) for a in arrays[1:]):
        raise error
    return first
