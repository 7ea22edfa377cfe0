"""Vensim's RANDOM BETA, WEIBULL, BINOMIAL and NEGATIVE BINOMIAL (Reference Manual, "RANDOM
Number Functions"), rewritten into the language's draws as compile/random_vensim.py does for
the others (the same arguments: ``m``/``x`` the bounds, applied after the draw is stretched by
``r`` and shifted by ``h``; ``s`` the stream ID).

- BETA(m, x, A, B, h, r, s): ``G_A / (G_A + G_B)``, two gamma draws of shapes A and B (scale
  1, which the ratio does not depend on), each by Marsaglia and Tsang's method (2000): for a
  shape a >= 1, with d = a - 1/3 and c = 1 / sqrt(9 d), a normal z and a uniform u give
  d (1 + c z)^3, accepted when ln u < z^2 / 2 + d - d v + d ln v (v = (1 + c z)^3 > 0); a
  shape below 1 draws for a + 1 and multiplies by u^(1/a). Of ``ATTEMPTS`` candidates the
  first accepted is used (each is accepted with probability above 0.95, so all fail with a
  probability below 1e-15; then the last is used);
- WEIBULL(m, x, S, h, r, s): "WEIBULL with shape S starting at 0 with mean 1" (the reference's
  words): scale 1 / Gamma(1 + 1/S), drawn by the inverse CDF from one uniform draw between the
  CDF's values at the bounds (exact truncation); S must be a constant, folded when compiled
  and checked in each run as a stream ID is;
- BINOMIAL(m, x, P, N, h, r, s): the successes in N trials of probability P, N a whole number
  (a constant) up to ``MAX_TRIALS``: one uniform draw per trial;
- NEGATIVE BINOMIAL(m, x, P, N, h, r, s): the trials until the N-th success, N plus a count of
  failures drawn as a Poisson whose mean is a gamma draw of shape N and scale (1 - P) / P
  (the gamma-Poisson mixture, exact).

BETA, BINOMIAL and NEGATIVE BINOMIAL are truncated by redrawing as RANDOM NORMAL is (the first
of REDRAWS draws within [m, x]); parameters with no draw (P outside [0, 1], a shape not above
0) give NaN, failing the run. RANDOM GAMMA is refused: the reference says "GAMMA with order O"
without saying whether its scale is 1 or 1/O (mean 1), and RANDOM LOOKUP is not supported yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flywheel_sim.compile.orders import constant_expression, guess
from flywheel_sim.compile.random_vensim import VensimRandom
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num

ATTEMPTS = 12
MAX_TRIALS = 100
_NAN = Num(math.nan)
_ONE, _ZERO = Num(1.0), Num(0.0)


def _b(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def _number(expr: Expr) -> float | None:
    return expr.value if isinstance(expr, Num) else None


class VensimRandomShapes(VensimRandom):
    """More handlers for the Expander (compile/stateful.py)."""

    def uniform(self, stream: Expr | None) -> Expr:
        return self.as_var(self.draw("RANDOM", (_ZERO, _ONE), stream), "u")

    def gamma(self, shape: Expr, stream: Expr | None) -> Expr:
        """A gamma draw of ``shape`` (scale 1); NaN for a shape not above 0."""
        small = self.as_var(_b("<", shape, _ONE), "small")
        a = self.as_var(If(small, _b("+", shape, _ONE), shape), "shape")
        d = self.as_var(_b("-", a, Num(1.0 / 3.0)), "d")
        c = self.as_var(_b("/", _ONE, Call("SQRT", (_b("*", Num(9.0), d),))), "c")
        candidates: list[tuple[Expr, Expr]] = []
        for _ in range(ATTEMPTS):
            z = self.as_var(self.draw("NORMAL", (_ZERO, _ONE), stream), "z")
            u = self.uniform(stream)
            v = self.as_var(_b("^", _b("+", _ONE, _b("*", c, z)), Num(3.0)), "v")
            bound = _b("+", _b("*", Num(0.5), _b("*", z, z)), _b("*", d, _b("-", _ONE, v)))
            bound = _b("+", bound, _b("*", d, Call("LN", (Call("MAX", (v, Num(1e-300))),))))
            accepted = _b("AND", _b(">", v, _ZERO), _b("<", Call("LN", (u,)), bound))
            candidates.append((accepted, _b("*", d, Call("MAX", (v, _ZERO)))))
        value: Expr = candidates[-1][1]
        for accepted, candidate in reversed(candidates[:-1]):
            value = If(accepted, candidate, value)
        boost = If(small, _b("^", self.uniform(stream), _b("/", _ONE, shape)), _ONE)
        return If(_b(">", shape, _ZERO), _b("*", self.as_var(value, "gamma"), boost), _NAN)

    def truncated(
        self, make: Callable[[], Expr], args: tuple[Expr, ...], low: float, high: float
    ) -> Expr:
        """``h + r * make()`` truncated to [m, x] by redrawing, unless m, x, h and r are
        numbers and [m, x] holds every value (the draws lying in [low, high])."""
        m, x, h, r = args

        def shifted() -> Expr:
            return _b("+", h, _b("*", r, make()))

        known = [_number(e) for e in (m, x, h, r)]
        if None not in known:
            lo, hi, shift, stretch = (float(v or 0.0) for v in known)
            ends = [shift + stretch * v if math.isfinite(v) else stretch * v for v in (low, high)]
            if lo <= min(ends) and hi >= max(ends):
                return shifted()
        return self.redrawn(shifted, m, x)

    def constant(self, expr: Expr, what: str) -> tuple[float, Expr | None]:
        """The value of a parameter that must be a constant (folded as a stream ID is), and
        the condition each run checks (None for a number)."""
        if isinstance(expr, Num):
            return expr.value, None
        if len(self.known) != len(self.instances) + len(self.hidden):
            self.known = {i.key: i for i in (*self.instances, *self.hidden)}
        value = guess(expr, self.known, self.time.start, self.time.dt)
        if value is None or not constant_expression(expr, self.known):
            raise self.error(f"{what} must be a number, a constant or an expression of constants")
        return value, _b("=", self._init((expr,)), Num(value))

    def _random_beta(self, args: tuple[Expr, ...]) -> Expr:
        m, x, alpha, beta, h, r = (self.as_var(a, "arg") for a in args[:6])
        stream = args[6] if len(args) > 6 else None

        def make() -> Expr:
            ga = self.as_var(self.gamma(alpha, stream), "ga")
            gb = self.as_var(self.gamma(beta, stream), "gb")
            return _b("/", ga, _b("+", ga, gb))

        return self.truncated(make, (m, x, h, r), 0.0, 1.0)

    def _random_binomial(self, args: tuple[Expr, ...]) -> Expr:
        m, x, p, _, h, r = (self.as_var(a, "arg") for a in args[:6])
        stream = args[6] if len(args) > 6 else None
        n, check = self.constant(args[3], "the trials of RANDOM BINOMIAL")
        if not (n == int(n) and 0 <= n <= MAX_TRIALS):
            raise self.error(
                f"RANDOM BINOMIAL's trials ({n:g}) must be a whole number from 0 to "
                f"{MAX_TRIALS} (more are not supported yet)"
            )

        def make() -> Expr:
            count: Expr = _ZERO
            for _ in range(int(n)):
                count = _b("+", count, If(_b("<", self.uniform(stream), p), _ONE, _ZERO))
            return count

        valid = _b("AND", _b(">=", p, _ZERO), _b("<=", p, _ONE))
        if check is not None:
            valid = _b("AND", valid, check)
        return If(valid, self.truncated(make, (m, x, h, r), 0.0, n), _NAN)

    def _random_negative_binomial(self, args: tuple[Expr, ...]) -> Expr:
        m, x, p, n, h, r = (self.as_var(a, "arg") for a in args[:6])
        stream = args[6] if len(args) > 6 else None
        odds = self.as_var(_b("/", _b("-", _ONE, p), Call("MAX", (p, Num(1e-300)))), "odds")

        def make() -> Expr:
            mean = self.as_var(_b("*", self.gamma(n, stream), odds), "mean")
            return _b("+", n, self.draw("POISSON", (mean,), stream))

        low = _number(n)
        valid = _b("AND", _b("AND", _b(">", p, _ZERO), _b("<=", p, _ONE)), _b(">", n, _ZERO))
        body = self.truncated(make, (m, x, h, r), low if low is not None else 0.0, math.inf)
        return If(valid, body, _NAN)

    def _random_weibull(self, args: tuple[Expr, ...]) -> Expr:
        """Shape S, mean 1, by the inverse CDF between the CDF's values at the bounds."""
        m, x, _, h, r = (self.as_var(a, "arg") for a in args[:5])
        stream = args[5] if len(args) > 5 else None
        shape, check = self.constant(args[2], "the shape of RANDOM WEIBULL")
        if not shape > 0:
            raise self.error(f"RANDOM WEIBULL's shape ({shape:g}) must be above 0")
        scale = 1.0 / math.gamma(1.0 + 1.0 / shape)
        a = self.as_var(Call("MAX", (_ZERO, _b("/", _b("-", m, h), r))), "from")
        b = self.as_var(_b("/", _b("-", x, h), r), "to")

        def cdf(y: Expr) -> Expr:
            scaled = _b("^", _b("/", Call("MAX", (y, _ZERO)), Num(scale)), Num(shape))
            return _b("-", _ONE, Call("EXP", (_b("-", _ZERO, scaled),)))

        fa, fb = self.as_var(cdf(a), "low"), self.as_var(cdf(b), "high")
        level = _b("+", fa, _b("*", self.uniform(stream), _b("-", fb, fa)))
        tail = _b("-", _ZERO, Call("LN", (_b("-", _ONE, level),)))
        w = _b("*", Num(scale), _b("^", tail, Num(1.0 / shape)))
        valid = _b("AND", _b(">", r, _ZERO), _b(">", b, a))
        if check is not None:
            valid = _b("AND", valid, check)
        return If(valid, _b("+", h, _b("*", r, w)), _NAN)
