"""Vensim's RANDOM functions, rewritten into the reproducible draws of the language (RANDOM,
NORMAL, POISSON: one stream per call site, see flywheel_sim.rng) while the Expander
(compile/stateful.py) expands a model.

Vensim's arguments (Reference Manual, "RANDOM Number Functions"): ``m``/``x`` the minimum and
maximum, by which the distribution is truncated after being stretched by ``r`` and shifted
by ``h``; ``s`` the stream ID. The truncation is exact where the distribution function can
be inverted in closed form (UNIFORM, EXPONENTIAL, TRIANGULAR: one uniform draw mapped
through the inverse CDF of the truncated distribution); NORMAL and POISSON redraw: the
first of ``REDRAWS`` independent draws that falls in [m, x], else the last one clipped to it
(so the distribution is exact but for a probability of (1 - p)^REDRAWS, p the probability
of [m, x]). Where m and x are numbers too far out to matter, one draw is used.

Stream IDs: 0 is Vensim's default stream (NOISE SEED): here each call draws from the run's
stream, which differs run to run. A non-zero ID is a stream that is the same in every run:
the language's explicit seed. Calls sharing an ID in Vensim draw interleaved numbers from one
stream; here each gets its own stream derived from the ID, so they stay independent rather
than identical. An ID written as an expression of constants (``seed + Games``) is folded to
its value (``stream_id``). Vensim's exact numbers (a Mersenne Twister) cannot be reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flywheel_sim.compile.instances import Inst
from flywheel_sim.compile.orders import constant_expression, guess
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num
from flywheel_sim.spec.model import TimeSpec

REDRAWS = 12
_NAN = Num(math.nan)
_SPREAD = 2.0**40  # between the streams of calls that share a stream ID


def _number(expr: Expr) -> float | None:
    return expr.value if isinstance(expr, Num) else None


def _within(value: Expr, lo: Expr, hi: Expr) -> Expr:
    return Binary("AND", Binary(">=", value, lo), Binary("<=", value, hi))


def _clip(value: Expr, lo: Expr, hi: Expr) -> Expr:
    return Call("MIN", (Call("MAX", (value, lo)), hi))


class VensimRandom:
    """Handlers for the Expander; ``as_var`` is the Expander's."""

    streams: dict[int, int]
    stream_ids: dict[Expr, tuple[Num, Expr]]  # stream IDs written as expressions, folded
    known: dict[str, Inst]
    instances: list[Inst]
    hidden: list[Inst]
    time: TimeSpec

    def as_var(self, expr: Expr, part: str) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def error(self, message: str) -> ModelError:
        raise NotImplementedError  # compile/stateful.py

    def _init(self, args: tuple[Expr, ...]) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def draw(self, func: str, args: tuple[Expr, ...], stream: Expr | None) -> Expr:
        """A call of the language's ``func`` on the stream of Vensim's stream ID."""
        check: Expr | None = None
        if stream is not None and not isinstance(stream, Num):
            stream, check = self.stream_id(stream)
        ident = 0 if stream is None else abs(int(_number(stream) or 0.0))
        if ident == 0:
            drawn = Call(func, args)
        else:
            uses = self.streams.get(ident, 0)
            self.streams[ident] = uses + 1
            seed = (ident + uses * _SPREAD) % 2.0**53  # exact as a float
            drawn = Call(func, (*args, Num(float(seed))))
        return drawn if check is None else If(check, drawn, _NAN)

    def stream_id(self, stream: Expr) -> tuple[Num, Expr]:
        """A stream ID written as an expression: Vensim's reference ("Stream ID") asks for a
        constant or an INITIAL expression, such as ``seed + Games`` per element. It is folded to
        its value with the parameters' defaults; each run checks (at its start) that its own
        value is the same, failing with NaN otherwise, never drawing from another stream."""
        if stream in self.stream_ids:
            return self.stream_ids[stream]
        if len(self.known) != len(self.instances) + len(self.hidden):
            self.known = {i.key: i for i in (*self.instances, *self.hidden)}
        value = guess(stream, self.known, self.time.start, self.time.dt)
        if not constant_expression(stream, self.known) or value is None:
            raise self.error(
                "a RANDOM function's stream ID must be a number, a constant or an expression "
                "of constants (Vensim: 'a constant or INITIAL expression')"
            )
        if not (math.isfinite(value) and abs(value) < 2.0**53):
            raise self.error(f"the stream ID {value:g} of a RANDOM function is out of range")
        same = self._init((stream,))
        self.stream_ids[stream] = (Num(value), Binary("=", same, Num(value)))
        return self.stream_ids[stream]

    def redrawn(self, make: Callable[[], Expr], lo: Expr, hi: Expr) -> Expr:
        """The first of REDRAWS draws ``make()`` within [lo, hi], else the last one clipped
        to it."""
        draws = [self.as_var(make(), "draw") for _ in range(REDRAWS)]
        result = _clip(draws[-1], lo, hi)
        for value in reversed(draws[:-1]):
            result = If(_within(value, lo, hi), value, result)
        return result

    def _random_uniform(self, args: tuple[Expr, ...]) -> Expr:
        return self.draw("RANDOM", args[:2], args[2] if len(args) > 2 else None)

    def _random_normal(self, args: tuple[Expr, ...]) -> Expr:
        lo, hi, mean, sd = (self.as_var(a, "arg") for a in args[:4])
        stream = args[4] if len(args) > 4 else None
        known = [_number(e) for e in (lo, hi, mean, sd)]
        if None not in known:
            m, x, h, r = (float(v or 0.0) for v in known)
            if r > 0 and m <= h - 9 * r and x >= h + 9 * r:  # outside: below 1e-18
                return self.draw("NORMAL", (mean, sd), stream)
        return self.redrawn(lambda: self.draw("NORMAL", (mean, sd), stream), lo, hi)

    def _random_poisson(self, args: tuple[Expr, ...]) -> Expr:
        lo, hi, mean, shift, stretch = (self.as_var(a, "arg") for a in args[:5])
        stream = args[5] if len(args) > 5 else None
        known = [_number(e) for e in (lo, hi, mean, shift, stretch)]

        def make() -> Expr:
            count = self.draw("POISSON", (mean,), stream)
            return Binary("+", shift, Binary("*", stretch, count))

        if None not in known:
            m, x, lam, h, r = (float(v or 0.0) for v in known)
            top = lam + 12 * math.sqrt(max(lam, 0.0)) + 30  # P(beyond) below 1e-18
            if lam >= 0 and r >= 0 and m <= h and x >= h + r * top:
                return make()
        return self.redrawn(make, lo, hi)

    def _random_exponential(self, args: tuple[Expr, ...]) -> Expr:
        """shift + stretch * E, E exponential of mean 1 truncated to [a, b], a and b the bounds
        brought back to E's scale; by the inverse CDF, E = a - ln(1 - u (1 - e^(a - b)))."""
        lo, hi, shift, stretch = (self.as_var(a, "arg") for a in args[:4])
        stream = args[4] if len(args) > 4 else None
        a = self.as_var(
            Call("MAX", (Num(0.0), Binary("/", Binary("-", lo, shift), stretch))), "from"
        )
        b = self.as_var(Binary("/", Binary("-", hi, shift), stretch), "to")
        u = self.draw("RANDOM", (Num(0.0), Num(1.0)), stream)
        mass = Binary("-", Num(1.0), Call("EXP", (Binary("-", a, b),)))
        e = Binary("-", a, Call("LN", (Binary("-", Num(1.0), Binary("*", u, mass)),)))
        valid = Binary("AND", Binary(">", stretch, Num(0.0)), Binary(">", b, a))
        return If(valid, Binary("+", shift, Binary("*", stretch, e)), _NAN)

    def _random_triangular(self, args: tuple[Expr, ...]) -> Expr:
        """The triangular distribution on [start, end] peaking at peak, truncated to [m, x],
        by its inverse CDF on a uniform draw between the CDF's values at the bounds."""
        m, x, s, p, t = (self.as_var(a, "arg") for a in args[:5])
        stream = args[5] if len(args) > 5 else None
        width = self.as_var(Binary("-", t, s), "width")
        rise = self.as_var(Binary("*", width, Binary("-", p, s)), "rise")
        fall = self.as_var(Binary("*", width, Binary("-", t, p)), "fall")

        def cdf(y: Expr) -> Expr:
            below = Call("SAFEDIV", (Binary("^", Binary("-", y, s), Num(2.0)), rise))
            above = Call("SAFEDIV", (Binary("^", Binary("-", t, y), Num(2.0)), fall))
            return If(Binary("<=", y, p), below, Binary("-", Num(1.0), above))

        lo = self.as_var(cdf(Call("MAX", (m, s))), "low")
        hi = self.as_var(cdf(Call("MIN", (x, t))), "high")
        u = self.draw("RANDOM", (Num(0.0), Num(1.0)), stream)
        v = self.as_var(Binary("+", lo, Binary("*", u, Binary("-", hi, lo))), "level")
        left = Binary("+", s, Call("SQRT", (Binary("*", v, rise),)))
        right = Binary("-", t, Call("SQRT", (Binary("*", Binary("-", Num(1.0), v), fall),)))
        peak = Call("SAFEDIV", (Binary("-", p, s), width))
        value = If(Binary("<=", v, peak), left, right)
        valid = Binary(
            "AND",
            Binary("AND", Binary("<=", s, p), Binary("<=", p, t)),
            Binary("AND", Binary("<", s, t), Binary("<", Call("MAX", (m, s)), Call("MIN", (x, t)))),
        )
        return If(valid, value, _NAN)
