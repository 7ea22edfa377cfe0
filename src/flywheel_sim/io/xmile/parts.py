"""The parts of an XMILE file around its variables: sim specs, dimensions, behavior,
graphical functions, and plain values (numbers, flags, names)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import Expr, Num, Unary, to_text
from flywheel_sim.spec.model import Dimension, Element, GraphicalFunction, TimeSpec
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.size import check_dimension_size

METHODS = {"euler": "euler", "rk4": "rk4", "rk2": "heun", "heun": "heun"}


def display_name(raw: str) -> str:
    """An XMILE name as people read it: ``\\n`` (a line break in the diagram) is a space."""
    return raw.replace("\\n", " ").replace("\n", " ").strip()


def flows_as_named(elements: list[Element]) -> tuple[Element, ...]:
    """Auxiliaries that a stock names as its inflow or outflow become flows (some tools
    write a constant flow as an <aux>)."""
    named = {canonical(f) for e in elements for f in (*e.inflows, *e.outflows)}
    out = []
    for e in elements:
        if e.key in named and e.kind == "aux":
            e = replace(e, kind="flow")
        elif e.key in named and e.kind == "parameter":
            default = e.default
            if isinstance(default, tuple):
                per = tuple((k, to_text(Num(v))) for k, v in default)
                e = replace(e, kind="flow", default=None, element_equations=per)
            else:
                assert default is not None
                e = replace(e, kind="flow", default=None, equation=to_text(Num(default)))
        out.append(e)
    return tuple(out)


def constants(
    equation: str, per_element: tuple[tuple[str, str], ...], dims: tuple[str, ...]
) -> float | tuple[tuple[str, float], ...] | None:
    """The value(s) of a constant auxiliary, or None if it is not constant."""
    if per_element:
        values = [number_value(text) for _, text in per_element]
        if equation or any(v is None for v in values):
            return None
        return tuple(
            (key, float(v))
            for (key, _), v in zip(per_element, values, strict=True)
            if v is not None
        )
    return number_value(equation)


def number_value(text: str) -> float | None:
    if not text:
        return None
    from flywheel_sim.spec.parser import parse

    tree: Expr = parse(text)
    sign = 1.0
    if isinstance(tree, Unary) and tree.op in "+-" and isinstance(tree.operand, Num):
        sign = -1.0 if tree.op == "-" else 1.0
        tree = tree.operand
    return sign * tree.value if isinstance(tree, Num) else None


def flag(node: ET.Element) -> bool:
    text = (node.text or "").strip().lower()
    return text not in ("false", "0", "no")


def text_of(node: ET.Element, tag: str) -> str:
    return " ".join((node.findtext(tag) or "").split())


def read_model_units(doc: Document, node: ET.Element | None) -> tuple[tuple[str, str], ...]:
    """<model_units>: each <unit name="..."> with its <eqn> (a definition in other units) and
    <alias>es (other names of it), as the model's own unit words."""
    if node is None:
        return ()
    out: list[tuple[str, str]] = []
    for unit in node.findall("unit"):
        from flywheel_sim.spec.units import unit_table  # only for a model with units

        name = (unit.get("name") or "").strip()
        if not name:
            raise doc.error("<unit> needs a name", unit)
        eqn = text_of(unit, "eqn")
        if eqn:
            out.append((name, eqn))
        out.extend((alias, name) for alias in (text_of(a, ".") for a in unit.findall("alias")))
        try:
            unit_table(out)
        except ModelError as exc:
            raise doc.error(f"<unit name='{name}'>: {exc.message}", unit) from None
    return tuple((a, b) for a, b in out if a and a.lower() != b.lower())


def read_behavior(node: ET.Element | None, base: dict[str, bool] | None = None) -> dict[str, bool]:
    """Defaults from <behavior>: non_negative for all, or per stock / flow; what it does not
    say is taken from ``base`` (the file's defaults, for a model's own <behavior>)."""
    out = dict(base) if base is not None else {"stock": False, "flow": False}
    if node is None:
        return out
    every = node.find("non_negative")
    if every is not None:
        out = {"stock": flag(every), "flow": flag(every)}
    for kind in ("stock", "flow"):
        sub = node.find(f"{kind}/non_negative")
        if sub is not None:
            out[kind] = flag(sub)
    return out


def read_time(doc: Document, node: ET.Element | None, notes: list[str] | None = None) -> TimeSpec:
    """<sim_specs>: start, stop, dt (``reciprocal="true"`` means 1/dt), method, time units.

    The method may be a list in order of preference (``method="gear, rk4"``, XMILE 1.0): the
    first one supported is used, and ``notes`` says which when it is not the first."""
    if node is None:
        raise doc.error(
            "the XMILE file has no <sim_specs>",
            doc.root,
            hint="add <sim_specs><start>0</start><stop>10</stop></sim_specs>",
        )

    def setting(tag: str, default: float | None) -> float:
        child = node.find(tag)
        if child is None:
            if default is None:
                raise doc.error(f"<sim_specs> has no <{tag}>", node)
            return default
        value = number(doc, child.text or "", f"<{tag}>", child)
        if tag == "dt" and child.get("reciprocal", "").strip().lower() == "true":
            if value == 0:
                raise doc.error("reciprocal <dt> of 0", child)
            value = 1.0 / value
        return value

    method_text = (node.get("method") or node.findtext("method") or "euler").strip().lower()
    listed = [m.strip() for m in method_text.split(",") if m.strip()] or ["euler"]
    chosen = next((m for m in listed if m in METHODS), None)
    if chosen is None:
        what = (
            f"integration method '{listed[0]}' is not supported"
            if len(listed) == 1
            else f"none of the integration methods '{', '.join(listed)}' is supported"
        )
        raise doc.error(what, node, hint="use Euler, RK2 or RK4")
    method = METHODS[chosen]
    if chosen != listed[0] and notes is not None:
        skipped = ", ".join(listed[: listed.index(chosen)])
        where = f"{Path(doc.file).name}:{doc.line(node)}" if doc.file else f"line {doc.line(node)}"
        notes.append(
            f"integration method {skipped} is not supported: using {chosen} ({method}), the "
            f'next one <sim_specs method="{node.get("method", "")}"> lists ({where})'
        )
    try:
        return TimeSpec(
            start=setting("start", 0.0),
            stop=setting("stop", None),
            dt=setting("dt", 1.0),
            units=(node.get("time_units") or "time").strip() or "time",
            method=method,
        )
    except ModelError as exc:
        raise exc.located(file=doc.file, line=doc.line(node)) from None


