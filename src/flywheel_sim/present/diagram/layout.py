"""Where the causal-loop diagram's parts go, in inches: the :class:`Layout` data classes,
:func:`diagram_layout` and its placement helpers — the core circle, chips around it, lanes and
routes between them, sign badges, title, footnote, legend and the axis limits."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError
from flywheel_sim.present.diagram.text import (
    CORE_COLOUR,
    Activity,
    Block,
    ChipSpec,
    Line,
    Links,
    activity_at,
    activity_share,
    block_size,
    centre_height,
    centre_lines,
    chip_spec,
    dominant_note,
    legend_items,
    loop_weights,
    node_lines,
    path_sign,
    polarity_colour,
    tint,
    words,
    wrap_text,
)
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr

    from flywheel_sim.loops.find import Loop, LoopSearch

LANE_GAP, PORT_GAP, CORNER = 0.24, 0.2, 0.22  # inches
Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """A rectangle in inches: centre and half sizes."""

    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box, pad: float = 0.0) -> bool:
        return (
            abs(self.x - other.x) < self.w + other.w + pad
            and abs(self.y - other.y) < self.h + other.h + pad
        )


@dataclass(frozen=True)
class Chip:
    loop: Loop
    box: Box
    lines: tuple[Line, ...]
    outside: frozenset[str]  # the loop's variables that are not core variables
    path: Links  # the loop's links that are not core links
    share: float | None  # of all loop activity passing through it (see the module docstring)


@dataclass(frozen=True)
class Route:
    """A drawn link: a polyline in inches with the arrowhead at its last point."""

    points: tuple[Point, ...]
    sign: str
    colour: str
    width: float
    chip: int = -1  # index of the chip it joins; -1 for a core link
    dashed: bool = False
    sign_at: Point | None = None  # where the sign's badge goes, near the arrowhead


@dataclass(frozen=True)
class Layout:
    core: Loop
    radius: float
    nodes: dict[str, Box]
    chips: tuple[Chip, ...]
    routes: tuple[Route, ...]
    blocks: tuple[Block, ...]  # centre label, title, footnote
    legend: tuple[tuple[str, float, float, str], ...]  # kind, x, y, label
    limits: tuple[float, float, float, float]  # x0, x1, y0, y1


def core_loop(search: LoopSearch, name: str | None) -> Loop:
    """The named loop ``name``, else the longest named reinforcing loop (else named loop)."""
    named = [loop for loop in search.loops if loop.name]
    if name is not None:
        for loop in named:
            if loop.name == name:
                return loop
        raise ModelError(
            f"no named loop '{name}'", hint="named loops: " + ", ".join(str(x.name) for x in named)
        )
    if not named:
        raise ModelError("the model names no loops to draw", hint="add a loops: section")
    reinforcing = [loop for loop in named if loop.polarity == "R"] or named
    return max(reinforcing, key=lambda loop: loop.length)


def diagram_layout(
    model: Model,
    search: LoopSearch,
    *,
    core: str | None = None,
    dominance: xr.Dataset | None = None,
    at: float | None = None,
) -> Layout:
    """Where everything goes, in inches: nodes, chips, routes, text and the axis limits."""
    main = core_loop(search, core)
    radius, angle, nodes = _nodes(main)
    activity = activity_at(dominance, at) if dominance is not None and at is not None else None
    own = loop_weights(dominance, at)
    specs = [
        chip_spec(search.graph, main, loop, angle, activity, own.get(loop.id))
        for loop in search.loops
        if loop.name and loop is not main
    ]
    lane0 = radius + max(_radial(b, angle[v]) for v, b in nodes.items()) + 0.3
    lanes = 1
    for _ in range(6):  # chips sit outside the lanes; routes need the chips' angles
        ring = lane0 + lanes * LANE_GAP + 0.1
        boxes = _place_chips([s.size for s in specs], [s.angle for s in specs], ring)
        routes, used = _chip_routes(specs, boxes, nodes, angle, radius, lane0)
        if used <= lanes:
            break
        lanes = used
    chips = tuple(
        Chip(s.loop, box, s.lines, s.outside, s.path, s.share)
        for s, box in zip(specs, boxes, strict=True)
    )
    routes = _core_routes(main, nodes, angle, radius, search.graph, activity) + routes
    routes = _place_signs(routes, [*nodes.values(), *(c.box for c in chips)])
    blocks = [Block(0.0, centre_height(main, activity, own) / 2, centre_lines(main, activity, own))]
    return _frame(model, main, radius, nodes, chips, tuple(routes), blocks, dominance, at)


# --- the core loop -----------------------------------------------------------------------


def _nodes(main: Loop) -> tuple[float, dict[str, float], dict[str, Box]]:
    """The core variables on a circle in loop order, clockwise from the top."""
    n = len(main.variables)
    angle = {v: math.pi / 2 - 2 * math.pi * i / n for i, v in enumerate(main.variables)}
    sizes = {v: block_size(node_lines(v), 0.09, 0.06) for v in main.variables}
    need = sum(2 * _tangential(w, h, angle[v]) + 0.9 for v, (w, h) in sizes.items())
    radius = max(2.0, need / (2 * math.pi))
    nodes = {
        v: Box(radius * math.cos(a), radius * math.sin(a), *sizes[v]) for v, a in angle.items()
    }
    return radius, angle, nodes


def _core_routes(
    main: Loop,
    nodes: dict[str, Box],
    angle: dict[str, float],
    radius: float,
    graph: nx.DiGraph,
    activity: Activity | None,
) -> list[Route]:
    """Arcs along the circle from each core variable to the next."""
    routes = []
    chain = list(main.variables)
    for a, b in zip(chain, [*chain[1:], *chain[:1]], strict=True):  # in loop order
        start, stop = angle[a], angle[a] - _cw(angle[a], angle[b])
        steps = [start + (stop - start) * k / 200 for k in range(201)]
        arc = [(radius * math.cos(t), radius * math.sin(t)) for t in steps]
        pts = [p for p in arc if not _inside(p, nodes[a], 0.05) and not _inside(p, nodes[b], 0.09)]
        share = activity_share(frozenset(), frozenset({(a, b)}), activity)
        width = 2.2 if share is None else 1.0 + 5.0 * share
        routes.append(Route(tuple(pts), path_sign(graph, [a, b]), CORE_COLOUR, width))
    return routes


# --- chips -------------------------------------------------------------------------------


def _place_chips(sizes: list[tuple[float, float]], wish: list[float], ring: float) -> list[Box]:
    """Chips around the lanes, near the angles they want, pushed apart until none overlap."""
    order = sorted(range(len(sizes)), key=lambda i: wish[i] % (2 * math.pi))
    for extra in (0.35 * k for k in range(60)):
        theta = [wish[i] % (2 * math.pi) for i in order]
        for _ in range(400):
            moved = False
            for k in range(len(theta) if len(theta) > 1 else 0):
                nxt = (k + 1) % len(theta)
                gap = theta[nxt] - theta[k] + (2 * math.pi if nxt == 0 else 0.0)
                need = _half_angle(sizes[order[k]], theta[k], ring + extra)
                need += _half_angle(sizes[order[nxt]], theta[nxt], ring + extra)
                if gap < need:
                    theta[k] -= (need - gap) / 2 + 1e-4
                    theta[nxt] += (need - gap) / 2 + 1e-4
                    moved = True
            if not moved:
                break
        boxes: list[Box] = [Box(0, 0, 0, 0)] * len(sizes)
        for k, i in enumerate(order):
            boxes[i] = _chip_box(sizes[i], theta[k], ring + extra)
        if not any(a.overlaps(b, 0.12) for n, a in enumerate(boxes) for b in boxes[n + 1 :]):
            return boxes
    return boxes


def _chip_box(size: tuple[float, float], theta: float, ring: float) -> Box:
    w, h = size
    r = ring + abs(w * math.cos(theta)) + abs(h * math.sin(theta))
    return Box(r * math.cos(theta), r * math.sin(theta), w, h)


def _half_angle(size: tuple[float, float], theta: float, ring: float) -> float:
    r = ring + abs(size[0] * math.cos(theta)) + abs(size[1] * math.sin(theta))
    return math.atan2(_tangential(*size, theta) + 0.1, r)


# --- routes ------------------------------------------------------------------------------


def _chip_routes(
    specs: list[ChipSpec],
    boxes: list[Box],
    nodes: dict[str, Box],
    angle: dict[str, float],
    radius: float,
    lane0: float,
) -> tuple[list[Route], int]:
    """Routes between core variables and chips along lanes; and how many lanes they use."""
    ends = [(c, *end) for c, spec in enumerate(specs) for end in spec.ends]
    theta = [math.atan2(b.y, b.x) for b in boxes]
    spans = [(angle[v], _diff(theta[c], angle[v])) for c, v, *_ in ends]
    lane = _lanes(spans, lane0)
    room = {v: 2 * _tangential(b.w, b.h, angle[v]) - 0.12 for v, b in nodes.items()}
    room |= {str(c): 2 * _tangential(b.w, b.h, theta[c]) - 0.25 for c, b in enumerate(boxes)}
    node_port = _ports([(v, spans[k][1], lane[k]) for k, (_, v, *_) in enumerate(ends)], 1, room)
    chip_port = _ports(
        [(str(c), -spans[k][1], lane[k]) for k, (c, *_) in enumerate(ends)], -1, room
    )
    routes = []
    for k, (c, v, sign, into, dashed) in enumerate(ends):
        a0 = angle[v] + node_port[k] / radius
        box = boxes[c]
        a1 = a0 + _diff(theta[c] + chip_port[k] / math.hypot(box.x, box.y), a0)
        inner = replace(box, w=box.w - 0.2, h=box.h - 0.1)
        if _ray_box(a0, inner, far=True) > _ray_box(a0, inner, far=False):
            a1 = a0  # the chip is straight out from the port: go straight
        r0 = max(_ray_box(a0, nodes[v], far=True), radius + 0.05) + 0.04  # under the box
        r1 = _ray_box(a1, box, far=False) - 0.04
        pts = _polar_route(a0, r0, lane0 + lane[k] * LANE_GAP, a1, r1)
        share = specs[c].share
        width = (1.5 if dashed else 1.8) if share is None else 0.9 + 5.0 * share
        colour = polarity_colour(specs[c].loop)
        colour = colour if share is None else tint(colour, 0.5 + 0.5 * min(1.0, 4 * share))
        routes.append(Route(tuple(pts if into else pts[::-1]), sign, colour, width, c, dashed))
    return routes, max(lane, default=-1) + 1


def _lanes(spans: list[tuple[float, float]], lane0: float) -> list[int]:
    """First-fit lanes, shortest spans innermost; spans on one lane never overlap."""
    taken: list[list[tuple[float, float]]] = []
    lane = [0] * len(spans)
    for k in sorted(range(len(spans)), key=lambda k: (abs(spans[k][1]), k)):
        start, d = spans[k]
        arc = (min(start, start + d), abs(d))
        for i, used in enumerate(taken):
            pad = 0.45 / (lane0 + i * LANE_GAP)
            if not any(_arcs_meet(arc, other, pad) for other in used):
                used.append(arc)
                lane[k] = i
                break
        else:
            taken.append([arc])
            lane[k] = len(taken) - 1
    return lane


def _arcs_meet(a: tuple[float, float], b: tuple[float, float], pad: float) -> bool:
    tau = 2 * math.pi
    return (b[0] - a[0]) % tau < a[1] + pad or (a[0] - b[0]) % tau < b[1] + pad


def _ports(uses: list[tuple[str, float, int]], inward: int, room: dict[str, float]) -> list[float]:
    """Side offsets (inches) of the routes meeting at one node or chip, ordered so that
    routes do not cross there: by the way they turn, then by lane."""
    offsets = [0.0] * len(uses)
    for key in dict.fromkeys(u[0] for u in uses):
        mine = [k for k, u in enumerate(uses) if u[0] == key]
        mine.sort(
            key=lambda k: (uses[k][1] >= 0, inward * uses[k][2] * (1 if uses[k][1] < 0 else -1), k)
        )
        gap = min(PORT_GAP, max(room[key], 0.0) / max(len(mine) - 1, 1))
        for rank, k in enumerate(mine):
            offsets[k] = (rank - (len(mine) - 1) / 2) * gap
    return offsets


def _polar_route(a0: float, r0: float, lane: float, a1: float, r1: float) -> list[Point]:
    """Radially from (a0, r0) to the lane, along it to a1, radially to r1; rounded corners."""
    c0 = math.copysign(min(CORNER, abs(lane - r0) / 2), lane - r0)
    c1 = math.copysign(min(CORNER, abs(r1 - lane) / 2), r1 - lane)
    ca = math.copysign(min(CORNER / lane, abs(a1 - a0) / 2), a1 - a0)
    polar = [(a0, r0)]
    polar += _bezier((a0, lane - c0), (a0, lane), (a0 + ca, lane))
    steps = max(2, int(abs(a1 - a0) / 0.03))
    polar += [(a0 + ca + (a1 - a0 - 2 * ca) * k / steps, lane) for k in range(steps + 1)]
    polar += _bezier((a1 - ca, lane), (a1, lane), (a1, lane + c1))
    polar.append((a1, r1))
    return [(r * math.cos(a), r * math.sin(a)) for a, r in polar]


def _bezier(p0: Point, p1: Point, p2: Point) -> list[Point]:
    out = []
    for k in range(9):
        t = k / 8
        u = 1 - t
        out.append(
            (
                u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
                u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1],
            )
        )
    return out


def _ray_box(theta: float, box: Box, *, far: bool) -> float:
    """Distance from the origin along the ray at ``theta`` to where it enters (or leaves) box."""
    dx, dy = math.cos(theta), math.sin(theta)
    lo, hi = 0.0, math.inf
    for d, c, h in ((dx, box.x, box.w), (dy, box.y, box.h)):
        if abs(d) < 1e-12:
            if abs(c) > h:
                return math.hypot(box.x, box.y)
            continue
        t0, t1 = sorted(((c - h) / d, (c + h) / d))
        lo, hi = max(lo, t0), min(hi, t1)
    if lo > hi:  # a miss: the ray passes the box
        return math.hypot(box.x, box.y)
    return hi if far else lo


def _place_signs(routes: list[Route], boxes: list[Box]) -> list[Route]:
    """Each sign near its arrowhead, moved back along the route until it is clear of the other
    signs and of the boxes."""
    placed: list[Point] = []
    out = []
    for route in routes:
        if not route.sign:
            out.append(route)
            continue
        spot = back_along(list(route.points), 0.42)
        for k in range(12):
            spot = back_along(list(route.points), 0.42 + 0.2 * k)
            clear = all(math.dist(spot, p) > 0.25 for p in placed)
            if clear and not any(_inside(spot, b, 0.1) for b in boxes):
                break
        placed.append(spot)
        out.append(replace(route, sign_at=spot))
    return out


def back_along(pts: list[Point], distance: float) -> Point:
    """The point ``distance`` inches back along the polyline from its end."""
    left = distance
    for (x1, y1), (x0, y0) in zip(pts[::-1], pts[-2::-1], strict=False):
        step = math.hypot(x1 - x0, y1 - y0)
        if step >= left and step > 0:
            t = left / step
            return x1 + (x0 - x1) * t, y1 + (y0 - y1) * t
        left -= step
    return pts[0]


# --- frame: title, footnote, legend, limits ----------------------------------------------


def _frame(
    model: Model,
    main: Loop,
    radius: float,
    nodes: dict[str, Box],
    chips: tuple[Chip, ...],
    routes: tuple[Route, ...],
    blocks: list[Block],
    dominance: xr.Dataset | None,
    at: float | None,
) -> Layout:
    xs = [p[0] for r in routes for p in r.points]
    ys = [p[1] for r in routes for p in r.points]
    for box in [*nodes.values(), *(c.box for c in chips)]:
        xs += [box.x - box.w, box.x + box.w]
        ys += [box.y - box.h, box.y + box.h]
    left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    width = max(right - left, 7.0)
    sub = f"core loop: {words(str(main.name))}"
    if dominance is not None and at is not None:
        sub += f" · coloured by loop dominance at {at:g}"
    head = (Line(f"{model.name}: causal-loop diagram", 17, True), Line(sub, 11, False, "#555555"))
    top += 0.3 + block_size(head, 0, 0)[1] * 2
    blocks.append(Block((left + right) / 2, top, head))
    if dominance is not None and at is not None:
        note = tuple(
            Line(t, 10, False, "#333333")
            for t in wrap_text(dominant_note(dominance, at), 10, width)
        )
        blocks.append(Block((left + right) / 2, bottom - 0.3, note))
        bottom -= 0.3 + block_size(note, 0, 0)[1] * 2
    legend, bottom = legend_items(
        (left + right) / 2, bottom - 0.3, width, dominance is not None and at is not None
    )
    mid = (left + right) / 2
    limits = (
        min(left, mid - width / 2) - 0.3,
        max(right, mid + width / 2) + 0.3,
        bottom - 0.25,
        top + 0.25,
    )
    return Layout(main, radius, nodes, chips, routes, tuple(blocks), legend, limits)


# --- geometry ----------------------------------------------------------------------------


def _diff(a: float, b: float) -> float:
    """a - b wrapped into (-pi, pi]."""
    return math.pi - (math.pi - (a - b)) % (2 * math.pi)


def _cw(a: float, b: float) -> float:
    """How far clockwise from angle a to angle b, in (0, 2 pi]."""
    return (a - b) % (2 * math.pi) or 2 * math.pi


def _inside(p: Point, box: Box, pad: float) -> bool:
    return abs(p[0] - box.x) < box.w + pad and abs(p[1] - box.y) < box.h + pad


def _tangential(w: float, h: float, theta: float) -> float:
    return abs(w * math.sin(theta)) + abs(h * math.cos(theta))


def _radial(box: Box, theta: float) -> float:
    return abs(box.w * math.cos(theta)) + abs(box.h * math.sin(theta))
