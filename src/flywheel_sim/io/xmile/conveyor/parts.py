"""Pieces shared by the conveyor expansion: helper names and stocks, errors, and whether
an equation keeps its value during a run."""

from __future__ import annotations

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.containers import container_reads
from flywheel_sim.io.xmile.conveyor.read import ConveyorSpec
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Unary,
    Var,
    VarList,
    name_text,
)
from flywheel_sim.spec.builtins import BUILTINS
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

_CONSTANT_NAMES = frozenset({"dt", "starttime", "stoptime", "pi"})
_VARYING_KINDS = frozenset({"time", "random", "stateful"})  # builtins whose value changes


def refuse_slat_access(elements: tuple[Element, ...], belts: dict[str, ConveyorSpec]) -> None:
    """A conveyor's slats read as an array (``MEAN(conveyor)``, ``MAX(conveyor)``...): we keep
    no slats, and reading the conveyor as one number would be a wrong result, so refuse.
    (``conveyor[3]`` is already an error: the conveyor is no array.)"""
    for element, func, key in container_reads(elements, belts):
        spec = belts[key]
        raise ModelError(
            f"{func}({spec.name}) reads the slats of conveyor '{spec.name}' "
            f"in '{element.name}' (not supported)",
            file=spec.doc.file,
            line=element.line,
            variable=element.name,
            hint="only the conveyor's total (its value, or SUM of it) can be read",
        )


def history(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    value: str,
    first: str,
    length: str,
) -> tuple[list[Element], str]:
    """Helpers that sum ``value`` (a leakage fraction, or its log) over the last N DTs, this
    one included (before the start: ``first``); returns them and that sum, times DT."""
    rate = helper(by_key, spec, f"{spec.name} leak fractions")
    held = helper(by_key, spec, f"{spec.name} leak fraction history")
    gone = helper(by_key, spec, f"{spec.name} leak fraction history out")
    dims, line = stock.dims, stock.line
    helpers = [
        Element(name=rate, kind="flow", equation=value, dims=dims, line=line),
        Element(
            name=held,
            kind="stock",
            equation=f"({first}) * {length}",
            inflows=(canonical(rate),),
            outflows=(canonical(gone),),
            description=f"the leakage fractions of conveyor '{spec.name}' over its belt",
            dims=dims,
            line=line,
        ),
        Element(
            name=gone,
            kind="flow",
            equation=f"DELAY({name_text(canonical(rate))}, {length}, {first})",
            dims=dims,
            line=line,
        ),
    ]
    seen = (
        f"({name_text(canonical(held))} + DT * ({name_text(canonical(rate))} - "
        f"{name_text(canonical(gone))}))"
    )
    return helpers, seen


def capped(text: str, budget: str) -> str:
    return f"MIN(({text}), {budget})" if text.strip() else text


def helper(by_key: dict[str, Element], spec: ConveyorSpec, name: str) -> str:
    if canonical(name) in by_key:
        raise error(
            spec,
            f"conveyor '{spec.name}' needs a helper variable '{name}', a name the model uses",
            hint="rename that variable",
        )
    return name


def error(spec: ConveyorSpec, message: str, hint: str | None = None) -> ModelError:
    return spec.doc.error(message, spec.node, variable=spec.name, hint=hint)


class Constant:
    """Whether an equation keeps its value during a run: numbers, parameters, INIT(...), the
    clock constants and auxiliaries built only from those."""

    def __init__(self, by_key: dict[str, Element]) -> None:
        self.by_key = by_key
        self.known: dict[str, bool] = {}

    def text(self, text: str) -> bool:
        try:
            return self.expr(parse(text))
        except ModelError:
            return False

    def name(self, key: str) -> bool:
        if key in _CONSTANT_NAMES:
            return True
        element = self.by_key.get(key)
        if element is None:
            return False
        if element.kind in ("parameter", "lookup"):
            return element.policy is None
        if element.kind not in ("aux", "flow"):
            return False
        if key not in self.known:
            self.known[key] = False  # a cycle is not constant
            texts = [element.equation, *(t for _, t in element.element_equations)]
            self.known[key] = all(self.text(t) for t in texts if t.strip())
        return self.known[key]

    def expr(self, node: Expr) -> bool:
        if isinstance(node, Num):
            return True
        if isinstance(node, Var):
            return self.name(node.name)
        if isinstance(node, Unary):
            return self.expr(node.operand)
        if isinstance(node, Binary):
            return self.expr(node.left) and self.expr(node.right)
        if isinstance(node, If):
            return self.expr(node.cond) and self.expr(node.then) and self.expr(node.orelse)
        if isinstance(node, VarList):
            return all(self.expr(i) for i in node.items)
        if isinstance(node, Call):
            if node.func in ("INIT", "DT", "STARTTIME", "STOPTIME"):
                return True
            builtin = BUILTINS.get(node.func)
            if builtin is not None and builtin.kind in _VARYING_KINDS:
                return False
            # math, reductions, lookups; a function we do not know is refused when the
            # model is compiled ("unknown function"), with its own message
            return all(self.expr(a) for a in node.args)
        return False


def window_helpers(
    stock: Element,
    held: tuple[str, str],
    gone: tuple[str, str],
    initial: str,
    leaving: str,
) -> list[Element]:
    """A helper stock fed by the conveyor's inflows (name and description ``held``, initial
    value ``initial``) and its one outflow (``gone``, equation ``leaving``): what entered the
    belt over a stretch of its length, over the conveyor's dimensions."""
    return [
        Element(
            name=held[0],
            kind="stock",
            dims=stock.dims,
            equation=initial,
            inflows=stock.inflows,
            outflows=(canonical(gone[0]),),
            description=held[1],
            line=stock.line,
        ),
        Element(
            name=gone[0],
            kind="flow",
            dims=stock.dims,
            equation=leaving,
            description=gone[1],
            line=stock.line,
        ),
    ]
