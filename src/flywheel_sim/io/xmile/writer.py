"""Model -> XMILE 1.0.

Stocks, flows and auxiliaries map one to one; a parameter is a constant ``<aux>``; a lookup
is a standalone ``<gf>``; an element with a lookup carries an inline ``<gf>``; arrays get
``<dimensions>`` and per-element ``<element subscript="...">``. What XMILE has no place for
(parameter ranges, cited links, named loops, history, report, diagnostics) goes into one
``<flywheel:meta>`` element that other tools ignore (see :mod:`flywheel_sim.io.xmile.meta`).
The XML is built with ElementTree (writing needs no defusing; reading does).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.export_functions import FunctionExport, float_literals
from flywheel_sim.io.xmile.meta import model_meta
from flywheel_sim.io.xmile.views import write_views
from flywheel_sim.io.xmile.writer_modules import (
    Module,
    all_elements,
    broken_prefixes,
    connected_source,
    local_name,
    module_tree,
)
from flywheel_sim.io.xmile.xml import FLYWHEEL_NS
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Range,
    Subscript,
    Unary,
    Var,
    VarList,
    to_text,
)
from flywheel_sim.spec.model import Element, GraphicalFunction, Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

XMILE_NS = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
ISEE_NS = "http://iseesystems.com/XMILE"
METHOD_NAMES = {"euler": "Euler", "heun": "RK2", "rk4": "RK4"}


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def xmile_equation(
    text: str,
    lookups: frozenset[str] = frozenset(),
    rename: Callable[[str], str] | None = None,
    shown: Mapping[str | int, str] | None = None,
    functions: FunctionExport | None = None,
) -> str:
    """Our equation text in XMILE's syntax: ``IF_THEN_ELSE(c, a, b)`` as ``IF c THEN a ELSE
    b``, a call of a lookup element (one of ``lookups``, canonical names) as the standard's
    ``LOOKUP(name, x)``, and every variable's name through ``rename`` (names inside a
    module); subscripts are written as ``shown`` spells them (the model's dimension and
    element names, ``x[Region]`` rather than ``x[region]``). Builtins XMILE 1.0 lacks are
    written in standard terms or refused by ``functions`` (io/xmile/export_functions.py),
    which also writes them, STARTTIME and whole numbers in forms pysimlin and PySD read."""
    tree = parse(text)
    xmile = to_text(_xmile_tree(tree, lookups, rename or _same, shown or {}, functions, tree))
    return xmile if functions is None else float_literals(xmile)


def _same(name: str) -> str:
    return name


def _subscript(
    sub: Subscript, tree: Callable[[Expr], Expr], shown: Mapping[str | int, str]
) -> Subscript:
    """One subscript as written: a dimension or element name as the model spells it, a range
    with its ends so, a computed subscript with its own names renamed."""
    if isinstance(sub, str | int):
        return shown.get(sub, sub)
    if isinstance(sub, Range):
        return Range(shown.get(sub.lo, sub.lo), shown.get(sub.hi, sub.hi))
    return tree(sub)


def _xmile_tree(
    node: Expr,
    lookups: frozenset[str],
    rename: Callable[[str], str],
    shown: Mapping[str | int, str],
    functions: FunctionExport | None,
    whole: Expr,
) -> Expr:
    def tree(child: Expr) -> Expr:
        return _xmile_tree(child, lookups, rename, shown, functions, whole)

    if isinstance(node, Num):
        return node
    if isinstance(node, Var) and node.name == "starttime" and functions is not None:
        return Call("INIT", (Var("time"),))  # the same value; PySD 3.14.3 has no STARTTIME
    if isinstance(node, Var):
        return Var(rename(node.name), tuple(_subscript(s, tree, shown) for s in node.subscripts))
    if isinstance(node, Unary):
        return Unary(node.op, tree(node.operand))
    if isinstance(node, Binary):
        return Binary(node.op, tree(node.left), tree(node.right))
    if isinstance(node, If):
        return If(tree(node.cond), tree(node.then), tree(node.orelse))
    if isinstance(node, VarList):
        return VarList(tuple(tree(i) for i in node.items))
    args = tuple(tree(a) for a in node.args)
    if node.func == "IF_THEN_ELSE":
        return If(*args)
    if canonical(node.func) in lookups and len(args) == 1:
        return Call("LOOKUP", (Var(rename(canonical(node.func))), *args))
    if functions is None:
        return Call(node.func, args)
    return functions.call(node.func, node.args, args, whole=node is whole)


class _Writer:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.lookups = frozenset(e.key for e in model.elements if e.kind == "lookup")
        self.submodels: list[ET.Element] = []
        self.model_names: set[str] = set()
        self.outputs: set[str] = set()
        self.nodes: dict[str, ET.Element] = {}
        self.broken: set[str] | None = None  # module prefixes that cannot be written as such
        self.shown: dict[str | int, str] = {}  # dimension and element names as written
        self.functions = FunctionExport(model)  # builtins XMILE lacks: expanded or refused
        for dim in model.dimensions:
            self.shown[canonical(dim.name)] = dim.name
            self.shown.update((canonical(e), e) for e in dim.elements if not e.isdecimal())

    def document(self) -> ET.Element:
        model = self.model
        if model.policies:
            raise ModelError(
                f"model '{model.name}' has time-varying policies on "
                f"{', '.join(sorted(model.policies))}, which XMILE cannot hold",
                hint="save the model without policies (scenarios keep them)",
            )
        root = ET.Element(
            "xmile", {"version": "1.0", "xmlns": XMILE_NS, "xmlns:flywheel": FLYWHEEL_NS}
        )
        header = ET.SubElement(root, "header")
        ET.SubElement(header, "vendor").text = "flywheel-sim"
        ET.SubElement(header, "product", {"version": "0.1", "lang": "en"}).text = "flywheel-sim"
        ET.SubElement(header, "name").text = model.name
        time = model.time
        specs = ET.SubElement(
            root,
            "sim_specs",
            {"method": METHOD_NAMES[time.method.lower()], "time_units": time.units},
        )
        ET.SubElement(specs, "start").text = _number(time.start)
        ET.SubElement(specs, "stop").text = _number(time.stop)
        ET.SubElement(specs, "dt").text = _number(time.dt)
        if model.units:
            units = ET.SubElement(root, "model_units")
            for name, definition in model.units:
                node = ET.SubElement(units, "unit", {"name": name})
                ET.SubElement(node, "eqn").text = definition
        if model.dimensions:
            dims = ET.SubElement(root, "dimensions")
            for dim in model.dimensions:
                node = ET.SubElement(dims, "dim", {"name": dim.name})
                for elem in dim.elements:
                    ET.SubElement(node, "elem", {"name": elem})
                if dim.pairs:
                    raise ModelError(
                        f"dimension '{dim.name}' maps to '{dim.pairs[0][0]}' pairing elements "
                        "otherwise than in order, which XMILE's <isee:maps_to> cannot say",
                        file=self.model.file,
                        line=dim.line,
                        hint="save the model as YAML, which keeps the pairs",
                    )
                for target in dim.maps_to:  # a positional dimension mapping (Vensim's ->)
                    ET.SubElement(node, "isee:maps_to").text = target
                    root.set("xmlns:isee", ISEE_NS)
        meta = ET.SubElement(root, "flywheel:meta")
        meta.text = json.dumps(model_meta(model), sort_keys=True)
        model_node = ET.SubElement(root, "model")
        variables = ET.SubElement(model_node, "variables")
        own, modules = module_tree(model.elements)
        self.write_model(variables, own, modules, "")
        write_views(model_node, model)
        for key in self.outputs:  # read from outside their module
            if key in self.nodes:
                self.nodes[key].set("access", "output")
        root.extend(self.submodels)
        self.options(header)
        ET.indent(root)
        return root

    def options(self, header: ET.Element) -> None:
        """<options> (XMILE 1.0 header): the optional features the file uses."""
        most = max((len(e.dims) for e in self.model.elements), default=0)
        if not most and not self.submodels:
            return
        options = ET.SubElement(header, "options", {"namespace": "std"})
        if most:
            ET.SubElement(options, "uses_arrays", {"maximum_dimensions": str(most)})
        if self.submodels:
            ET.SubElement(options, "uses_submodels")

    # -- modules ---------------------------------------------------------------------------
    def write_model(
        self,
        variables: ET.Element,
        own: list[Element],
        modules: dict[str, Module],
        prefix: str,
    ) -> dict[str, str]:
        """Write one model's variables and its modules (each a <module> here and a <model>
        of its own); return the names from outside it that it needs, with the local names of
        the inputs that receive them."""
        for head, module in list(modules.items()):
            if self.writable(module):
                self.model_names.add(canonical(module.name))
            else:  # written flat, with its dotted names, as before
                del modules[head]
                own.extend(all_elements(module))
        needs: dict[str, str] = {}  # a name from outside -> the local input receiving it
        own_keys = {e.key[len(prefix) :] for e in own}
        taken = own_keys | set(modules)
        inputs = set()
        for e in own if prefix else ():
            source = connected_source(e)
            if source is not None and not source.startswith(prefix) and source not in needs:
                needs[source] = e.key[len(prefix) :]  # a module input: connected as before
                inputs.add(e.key)

        def local(name: str) -> str:
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                if "." in rest and rest.partition(".")[0] in modules:
                    self.outputs.add(name)
                return rest
            if name not in needs:
                candidate = name.replace(".", "_")
                while candidate in taken:
                    candidate += "_in"
                taken.add(candidate)
                needs[name] = candidate
            return needs[name]

        depth = prefix.count(".")
        for e in own:
            if e.key in inputs:
                node = self.input_node(local_name(e.name, depth), e.dims, e)
            else:
                node = self.variable(e, local)
                node.set("name", local_name(e.name, depth))
            self.nodes[e.key] = node
            variables.append(node)
        for module in modules.values():
            inner = ET.Element("variables")
            wanted = self.write_model(inner, module.elements, module.children, module.prefix)
            model_node = ET.Element("model", {"name": module.name})
            model_node.append(inner)
            self.submodels.append(model_node)
            node = ET.SubElement(variables, "module", {"name": module.name})
            for outside, input_name in sorted(wanted.items()):
                if outside.startswith(prefix):
                    rest = outside[len(prefix) :]
                    if "." in rest:  # another module's variable: its output
                        self.outputs.add(outside)
                    origin = "." + rest if not prefix and "." not in rest else rest
                else:
                    origin = local(outside)
                target = f"{canonical(module.name)}.{input_name}"
                ET.SubElement(node, "connect", {"to": target, "from": origin})
        for outside, input_name in needs.items():
            if input_name not in own_keys:  # an input made for a name an equation uses
                variables.insert(0, self.input_node(input_name, self.dims_of(outside), None))
        return needs

    def writable(self, module: Module) -> bool:
        """Whether a module can be written as one: a unique model name, and no stock, flow
        or lookup shared across its border (XMILE connects only values)."""
        if self.broken is None:
            self.broken = broken_prefixes(self.model, self.lookups)
        return canonical(module.name) not in self.model_names and module.prefix not in self.broken

    def input_node(self, name: str, dims: tuple[str, ...], e: Element | None) -> ET.Element:
        node = ET.Element("aux", {"name": name, "access": "input"})
        if dims:
            sub = ET.SubElement(node, "dimensions")
            for dim in dims:
                ET.SubElement(sub, "dim", {"name": dim})
        ET.SubElement(node, "eqn").text = "0"  # replaced by what the <connect> gives
        if e is not None:
            self.texts(node, e)
        return node

    def dims_of(self, key: str) -> tuple[str, ...]:
        for e in self.model.elements:
            if e.key == key:
                return e.dims
        return ()

    def variable(self, e: Element, rename: Callable[[str], str] | None = None) -> ET.Element:
        self.rename = rename
        self.functions.variable = e.name
        try:
            return self._variable(e)
        except ModelError as exc:
            raise exc.located(file=self.model.file, line=e.line, variable=e.name) from None

    def equation(self, text: str) -> str:
        return xmile_equation(text, self.lookups, self.rename, self.shown, self.functions)

    def _variable(self, e: Element) -> ET.Element:
        if e.kind == "lookup":
            assert e.lookup is not None
            node = self.gf(e.lookup, {"name": e.name})
            self.texts(node, e)
            return node
        tag = "aux" if e.kind == "parameter" else e.kind
        node = ET.Element(tag, {"name": e.name})
        if e.dims:
            dims = ET.SubElement(node, "dimensions")
            for dim in e.dims:
                ET.SubElement(dims, "dim", {"name": dim})
        if e.kind == "parameter":
            self.parameter(node, e)
        else:
            if e.equation.strip():
                ET.SubElement(node, "eqn").text = self.equation(e.equation)
            for key, text in e.element_equations:
                sub = ET.SubElement(node, "element", {"subscript": key})
                ET.SubElement(sub, "eqn").text = self.equation(text)
        rename = self.rename or _same
        for flow in e.inflows:
            ET.SubElement(node, "inflow").text = rename(canonical(flow)) if self.rename else flow
        for flow in e.outflows:
            ET.SubElement(node, "outflow").text = rename(canonical(flow)) if self.rename else flow
        if e.kind in ("stock", "flow") and e.non_negative:
            ET.SubElement(node, "non_negative")  # absent means false (no <behavior> default)
        if e.lookup is not None:
            node.append(self.gf(e.lookup, {}))
        self.texts(node, e)
        return node

    def parameter(self, node: ET.Element, e: Element) -> None:
        if isinstance(e.default, tuple):
            for key, value in e.default:
                sub = ET.SubElement(node, "element", {"subscript": key})
                ET.SubElement(sub, "eqn").text = repr(float(value))
        else:  # with a decimal point (7.0), as float_literals writes numbers in equations
            assert e.default is not None
            ET.SubElement(node, "eqn").text = repr(float(e.default))

    def texts(self, node: ET.Element, e: Element) -> None:
        if e.unit:
            ET.SubElement(node, "units").text = e.unit
        if e.description:
            ET.SubElement(node, "doc").text = e.description

    def gf(self, table: GraphicalFunction, attrs: dict[str, str]) -> ET.Element:
        node = ET.Element("gf", {**attrs, "type": table.kind})
        ET.SubElement(node, "xpts").text = ",".join(_number(x) for x in table.xs)
        ET.SubElement(node, "ypts").text = ",".join(_number(y) for y in table.ys)
        return node


def dumps_xmile(model: Model) -> str:
    """``model`` as XMILE text."""
    root = _Writer(model).document()
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def save_xmile(model: Model, path: str | Path) -> Path:
    """Write ``model`` as an XMILE file; returns the path. The old file is replaced only
    once the new text is complete."""
    from flywheel_sim.io.results import write_text

    return write_text(path, dumps_xmile(model))


__all__ = ["dumps_xmile", "save_xmile", "xmile_equation"]