def number(doc: Document, text: str, what: str, node: ET.Element) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise doc.error(f"{what} must be a number, not {text.strip()!r}", node) from None


def read_dimensions(doc: Document, node: ET.Element | None) -> tuple[Dimension, ...]:
    if node is None:
        return ()
    out: list[Dimension] = []
    mapped: list[tuple[int, ET.Element]] = []  # (dimension, its <maps_to>)
    for dim in node.findall("dim"):
        name = dim.get("name")
        if not name:
            raise doc.error("<dim> has no name", dim)
        for child in dim:
            local = child.tag.rpartition("}")[2]
            if local == "maps_to":  # <isee:maps_to>B</isee:maps_to>: positional, checked below
                mapped.append((len(out), child))
            elif local == "mapping":  # simlin's element-by-element mapping
                raise doc.error(
                    f"dimension '{name}' is mapped onto another element by element "
                    "(<mapping>): only positional mappings (<isee:maps_to>) are supported",
                    child,
                    hint="list the elements in the mapped order and use <isee:maps_to>",
                )
        elems = [e.get("name", "") for e in dim.findall("elem")]
        if not elems and dim.get("size"):
            size = dim.get("size", "")
            if len(size.strip()) > 12:  # beyond any limit, and int() refuses 4,300 digits
                raise doc.error(f"dimension '{name}' has a size of {len(size.strip())} digits", dim)
            if not size.strip().isdigit() or int(size) < 1:
                raise doc.error(f"dimension '{name}' has size {size!r}", dim)
            check_dimension_size(name, int(size), file=doc.file, line=doc.line(dim))
            elems = [str(i) for i in range(1, int(size) + 1)]
        if not elems or not all(elems):
            raise doc.error(f"dimension '{name}' lists no named elements", dim)
        elements = tuple(display_name(e) for e in elems)
        out.append(Dimension(display_name(name), elements, doc.line(dim)))
    return mappings(doc, out, mapped)


def mappings(
    doc: Document, dims: list[Dimension], mapped: list[tuple[int, ET.Element]]
) -> tuple[Dimension, ...]:
    """The dimensions with their ``<isee:maps_to>`` targets: a mapping pairs elements by
    position, so the target must be another dimension with as many elements."""
    sizes = {canonical(d.name): len(d.elements) for d in dims}
    for i, node in mapped:
        dim, target = dims[i], display_name((node.text or "").strip())
        size = sizes.get(canonical(target))
        if size is None or canonical(target) == canonical(dim.name):
            raise doc.error(
                f"dimension '{dim.name}' maps to '{target}', which is not another dimension",
                node,
                hint="name a dimension declared in <dimensions>",
            )
        if size != len(dim.elements):
            raise doc.error(
                f"dimension '{dim.name}' ({len(dim.elements)} elements) maps to '{target}' "
                f"({size} elements): only mappings that pair elements by position are "
                "supported, so both need as many",
                node,
                hint="map dimensions of the same size",
            )
        dims[i] = replace(dim, maps_to=(*dim.maps_to, target))
    return tuple(dims)


# -- modules ------------------------------------------------------------------------------


def read_graphical(doc: Document, node: ET.Element) -> GraphicalFunction:
    kind = (node.get("type") or "continuous").strip().lower()
    if node.get("discrete", "").strip().lower() == "true":
        kind = "discrete"
    if kind not in ("continuous", "extrapolate", "discrete"):
        raise doc.error(
            f"graphical function type '{kind}' is unknown",
            node,
            hint="use continuous, extrapolate or discrete",
        )
    ypts = node.find("ypts")
    if ypts is None:
        raise doc.error(
            "graphical function has no <ypts>", node, hint="give its y values in <ypts>"
        )
    ys = points(doc, ypts)
    xpts = node.find("xpts")
    if xpts is not None:
        xs = points(doc, xpts)
    else:
        xscale = node.find("xscale")
        if xscale is None:
            raise doc.error("graphical function has neither <xpts> nor <xscale>", node)
        lo = number(doc, xscale.get("min", ""), "xscale min", xscale)
        hi = number(doc, xscale.get("max", ""), "xscale max", xscale)
        n = len(ys)
        xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)] if n > 1 else [lo]
    try:
        return GraphicalFunction(tuple(xs), tuple(ys), cast(Any, kind))
    except ModelError as exc:
        raise doc.error(f"graphical function: {exc.message}", node) from None


def points(doc: Document, node: ET.Element) -> list[float]:
    sep = node.get("sep") or ","
    parts = [p.strip() for p in (node.text or "").split(sep)]
    return [number(doc, p, f"<{node.tag}> value", node) for p in parts if p]
