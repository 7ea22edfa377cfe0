"""XMILE 1.0 -> Model.

Modules are flattened: a variable ``v`` of module instance ``m`` becomes the element
``m.v`` (names qualified as in XMILE), and a module input connected to a variable of the
enclosing model becomes an auxiliary equal to it. Macros are expanded at each call (see
:mod:`flywheel_sim.io.xmile.macros`). A constant auxiliary becomes a parameter, so sweeps,
sensitivity and calibration can vary it. See docs/xmile.md for the whole mapping.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.conveyor import (
    ConveyorSpec,
    LeakSpec,
    apply_conveyors,
    leak_zone,
    read_conveyor,
    refuse_slat_size,
)
from flywheel_sim.io.xmile.equations import (
    Context,
    Scope,
    is_placeholder,
    number_list,
    translate_expr,
)
from flywheel_sim.io.xmile.macros import Macro, MacroExpander, read_macros
from flywheel_sim.io.xmile.meta import apply_meta
from flywheel_sim.io.xmile.parts import (
    constants,
    display_name,
    flag,
    flows_as_named,
    read_behavior,
    read_dimensions,
    read_graphical,
    read_model_units,
    read_time,
    text_of,
)
from flywheel_sim.io.xmile.xml import Document, open_resource, parse_xml
from flywheel_sim.limits import DEFAULT, Limits
from flywheel_sim.spec.ast import Num, name_text, to_text
from flywheel_sim.spec.model import Element, Kind, Model
from flywheel_sim.spec.names import canonical, canonical_elements
from flywheel_sim.spec.size import too_large

VARIABLE_TAGS = ("stock", "flow", "aux", "gf", "module")
IGNORED_TAGS = frozenset({"group", "views", "view", "event_poster", "button", "style"})
# queue stocks and the flow options that go with queues and discrete stocks (conveyors and
# leakage flows are read: io/xmile/conveyor.py)
UNSUPPORTED = ("queue", "multiplier", "leak_integers", "overflow")
_COMMENT = re.compile(r"\{[^}]*\}")


@dataclass
class Instance:
    """One model instance to flatten: its <model> and its name prefixes."""

    model: ET.Element
    prefix: str  # canonical, with the trailing dot ("hares.") or ""
    display: str  # display prefix ("hares.") or ""
    doc: Document  # the file it comes from (another one for <module resource="...">)
    models: dict[str, ET.Element]  # the named <model>s its modules can use


class Reader:
    def __init__(self, doc: Document, default_name: str, limits: Limits = DEFAULT) -> None:
        self.doc = doc
        self.limits = limits
        self.module_variables = 0  # variables the modules add, counted before flattening
        self.resources: dict[
            tuple[str | None, str], tuple[Document, dict[str, ET.Element], ET.Element]
        ] = {}
        self.default_name = default_name
        root = doc.root
        self.dimensions = read_dimensions(self.doc, root.find("dimensions"))
        self.dims = {canonical(d.name): canonical_elements(d.elements) for d in self.dimensions}
        self.macros: dict[str, Macro] = read_macros(doc)
        self.models = {canonical(m.get("name", "")): m for m in root.findall("model")}
        self.non_negative = read_behavior(root.find("behavior"))
        self.elements: list[Element] = []
        self.names: set[str] = set()
        self.connections: dict[str, str] = {}  # flattened target -> flattened source
        self.connect_nodes: dict[str, ET.Element] = {}
        self.conveyors: list[ConveyorSpec] = []
        self.leaks: dict[str, LeakSpec] = {}
        self.blank_flows: dict[str, tuple[Document, ET.Element, str]] = {}  # conveyors fill
        self.belts: set[str] = set()  # the conveyors' flattened names

    # -- top level ----------------------------------------------------------------------------
    def model(self) -> Model:
        root = self.doc.root
        if "" not in self.models:
            if not self.models:
                raise self.doc.error("the XMILE file has no <model>", root)
            if len(self.models) > 1:
                raise self.doc.error(
                    "the XMILE file has several named <model>s and no root <model> without a name",
                    root,
                )
            self.models = {"": next(iter(self.models.values()))}
        for tag in (child.tag for child in root):
            if tag not in {
                "header",
                "sim_specs",
                "model",
                "dimensions",
                "behavior",
                "macro",
                "model_units",
                "prefs",
                "style",
                "data",
                "equation_prefs",
            } and not tag.startswith("{"):
                raise self.doc.error(f"unsupported XMILE element <{tag}>", root.find(tag))
        top = Instance(self.models[""], "", "", self.doc, self.models)
        self.check_module_size(top)
        instances = self.instances(top, depth=0)
        for inst in instances:
            self.collect_names(inst)
        expander = MacroExpander(self.macros, self.doc, self.dims, self.names, self.elements)
        expander.limit = self.limits.max_expansion
        expander.budget = self.limits.max_expansion - self.module_variables
        expander.build = lambda node, name, scope, dims: self.variable(
            node, name, scope, expander, dims
        )
        for inst in instances:
            self.flatten(inst, expander)
        for target, node in self.connect_nodes.items():
            if target not in self.names:
                raise self.doc.error(
                    f"<connect> names '{node.get('to')}', which is not a variable there", node
                )
        name = (root.findtext("header/name") or "").strip() or self.default_name
        time = read_time(self.doc, root.find("sim_specs"))
        elements = apply_conveyors(
            flows_as_named(self.elements), self.conveyors, self.leaks, self.blank_flows, time
        )
        model = Model(
            name=name,
            elements=elements,
            time=time,
            dimensions=self.dimensions,
            file=self.doc.file,
            units=read_model_units(self.doc, root.find("model_units")),
        )
        return apply_meta(model, self.doc)

    def module_size(self, inst: Instance, depth: int, sizes: dict[int, int]) -> int:
        """How many variables ``inst``'s <model> flattens into, its modules' included, counted
        without flattening (each <model> once, however often it is used)."""
        known = sizes.get(id(inst.model))
        if known is not None:
            return known
        if depth > 20:
            raise inst.doc.error(
                "modules nest more than 20 levels deep (a module contains itself?)", inst.model
            )
        total = 0
        for child in self.variables(inst.model):
            if child.tag == "module":
                name = child.get("name")
                if not name:
                    raise inst.doc.error("<module> has no name", child)
                doc, models, target = self.module_model(inst, child, name)
                inner = Instance(target, "", "", doc, models)
                total += self.module_size(inner, depth + 1, sizes)
            elif child.tag in VARIABLE_TAGS:
                total += 1
            if total > self.limits.max_expansion * 1000:  # far past the limit: stop counting
                break
        sizes[id(inst.model)] = total
        return total

    def check_module_size(self, top: Instance) -> None:
        """Refuse a module tree that flattens into more than ``max_expansion`` variables
        (a module using a module twice, nested 20 deep, is 2^20 copies) before flattening."""
        sizes: dict[int, int] = {}
        whole = self.module_size(top, 0, sizes)
        own = sum(1 for c in self.variables(top.model) if c.tag in VARIABLE_TAGS[:-1])
        self.module_variables = whole - own
        if self.module_variables <= self.limits.max_expansion:
            return
        largest = None
        for child in self.variables(top.model).findall("module"):
            target = self.module_model(top, child, child.get("name", ""))[2]
            size = sizes.get(id(target), 0)
            if largest is None or size > largest[0]:
                largest = (size, child)
        assert largest is not None
        raise too_large(
            f"the modules of this model flatten into {self.module_variables:,} variables; "
            f"module '{largest[1].get('name')}' alone {largest[0]:,}",
            "max_expansion",
            self.limits.max_expansion,
            file=self.doc.file,
            line=self.doc.line(largest[1]),
            hint="use each module fewer times",
        )

    def instances(self, inst: Instance, depth: int) -> list[Instance]:
        """This instance and every module instance below it, parents first."""
        if depth > 20:
            raise inst.doc.error(
                "modules nest more than 20 levels deep (a module contains itself?)", inst.model
            )
        out = [inst]
        for module in self.variables(inst.model).findall("module"):
            name = module.get("name")
            if not name:
                raise inst.doc.error("<module> has no name", module)
            doc, models, target_model = self.module_model(inst, module, name)
            prefix = inst.prefix + canonical(name) + "."
            for connect in module.findall("connect"):
                to, source = connect.get("to"), connect.get("from")
                if not to or not source:
                    raise inst.doc.error(
                        f"<connect> in module '{name}' needs to= and from=", connect
                    )
                target = self.connect_end(to, name, inst.prefix, prefix, into_module=True)
                if target in self.connections:
                    raise inst.doc.error(f"'{to}' is connected twice", connect)
                self.connections[target] = self.connect_end(
                    source, name, inst.prefix, prefix, into_module=False
                )
                self.connect_nodes[target] = connect
            child = Instance(
                target_model, prefix, inst.display + display_name(name) + ".", doc, models
            )
            out += self.instances(child, depth + 1)
        return out

    def module_model(
        self, inst: Instance, module: ET.Element, name: str
    ) -> tuple[Document, dict[str, ET.Element], ET.Element]:
        """The <model> a module instantiates: the one of its name, or the root model of the
        file its ``resource`` names (whose own named models its modules then use)."""
        resource = module.get("resource")
        if not resource:
            target = inst.models.get(canonical(name))
            if target is None:
                raise inst.doc.error(f"module '{name}' has no <model name=\"{name}\">", module)
            return inst.doc, inst.models, target
        # each file is read once, however many modules use it
        cache_key = (inst.doc.file, resource)
        cached = self.resources.get(cache_key)
        if cached is not None:
            return cached
        doc = open_resource(inst.doc, resource, module)
        models = {canonical(m.get("name", "")): m for m in doc.root.findall("model")}
        self.macros.update(read_macros(doc))
        root = models.get("") or (next(iter(models.values())) if len(models) == 1 else None)
        if root is None:
            raise doc.error("the module's file has no root <model> without a name", doc.root)
        self.resources[cache_key] = (doc, models, root)
        return doc, models, root

    def connect_end(
        self, raw: str, module: str, parent: str, inside: str, *, into_module: bool
    ) -> str:
        """A <connect> end as a flattened name: ``.x`` is the enclosing model's ``x``,
        ``module.x`` the module's; a bare name is the module's for to= and the enclosing
        model's (possibly qualified by a sibling module) for from=."""
        text = display_name(raw)
        own = canonical(module) + "."
        if text.startswith("."):
            return parent + canonical(text[1:])
        if canonical(text).startswith(own):
            return inside + canonical(text)[len(own) :]
        return (inside if into_module else parent) + canonical(text)

    def variables(self, model: ET.Element) -> ET.Element:
        node = model.find("variables")
        return node if node is not None else ET.Element("variables")

    def collect_names(self, inst: Instance) -> None:
        for child in self.variables(inst.model):
            name = child.get("name")
            if child.tag in VARIABLE_TAGS and name:
                self.names.add(inst.prefix + canonical(display_name(name)))
                if child.tag == "stock" and child.find("conveyor") is not None:
                    self.belts.add(inst.prefix + canonical(display_name(name)))

    # -- variables ----------------------------------------------------------------------------
    def flatten(self, inst: Instance, expander: MacroExpander) -> None:
        """Every variable of one instance, with errors located in the instance's file."""
        main, self.doc = self.doc, inst.doc
        expander.doc = inst.doc
        try:
            self.flatten_variables(inst, expander)
        finally:
            self.doc = main
            expander.doc = main

    def flatten_variables(self, inst: Instance, expander: MacroExpander) -> None:
        scope = Scope(inst.prefix, self.names, self.dims, frozenset(self.macros))
        for child in self.variables(inst.model):
            tag = child.tag
            if tag.startswith("{") or tag in IGNORED_TAGS or tag == "module":
                continue
            if tag not in VARIABLE_TAGS:
                raise self.doc.error(
                    f"unsupported XMILE element <{tag}> in <variables>",
                    child,
                    hint="flywheel-sim reads stock, flow, aux, gf and module",
                )
            raw = child.get("name")
            if not raw:
                raise self.doc.error(f"<{tag}> has no name", child)
            name = inst.display + display_name(raw)
            local = canonical(display_name(raw))
            key = inst.prefix + local
            try:
                if key in self.connections:
                    self.elements.append(self.connected(child, name, self.connections[key]))
                else:
                    self.elements.append(self.variable(child, name, scope, expander))
            except ModelError as exc:
                if exc.file is not None:
                    raise
                kind = {"aux": "auxiliary", "gf": "graphical function"}.get(tag, tag)
                raise self.doc.error(
                    f"{exc.message} in {kind} '{name}'", child, variable=name, hint=exc.hint
                ) from None

    def connected(self, node: ET.Element, name: str, source: str) -> Element:
        if source not in self.names:
            raise ModelError(f"module input is connected to '{source}', which does not exist")
        return Element(
            name=name,
            kind="aux",
            equation=source,
            unit=text_of(node, "units"),
            description=text_of(node, "doc"),
            line=self.doc.line(node),
        )

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
            return Element(kind="lookup", lookup=read_graphical(self.doc, node), **common)
        for bad in UNSUPPORTED:
            if node.find(bad) is not None:
                raise ModelError(
                    f"<{bad}> is not supported",
                    hint="queues are not supported yet: model the waiting line as a stock",
                )
        spread = next((v for k, v in node.attrib.items() if k.endswith("spreadflow")), None)
        if spread is not None and spread.strip():
            raise ModelError(
                f'spreading a conveyor\'s input (isee:spreadflow="{spread}") is not supported',
                hint="put the inflow at the beginning of the conveyor (remove isee:spreadflow)",
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
        conveyor = tag == "stock" and node.find("conveyor") is not None
        if conveyor and not dims and len(number_list(node.findtext("eqn") or "") or ()) > 1:
            raise ModelError(
                "a list of initial values per slat of a conveyor is not supported",
                hint="give the conveyor one initial value (it is spread over the belt)",
            )
        equation, per_element = self.equations(node, scope, ctx, dims, name)
        if conveyor:
            self.conveyors.append(
                read_conveyor(self.doc, node, name, lambda raw: self.one_equation(raw, scope, ctx))
            )
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
        gf = node.find("gf")
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
    ) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The apply-to-all equation (or "") and the per-element equations.

        An element with its own graphical function gets a lookup element ``name[element]``
        and the equation ``"name[element]"(input)``.
        """
        raw = node.findtext("eqn") or ""
        values = number_list(raw) if dims else None
        common = "" if values is not None else self.one_equation(raw, scope, ctx)
        per_element = []
        for element in node.findall("element"):
            subscript = element.get("subscript", "")
            keys = ",".join(display_name(p) for p in subscript.split(","))
            text = self.one_equation(element.findtext("eqn") or "", scope, ctx)
            gf = element.find("gf")
            if gf is not None:
                text = self.element_table(gf, f"{name}[{keys}]", text or common)
            per_element.append((keys, text))
        if values is not None:
            elements = self.elements_of(dims)
            if len(values) != len(elements):
                raise ModelError(
                    f"the equation lists {len(values)} values but the array has "
                    f"{len(elements)} elements"
                )
            per_element += [
                (",".join(k), to_text(Num(v))) for k, v in zip(elements, values, strict=True)
            ]
        return common, tuple(per_element)

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
        import itertools

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


def loads_xmile(data: str | bytes, *, file: str | None = None, name: str = "model") -> Model:
    """Build a Model from XMILE text (the contents of a .xmile or .stmx file)."""
    doc = parse_xml(data, file)
    return Reader(doc, name).model()


def load_xmile(path: str | Path) -> Model:
    """Load an XMILE file (.xmile, .stmx, .itmx, .xml)."""
    source = Path(path)
    if not source.is_file():
        raise ModelError(f"model file '{path}' does not exist")
    from flywheel_sim.io.xmile.xml import MAX_XMILE_BYTES

    if source.stat().st_size > MAX_XMILE_BYTES:
        raise ModelError(f"XMILE file is larger than {MAX_XMILE_BYTES} bytes", file=str(path))
    model = loads_xmile(source.read_bytes(), file=str(path), name=source.stem)
    return model


__all__ = ["Reader", "load_xmile", "loads_xmile"]
