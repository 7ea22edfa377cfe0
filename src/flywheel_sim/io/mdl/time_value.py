"""Vensim's GET TIME VALUE, as far as it is an expression of TIME."""

from __future__ import annotations

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Expr, Num, Var


def time_value(args: tuple[Expr, ...]) -> Expr:
    """``GET TIME VALUE(relativeto, offset, measure)`` (Vensim help, GET TIME VALUE):
    relativeto 0 is the simulation time and measure 0 the model's time units, which is
    ``TIME + offset``; the calendar measures and the other origins are refused."""
    relative, offset, measure = args
    if not (isinstance(relative, Num) and relative.value == 0):
        raise ModelError(
            "GET TIME VALUE relative to the initial time or the computer's clock is not "
            "supported yet",
            hint="use 0 (the simulation time) as its first argument",
        )
    if not (isinstance(measure, Num) and measure.value == 0):
        raise ModelError(
            "GET TIME VALUE in calendar units (years, months, days ...) is not supported yet",
            hint="use 0 (the model's time units) as its last argument",
        )
    return Binary("+", Var("time"), offset)
