"""Vensim macros: ``:MACRO: NAME(a, b)`` ... ``:END OF MACRO:``, expanded at each call.

Each call ``NAME(x, y)`` gets its own copy of the macro's variables, named
``name.<n>.<variable>`` (``n`` counts the calls in the file), with the parameters replaced by
the call's arguments; the call becomes the copy of the variable named like the macro (its
output). A stock inside a macro is so a stock of each call. Macros may call macros (up to
:data:`MAX_DEPTH` deep). Refused so far: extra outputs (``NAME(a : out)``) and calls in an
equation over subscripts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import Table, parse_expression
from flywheel_sim.io.mdl.text import Record
from flywheel_sim.io.mdl.variables import Lhs, parse_values
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, VarList
from flywheel_sim.spec.names import canonical

MAX_DEPTH = 20
MAX_CALLS = 10_000
_HEADER = re.compile(r"(?P<name>[^()]+)\((?P<params>[^()]*)\)\s*\Z")


@dataclass
class Macro:
    name: str  # canonical
    params: tuple[str, ...]  # canonical
    body: list[tuple[Record, Lhs]]
    line: int

    @property
    def internal(self) -> set[str]:
        return {canonical(lhs.name) for _, lhs in self.body}


def read_macro(header: str, line: int) -> Macro:
    match = _HEADER.match(header.strip())
    if match is None:
        raise ModelError(f"cannot read the macro header ':MACRO: {header}'", line=line)
    params = match.group("params")
    if ":" in params:
        raise ModelError(
            f"macro '{match.group('name').strip()}' has extra outputs: not supported yet",
            line=line,
        )
    names = tuple(canonical(p) for p in params.split(",") if p.strip())
    return Macro(canonical(match.group("name")), names, [], line)


class Expander:
    """Replaces macro calls in parsed expressions, handing each call's variables to ``sink``."""

    def __init__(self, macros: dict[str, Macro], sink: Callable[[Record, Lhs], None]) -> None:
        self.macros = macros
        self.sink = sink
        self.calls = 0

    def __call__(self, tree: Expr, arrayed: bool) -> Expr:
        return self.expand(tree, arrayed, 0)

    def expand(self, node: Expr, arrayed: bool, depth: int) -> Expr:
        if isinstance(node, Call):
            args = tuple(self.expand(a, arrayed, depth) for a in node.args)
            macro = self.macros.get(canonical(node.func))
            if macro is None:
                return Call(node.func, args)
            if arrayed:
                raise ModelError(
                    f"a macro ({node.func}) called in an equation over subscripts: "
                    "not supported yet"
                )
            return self.instance(macro, args, depth)
        if isinstance(node, Unary):
            return Unary(node.op, self.expand(node.operand, arrayed, depth))
        if isinstance(node, Binary):
            return Binary(
                node.op,
                self.expand(node.left, arrayed, depth),
                self.expand(node.right, arrayed, depth),
            )
        if isinstance(node, If):
            return If(
                *(self.expand(n, arrayed, depth) for n in (node.cond, node.then, node.orelse))
            )
        if isinstance(node, VarList):
            return VarList(tuple(self.expand(i, arrayed, depth) for i in node.items))
        return node

    def instance(self, macro: Macro, args: tuple[Expr, ...], depth: int) -> Expr:
        if len(args) != len(macro.params):
            raise ModelError(
                f"macro '{macro.name}' takes {len(macro.params)} arguments, not {len(args)}"
            )
        if depth >= MAX_DEPTH:
            raise ModelError(f"macros call each other more than {MAX_DEPTH} deep")
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise ModelError(f"more than {MAX_CALLS} macro calls")
        prefix = f"{macro.name}.{self.calls}"
        rename = {name: f"{prefix}.{name}" for name in macro.internal}
        if macro.name not in rename:
            raise ModelError(f"macro '{macro.name}' defines no variable of its own name")
        given = dict(zip(macro.params, args, strict=True))
        for record, lhs in macro.body:
            tables: list[Table] = []
            tree: Expr = Num(0)
            if parse_values(lhs.rhs) is None and lhs.op in ("=", "=="):
                tree, tables = parse_expression(lhs.rhs)
                tree = self.expand(_rename(tree, given, rename), False, depth + 1)
            self.sink(
                record, replace(lhs, name=rename[canonical(lhs.name)], tree=tree, tables=tables)
            )
        return Var(rename[macro.name])


def _rename(node: Expr, given: dict[str, Expr], rename: dict[str, str]) -> Expr:
    """The macro's parameters replaced by the arguments, its variables by the call's copies."""
    if isinstance(node, Var):
        if not node.subscripts and node.name in given:
            return given[node.name]
        return Var(rename.get(node.name, node.name), node.subscripts)
    if isinstance(node, Call):
        return Call(node.func, tuple(_rename(a, given, rename) for a in node.args))
    if isinstance(node, Unary):
        return Unary(node.op, _rename(node.operand, given, rename))
    if isinstance(node, Binary):
        return Binary(
            node.op, _rename(node.left, given, rename), _rename(node.right, given, rename)
        )
    if isinstance(node, If):
        return If(*(_rename(n, given, rename) for n in (node.cond, node.then, node.orelse)))
    if isinstance(node, VarList):
        return VarList(tuple(_rename(i, given, rename) for i in node.items))
    return node
