"""Vensim's VECTOR LOOKUP(vec[e1], x, xmin, xmax, mode): a lookup whose y values are the
elements of ``vec`` along its last subscript, at x values spread evenly from xmin to xmax
(Vensim's reference, "VECTOR LOOKUP": n elements, n - 1 equal intervals; called with the first
element of the range).

Written with ``ELEMENT_AT`` (the flat position of ``vec[e1]`` as VECTOR ELM MAP computes it,
plus the interval's index). Modes 0 (a normal lookup, the end values held beyond the range)
and 3 (LOOKUP EXTRAPOLATE: the end intervals extended) are supported; the mode is checked in
each run (another mode makes the value NaN, failing the run), and refused when it is known to
be another. The input is written several times, so it may not hold a random or stateful
function (refused). Modes 2 and 4 (LOOKUP BACKWARD/FORWARD) pick a point by comparing x with
the grid of points, whose exact floating-point values Vensim does not document; modes 1 and
5-9 (area, invert, slope) are not supported yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.vector_args import elm_map, largest
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Var, walk
from flywheel_sim.spec.builtins import BUILTINS

SUPPORTED = (0.0, 3.0)


def draws_or_holds(node: Expr) -> bool:
    """Whether ``node`` calls a random or stateful builtin (each copy would draw or hold on
    its own)."""
    for part in walk(node):
        if isinstance(part, Call):
            builtin = BUILTINS.get(part.func)
            if builtin is not None and builtin.kind in ("random", "stateful"):
                return True
    return False


def _mode(arg: Expr, constants: Mapping[str, float]) -> float | None:
    if isinstance(arg, Num):
        return arg.value
    if isinstance(arg, Var) and not arg.subscripts:
        return constants.get(arg.name)
    return None


def vector_lookup(
    args: tuple[Expr, ...],
    dims: Mapping[str, tuple[str, ...]],
    constants: Mapping[str, float],
    rewrite: Callable[[Expr], Expr],
) -> Expr:
    """The expression of ``VECTOR LOOKUP(args)`` in our language (the arguments rewritten by
    ``rewrite``, the Translator's)."""
    if len(args) != 5:
        raise ModelError(f"VECTOR LOOKUP takes 5 arguments, not {len(args)}")
    vec, x, xmin, xmax, mode = args
    last = vec.subscripts[-1] if isinstance(vec, Var) and vec.subscripts else None
    if not isinstance(last, str) or last in dims or last.endswith("!") or last == "*":
        raise ModelError(
            "VECTOR LOOKUP takes the first element of its vector (vec[e1]) first, as Vensim's "
            "reference asks"
        )
    whole = largest({last}, dims)
    if whole[0] != last:
        raise ModelError(
            f"VECTOR LOOKUP is called with '{last}', not the first element of its range "
            f"('{whole[0]}'): which elements it then reads is not documented"
        )
    known = _mode(mode, constants)
    if known is not None and known not in SUPPORTED:
        raise ModelError(
            f"VECTOR LOOKUP's mode {known:g} is not supported yet (modes 0 and 3 are)",
            hint="modes 2 and 4 compare x with grid points Vensim does not define exactly",
        )
    n = len(whole)
    if n < 2:
        raise ModelError("VECTOR LOOKUP needs a vector of at least two elements")
    assert isinstance(vec, Var)
    items, start = (rewrite(a) for a in elm_map((vec, Num(0.0)), dims))
    x, xmin, xmax, mode = (rewrite(a) for a in (x, xmin, xmax, mode))
    if any(draws_or_holds(a) for a in (x, xmin, xmax, mode)):
        raise ModelError(
            "VECTOR LOOKUP's input is used several times in its expansion, so it may not "
            "hold a random or stateful function",
            hint="give that part an auxiliary of its own",
        )
    scaled = Binary("*", Binary("/", Binary("-", x, xmin), Binary("-", xmax, xmin)), Num(n - 1.0))

    def between(place: Expr) -> Expr:
        """The y at ``place`` (0 to n - 1) by the interval it is in, the end ones extended."""
        index = Call("MIN", (Call("MAX", (Call("INT", (place,)), Num(0.0))), Num(n - 2.0)))
        left = Call("ELEMENT_AT", (items, Binary("+", start, index)))
        right = Call("ELEMENT_AT", (items, Binary("+", Binary("+", start, index), Num(1.0))))
        part = Binary("-", place, index)
        return Binary("+", left, Binary("*", Binary("-", right, left), part))

    held = between(Call("MIN", (Call("MAX", (scaled, Num(0.0))), Num(n - 1.0))))
    extended = between(scaled)
    failed = Call("ELEMENT_AT", (items, Num(0.0)))  # outside the array: NaN, the run fails
    chosen = If(Binary("=", mode, Num(3.0)), extended, failed)
    return If(Binary("=", mode, Num(0.0)), held, chosen)
