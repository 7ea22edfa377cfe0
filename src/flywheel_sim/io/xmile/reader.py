"""XMILE 1.0 -> Model.

Modules are flattened: a variable ``v`` of module instance ``m`` becomes the element
``m.v`` (names qualified as in XMILE), and a module input connected to a variable of the
enclosing model becomes an auxiliary equal to it. Macros are expanded at each call (see
:mod:`flywheel_sim.io.xmile.macros`). A constant auxiliary becomes a parameter, so sweeps,
sensitivity and calibration can vary it. See docs/xmile.md for the whole mapping.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.conveyor import ConveyorSpec, LeakSpec, SpreadSpec, apply_conveyors
from flywheel_sim.io.xmile.equations import Scope, dimension_maps
from flywheel_sim.io.xmile.instances import (
    VARIABLE_TAGS,
    XMILE_1_0,
    Instance,
    ModuleTree,
    check_layout,
)
from flywheel_sim.io.xmile.macros import Macro, MacroExpander, read_macros
from flywheel_sim.io.xmile.meta import apply_meta
from flywheel_sim.io.xmile.parts import (
    display_name,
    flows_as_named,
    read_behavior,
    read_dimensions,
    read_model_units,
    read_time,
    text_of,
)
from flywheel_sim.io.xmile.queue import QueueParts, apply_queues
from flywheel_sim.io.xmile.variables import VariableReader
from flywheel_sim.io.xmile.views import read_views
from flywheel_sim.io.xmile.xml import Document, parse_xml
from flywheel_sim.limits import DEFAULT, Limits
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element, Model
from flywheel_sim.spec.names import canonical, canonical_elements
from flywheel_sim.spec.rename import rename_elements, renaming_notes, reserved_renames

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
# the elements of a <model> that are read (views: their positions); vendor elements are ignored
MODEL_PARTS = frozenset({"variables", "views", "behavior", "sim_specs"})


class Reader(ModuleTree, VariableReader):
    """Reads one XMILE document (and the module files it names) into a Model."""

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
        self.queue_parts = QueueParts()  # queues, overflows, multipliers (io/xmile/queue.py)

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
        elements = apply_queues(
            flows_as_named(self.elements),
            self.queue_parts,
            {c.key for c in self.conveyors},
            self.blank_flows,
            self.time,
        )
        elements = apply_conveyors(
            elements, self.conveyors, self.leaks, self.blank_flows, self.time, spreads=self.spreads
        )
        renames = reserved_renames(elements)  # a variable named 'seed', 'run' ...
        self.notes += renaming_notes(renames)
        model = Model(
            name=name,
            elements=rename_elements(elements, renames),
            time=self.time,
            dimensions=self.dimensions,
            file=self.doc.file,
            units=read_model_units(self.doc, root.find("model_units")),
            notes=tuple(self.notes),
            layout=read_views(self.models[""], {e.key: e.name for e in elements}),
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
        scope.maps = dimension_maps(self.dimensions)
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


__all__ = ["XMILE_1_0", "Reader", "load_xmile", "loads_xmile"]
