"""The expression AST: small frozen dataclasses produced by :mod:`flywheel_sim.spec.parser`.

Names are stored canonical (see :func:`flywheel_sim.spec.names.canonical`); function names are
stored upper case. Subscripts are element names, dimension names, 1-based integer positions or
``"*"`` (all elements, only valid inside a reduction such as ``SUM``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    subscripts: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+", "NOT"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / ^ MOD = <> < <= > >= AND OR
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Call:
    func: str  # upper case for builtins; canonical lower case for lookups and macros
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class VarList:
    """Several scalar references, produced when a starred subscript (``x[*]``) is expanded."""

    items: tuple[Expr, ...]


Expr = Num | Var | Unary | Binary | If | Call | VarList


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, If):
        return (node.cond, node.then, node.orelse)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, VarList):
        return node.items
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def names_in(node: Expr) -> set[str]:
    """Canonical names of all variables referenced (not lookups called) in ``node``."""
    return {n.name for n in walk(node) if isinstance(n, Var)}


def to_text(node: Expr) -> str:
    """Render an expression back to equation text (fully parenthesised where needed)."""
    if isinstance(node, Num):
        value = node.value
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(node, Var):
        if node.subscripts:
            return f"{node.name}[{', '.join(str(s) for s in node.subscripts)}]"
        return node.name
    if isinstance(node, Unary):
        sep = " " if node.op == "NOT" else ""
        return f"{node.op}{sep}({to_text(node.operand)})"
    if isinstance(node, Binary):
        return f"({to_text(node.left)} {node.op} {to_text(node.right)})"
    if isinstance(node, If):
        return f"(IF {to_text(node.cond)} THEN {to_text(node.then)} ELSE {to_text(node.orelse)})"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_text(a) for a in node.args)})"
    return ", ".join(to_text(i) for i in node.items)
