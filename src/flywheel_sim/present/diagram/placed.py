"""The diagram at the modeller's positions (``flywheel diagram --layout model``).

When a model has a layout (:class:`~flywheel_sim.spec.layout.Layout`: a Vensim sketch, XMILE
views or a YAML ``layout:``), its causal graph is drawn where the modeller put each variable,
scaled to fit: every placed variable is a node, every causal link between two placed
variables an arrow (bent through the modeller's control point when the layout has one) with
its sign. Links of the core loop are drawn in the core colour, links of the other named loops
in their loop's colour, the rest thin and grey; with dominance data at a time, each link is as
wide as the share of loop activity through it. Variables the layout does not place are left
out (named in the footnote). The result has the painting attributes of the loop diagram's
:class:`~flywheel_sim.present.diagram.layout.Layout`, so :func:`draw_diagram` paints either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from flywheel_sim.errors import ModelError
from flywheel_sim.present.diagram.layout import Box, Point, Route, core_loop
from flywheel_sim.present.diagram.text import (
    CORE_COLOUR,
    NEUTRAL,
    Block,
    Line,
    activity_at,
    block_size,
    chain_links,
    legend_items,
    node_lines,
    path_sign,
    polarity_colour,
    wrap_text,
)
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.loops.find import LoopSearch
    from flywheel_sim.present.diagram.layout import Chip

LayoutChoice = Literal["model", "auto"]
MAX_WIDTH, MAX_HEIGHT = 16.0, 12.0  # inches the drawing may take
PER_PIXEL = 1 / 60  # inches per unit of the modeller's drawing, at most


@dataclass(frozen=True)
class PlacedLayout:
    """Nodes at the modeller's positions (inches, y upwards), the links, text and limits."""

    nodes: dict[str, Box]
    routes: tuple[Route, ...]
    blocks: tuple[Block, ...]
    legend: tuple[tuple[str, float, float, str], ...]
    limits: tuple[float, float, float, float]
    chips: tuple[Chip, ...] = ()


def use_model_layout(model: Model, choice: LayoutChoice | None) -> bool:
    """Whether to draw at the model's positions: ``model`` asks for them (refused when the
    model has none), ``auto`` never, None when the model has a layout."""
    if choice not in (None, "model", "auto"):
        raise ModelError(f"unknown diagram layout '{choice}'", hint="use model or auto")
    if choice == "model" and not model.layout:
        raise ModelError(
            f"model '{model.name}' has no diagram layout of its own",
            hint="use --layout auto, or give the model a layout: section (docs/model-format.md)",
        )
    return choice != "auto" and bool(model.layout)


def placed_layout(
    model: Model,
    search: LoopSearch,
    *,
    core: str | None = None,
    dominance: xr.Dataset | None = None,
    at: float | None = None,
) -> PlacedLayout:
    """Where everything goes, in inches, with the variables at the model's own positions."""
    assert model.layout is not None
    graph = search.graph
    spots = {k: p for k, p in model.layout.positions().items() if k in graph}
    if not spots:
        raise ModelError(
            f"the layout of model '{model.name}' places none of its variables",
            hint="use --layout auto",
        )
    nodes = _scaled(spots)
    bends = _bends(model, spots)
    named = [loop for loop in search.loops if loop.name]
    main = core_loop(search, core) if named else None
    colour: dict[tuple[str, str], str] = {}
    for loop in named:
        if loop is not main:
            colour.update(dict.fromkeys(chain_links(loop.variables), polarity_colour(loop)))
    if main is not None:
        colour.update(dict.fromkeys(chain_links(main.variables), CORE_COLOUR))
    activity = activity_at(dominance, at) if dominance is not None and at is not None else None
    routes = []
    for a, b in graph.edges:
        if a not in nodes or b not in nodes or a == b:
            continue
        share = None
        if activity is not None:
            share = sum(s for _, links, s in activity if (a, b) in links)
        width = (2.2 if (a, b) in colour else 1.0) if share is None else 0.8 + 5.0 * share
        points = _route(nodes[a], nodes[b], bends.get((a, b)))
        sign = path_sign(graph, [a, b])
        routes.append(Route(points, sign, colour.get((a, b), NEUTRAL), width, -1, False, None))
    left_out = sorted(k for k in graph.nodes if k not in nodes)
    return _framed(model, nodes, tuple(routes), main, left_out, activity is not None, at)


def _scaled(spots: dict[str, tuple[float, float]]) -> dict[str, Box]:
    """The positions in inches, centred on 0, y upwards, at most MAX_WIDTH by MAX_HEIGHT."""
    xs = [x for x, _ in spots.values()]
    ys = [y for _, y in spots.values()]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    scale = min(PER_PIXEL, MAX_WIDTH / max(span_x, 1.0), MAX_HEIGHT / max(span_y, 1.0))
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    out = {}
    for key, (x, y) in spots.items():
        w, h = block_size(node_lines(key), 0.06, 0.04)
        out[key] = Box((x - mid_x) * scale, (mid_y - y) * scale, w, h)
    return out


