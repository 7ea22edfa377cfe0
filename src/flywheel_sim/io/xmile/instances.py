"""XMILE module instances: the tree of <module>s a model flattens into, and their <connect>s.

A module instance's variables become elements named with the instance's prefix (``hares.``);
a <connect> binds a flattened name to another (see docs/xmile.md, *Modules*). The methods
here are part of :class:`flywheel_sim.io.xmile.reader.Reader`, which keeps the state.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.equations import split_qualified
from flywheel_sim.io.xmile.macros import Macro, read_macros
from flywheel_sim.io.xmile.parts import display_name
from flywheel_sim.io.xmile.queue import QueueParts
from flywheel_sim.io.xmile.xml import Document, open_resource
from flywheel_sim.limits import Limits
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.size import too_large

VARIABLE_TAGS = ("stock", "flow", "aux", "gf", "module")
XMILE_1_0 = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"


@dataclass
class Instance:
    """One model instance to flatten: its <model> and its name prefixes."""

    model: ET.Element
    prefix: str  # canonical, with the trailing dot ("hares.") or ""
    display: str  # display prefix ("hares.") or ""
    doc: Document  # the file it comes from (another one for <module resource="...">)
    models: dict[str, ET.Element]  # the named <model>s its modules can use


class ModuleTree:
    """The module tree of a file: its size, its instances and their connections."""

    doc: Document
    limits: Limits
    module_variables: int
    resources: dict[tuple[str | None, str], tuple[Document, dict[str, ET.Element], ET.Element]]
    macros: dict[str, Macro]
    names: set[str]
    connections: dict[str, str]
    connect_nodes: dict[str, ET.Element]
    belts: set[str]
    queue_parts: QueueParts

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
                if child.tag == "stock" and child.find("queue") is not None:
                    self.queue_parts.names.add(inst.prefix + canonical(display_name(name)))


def qualified_parts(raw: str) -> tuple[bool, list[str]]:
    """A qualified name as written in a <connect> (``.x``, ``m.x``, ``"My Module".x``,
    ``"My Module"."a b"``): whether it starts with a dot, and its canonical parts."""
    dot, parts = split_qualified(raw)
    return dot, [p for p in (canonical(display_name(part)) for part in parts) if p]


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
