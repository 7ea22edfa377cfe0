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
from pathlib import Path

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.meta import model_meta
from flywheel_sim.io.xmile.xml import FLYWHEEL_NS
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, VarList, to_text
from flywheel_sim.spec.model import Element, GraphicalFunction, Model
from flywheel_sim.spec.parser import parse

XMILE_NS = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
METHOD_NAMES = {"euler": "Euler", "heun": "RK2", "rk4": "RK4"}


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def xmile_equation(text: str) -> str:
    """Our equation text in XMILE's syntax (only IF_THEN_ELSE differs)."""
    return to_text(_xmile_tree(parse(text)))


def _xmile_tree(node: Expr) -> Expr:
    if isinstance(node, Num | Var):
        return node
    if isinstance(node, Unary):
        return Unary(node.op, _xmile_tree(node.operand))
    if isinstance(node, Binary):
        return Binary(node.op, _xmile_tree(node.left), _xmile_tree(node.right))
    if isinstance(node, If):
        return If(_xmile_tree(node.cond), _xmile_tree(node.then), _xmile_tree(node.orelse))
    if isinstance(node, VarList):
        return VarList(tuple(_xmile_tree(i) for i in node.items))
    args = tuple(_xmile_tree(a) for a in node.args)
    if node.func == "IF_THEN_ELSE":
        return If(*args)
    return Call(node.func, args)


class _Writer:
    def __init__(self, model: Model) -> None:
        self.model = model

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
        meta = ET.SubElement(root, "flywheel:meta")
        meta.text = json.dumps(model_meta(model), sort_keys=True)
        variables = ET.SubElement(ET.SubElement(root, "model"), "variables")
        for element in model.elements:
            variables.append(self.variable(element))
        ET.indent(root)
        return root

    def variable(self, e: Element) -> ET.Element:
        try:
            return self._variable(e)
        except ModelError as exc:
            raise exc.located(file=self.model.file, line=e.line, variable=e.name) from None

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
                ET.SubElement(node, "eqn").text = xmile_equation(e.equation)
            for key, text in e.element_equations:
                sub = ET.SubElement(node, "element", {"subscript": key})
                ET.SubElement(sub, "eqn").text = xmile_equation(text)
        for flow in e.inflows:
            ET.SubElement(node, "inflow").text = flow
        for flow in e.outflows:
            ET.SubElement(node, "outflow").text = flow
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
                ET.SubElement(sub, "eqn").text = _number(value)
        else:
            assert e.default is not None
            ET.SubElement(node, "eqn").text = _number(e.default)

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
