"""Vensim's LOOKUP AREA(lookup, start, end): "the area under a Lookup table between start and
end" (Vensim's reference, fn_lookup_area), the table read as a lookup reads it: linear between
its points, its end values held beyond them (the reference's examples: for ((0,1),(1,1),(2,2)),
the area from 2 to 4 is 4 and from 0.5 to 2.5 is 3). From end to start it is negative.

Written as ``A(end) - A(start)``, ``A(x)`` the area from the first point to x: on each interval
a quadratic in x (the trapezoids before it plus the part of this one), written out with nested
IFs over the table's points. Supported for a standalone lookup (``tab``); its arguments are
written several times, so they may not hold a random or stateful function.
"""

from __future__ import annotations

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import Table
from flywheel_sim.spec.ast import Binary, Expr, If, Num

MAX_POINTS = 1000


def _b(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def area_to(table: Table, x: Expr) -> Expr:
    """The area under ``table`` from its first point to ``x`` (negative below it)."""
    xs, ys = table.xs, table.ys
    below: list[tuple[float, Expr]] = []  # (the interval's right end, its area to x)
    total = 0.0
    for i in range(len(xs) - 1):
        width = xs[i + 1] - xs[i]
        if width <= 0:
            continue
        part = _b("-", x, Num(xs[i]))
        slope = (ys[i + 1] - ys[i]) / (2 * width)
        inner = _b("+", _b("*", Num(ys[i]), part), _b("*", Num(slope), _b("*", part, part)))
        below.append((xs[i + 1], _b("+", Num(total), inner)))
        total += (ys[i] + ys[i + 1]) / 2 * width
    out: Expr = _b("+", Num(total), _b("*", Num(ys[-1]), _b("-", x, Num(xs[-1]))))
    for right, area in reversed(below):
        out = If(_b("<", x, Num(right)), area, out)
    before = _b("*", Num(ys[0]), _b("-", x, Num(xs[0])))
    return If(_b("<", x, Num(xs[0])), before, out)


def lookup_area(name: str, table: Table, start: Expr, end: Expr) -> Expr:
    if len(table.xs) > MAX_POINTS:
        raise ModelError(f"LOOKUP AREA of a table of more than {MAX_POINTS} points")
    if any(b < a for a, b in zip(table.xs, table.xs[1:], strict=False)):
        raise ModelError(f"LOOKUP AREA: the x values of '{name}' do not increase")
    return _b("-", area_to(table, end), area_to(table, start))
