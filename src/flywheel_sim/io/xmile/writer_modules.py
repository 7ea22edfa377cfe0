"""The modules of a model to write as XMILE: the flattened dotted names (``hares.births``)
grouped back into modules, and which of them cannot be written as one (for
:mod:`flywheel_sim.io.xmile.writer`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flywheel_sim.spec.ast import Call, Var, walk
from flywheel_sim.spec.model import Element, Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse


@dataclass
class Module:
    """A module to write: the elements whose names start with ``prefix`` (canonical, with
    the trailing dot), under their local names, and the modules inside it."""

    name: str  # display name of the module ("Sub Model")
    prefix: str  # canonical full prefix ("sub_model." or "outer.inner.")
    elements: list[Element] = field(default_factory=list)
    children: dict[str, Module] = field(default_factory=dict)


def module_tree(elements: tuple[Element, ...]) -> tuple[list[Element], dict[str, Module]]:
    """The root's own elements and its modules, from the dotted names that flattening made
    (``hares.births``). A dotted name stays in its model as it is where its first part also
    names a variable there (a macro's copies, ``a.ACCUM1.total``) or the module could not be
    written as one (it uses a lookup or flow of another model)."""

    def split(items: list[Element], prefix: str) -> tuple[list[Element], dict[str, Module]]:
        locals_ = {e.key[len(prefix) :] for e in items}
        own: list[Element] = []
        groups: dict[str, Module] = {}
        for e in items:
            local = e.key[len(prefix) :]
            head, dot, _ = local.partition(".")
            if not dot or head in locals_:
                own.append(e)
                continue
            module = groups.get(head)
            if module is None:
                shown = display_part(e.name, prefix.count("."))
                module = groups[head] = Module(shown, prefix + head + ".")
            module.elements.append(e)
        for module in groups.values():
            inner, children = split(module.elements, module.prefix)
            module.elements, module.children = inner, children
        return own, groups

    root, modules = split(list(elements), "")
    return root, modules


def display_part(name: str, index: int) -> str:
    parts = name.split(".")
    return parts[index] if index < len(parts) else name


def prefixes(key: str) -> set[str]:
    """The module prefixes of a flattened name: ``a.b.x`` -> ``{"a.", "a.b."}``."""
    parts = key.split(".")
    return {".".join(parts[:i]) + "." for i in range(1, len(parts))}


def broken_prefixes(model: Model, lookups: frozenset[str]) -> set[str]:
    """The module prefixes that a stock's flow or a lookup's call crosses (one end inside,
    the other outside), so that the module cannot be written as one."""
    broken: set[str] = set()
    for e in model.elements:
        refs = [canonical(f) for f in (*e.inflows, *e.outflows)]
        for text in (e.equation, *(t for _, t in e.element_equations)):
            if text.strip():
                refs += [
                    canonical(n.func)
                    for n in walk(parse(text))
                    if isinstance(n, Call) and canonical(n.func) in lookups
                ]
        mine = prefixes(e.key)
        for ref in refs:
            broken |= mine ^ prefixes(ref)
    return broken


def all_elements(module: Module) -> list[Element]:
    out = list(module.elements)
    for child in module.children.values():
        out += all_elements(child)
    return out


def local_name(name: str, depth: int) -> str:
    """A flattened display name without its first ``depth`` module parts."""
    return ".".join(name.split(".")[depth:]) if depth else name


def connected_source(e: Element) -> str | None:
    """The name an auxiliary only copies (a connected module input), or None."""
    if e.kind != "aux" or e.element_equations or e.lookup is not None or not e.equation:
        return None
    tree = parse(e.equation)
    return tree.name if isinstance(tree, Var) and not tree.subscripts else None
