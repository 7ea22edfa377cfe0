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
    SpreadSpec,
    apply_conveyors,
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
    split_qualified,
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
# the top-level elements read, and those that only format, display or link the model (Stella
# writes several outside its isee: namespace); any other one is ignored with a note
TOP_LEVEL = frozenset(
    {"header", "sim_specs", "model", "dimensions", "behavior", "macro", "model_units"}
)
TOP_LEVEL_DISPLAY = frozenset(
    {
        "prefs",
        "style",
        "data",
        "equation_prefs",
        "default_format",
        "ai_information",
        "number_format",
        "time_formats",
        "multiplayer_settings",
        "views",
    }
)
# the elements of a <model> that are read; views and vendor elements are ignored
MODEL_PARTS = frozenset({"variables", "views", "behavior", "sim_specs"})
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
        arrays = root.find("header/options/uses_arrays")
        invalid = "" if arrays is None else arrays.get("invalid_index_value", "")
        self.nan_index = invalid.strip().lower() == "nan"
        self.elements: list[Element] = []
        self.names: set[str] = set()
        self.connections: dict[str, str] = {}  # flattened target -> flattened source
        self.connect_nodes: dict[str, ET.Element] = {}
        self.notes: list[str] = []
        self.conveyors: list[ConveyorSpec] = []
        self.leaks: dict[str, LeakSpec] = {}
        self.spreads: dict[str, SpreadSpec] = {}  # isee:spreadflow on conveyor inflows
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
        check_layout(self.doc, self.models[""], root=True)  # before anything else is read
        self.top_level(root)
        specs = root.find("sim_specs")
        if specs is None:  # some tools write it in the root model only
            specs = self.models[""].find("sim_specs")
        self.top_specs = specs
        self.time = read_time(self.doc, specs, self.notes)
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
        elements = apply_conveyors(
            flows_as_named(self.elements),
            self.conveyors,
            self.leaks,
            self.blank_flows,
            self.time,
            spreads=self.spreads,
        )
        model = Model(
            name=name,
            elements=elements,
            time=self.time,
            dimensions=self.dimensions,
            file=self.doc.file,
            units=read_model_units(self.doc, root.find("model_units")),
            notes=tuple(self.notes),
        )
        return apply_meta(model, self.doc)

    def note(self, doc: Document, node: ET.Element, text: str) -> None:
        where = f"{Path(doc.file).name}:{doc.line(node)}" if doc.file else f"line {doc.line(node)}"
        self.notes.append(f"{text} ({where})")

    def top_level(self, root: ET.Element) -> None:
        """Refuse what changes results and is not read (<include>s of other files); ignore
        what only formats, displays or links the model, with a note for an import link and
        for elements XMILE does not define."""
        for child in root:
            tag = child.tag
            if tag in TOP_LEVEL or tag.startswith("{"):
                continue
            if tag in ("includes", "include"):
                raise self.doc.error(
                    f"<{tag}> (definitions from other files) is not supported",
                    child,
                    hint="copy the included definitions into this file",
                )
            if tag == "data" and child.find(".//import") is not None:
                self.note(
                    self.doc,
                    child,
                    "the data import links (<data><import>) are not followed: the values "
                    "saved in the model are used",
                )
            elif tag not in TOP_LEVEL_DISPLAY:
                self.note(self.doc, child, f"ignored <{tag}>, which XMILE 1.0 does not define")

    def model_parts(self, inst: Instance) -> None:
        """A <model>'s own <behavior> (its non-negative defaults) and <sim_specs> (refused
        when it differs from the file's: one DT for the whole model); other elements noted."""
        for child in inst.model:
            tag = child.tag
            if tag.startswith("{") or tag in ("variables", "views", "behavior"):
                continue
            if tag == "sim_specs":
                self.same_time(inst, child)
            else:
                self.note(inst.doc, child, f"ignored <{tag}> in a <model>")

    def same_time(self, inst: Instance, node: ET.Element) -> None:
        own = self.time
        merged = read_time(inst.doc, _merged_specs(self.top_specs, node))
        if (merged.start, merged.stop, merged.dt, merged.method) != (
            own.start,
            own.stop,
            own.dt,
            own.method,
        ):
            which = f"model '{inst.model.get('name')}'" if inst.model.get("name") else "the model"
            raise inst.doc.error(
                f"{which} has its own <sim_specs> (start {merged.start:g}, stop "
                f"{merged.stop:g}, dt {merged.dt:g}, {merged.method}) unlike the file's (start "
                f"{own.start:g}, stop {own.stop:g}, dt {own.dt:g}, {own.method}); a module "
                "running at its own DT is not supported",
                node,
                hint="give every model the same <sim_specs>",
            )

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
        check_layout(inst.doc, inst.model, root=depth == 0 or not inst.model.get("name"))
        out = [inst]
        modules = self.variables(inst.model).findall("module")
        siblings = {canonical(display_name(m.get("name") or "")) for m in modules}
        for module in modules:
            name = module.get("name")
            if not name:
                raise inst.doc.error("<module> has no name", module)
            doc, models, target_model = self.module_model(inst, module, name)
            prefix = inst.prefix + canonical(display_name(name)) + "."
            self.connect_module(inst, module, name, prefix, siblings)
            child = Instance(
                target_model, prefix, inst.display + display_name(name) + ".", doc, models
            )
            out += self.instances(child, depth + 1)
        return out

    def connect_module(
        self, inst: Instance, module: ET.Element, name: str, prefix: str, siblings: set[str]
    ) -> None:
        """The module's <connect>s. Stella writes each binding twice, as <connect> (the
        enclosing model's names with a leading dot) and <connect2> (without it, so a bare
        name in a <connect2> is the enclosing model's, whichever end it is); a <connect2>
        counts only where no <connect> sets the same target."""
        for connect in [*module.findall("connect"), *module.findall("connect2")]:
            to, source = connect.get("to"), connect.get("from")
            if not to or not source:
                raise inst.doc.error(
                    f"<{connect.tag}> in module '{name}' needs to= and from=", connect
                )
            ends = (name, inst.prefix, prefix, siblings)
            try:
                into = connect.tag == "connect"
                target = self.connect_end(to, *ends, into_module=into)
                origin = self.connect_end(source, *ends, into_module=False)
            except ModelError as exc:
                raise inst.doc.error(exc.message, connect) from None
            if target == origin:
                raise inst.doc.error(
                    f'<{connect.tag} to="{to}" from="{source}"> connects \'{target}\' to itself',
                    connect,
                    hint="connect the module's variable to one of the enclosing model's "
                    "(written '.name')",
                )
            known = self.connections.get(target)
            if known is not None:
                if connect.tag == "connect2" or known == origin:
                    continue  # the same binding again (Stella lists it under each module)
                raise inst.doc.error(f"'{to}' is connected twice", connect)
            self.connections[target] = origin
            self.connect_nodes[target] = connect

    def module_model(
        self, inst: Instance, module: ET.Element, name: str
    ) -> tuple[Document, dict[str, ET.Element], ET.Element]:
        """The <model> a module instantiates: the one of its name (or of the name its
        ``model_name`` attribute gives, as simlin writes for several instances of one model),
        or the root model of the file its ``resource`` names (whose own named models its
        modules then use)."""
        resource = module.get("resource")
        if not resource:
            model_name = next(
                (v for k, v in module.attrib.items() if k.rpartition("}")[2] == "model_name"),
                name,
            )
            target = inst.models.get(canonical(display_name(model_name)))
            if target is None:
                raise inst.doc.error(
                    f"module '{name}' has no <model name=\"{model_name}\">", module
                )
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
        self,
        raw: str,
        module: str,
        parent: str,
        inside: str,
        siblings: set[str],
        *,
        into_module: bool,
    ) -> str:
        """A <connect> end as a flattened name. ``.x`` is the enclosing model's ``x``;
        ``module.x`` (or ``"My Module".x``) the module's; ``other.x`` the sibling module
        ``other``'s; a bare name is the module's for to= and the enclosing model's for from=."""
        dot, parts = qualified_parts(raw)
        if not parts:
            raise ModelError(f"<connect> end '{raw}' names no variable")
        if dot:
            return parent + ".".join(parts)
        if len(parts) > 1 and parts[0] == canonical(display_name(module)):
            return inside + ".".join(parts[1:])
        if into_module and not (len(parts) > 1 and parts[0] in siblings):
            return inside + ".".join(parts)
        return parent + ".".join(parts)

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
        scope.nan_index = self.nan_index
        self.model_parts(inst)
        defaults = self.non_negative
        self.non_negative = read_behavior(inst.model.find("behavior"), defaults)
        try:
            self.flatten_own(inst, expander, scope)
        finally:
            self.non_negative = defaults

    def flatten_own(self, inst: Instance, expander: MacroExpander, scope: Scope) -> None:
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
        """A module input (or an enclosing model's variable set from a module output): an
        auxiliary equal to its source, over the dimensions it is declared with (an arrayed
        input takes the arrayed source element by element)."""
        if source not in self.names:
            raise ModelError(f"module input is connected to '{source}', which does not exist")
        dims = tuple(display_name(d.get("name", "")) for d in node.findall("dimensions/dim"))
        return Element(
            name=name,
            kind="aux",
            dims=dims,
            equation=name_text(source),
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
                    hint="queues are not supported yet: model the waiting line as a stock",
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


XMILE_1_0 = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"


def qualified_parts(raw: str) -> tuple[bool, list[str]]:
    """A qualified name as written in a <connect> (``.x``, ``m.x``, ``"My Module".x``,
    ``"My Module"."a b"``): whether it starts with a dot, and its canonical parts."""
    dot, parts = split_qualified(raw)
    return dot, [p for p in (canonical(display_name(part)) for part in parts) if p]


def _merged_specs(top: ET.Element | None, own: ET.Element) -> ET.Element:
    """A model's <sim_specs> with what it leaves out taken from the file's."""
    merged = ET.Element("sim_specs", dict(top.attrib) if top is not None else {})
    merged.attrib.update(own.attrib)
    for tag in ("start", "stop", "dt"):
        part = own.find(tag)
        if part is None and top is not None:
            part = top.find(tag)
        if part is not None:
            merged.append(part)
    return merged


def pre_standard(doc: Document) -> str:
    """Why the file predates XMILE 1.0 ("" when it does not seem to): a version below 1.0,
    or no namespace / the draft namespace in place of the standard's."""
    version = (doc.root.get("version") or "").strip()
    try:
        if version and float(version) < 1.0:
            return f'version="{version}"'
    except ValueError:
        return f'version="{version}"'
    if doc.namespace != XMILE_1_0:
        return f'namespace "{doc.namespace}"' if doc.namespace else "no XMILE namespace"
    return ""


def check_layout(doc: Document, model: ET.Element, *, root: bool) -> None:
    """Refuse a <model> without <variables> whose variables would be lost: one that holds
    variables directly (the layout before XMILE 1.0), or the root model of a file that
    predates the standard. Otherwise a model may be empty (no <variables> at all: an XMILE
    1.0 file with nothing in it yet, or a module's model with nothing in it)."""
    if model.find("variables") is not None:
        return
    stray = next((child for child in model if child.tag in VARIABLE_TAGS), None)
    old = pre_standard(doc) if root else ""
    if stray is None and not old:
        return
    which = f'<model name="{model.get("name")}">' if model.get("name") else "its <model>"
    found = f" but <{stray.tag}> directly in it" if stray is not None else ""
    raise doc.error(
        f"XMILE file older than the 1.0 standard ({old or 'variables outside <variables>'}): "
        f"{which} has no <variables>{found}, so its variables cannot be read",
        stray if stray is not None else model,
        hint="open it in Stella 10 or later (or the tool that made it) and save it again as "
        "XMILE 1.0",
    )


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