def _bends(model: Model, spots: dict[str, tuple[float, float]]) -> dict[tuple[str, str], Point]:
    """Each drawn link's control point, in the plane of :meth:`Layout.positions`, as a share of
    the way between its two ends and a sideways offset (kept when the drawing is scaled)."""
    from flywheel_sim.spec.names import canonical

    assert model.layout is not None
    out: dict[tuple[str, str], Point] = {}
    for curve in model.layout.curves:
        a, b = canonical(curve.source), canonical(curve.target)
        if a not in spots or b not in spots or len(curve.points) != 1:
            continue
        place_a = model.layout.position(curve.source)
        if place_a is None or place_a.view != curve.view:
            continue  # drawn on another page than the variable itself
        (ax, ay), (bx, by) = spots[a], spots[b]
        px, py = curve.points[0]
        dx, dy = px - place_a.x, py - place_a.y  # the point relative to the source's place
        length2 = (bx - ax) ** 2 + (by - ay) ** 2
        if length2 <= 0:
            continue
        along = (dx * (bx - ax) + dy * (by - ay)) / length2
        across = (-dx * (by - ay) + dy * (bx - ax)) / length2
        out[(a, b)] = (along, across)
    return out


def _route(a: Box, b: Box, bend: Point | None) -> tuple[Point, ...]:
    """From box a to box b: a straight line, or a curve through the modeller's point."""
    if bend is None or abs(bend[1]) < 0.02:
        points = [(a.x + (b.x - a.x) * k / 40, a.y + (b.y - a.y) * k / 40) for k in range(41)]
    else:
        along, across = bend
        # y is flipped: a point left of the line in the drawing is right of it here
        px = a.x + along * (b.x - a.x) + across * (b.y - a.y)
        py = a.y + along * (b.y - a.y) - across * (b.x - a.x)
        cx, cy = 2 * px - (a.x + b.x) / 2, 2 * py - (a.y + b.y) / 2  # through p halfway
        points = []
        for k in range(41):
            t = k / 40
            u = 1 - t
            points.append(
                (
                    u * u * a.x + 2 * u * t * cx + t * t * b.x,
                    u * u * a.y + 2 * u * t * cy + t * t * b.y,
                )
            )
    clipped = [p for p in points if not _inside(p, a, 0.03) and not _inside(p, b, 0.06)]
    if len(clipped) < 2:
        return ((a.x, a.y), (b.x, b.y))
    return tuple(clipped)


def _inside(p: Point, box: Box, pad: float) -> bool:
    return abs(p[0] - box.x) < box.w + pad and abs(p[1] - box.y) < box.h + pad


def _framed(
    model: Model,
    nodes: dict[str, Box],
    routes: tuple[Route, ...],
    main: object,
    left_out: list[str],
    weighted: bool,
    at: float | None,
) -> PlacedLayout:
    """Title above, footnote and legend below, and the axis limits."""
    xs = [v for b in nodes.values() for v in (b.x - b.w, b.x + b.w)]
    ys = [v for b in nodes.values() for v in (b.y - b.h, b.y + b.h)]
    xs += [p[0] for r in routes for p in r.points]
    ys += [p[1] for r in routes for p in r.points]
    left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    width = max(right - left, 7.0)
    mid = (left + right) / 2
    sub = "as the modeller drew it"
    if main is not None:
        sub += f" · core loop: {getattr(main, 'name', '')}".replace("_", " ")
    if weighted and at is not None:
        sub += f" · link width: share of loop activity at {at:g}"
    head = (Line(f"{model.name}: diagram", 17, True), Line(sub, 11, False, "#555555"))
    top += 0.3 + block_size(head, 0, 0)[1] * 2
    blocks = [Block(mid, top, head)]
    if left_out:
        text = "not in the modeller's drawing: " + ", ".join(n.replace("_", " ") for n in left_out)
        note = tuple(Line(t, 9, False, "#555555") for t in wrap_text(text, 9, width))
        blocks.append(Block(mid, bottom - 0.3, note))
        bottom -= 0.3 + block_size(note, 0, 0)[1] * 2
    legend, bottom = legend_items(mid, bottom - 0.3, width, weighted)
    limits = (
        min(left, mid - width / 2) - 0.3,
        max(right, mid + width / 2) + 0.3,
        bottom - 0.25,
        top + 0.25,
    )
    return PlacedLayout(nodes, routes, tuple(blocks), legend, limits)


__all__ = ["PlacedLayout", "placed_layout", "use_model_layout"]
