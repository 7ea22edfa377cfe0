"""The order of Vensim's DELAY N and SMOOTH N when it is not written as a number.

Vensim models give it as a constant's name, or even an expression (``2 + STEP(1, 10)``), of
which Vensim uses the value at the initial time. The compiler needs the number of hidden stages
before running, so it evaluates the expression at the start with the parameters' default
values (``guess``); the run then checks that the order it computes at its start is that
number, and fails naming the variable if a run's parameters make it another (never a wrong
result without an error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from flywheel_sim.compile.instances import Inst
from flywheel_sim.spec.ast import ARITHMETIC, Binary, Call, Expr, If, Num, Unary, Var

_BINARY: dict[str, Callable[[float, float], float]] = {
    **ARITHMETIC,
    "/": lambda a, b: a / b if b else math.nan,
}


def guess(
    expr: Expr, by_key: Mapping[str, Inst], start: float, dt: float, depth: int = 0
) -> float | None:
    """``expr`` at the start time with default parameters, or None if it depends on
    anything else (a stock, a random draw, a function not folded here)."""
    if depth > 50:
        return None

    def again(e: Expr) -> float | None:
        return guess(e, by_key, start, dt, depth + 1)

    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Var):
        inst = by_key.get(expr.name)
        if inst is None or inst.kind not in ("parameter", "aux", "haux", "init"):
            return None
        return again(inst.expr)
    if isinstance(expr, Unary):
        value = again(expr.operand)
        if value is None or expr.op not in ("-", "+"):
            return None
        return -value if expr.op == "-" else value
    if isinstance(expr, Binary):
        a, b = again(expr.left), again(expr.right)
        if a is None or b is None or expr.op not in _BINARY:
            return None
        try:
            return float(_BINARY[expr.op](a, b))
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
    if isinstance(expr, If):
        cond = again(expr.cond)
        return None if cond is None else again(expr.then if cond else expr.orelse)
    if isinstance(expr, Call):
        return _call(expr, again, start, dt)
    return None


def _call(
    expr: Call, again: Callable[[Expr], float | None], start: float, dt: float
) -> float | None:
    if expr.func in ("TIME", "STARTTIME"):
        return start
    if expr.func == "DT":
        return dt
    found = [again(a) for a in expr.args]
    args = [a for a in found if a is not None]
    if len(args) != len(found):
        return None
    if expr.func == "STEP" and len(args) == 2:
        return args[0] if start >= args[1] else 0.0
    if expr.func in ("MIN", "MAX") and args:
        return min(args) if expr.func == "MIN" else max(args)
    if expr.func in ("INT", "ABS") and len(args) == 1:
        return float(math.floor(args[0])) if expr.func == "INT" else abs(args[0])
    if expr.func == "IF_THEN_ELSE" and len(args) == 3:
        return args[1] if args[0] else args[2]
    return None


def constant_expression(expr: Expr, known: Mapping[str, Inst], depth: int = 0) -> bool:
    """Whether ``expr`` is the same at every time: numbers, constants, INITIAL values and
    expressions of them (no stock, TIME, draw or other function)."""
    if depth > 50:
        return False
    if isinstance(expr, Num):
        return True
    if isinstance(expr, Var):
        inst = known.get(expr.name)
        if inst is None:
            return False
        if inst.kind in ("parameter", "init"):
            return True
        return inst.kind in ("aux", "haux") and constant_expression(inst.expr, known, depth + 1)
    if isinstance(expr, Unary):
        return constant_expression(expr.operand, known, depth + 1)
    if isinstance(expr, Binary):
        return constant_expression(expr.left, known, depth + 1) and constant_expression(
            expr.right, known, depth + 1
        )
    if isinstance(expr, If):
        parts = (expr.cond, expr.then, expr.orelse)
        return all(constant_expression(p, known, depth + 1) for p in parts)
    return (
        isinstance(expr, Call)
        and expr.func in ("MIN", "MAX", "ABS", "INT")
        and all(constant_expression(a, known, depth + 1) for a in expr.args)
    )
