"""The causal-loop diagram as Cytoscape elements.

Positions come from the pure layout the static diagram uses
(:func:`flywheel_sim.present.diagram_layout.diagram_layout`): the core loop's variables on a
circle, every other named loop as a chip around it, and links routed in lanes around the core.
Cytoscape draws an edge between two node centres, so each route's polyline is handed over as
"segments" (points given as a fraction along the straight line and a distance across it).

Colour at a time T is the share of loop activity that passes through each chip's path — the
same measure as ``flywheel diagram --at T`` (see docs/design.md, "The diagram is for people").
Models that name no loops get their whole causal graph: at the modeller's positions when the
model has a layout (a Vensim sketch, XMILE views), else placed by networkx when it is small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.present.diagram.text import (
    B_COLOUR,
    CORE_COLOUR,
    NEUTRAL,
    R_COLOUR,
    activity_at,
    activity_share,
    chain_links,
    tint,
    words,
    wrapped_label,
)

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr

    from flywheel_sim.loops.find import Loop, LoopSearch
    from flywheel_sim.present.diagram.layout import Box, Layout

SCALE = 72.0  # pixels per layout inch
MAX_GRAPH_NODES = 60
PER_UNIT = 40.0  # units of a modeller's drawing (a Vensim sketch's pixels) per layout inch
Element = dict[str, Any]
F = NDArray[np.float64]


def _polar(kind: str) -> str:
    return {"R": R_COLOUR, "B": B_COLOUR}.get(kind, NEUTRAL)


def _xy(x: float, y: float) -> dict[str, float]:
    return {"x": round(x * SCALE, 1), "y": round(-y * SCALE, 1)}


def _size(lines: list[str], char: float, line: float) -> dict[str, int]:
    """A node's box for lines of text: ``char`` pixels per character, ``line`` per line."""
    return {
        "width": round(max(len(t) for t in lines) * char + 18),
        "height": round(len(lines) * line + 14),
    }


def _nearest(point: tuple[float, float], boxes: dict[str, Box]) -> str:
    def gap(box: Box) -> float:
        dx = max(abs(point[0] - box.x) - box.w, 0.0)
        dy = max(abs(point[1] - box.y) - box.h, 0.0)
        return math.hypot(dx, dy)

    return min(boxes, key=lambda k: gap(boxes[k]))


