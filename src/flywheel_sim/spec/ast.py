"""The expression AST: small frozen dataclasses produced by :mod:`flywheel_sim.spec.parser`.

Names are stored canonical (see :func:`flywheel_sim.spec.names.canonical`); function names are
stored upper case. Subscripts are element names, dimension names, 1-based integer positions,
``"*"`` or ``"dim.*"`` (all elements), ``"@2"`` (the element of the equation's own 2nd
dimension), a :class:`Range` (``x[1:3]``, ``x[a:c]``) or an
expression computed while the model runs (``x[INT(TIME MOD 5) + 1]``, a position). A bare name
in a subscript is kept as a name: an element or dimension first, else a variable's value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Num:
    """A number."""

    value: float


@dataclass(frozen=True, slots=True)
class Range:
    """A subscript range ``lo:hi``: element names or 1-based positions, both ends included."""

    lo: str | int
    hi: str | int


@dataclass(frozen=True, slots=True)
class Var:
    """A variable, with its subscripts if it is an array (``x[a, 2]``)."""

    name: str
    subscripts: tuple[Subscript, ...] = ()


@dataclass(frozen=True, slots=True)
class Unary:
    """A unary operation: ``-x``, ``+x``, ``NOT x``."""

    op: str  # "-", "+", "NOT"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operation: arithmetic, comparison, ``AND``, ``OR``."""

    op: str  # + - * / ^ MOD = <> < <= > >= AND OR
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class If:
    """``IF cond THEN then ELSE orelse``."""

    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a builtin function, a lookup or a macro."""

    func: str  # upper case for builtins; canonical lower case for lookups and macros
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class VarList:
    """Several scalar references, produced when a starred subscript (``x[*]``) is expanded."""

    items: tuple[Expr, ...]


Expr = Num | Var | Unary | Binary | If | Call | VarList
Subscript = str | int | Range | Expr


def subscript_text(sub: Subscript) -> str:
    """One subscript as equation text."""
    if isinstance(sub, str):
        return sub if sub == "*" or sub.endswith(".*") or sub[:1] == "@" else name_text(sub)
    if isinstance(sub, int):
        return str(sub)
    if isinstance(sub, Range):
        return f"{subscript_text(sub.lo)}:{subscript_text(sub.hi)}"
    return to_text(sub)


def rebuilt(node: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """An operator node (Unary, Binary, If, VarList) with ``fn`` applied to each operand, the
    step every rewriting pass repeats; any other node is returned unchanged."""
    if isinstance(node, Unary):
        return Unary(node.op, fn(node.operand))
    if isinstance(node, Binary):
        return Binary(node.op, fn(node.left), fn(node.right))
    if isinstance(node, If):
        return If(fn(node.cond), fn(node.then), fn(node.orelse))
    if isinstance(node, VarList):
        return VarList(tuple(fn(i) for i in node.items))
    return node


OPERATORS = (Unary, Binary, If, VarList)  # the nodes :func:`rebuilt` rebuilds


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
    if isinstance(node, Var) and node.subscripts:
        return tuple(s for s in node.subscripts if not isinstance(s, str | int | Range))
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


_BARE = re.compile(r"[^\W\d][\w$]*(?:\.[^\W\d][\w$]*)*\Z")
KEYWORDS = frozenset({"if", "then", "else", "and", "or", "not", "mod"})
# binding powers of the infix operators (higher binds tighter); shared with the parser
BINDING_POWER = {
    "OR": 10,
    "AND": 20,
    "=": 30,
    "<>": 30,
    "<": 40,
    "<=": 40,
    ">": 40,
    ">=": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "MOD": 60,
    "^": 80,
}
UNARY_BINDING_POWER = 70
_POWER = BINDING_POWER["^"]
_ATOM = 100


def name_text(name: str) -> str:
    """A name as equation text: bare when the grammar allows it, else double-quoted."""
    if _BARE.match(name) and name.lower() not in KEYWORDS:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _precedence(node: Expr) -> int:
    if isinstance(node, Binary):
        return BINDING_POWER[node.op]
    if isinstance(node, Unary):
        return UNARY_BINDING_POWER
    if isinstance(node, If):
        return 0
    return _ATOM


def _wrapped(node: Expr, needs: bool) -> str:
    text = to_text(node)
    return f"({text})" if needs else text


def to_text(node: Expr) -> str:
    """Render an expression as equation text that parses back to the same tree.

    Parentheses appear where precedence or associativity needs them, and around a power that
    is an operand of ``^`` or of a unary operator (``(a ^ b) ^ c``, ``a ^ (b ^ c)``,
    ``-(a ^ 2)``) although the grammar does not need them there: tools disagree on how ``^``
    groups (XMILE: right to left; older flywheel-sim: left to right) and on whether
    a unary minus binds tighter, and explicit parentheses read the same in all of them.
    """
    if isinstance(node, Num):
        value = node.value
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value)) if value >= 0 else f"({int(value)})"
        return repr(value) if value >= 0 else f"({value!r})"
    if isinstance(node, Var):
        if node.subscripts:
            subs = ", ".join(subscript_text(s) for s in node.subscripts)
            return f"{name_text(node.name)}[{subs}]"
        return name_text(node.name)
    if isinstance(node, Unary):
        sep = " " if node.op == "NOT" else ""
        operand = _wrapped(
            node.operand, _precedence(node.operand) not in (UNARY_BINDING_POWER, _ATOM)
        )
        return f"{node.op}{sep}{operand}"
    if isinstance(node, Binary):
        bp = BINDING_POWER[node.op]
        if bp == _POWER:  # either side in parentheses when it is a power itself
            left = _wrapped(node.left, _precedence(node.left) <= bp)
            right = _wrapped(node.right, _precedence(node.right) <= bp)
        else:  # the others group left to right
            left = _wrapped(node.left, _precedence(node.left) < bp)
            right = _wrapped(node.right, _precedence(node.right) <= bp)
        return f"{left} {node.op} {right}"
    if isinstance(node, If):
        return f"IF {to_text(node.cond)} THEN {to_text(node.then)} ELSE {to_text(node.orelse)}"
    if isinstance(node, Call):
        if node.func == "TRANSPOSE" and len(node.args) == 1 and isinstance(node.args[0], Var):
            return f"{to_text(node.args[0])}'"  # XMILE's transposition operator
        func = node.func if node.func.lower() in KEYWORDS else name_text(node.func)
        return f"{func}({', '.join(to_text(a) for a in node.args)})"
    return ", ".join(to_text(i) for i in node.items)


def depth(node: Expr) -> int:
    """The depth of the tree (iterative, so safe on any input)."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in children(current))
    return best


# the arithmetic and comparisons of two numbers (constant folding: a division by 0 raises)
ARITHMETIC: Mapping[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "=": lambda a, b: float(a == b),
    "<>": lambda a, b: float(a != b),
}
