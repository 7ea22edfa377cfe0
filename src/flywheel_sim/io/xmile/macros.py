"""XMILE macros (``<macro name="F"><parm>a</parm><eqn>...</eqn>[<variables>...]</macro>``).

A call ``F(x, y)`` is expanded where it stands:

- a macro without variables is its equation with the parameters replaced by the arguments;
- a macro with variables (stocks, flows, auxiliaries) gets its own copy of them for each call,
  named ``<caller>.<macro><k>.<variable>`` (so every call integrates its own stocks) and over
  the caller's dimensions, and the call is replaced by the macro's equation over those
  copies. An argument that is not a name or number becomes an auxiliary
  ``<caller>.<macro><k>.<parameter>`` first, so it is evaluated once.

Macro bodies see only their parameters, their own variables and the builtins.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.equations import Context, Scope, translate_expr
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.limits import MAX_EXPANSION
from flywheel_sim.spec.ast import Expr, Num, Var, to_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.size import too_large

MAX_MACRO_DEPTH = 30
Build = Callable[[ET.Element, str, Scope, tuple[str, ...]], Element]


@dataclass(frozen=True)
class Macro:
    name: str  # canonical
    display: str
    params: tuple[str, ...]  # canonical
    defaults: dict[str, str]  # parameter -> default equation text
    equation: str
    variables: tuple[ET.Element, ...]
    node: ET.Element


def read_macros(doc: Document) -> dict[str, Macro]:
    out: dict[str, Macro] = {}
    for node in doc.root.findall("macro"):
        display = (node.get("name") or "").strip()
        if not display:
            raise doc.error("<macro> has no name", node)
        params, defaults = [], {}
        for parm in node.findall("parm"):
            pname = canonical(parm.text or "")
            if not pname:
                raise doc.error(f"macro '{display}' has an empty <parm>", parm)
            params.append(pname)
            if parm.get("default") is not None:
                defaults[pname] = parm.get("default", "")
        equation = (node.findtext("eqn") or "").strip()
        if not equation:
            raise doc.error(f"macro '{display}' has no <eqn>", node)
        variables = node.find("variables")
        items = tuple(variables) if variables is not None else ()
        out[canonical(display)] = Macro(
            canonical(display), display, tuple(params), defaults, equation, items, node
        )
    return out


@dataclass
class MacroExpander:
    macros: dict[str, Macro]
    doc: Document
    dims: dict[str, tuple[str, ...]]
    names: set[str]
    elements: list[Element]
    build: Build | None = None
    owner: tuple[str, tuple[str, ...], str] = ("", (), "")  # caller name, dims, prefix
    counters: dict[str, int] = field(default_factory=dict)
    depth: int = 0
    budget: int = MAX_EXPANSION  # copies the calls may still make (limits.max_expansion)
    limit: int = MAX_EXPANSION
    sizes: dict[str, int] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def size(self, name: str, active: frozenset[str] = frozenset()) -> int:
        """How many copies (variables and nested calls) one call of macro ``name`` makes,
        counted from the macros' text without expanding them. A macro that calls itself
        counts its own call once (its expansion is refused as too deep anyway)."""
        known = self.sizes.get(name)
        if known is not None:
            return known
        macro = self.macros[name]
        total = 1 + len(macro.variables) + len(macro.params)
        texts = [node.text or "" for node in macro.node.iter("eqn")]
        texts += list(macro.defaults.values())
        for other, pattern in self.call_patterns().items():
            calls = sum(len(pattern.findall(text)) for text in texts)
            if calls and other not in active and other != name:
                total += calls * self.size(other, active | {name})
            elif calls:
                total += calls
            if total > 1 << 62:
                break
        self.sizes[name] = total
        return total

    def call_patterns(self) -> dict[str, re.Pattern[str]]:
        if not self.patterns:
            self.patterns = {
                key: re.compile(
                    r"(?<![\w.])"
                    + r"[\s_]+".join(re.escape(w) for w in re.split(r"[\s_]+", m.display))
                    + r"\s*\(",
                    re.IGNORECASE,
                )
                for key, m in self.macros.items()
            }
        return self.patterns

    def charge(self, macro: Macro) -> None:
        """Count a call from a model equation against the budget before expanding it."""
        cost = self.size(macro.name)
        self.budget -= cost
        if self.budget < 0:
            caller = self.owner[0]
            raise too_large(
                f"calls of macro '{macro.display}' expand into more copies than allowed "
                f"(one call from '{caller}' makes {cost:,})",
                "max_expansion",
                self.limit,
                file=self.doc.file,
                line=self.doc.line(macro.node),
                hint="call it fewer times, or make it call other macros fewer times",
            )

    def expand(self, name: str, args: tuple[Expr, ...], ctx: Context) -> Expr:
        macro = self.macros[name]
        if self.depth == 0:
            self.charge(macro)
        if self.depth >= MAX_MACRO_DEPTH:
            raise ModelError(
                f"macro '{macro.display}' expands more than {MAX_MACRO_DEPTH} "
                "levels deep (does it call itself?)"
            )
        bound = self.bind(macro, args)
        caller, dims, _ = self.owner
        if not macro.variables:
            scope = Scope("", set(), self.dims, frozenset(self.macros), bound, isolated=True)
            return self.inner(macro.equation, scope, ctx)
        key = canonical(caller)
        self.counters[key] = self.counters.get(key, 0) + 1
        base = f"{caller}.{macro.display}{self.counters[key]}"
        prefix = canonical(base) + "."
        local = {canonical(v.get("name") or "") for v in macro.variables}
        if "" in local:
            raise self.doc.error(f"a variable of macro '{macro.display}' has no name", macro.node)
        self.names.update(prefix + n for n in local)
        subst: dict[str, Expr] = {}
        for param, arg in bound.items():
            if isinstance(arg, Num | Var):
                subst[param] = arg
                continue
            element = Element(name=f"{base}.{param}", kind="aux", equation=to_text(arg), dims=dims)
            self.elements.append(element)
            self.names.add(element.key)
            subst[param] = Var(element.key)
        scope = Scope(prefix, self.names, self.dims, frozenset(self.macros), subst, isolated=True)
        assert self.build is not None
        saved = self.owner
        self.depth += 1
        try:
            for node in macro.variables:
                if node.tag not in ("stock", "flow", "aux", "gf"):
                    raise self.doc.error(
                        f"unsupported element <{node.tag}> in macro '{macro.display}'", node
                    )
                display = f"{base}.{' '.join((node.get('name') or '').split())}"
                self.elements.append(self.build(node, display, scope, dims))
                self.owner = saved
            return self.inner(macro.equation, scope, ctx)
        finally:
            self.depth -= 1
            self.owner = saved

    def inner(self, text: str, scope: Scope, ctx: Context) -> Expr:
        self.depth += 1
        try:
            return translate_expr(text, scope, ctx)
        finally:
            self.depth -= 1

    def bind(self, macro: Macro, args: tuple[Expr, ...]) -> dict[str, Expr]:
        if len(args) > len(macro.params):
            raise ModelError(
                f"macro '{macro.display}' takes {len(macro.params)} argument(s) but was given "
                f"{len(args)}"
            )
        bound: dict[str, Expr] = dict(zip(macro.params, args, strict=False))
        for param in macro.params[len(args) :]:
            if param not in macro.defaults:
                raise ModelError(
                    f"macro '{macro.display}' needs argument '{param}'",
                    hint=f"call it with {len(macro.params)} arguments",
                )
            scope = Scope("", set(), self.dims, frozenset(), {}, isolated=True)
            bound[param] = translate_expr(macro.defaults[param], scope, Context(param))
        return bound


__all__ = ["Macro", "MacroExpander", "read_macros"]
