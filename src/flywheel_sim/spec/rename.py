"""Renaming variables of a model being read: an imported model (.mdl, XMILE) may name a variable
like a coordinate of our results (``seed``, ``run``, ``status`` ...: spec/names.py RESERVED),
which a result could not hold beside the coordinate. The readers rename such a variable
(``seed`` becomes ``seed variable``) everywhere it is used, and say so in the model's notes,
rather than refuse a model Vensim and Stella run. ``time`` is not renamed: in both languages
``TIME`` is the clock, so a variable of that name stays refused. Our own YAML keeps refusing
those names: a model written for us can choose another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from flywheel_sim.spec.ast import OPERATORS, Call, Expr, Range, Subscript, Var, rebuilt, to_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import RESERVED, canonical
from flywheel_sim.spec.parser import parse


def reserved_renames(elements: Iterable[Element]) -> dict[str, str]:
    """For each variable named like a result coordinate, canonical name -> its new name."""
    elements = list(elements)
    taken = {e.key for e in elements}
    out: dict[str, str] = {}
    for element in elements:
        if element.key not in RESERVED or element.key == "time":  # TIME is the clock there
            continue
        new, n = f"{element.name} variable", 2
        while canonical(new) in taken:
            new, n = f"{element.name} variable {n}", n + 1
        taken.add(canonical(new))
        out[element.key] = new
    return out


def renamed_tree(node: Expr, renames: Mapping[str, str]) -> Expr:
    """``node`` with every reference to a renamed variable (also in subscripts) renamed."""

    def tree(child: Expr) -> Expr:
        return renamed_tree(child, renames)

    def sub(s: Subscript) -> Subscript:
        return s if isinstance(s, str | int | Range) else tree(s)

    if isinstance(node, Var):
        name = renames.get(canonical(node.name), node.name)
        return Var(name, tuple(sub(s) for s in node.subscripts))
    if isinstance(node, Call):
        return Call(node.func, tuple(tree(a) for a in node.args))
    if isinstance(node, OPERATORS):
        return rebuilt(node, tree)
    return node


def rename_elements(elements: Iterable[Element], renames: Mapping[str, str]) -> tuple[Element, ...]:
    """The elements with the variables in ``renames`` (canonical old name -> new name)
    renamed: their own names, every equation, the flows a stock names, links and bounds."""
    if not renames:
        return tuple(elements)

    def name(old: str) -> str:
        return renames.get(canonical(old), old)

    def text(equation: str) -> str:
        return to_text(renamed_tree(parse(equation), renames)) if equation.strip() else equation

    out = []
    for e in elements:
        bounds = None if e.bounds is None else tuple(_bound(b, name) for b in e.bounds)
        out.append(
            replace(
                e,
                name=name(e.name),
                equation=text(e.equation),
                element_equations=tuple((k, text(v)) for k, v in e.element_equations),
                inflows=tuple(map(name, e.inflows)),
                outflows=tuple(map(name, e.outflows)),
                links=tuple(replace(link, source=name(link.source)) for link in e.links),
                bounds=bounds,  # type: ignore[arg-type]
            )
        )
    return tuple(out)


def _bound(value: float | str | None, name: Callable[[str], str]) -> float | str | None:
    return name(value) if isinstance(value, str) else value


def renaming_notes(renames: Mapping[str, str]) -> list[str]:
    """The model's notes saying what was renamed and why."""
    return [
        f"variable '{old}' is named '{new}': '{old}' is a coordinate of every result"
        for old, new in renames.items()
    ]
