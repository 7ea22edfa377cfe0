"""Vensim's ALLOCATE AVAILABLE while scalarising (compile/scalarise.py), with the semantics of
Vensim's reference manual ("ALLOCATE AVAILABLE", "Allocation Overview", "Specifying the
Curves"):

- ``ALLOCATE_AVAILABLE(request[*], ptype[*], ppriority[*], pwidth[*], avail)``: over a
  dimension, the allocation of the element at this position. Each requester's priority
  profile is the integral of a distribution of priorities centred on its ``ppriority``: the
  quantity it takes at a market level x is ``request * (1 - F((x - ppriority) / pwidth))``,
  F the distribution function of ptype 1 rectangular (``pwidth`` wide), 2 triangular
  (``pwidth`` wide, peak at the centre), 3 normal (``pwidth`` its standard deviation) or
  4 exponential (``0.5 * exp(-|x - ppriority| / pwidth)`` on either side). The level where the
  quantities add up to ``avail`` is found by bisection; every request is filled when
  ``avail`` covers them all, and nothing is allocated when it is 0 or less.

The bisection is one operation of the VMs (``AVAILABLE_LEVEL`` here, ops.AVAILABLE in the
code; engine/vm/levels.py and jitlevels.py), which repeats the curves below operation for
operation; each allocation is then an expression of that level.

The normal distribution function is Zelen and Severo's approximation (Abramowitz and Stegun
26.2.17, absolute error below 7.5e-8). Vensim's ptype 0 (fixed quantity), 5 (constant
elasticity) and the integer allocations (ptype + 10) are not supported: such a profile, a
negative request or a width not above 0 gives NaN, which fails the run naming the variable
and time. The allocations are hidden auxiliaries made once per equation and shared by its
elements.
"""

from __future__ import annotations

import math

from flywheel_sim.compile.matrices import MatrixFunctions
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Var
from flywheel_sim.spec.model import Element

HALVINGS = 54  # of the bracket of levels (in the VMs): to the last bits of a double
_NAN = Num(math.nan)
# Abramowitz and Stegun 26.2.16: the upper tail of the unit normal for z >= 0 is
# pdf(z) * (a1 t + a2 t^2 + a3 t^3), t = 1 / (1 + P z), within 1e-5 of the exact one
NORMAL_P = 0.33267
NORMAL_B = (0.4361836, -0.1201676, 0.9372980)
NORMAL_PDF = 1.0 / math.sqrt(2.0 * math.pi)


