"""Vensim's SINTEG(rate, initial, min, max, quant, spec, thresh): an integral kept within
[min, max] (Vensim's reference, "SINTEG": it "will never go below min or above max"; the last
five arguments are numbers or :NA:, an :NA: bound being no bound).

Read as a stock whose value after each Euler step is the plain step clipped to the bounds:
its rate is ``(MIN(MAX(x + TIME STEP * rate, min), max) - x) / TIME STEP`` and its initial
value is clipped too. Refused: ``quant``, ``spec`` and ``thresh`` other than :NA: (the
reference does not say how rounding to quant, snapping to spec and the bounds combine, nor
how spec's threshold compares at its edges), and any method but Euler (how the bounds act
within an RK4 step is not documented).
"""

from __future__ import annotations

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import NA
from flywheel_sim.spec.ast import Binary, Call, Expr, Num, Unary, Var


def _number(arg: Expr, name: str) -> float | None:
    """The value of a bound (None for :NA:)."""
    if isinstance(arg, Unary) and arg.op == "-" and isinstance(arg.operand, Num):
        arg = Num(-arg.operand.value)
    if not isinstance(arg, Num):
        raise ModelError(f"SINTEG's {name} must be a number or :NA: (Vensim's reference)")
    return None if arg.value == NA else arg.value


def sinteg(args: tuple[Expr, ...], own: Var, method: str) -> tuple[Expr, Expr]:
    """The rate and initial value of the stock ``own = SINTEG(args)``."""
    if len(args) != 7:
        raise ModelError(
            f"SINTEG takes 7 arguments (rate, initial, min, max, quant, spec, thresh), "
            f"not {len(args)}"
        )
    rate, initial = args[:2]
    low, high = _number(args[2], "min"), _number(args[3], "max")
    for name, arg in zip(("quant", "spec", "thresh"), args[4:], strict=True):
        if _number(arg, name) is not None:
            raise ModelError(
                f"SINTEG's {name} is not supported yet (only :NA:): Vensim's reference does "
                "not say how rounding to quant, snapping to spec and the bounds combine",
                hint="write :NA: for quant, spec and thresh, or round the stock's output "
                "in an auxiliary",
            )
    if method != "euler":
        raise ModelError(
            f"SINTEG with {method.upper()} integration is not supported: Vensim's reference "
            "does not say how its bounds act within a step",
            hint="use Euler (Vensim: Model > Settings > Integration Type)",
        )

    def clipped(value: Expr) -> Expr:
        if low is not None:
            value = Call("MAX", (value, Num(low)))
        if high is not None:
            value = Call("MIN", (value, Num(high)))
        return value

    step = Var("time_step")
    stepped = clipped(Binary("+", own, Binary("*", step, rate)))
    return Binary("/", Binary("-", stepped, own), step), clipped(initial)
