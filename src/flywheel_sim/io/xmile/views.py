"""XMILE ``<views>`` (XMILE 1.0, Views): where each variable is drawn.

Written: one ``<view>`` per page of the model's :class:`~flywheel_sim.spec.layout.Layout`, with
a ``<stock>``, ``<flow>`` or ``<aux>`` (parameters too; standalone lookups have no display
object) per placed variable of the root model, at its centre (``x``, ``y``, and
``width``/``height`` when known). A flow is drawn at its valve when the layout has one, with its
pipe (``<pts>``) between its stocks. Read: the ``x``/``y`` (and sizes) of the root model's views,
the first drawing of each variable winning; a flow's position is also its valve. Names are
matched to variables by their canonical form; anything else in a view (connectors, aliases,
modules, text and graphics) is left out, and a view never stops a model from being read.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace

from flywheel_sim.spec.layout import Layout, Place
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

# a standalone lookup (<gf name>) has no display object in XMILE's views (pysimlin stops on one)
TAGS = {"stock": "stock", "flow": "flow", "aux": "aux", "parameter": "aux"}
_DRAWN = frozenset({"stock", "flow", "aux"})


def write_views(model_node: ET.Element, model: Model) -> None:
    """Add ``<views>`` to ``model_node`` when the model has a layout of its root variables."""
    layout = model.layout
    if not layout or any(e.kind == "lookup" for e in model.elements):
        return  # pysimlin 0.8.5 aborts on views beside a standalone <gf> (docs/xmile.md)
    kinds = {e.key: e.kind for e in model.elements if "." not in e.name and e.kind in TAGS}
    valves = {canonical(v.name): v for v in layout.valves}
    pages = list(layout.views) or [""]
    placed = {canonical(p.name): p for p in layout.places}
    ends: dict[str, tuple[str | None, str | None]] = {}  # flow -> (stock it drains, fills)
    for e in model.elements:
        for flow in e.outflows:
            ends[canonical(flow)] = (e.key, ends.get(canonical(flow), (None, None))[1])
        for flow in e.inflows:
            ends[canonical(flow)] = (ends.get(canonical(flow), (None, None))[0], e.key)
    nodes = {page: ET.Element("view") for page in pages}
    for page, node in nodes.items():
        if page:
            node.set("flywheel:name", page)
    for place in layout.places:
        key = canonical(place.name)
        if key not in kinds:
            continue
        at = valves.get(key, place) if kinds[key] == "flow" else place
        attrs = {"name": place.name, "x": _text(at.x), "y": _text(at.y)}
        if place.width is not None and place.height is not None and at is place:
            attrs |= {"width": _text(place.width), "height": _text(place.height)}
        page = place.view if place.view in nodes else pages[0]
        node = ET.SubElement(nodes[page], TAGS[kinds[key]], attrs)
        if kinds[key] == "flow":
            _pipe(node, at, ends.get(key, (None, None)), placed)
    drawn = [node for node in nodes.values() if len(node)]
    if len(drawn) == 1:
        drawn[0].attrib.pop("flywheel:name", None)
    ET.SubElement(model_node, "views").extend(drawn)


def _pipe(
    node: ET.Element,
    valve: Place,
    ends: tuple[str | None, str | None],
    placed: dict[str, Place],
) -> None:
    """A flow's ``<pts>`` (its pipe, which XMILE's flow needs: pysimlin stops without it):
    from the stock it drains to the stock it fills, through the valve; a cloud end 60 units
    beside the valve."""
    source = placed.get(ends[0]) if ends[0] else None
    sink = placed.get(ends[1]) if ends[1] else None
    first = (source.x, source.y) if source else (valve.x - 60, valve.y)
    last = (sink.x, sink.y) if sink else (valve.x + 60, valve.y)
    if not source and sink and sink.x < valve.x:  # a cloud on the side away from the stock
        first = (valve.x + 60, valve.y)
    if source and not sink and source.x > valve.x:
        last = (valve.x - 60, valve.y)
    pts = ET.SubElement(node, "pts")
    for x, y in (first, last):
        ET.SubElement(pts, "pt", {"x": _text(x), "y": _text(y)})


def read_views(model_node: ET.Element | None, names: dict[str, str]) -> Layout | None:
    """The layout of the variables ``names`` (canonical -> the model's name) drawn in the
    ``<views>`` of ``model_node``, or None when they place none of them."""
    if model_node is None:
        return None
    views = [
        v for v in model_node.findall("views/view") if v.get("type", "stock_flow") != "interface"
    ]
    titles = [_title(view, k, len(views)) for k, view in enumerate(views)]
    places: dict[str, Place] = {}
    valves: dict[str, Place] = {}
    for view, title in zip(views, titles, strict=True):
        for node in view:
            key = canonical(node.get("name", ""))
            if node.tag not in _DRAWN or key not in names or key in places:
                continue
            x, y = _number(node.get("x")), _number(node.get("y"))
            if x is None or y is None:
                continue
            w, h = _number(node.get("width")), _number(node.get("height"))
            places[key] = Place(names[key], x, y, w, h, title)
            if node.tag == "flow":
                valves[key] = Place(names[key], x, y, view=title)
    if not places:
        return None
    used = [t for t in titles if any(p.view == t for p in places.values())]
    if len(used) == 1:  # one page drawn: no page names
        places = {k: replace(p, view="") for k, p in places.items()}
        valves = {k: replace(p, view="") for k, p in valves.items()}
        titles = [""]
    return Layout(
        tuple(places.values()), tuple(valves.values()), (), tuple(titles) if len(titles) > 1 else ()
    )


def _title(view: ET.Element, k: int, count: int) -> str:
    if count <= 1:
        return ""
    for attr, value in view.attrib.items():
        if attr == "name" or attr.endswith("}name") or attr == "flywheel:name":
            return value
    return f"View {k + 1}"


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) < 1e9 else None


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


__all__ = ["read_views", "write_views"]