def _segments(points: Sequence[tuple[float, float]], a: Box, b: Box) -> dict[str, str]:
    """Cytoscape segment weights and distances that follow ``points`` from a to b."""
    (x0, y0), (x1, y1) = (a.x, -a.y), (b.x, -b.y)
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    inner = list(points[1:-1])
    step = max(1, len(inner) // 12)
    weights, distances = [], []
    for px, py in inner[::step]:
        dx, dy = px - x0, -py - y0
        weight = (dx * ux + dy * uy) / length
        if 0.02 < weight < 0.98 or abs(dx * -uy + dy * ux) > 0.1:
            weights.append(f"{weight:.3f}")
            distances.append(f"{(-dx * uy + dy * ux) * SCALE:.1f}")
    if not weights:
        return {}
    return {"weights": " ".join(weights), "distances": " ".join(distances)}


def layout_elements(layout: Layout, search: LoopSearch) -> list[Element]:
    """Nodes (core variables, the core loop in the middle, a chip per named loop) and edges
    (the routed links) of the diagram, without dominance colours."""
    main = layout.core
    elements: list[Element] = []
    boxes: dict[str, Box] = {}
    for name, box in layout.nodes.items():
        node = f"v:{name}"
        boxes[node] = box
        elements.append(
            {
                "data": {
                    "id": node,
                    "label": wrapped_label(name),
                    "variables": name,
                    "loop": "",
                    "width": round(2 * box.w * SCALE),
                    "height": round(2 * box.h * SCALE),
                },
                "position": _xy(box.x, box.y),
                "classes": "variable",
            }
        )
    centre = f"loop:{main.id}"
    elements.append(
        {
            "data": {
                "id": centre,
                "label": f"{main.polarity} {words(str(main.name))}",
                **_size(
                    [f"{main.polarity} {words(str(main.name))}", "· 100% of loop activity"],
                    10.0,
                    19,
                ),
                "loop": main.id,
                "variables": " ".join(main.variables),
                "colour": _polar(main.polarity),
            },
            "position": _xy(0.0, 0.0),
            "classes": f"loop centre {main.polarity}",
        }
    )
    for chip in layout.chips:
        node = f"loop:{chip.loop.id}"
        boxes[node] = chip.box
        text = [line.text for line in chip.lines if "loop activity" not in line.text]
        text = [t for t in text if not t.startswith("this loop alone")]
        elements.append(
            {
                "data": {
                    "id": node,
                    "label": f"{chip.loop.polarity} " + "\n".join(text),
                    "loop": chip.loop.id,
                    "variables": " ".join(chip.loop.variables),
                    "width": round(2 * chip.box.w * SCALE),
                    "colour": _polar(chip.loop.polarity),
                    "height": round(2 * chip.box.h * SCALE),
                },
                "position": _xy(chip.box.x, chip.box.y),
                "classes": f"loop chip {chip.loop.polarity}",
            }
        )
    for k, route in enumerate(layout.routes):
        source = _nearest(route.points[0], boxes)
        target = _nearest(route.points[-1], boxes)
        if source == target:
            continue
        loop = layout.chips[route.chip].loop.id if route.chip >= 0 else main.id
        data: Element = {
            "id": f"e{k}",
            "source": source,
            "target": target,
            "sign": route.sign,
            "loop": loop,
        }
        segments = _segments(route.points, boxes[source], boxes[target])
        if segments:
            data.update(segments)
        classes = ["dashed"] if route.dashed else []
        classes += ["segments"] if segments else []
        classes += ["core"] if route.chip < 0 else []
        elements.append({"data": data, "classes": " ".join(classes)})
    return elements


def graph_elements(
    search: LoopSearch, positions: dict[str, tuple[float, float]] | None = None
) -> list[Element]:
    """The whole causal graph (for models that name no loops), placed by networkx; or at
    ``positions`` (the model's own layout, :meth:`~flywheel_sim.spec.layout.Layout.positions`:
    canonical name -> x, y downwards), for the nodes it places, at any size."""
    import networkx as nx

    graph: nx.DiGraph = search.graph
    placed = {n: xy for n, xy in (positions or {}).items() if n in graph}
    if placed:
        graph = graph.subgraph(placed)
        size = 1 / PER_UNIT
        pos = {n: (x, -y) for n, (x, y) in placed.items()}
    elif graph.number_of_nodes() > MAX_GRAPH_NODES:
        return []
    else:
        pos = (
            nx.kamada_kawai_layout(graph)
            if graph.number_of_nodes() > 1
            else {n: (0.0, 0.0) for n in graph.nodes}
        )
        size = max(3.0, math.sqrt(graph.number_of_nodes()) * 1.6)
    elements: list[Element] = [
        {
            "data": {
                "id": f"v:{n}",
                "label": wrapped_label(str(n)),
                "variables": str(n),
                "loop": "",
                **_size(wrapped_label(str(n)).split("\n"), 8.0, 15),
            },
            "position": _xy(float(x) * size, float(y) * size),
            "classes": "variable",
        }
        for n, (x, y) in pos.items()
    ]
    for k, (a, b, attrs) in enumerate(graph.edges(data=True)):
        sign = str(attrs.get("polarity", ""))
        elements.append(
            {
                "data": {
                    "id": f"e{k}",
                    "source": f"v:{a}",
                    "target": f"v:{b}",
                    "sign": sign if sign in "+-" else "",
                    "loop": "",
                }
            }
        )
    return elements


def coloured(
    elements: list[Element], layout: Layout | None, dominance: xr.Dataset | None, at: float | None
) -> list[Element]:
    """A copy of ``elements`` with each loop tinted by the share of loop activity through it
    at ``at`` (white: none, full colour: all), and each link as wide as its share."""
    if layout is None or dominance is None or at is None:
        return elements
    activity = activity_at(dominance, at)
    shares = {
        f"loop:{c.loop.id}": activity_share(c.outside, c.path, activity) for c in layout.chips
    }
    core_links = chain_links(layout.core.variables)
    shares[f"loop:{layout.core.id}"] = sum(s for _, links, s in activity if links & core_links)
    path = {c.loop.id: c.path for c in layout.chips}
    out = []
    for element in elements:
        data = dict(element["data"])
        node = data["id"]
        if node in shares:
            share = shares[node] or 0.0
            data["fill"] = tint(data.get("colour", CORE_COLOUR), 0.12 + 0.88 * share)
            data["ink"] = "#ffffff" if share > 0.55 else "#222222"
            data["share"] = f"{share:.0%}"
            data["label"] = data["label"].split("\n·")[0] + f"\n· {share:.0%} of loop activity"
        if "source" in data and data.get("loop") in path:
            data["weight"] = round(1.0 + 5.0 * (shares.get(f"loop:{data['loop']}") or 0.0), 2)
        elif "source" in data and data.get("loop") == layout.core.id:
            a, b = data["source"][2:], data["target"][2:]
            share = activity_share(frozenset(), frozenset({(a, b)}), activity) or 0.0
            data["weight"] = round(1.0 + 5.0 * share, 2)
        out.append({**element, "data": data})
    return out


def path_share(dominance: xr.Dataset, layout: Layout, loop_id: str) -> F | None:
    """Over time, the share of loop activity (|relative score|) in the loops that pass
    through a chip's path — what the diagram's shading shows at one time; for the core loop,
    in the loops that use one of its links. None for a loop that is not drawn."""
    if loop_id == layout.core.id:
        core = chain_links(layout.core.variables)
        inside = [bool(chain_links(_names(c)) & core) for c in dominance["loop_variables"].values]
    else:
        chip = next((c for c in layout.chips if c.loop.id == loop_id), None)
        if chip is None:
            return None
        if chip.outside:
            inside = [chip.outside <= set(_names(c)) for c in dominance["loop_variables"].values]
        else:
            inside = [
                chip.path <= chain_links(_names(c)) for c in dominance["loop_variables"].values
            ]
    scores = np.abs(np.nan_to_num(dominance["relative_score"].isel(run=0).values))  # (time, loop)
    total = scores.sum(axis=1)
    part = scores[:, np.array(inside, dtype=bool)].sum(axis=1)
    return np.asarray(np.divide(part, total, out=np.zeros_like(part), where=total > 0), float)


def _names(chain: object) -> tuple[str, ...]:
    return tuple(v.split("[")[0] for v in str(chain).split(" -> "))


def loop_of(search: LoopSearch, loop_id: str) -> Loop | None:
    for loop in search.loops:
        if loop.id == loop_id:
            return loop
    return None


def stylesheet(selected: Loop | None = None) -> list[Element]:
    """The diagram's look; with a selected loop, its variables, chip and links stand out and
    everything else fades."""
    style: list[Element] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "text-wrap": "wrap",
                "text-valign": "center",
                "text-halign": "center",
                "font-size": 12,
                "font-family": "system-ui, sans-serif",
                "color": "#222222",
            },
        },
        {
            "selector": ".variable",
            "style": {
                "shape": "round-rectangle",
                "background-color": "#ffffff",
                "border-width": 1.5,
                "border-color": CORE_COLOUR,
                "width": "data(width)",
                "height": "data(height)",
                "text-max-width": "data(width)",
                "font-weight": "bold",
            },
        },
        {
            "selector": ".loop",
            "style": {
                "shape": "round-rectangle",
                "background-color": "data(fill)",
                "border-width": 2,
                "border-color": "data(colour)",
                "text-max-width": "data(width)",
                "width": "data(width)",
                "height": "data(height)",
                "font-size": 10,
                "color": "data(ink)",
            },
        },
        {"selector": ".loop[!fill]", "style": {"background-color": "#ffffff", "color": "#222222"}},
        {
            "selector": ".centre",
            "style": {
                "font-size": 14,
                "font-weight": "bold",
                "text-max-width": "160px",
                "border-style": "double",
                "border-width": 4,
            },
        },
        {
            "selector": "edge",
            "style": {
                "curve-style": "bezier",
                "target-arrow-shape": "triangle",
                "width": "data(weight)",
                "line-color": "#8a8a8a",
                "target-arrow-color": "#8a8a8a",
                "label": "data(sign)",
                "font-size": 13,
                "font-weight": "bold",
                "text-background-color": "#ffffff",
                "text-background-opacity": 1,
                "text-background-shape": "round-rectangle",
                "text-background-padding": "2px",
                "color": "#333333",
                "arrow-scale": 1.1,
            },
        },
        {"selector": "edge[!weight]", "style": {"width": 2}},
        {
            "selector": "edge.core",
            "style": {"line-color": CORE_COLOUR, "target-arrow-color": CORE_COLOUR},
        },
        {
            "selector": "edge.segments",
            "style": {
                "curve-style": "segments",
                "segment-weights": "data(weights)",
                "segment-distances": "data(distances)",
                "edge-distances": "node-position",
            },
        },
        {"selector": "edge.dashed", "style": {"line-style": "dashed"}},
    ]
    if selected is None:
        return style
    names = {f"v:{v}" for v in selected.variables}
    style += [
        {"selector": "node, edge", "style": {"opacity": 0.25}},
        {"selector": f'[loop = "{selected.id}"]', "style": {"opacity": 1}},
        {
            "selector": ", ".join(f'[id = "{n}"]' for n in sorted(names)) or "#none",
            "style": {
                "opacity": 1,
                "border-width": 4,
                "border-color": _polar(selected.polarity),
                "background-color": tint(_polar(selected.polarity), 0.18),
            },
        },
    ]
    links = chain_links(selected.variables)
    for a, b in sorted(links):
        style.append(
            {
                "selector": f'edge[source = "v:{a}"][target = "v:{b}"]',
                "style": {
                    "opacity": 1,
                    "line-color": _polar(selected.polarity),
                    "target-arrow-color": _polar(selected.polarity),
                },
            }
        )
    return style