def _bin(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def _clamp01(x: Expr) -> Expr:
    return Call("MIN", (Call("MAX", (x, Num(0.0))), Num(1.0)))


def _normal_tail(z: Expr) -> Expr:
    """The probability that a unit normal exceeds |z| (Abramowitz and Stegun 26.2.16)."""
    size = Call("ABS", (z,))
    t = _bin("/", Num(1.0), _bin("+", Num(1.0), _bin("*", Num(NORMAL_P), size)))
    poly: Expr = Num(NORMAL_B[-1])
    for b in reversed(NORMAL_B[:-1]):  # Horner: ((a3 t + a2) t + a1) t
        poly = _bin("+", Num(b), _bin("*", t, poly))
    density = _bin(
        "*", Num(NORMAL_PDF), Call("EXP", (_bin("/", _bin("*", size, size), Num(-2.0)),))
    )
    return _bin("*", density, _bin("*", t, poly))


def _curves(z: Expr) -> dict[int, Expr]:
    """1 - F(z) for each profile type, F its distribution function at the standardised
    level z = (level - ppriority) / pwidth."""
    rest = _clamp01(_bin("-", Num(0.5), z))  # the rectangle's share above the level
    over = _bin("-", Num(1.0), rest)
    triangle = If(
        _bin("<=", rest, Num(0.5)),
        _bin("*", Num(2.0), _bin("*", rest, rest)),
        _bin("-", Num(1.0), _bin("*", Num(2.0), _bin("*", over, over))),
    )
    tail = _normal_tail(z)
    side = _bin("*", Num(0.5), Call("EXP", (_bin("-", Num(0.0), Call("ABS", (z,))),)))
    above = _bin(">=", z, Num(0.0))
    return {
        1: rest,
        2: triangle,
        3: If(above, tail, _bin("-", Num(1.0), tail)),
        4: If(above, side, _bin("-", Num(1.0), side)),
    }


# how many widths beyond its priority a profile still takes (or leaves) more than a double
# can tell from all (none) of its request
REACH = {1: 0.5, 2: 0.5, 3: 8.5, 4: 38.0}


def taken(kind: Expr, known: float | None, priority: Expr, width: Expr, level: Expr) -> Expr:
    """The fraction of its request a requester takes at ``level``: 1 - F, F the distribution
    function of its profile; NaN for a profile type other than 1 to 4. ``known``: the type
    the model gives (a parameter's value; the caller checks it while running)."""
    curves = _curves(_bin("/", _bin("-", level, priority), width))
    if known is not None:
        return curves.get(int(known), _NAN) if known == int(known) else _NAN
    out: Expr = _NAN
    for k in (4, 3, 2, 1):
        out = If(_bin("=", kind, Num(float(k))), curves[k], out)
    return out


class AvailableFunctions(MatrixFunctions):
    """ALLOCATE_AVAILABLE's allocations as hidden auxiliaries."""

    def default(self, element: Element, index: tuple[str, ...]) -> float:
        raise NotImplementedError  # compile/scalarise.py

    def known(self, expr: Expr) -> float | None:
        """The value of a number or of a parameter's element (its default: a run may set
        another), else None."""
        if isinstance(expr, Num):
            return expr.value
        if not isinstance(expr, Var):
            return None
        key, _, rest = expr.name.partition("[")
        element = self.elements.get(key)
        if element is None or element.kind != "parameter" or element.policy is not None:
            return None
        index = tuple(rest[:-1].split(",")) if rest else ()
        return self.default(element, index)

    def available(self, args: tuple[Expr, ...], where: dict[str, str]) -> list[Expr]:
        """Each request's allocation (hidden auxiliaries shared by the equation's elements)."""
        vectors = [self.array(a, where) for a in args[:4]]
        n = len(vectors[0])
        if any(len(v) != n for v in vectors):
            raise self.error(
                "ALLOCATE_AVAILABLE's requests and priority profiles must have the same "
                f"number of elements (not {', '.join(str(len(v)) for v in vectors)})"
            )
        avail = self.scalar(self.resolve(args[4], where))
        key = repr(("available", vectors, avail))
        cached = self.vector_cache.get(key)
        if cached is None:
            cached = self.vector_cache[key] = self.allocate(vectors, avail)
        return cached

    def allocate(self, vectors: list[list[Expr]], avail: Expr) -> list[Expr]:
        n = len(vectors[0])
        known = [self.known(x) for x in vectors[1]]
        r, kinds, p, w = (
            [self.hide(x, part) for x in v]
            for v, part in zip(vectors, ("request", "ptype", "priority", "width"), strict=True)
        )
        s = self.hide(avail, "avail")

        def share(i: int, level: Expr) -> Expr:
            return _bin("*", r[i], taken(kinds[i], known[i], p[i], w[i], level))

        reach = [Num(REACH.get(int(k), 40.0) if k is not None else 40.0) for k in known]
        spread = [_bin("*", reach[i], w[i]) for i in range(n)]
        lo = self.hide(self.reduce("MIN", [_bin("-", p[i], spread[i]) for i in range(n)]), "low")
        hi = self.hide(self.reduce("MAX", [_bin("+", p[i], spread[i]) for i in range(n)]), "high")
        # the bisection runs in one op of the VMs (ops.AVAILABLE: engine/vm/levels.py)
        level = self.hide(Call("AVAILABLE_LEVEL", (*r, *kinds, *p, *w, lo, hi, s)), "level")
        filled = self.hide(_bin(">=", s, self.reduce("SUM", list(r))), "filled")
        bad: list[Expr] = [
            _bin("OR", _bin("<", r[i], Num(0.0)), _bin("<=", w[i], Num(0.0))) for i in range(n)
        ]
        # a run that sets a profile type other than the model's gives NaN
        bad += [_bin("<>", kinds[i], Num(k)) for i, k in enumerate(known) if k is not None]
        wrong = self.hide(self.reduce("SUM", bad), "wrong")
        out: list[Expr] = []
        for i in range(n):
            value = If(filled, r[i], If(_bin("<=", s, Num(0.0)), Num(0.0), share(i, level)))
            out.append(self.hide(If(wrong, _NAN, value), "allocation"))
        return out
