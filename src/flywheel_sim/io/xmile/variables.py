"""XMILE variables: one <stock>, <flow>, <aux> or <gf> (and its <element>s) as an Element.

The equations are translated by :mod:`flywheel_sim.io.xmile.equations`; conveyors' options
are read by :mod:`flywheel_sim.io.xmile.conveyor`. The methods here are part of
:class:`flywheel_sim.io.xmile.reader.Reader`, which keeps the state.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from typing import Any, cast

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.conveyor import (
    ConveyorSpec,
    LeakSpec,
    SpreadSpec,
    leak_zone,
    read_conveyor,
    read_spread,
    refuse_slat_size,
)
from flywheel_sim.io.xmile.equations import (
    Context,
    Scope,
    is_placeholder,
    number_list,
    translate_expr,
)
from flywheel_sim.io.xmile.macros import MacroExpander
from flywheel_sim.io.xmile.parts import constants, display_name, flag, read_graphical, text_of
from flywheel_sim.io.xmile.queue import QueueParts, read_queue_parts, refuse_batch_size
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import Num, name_text, to_text
from flywheel_sim.spec.model import Dimension, Element, Kind
from flywheel_sim.spec.names import canonical, canonical_elements

# leaking whole units only (queues and multipliers are read: io/xmile/queue.py)
UNSUPPORTED = ("leak_integers",)
_COMMENT = re.compile(r"\{[^}]*\}")


class VariableReader:
    """Reads one variable of a model instance (the reader's state is the Reader's)."""

    doc: Document
    dimensions: tuple[Dimension, ...]
    non_negative: dict[str, bool]
    elements: list[Element]
    names: set[str]
    conveyors: list[ConveyorSpec]
    leaks: dict[str, LeakSpec]
    spreads: dict[str, SpreadSpec]
    blank_flows: dict[str, tuple[Document, ET.Element, str]]
    belts: set[str]
    queue_parts: QueueParts

    def variable(
        self,
        node: ET.Element,
        name: str,
        scope: Scope,
        expander: MacroExpander,
        dims: tuple[str, ...] | None = None,
    ) -> Element:
        """One stock, flow, aux or gf. ``dims`` overrides the node's own dimensions (the
        copies of a macro's variables take the dimensions of the equation that calls it)."""
        tag = node.tag
        line = self.doc.line(node)
        common: dict[str, Any] = {
            "name": name,
            "unit": text_of(node, "units"),
            "description": text_of(node, "doc"),
            "line": line,
        }
        if tag == "gf":
            if node.find("element") is not None:
                raise ModelError(
                    "a standalone <gf> with a graphical function per <element> is not supported",
                    hint="put the per-element graphical functions in an <aux> over the "
                    "dimension (its equation the input) and use LOOKUP(name[element], x)",
                )
            return Element(kind="lookup", lookup=read_graphical(self.doc, node), **common)
        for bad in UNSUPPORTED:
            if node.find(bad) is not None:
                raise ModelError(
                    f"<{bad}> is not supported",
                    hint="remove it: the leakage is then not rounded to whole units",
                )
        if node.find("init_eqn") is not None or node.find("element/init_eqn") is not None:
            raise ModelError(
                "<init_eqn> (a separate equation for the initial value, Vensim's ACTIVE "
                "INITIAL) is not supported",
                hint="drop it if the equation gives the right initial value, or move the "
                "initial value into the stocks that use it",
            )
        if any(child.tag.rsplit("}", 1)[-1] == "oven" for child in node):
            raise ModelError(
                "ovens (Stella's batch-process stocks) are not supported",
                hint="model the oven with stocks and flows",
            )
        for option, owner in (("conveyor", "stock"), ("leak", "flow")):
            if node.find(option) is not None and tag != owner:
                raise ModelError(f"<{option}> belongs in a <{owner}>, not in <{tag}>")
        if dims is None:
            dims = tuple(display_name(d.get("name", "")) for d in node.findall("dimensions/dim"))
        ctx = Context(
            variable=canonical(name),
            dims=tuple(canonical(d) for d in dims),
            expand_macro=expander.expand,
        )
        expander.owner = (name, dims, scope.prefix)
        if self.belts:
            refuse_slat_size(node, scope.prefix, self.belts)
        if self.queue_parts.names:
            refuse_batch_size(node, scope.prefix, self.queue_parts.names)
        read_queue_parts(
            self.queue_parts, self.doc, node, name, lambda raw: self.one_equation(raw, scope, ctx)
        )
        conveyor = tag == "stock" and node.find("conveyor") is not None
        if conveyor and not dims and len(number_list(node.findtext("eqn") or "") or ()) > 1:
            raise ModelError(
                "a list of initial values per slat of a conveyor is not supported",
                hint="give the conveyor one initial value (it is spread over the belt)",
            )
        equation, per_element, gf_to_elements = self.equations(node, scope, ctx, dims, name)
        if conveyor:
            self.conveyors.append(
                read_conveyor(self.doc, node, name, lambda raw: self.one_equation(raw, scope, ctx))
            )
        if tag == "flow":
            spread = read_spread(self.doc, node, name, lambda r: self.one_equation(r, scope, ctx))
            if spread is not None:
                self.spreads[canonical(name)] = spread
        if tag == "flow" and node.find("leak") is not None:
            zone = leak_zone(self.doc, node, name)
            own = self.one_equation((node.findtext("leak") or "").strip(), scope, ctx)
            equation = own or equation
            if not equation:
                raise ModelError(
                    "no leakage fraction", hint="give the leakage flow an <eqn> (the fraction)"
                )
            self.leaks[canonical(name)] = LeakSpec(
                canonical(name), name, self.doc, node, equation, zone
            )
        elif tag == "flow" and not equation and not per_element:
            # a conveyor's outflow has no equation (the conveyor computes it); any other
            # flow without one is refused once the conveyors are known (apply_conveyors)
            self.blank_flows[canonical(name)] = (self.doc, node, name)
            equation = "0"
        if not equation and not per_element:
            raise ModelError(
                "no equation", hint="give it an <eqn> (a module input must be connected)"
            )
        gf = None if gf_to_elements else node.find("gf")
        table = read_graphical(self.doc, gf) if gf is not None else None
        if tag == "aux" and table is None:
            values = constants(equation, per_element, dims)
            if values is not None:
                return Element(kind="parameter", dims=dims, default=values, **common)
        kind = cast(Kind, tag)
        fields: dict[str, Any] = {
            "kind": kind,
            "dims": dims,
            "equation": equation,
            "element_equations": per_element,
            "lookup": table,
        }
        if tag in ("stock", "flow"):
            fields["non_negative"] = self.nonneg(node, tag)
        if tag == "stock":
            fields["inflows"] = tuple(
                scope.prefix + canonical(f.text or "") for f in node.findall("inflow")
            )
            fields["outflows"] = tuple(
                scope.prefix + canonical(f.text or "") for f in node.findall("outflow")
            )
        return Element(**fields, **common)

    def nonneg(self, node: ET.Element, kind: str) -> bool:
        marker = node.find("non_negative")
        return self.non_negative[kind] if marker is None else flag(marker)

    def equations(
        self, node: ET.Element, scope: Scope, ctx: Context, dims: tuple[str, ...], name: str
    ) -> tuple[str, tuple[tuple[str, str], ...], bool]:
        """The apply-to-all equation (or ""), the per-element equations, and whether the
        variable's own <gf> went to its elements.

        An element with its own graphical function gets a lookup element ``name[element]``
        and the equation ``"name[element]"(input)``; when the variable also has a graphical
        function of its own, the elements without one get a copy of it the same way (so no
        element is looked up twice). Anything that cannot be read element by element is
        refused rather than given the first equation.
        """
        raw = self.single_eqn(node, name)
        values = number_list(raw) if dims else None
        common = "" if values is not None else self.one_equation(raw, scope, ctx)
        elements = node.findall("element")
        if elements and not dims:
            raise self.doc.error(
                f"<element subscript=...> in '{name}', which has no <dimensions>",
                elements[0],
                variable=name,
            )
        shared_gf = node.find("gf")
        own_gf = shared_gf is not None and any(e.find("gf") is not None for e in elements)
        per_element: dict[tuple[str, ...], str] = {}
        for element in elements:
            index = self.element_index(element, dims, name)
            if index in per_element:
                raise self.doc.error(
                    f"element [{', '.join(index)}] of '{name}' is given twice",
                    element,
                    variable=name,
                )
            text = self.one_equation(self.single_eqn(element, name), scope, ctx)
            gf = element.find("gf")
            if gf is None and own_gf:
                gf = shared_gf
            if gf is not None:
                text = self.element_table(gf, f"{name}[{','.join(index)}]", text or common)
            elif not text and not common:
                raise self.doc.error(
                    f"element [{', '.join(index)}] of '{name}' has no equation",
                    element,
                    variable=name,
                )
            if text:
                per_element[index] = text
        if own_gf:  # every element listed got a table; the rest get one from the shared <gf>
            assert shared_gf is not None
            for index in self.elements_of(dims):
                if index not in per_element:
                    per_element[index] = self.element_table(
                        shared_gf, f"{name}[{','.join(index)}]", common
                    )
        if elements and not common and values is None:
            for index in self.elements_of(dims):
                if index not in per_element:
                    raise self.doc.error(
                        f"element [{', '.join(index)}] of '{name}' has no equation (and "
                        "there is no equation for all its elements)",
                        node,
                        variable=name,
                        hint="give each element an <element subscript=...> with an <eqn>",
                    )
        out = [(",".join(k), v) for k, v in per_element.items()]
        if values is not None:
            everything = self.elements_of(dims)
            if len(values) != len(everything):
                raise ModelError(
                    f"the equation lists {len(values)} values but the array has "
                    f"{len(everything)} elements"
                )
            out += [
                (",".join(k), to_text(Num(v)))
                for k, v in zip(everything, values, strict=True)
                if k not in per_element
            ]
        return common, tuple(out), own_gf

    def single_eqn(self, node: ET.Element, name: str) -> str:
        """The text of the node's one <eqn> ("" if none); several are refused, since XMILE
        gives each variable and each <element> one equation."""
        eqns = node.findall("eqn")
        if len(eqns) > 1:
            where = (
                f"<element subscript=\"{node.get('subscript')}\"> of '{name}'"
                if node.tag == "element"
                else f'<{node.tag} name="{name}">'
            )
            raise self.doc.error(
                f"{where} has {len(eqns)} <eqn>s, and XMILE gives it one: which element "
                "each is for is unknown",
                eqns[1],
                variable=name,
                hint="give each array element its own <element subscript=...><eqn>",
            )
        return (eqns[0].text or "") if eqns else ""

    def element_index(
        self, element: ET.Element, dims: tuple[str, ...], name: str
    ) -> tuple[str, ...]:
        """An <element subscript="a, b">'s element names, one per dimension: each part an
        element of its dimension, or its position (XMILE 1.0 lets every index be a number)."""
        subscript = element.get("subscript")
        if subscript is None or not subscript.strip():
            raise self.doc.error(f"an <element> of '{name}' has no subscript", element)
        parts = [display_name(p) for p in subscript.split(",")]
        if len(parts) != len(dims):
            raise self.doc.error(
                f"<element subscript=\"{subscript}\"> of '{name}' gives {len(parts)} "
                f"index(es) but '{name}' has {len(dims)} dimension(s) [{', '.join(dims)}]",
                element,
            )
        by_key = {canonical(d.name): d.elements for d in self.dimensions}
        out = []
        for part, dim in zip(parts, dims, strict=True):
            members = by_key.get(canonical(dim))
            if members is None:
                raise self.doc.error(f"unknown dimension '{dim}'", element)
            keys = canonical_elements(members)
            key = part if part.isdecimal() else canonical(part)
            if key in keys:
                out.append(members[keys.index(key)])
            elif part.isdecimal() and 1 <= int(part) <= len(members):
                out.append(members[int(part) - 1])
            else:
                raise self.doc.error(
                    f"<element subscript=\"{subscript}\"> of '{name}': '{part}' is not an "
                    f"element of dimension '{dim}'",
                    element,
                )
        return tuple(out)

    def element_table(self, gf: ET.Element, table_name: str, argument: str) -> str:
        if not argument:
            raise self.doc.error(
                f"the graphical function of '{table_name}' has no input equation", gf
            )
        table = Element(
            name=table_name,
            kind="lookup",
            lookup=read_graphical(self.doc, gf),
            line=self.doc.line(gf),
        )
        self.elements.append(table)
        self.names.add(table.key)
        return f"{name_text(table.key)}({argument})"

    def elements_of(self, dims: tuple[str, ...]) -> list[tuple[str, ...]]:
        by_key = {canonical(d.name): d.elements for d in self.dimensions}
        lists = []
        for dim in dims:
            if canonical(dim) not in by_key:
                raise ModelError(f"unknown dimension '{dim}'")
            lists.append(by_key[canonical(dim)])
        return list(itertools.product(*lists))

    def one_equation(self, raw: str, scope: Scope, ctx: Context) -> str:
        if is_placeholder(raw):
            raise ModelError(
                "the equation is a placeholder ('???')", hint="give it a real equation"
            )
        if not _COMMENT.sub("", raw).strip():
            return ""
        return to_text(translate_expr(raw.strip(), scope, ctx))


XMILE_1_0 = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
