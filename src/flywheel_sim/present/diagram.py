"""The causal-loop diagram: the flywheel's core loop as a circle, other named loops around it.

Drawn with matplotlib only (no Graphviz). :func:`diagram_layout` is a pure function from the
model's loops to positions in inches (one data unit is one inch of the picture); the drawing
just paints it, so the layout's promises are tested directly:

- the core loop's variables sit on a circle in loop order, joined by arcs;
- every other named loop is a *chip* (R/B badge, name, the chain of variables it adds) outside
  the circle. The part of the loop that is not a core link is its *path*; where the path
  leaves the core and where it comes back are joined to the chip by routes that go radially
  out to a lane (a circle of its own radius, assigned so routes on one lane never overlap),
  along the lane and radially to the chip, so no route crosses the inside of the circle.
  A loop with several detours is drawn by its longest one; the others are named in the chip.
  A loop that shares no variable with the core is joined by dashed routes along the shortest
  causal paths from and to the core;
- every drawn link carries its sign in a badge near the arrowhead; links inside a chip carry
  it as a superscript on the arrow.

With dominance data (Loops That Matter) at a time ``at``, a long loop's own share is tiny in
a model with many loops (amazon has over 1,600), so colouring by it alone shows nothing. Each
chip therefore shows the share of all loop activity that *passes through its path*: the sum of
|relative score| over the analysed loops that contain every link of the path (element
subscripts of arrayed models dropped), and its routes and fill are weighted by it; the loop's
own share is shown too. A core link is weighted by the share of activity in loops through that
link, and the centre shows the share of activity in loops using at least one core link, next
to the core loop's own share. The footnote names the loops that dominate at that time.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import ModelError
from flywheel_sim.output import atomic_path
from flywheel_sim.present.charts import pyplot_for
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr

    from flywheel_sim.loops.find import Loop, LoopSearch

R_COLOUR, B_COLOUR, NEUTRAL, INK, CORE_COLOUR = (
    "#1b7837",
    "#b2182b",
    "#777777",
    "#222222",
    "#2f4b7c",
)
LANE_GAP, PORT_GAP, CORNER = 0.24, 0.2, 0.22  # inches
Point = tuple[float, float]
Links = frozenset[tuple[str, str]]
Activity = list[tuple[frozenset[str], Links, float]]  # each loop's variables, links, share
SUPER = {"+": "⁺", "-": "⁻"}


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
class Line:
    """One line of text; ``badge`` (R, B or ?) draws a loop marker before it."""

    text: str
    size: float
    bold: bool = False
    colour: str = INK
    badge: str = ""
    badge_colour: str = NEUTRAL


@dataclass(frozen=True)
class Block:
    """Lines of text centred on ``x``, the first one's top at ``top``."""

    x: float
    top: float
    lines: tuple[Line, ...]


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


def _core(search: LoopSearch, name: str | None) -> Loop:
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


def draw_diagram(
    model: Model,
    search: LoopSearch,
    path: str | Path,
    *,
    core: str | None = None,
    dominance: xr.Dataset | None = None,
    at: float | None = None,
) -> Path:
    """Draw the causal-loop diagram of the model's named loops into ``path`` (.png/.svg/.pdf)."""
    target = Path(path)
    plt = pyplot_for(target)
    lay = diagram_layout(model, search, core=core, dominance=dominance, at=at)
    x0, x1, y0, y1 = lay.limits
    fig = plt.figure(figsize=(x1 - x0, y1 - y0))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.axis("off")
    for route in lay.routes:
        _draw_route(ax, route)
    for name, box in lay.nodes.items():
        _draw_box(ax, box, "#eef3fa", CORE_COLOUR, 1.6)
        _draw_lines(ax, Block(box.x, box.y + box.h - 0.06, _node_lines(name)))
    for chip in lay.chips:
        fill = "white" if chip.share is None else _tint(_polar(chip.loop), 0.05 + 0.4 * chip.share)
        width = 1.4 if chip.share is None else 1.2 + 3.5 * chip.share
        _draw_box(ax, chip.box, fill, _polar(chip.loop), width)
        _draw_lines(ax, Block(chip.box.x, chip.box.y + chip.box.h - 0.08, chip.lines))
    for block in lay.blocks:
        _draw_lines(ax, block)
    _draw_legend(ax, lay.legend)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=150)
    plt.close(fig)
    return target


def diagram_layout(
    model: Model,
    search: LoopSearch,
    *,
    core: str | None = None,
    dominance: xr.Dataset | None = None,
    at: float | None = None,
) -> Layout:
    """Where everything goes, in inches: nodes, chips, routes, text and the axis limits."""
    main = _core(search, core)
    radius, angle, nodes = _nodes(main)
    activity = _activity(dominance, at) if dominance is not None and at is not None else None
    own = _loop_weights(dominance, at)
    specs = [
        _chip_spec(search.graph, main, loop, angle, activity, own.get(loop.id))
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
    blocks = [
        Block(0.0, _centre_height(main, activity, own) / 2, _centre_lines(main, activity, own))
    ]
    return _frame(model, main, radius, nodes, chips, tuple(routes), blocks, dominance, at)


# --- the core loop -------------------------------------------------------------------------


def _label(name: str) -> str:
    words = name.replace("_", " ").split()
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) > 12:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _node_lines(name: str) -> tuple[Line, ...]:
    return tuple(Line(part, 10.5, True) for part in _label(name).split("\n"))


def _nodes(main: Loop) -> tuple[float, dict[str, float], dict[str, Box]]:
    """The core variables on a circle in loop order, clockwise from the top."""
    n = len(main.variables)
    angle = {v: math.pi / 2 - 2 * math.pi * i / n for i, v in enumerate(main.variables)}
    sizes = {v: _size(_node_lines(v), 0.09, 0.06) for v in main.variables}
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
    for a, b in _links(main.variables):
        start, stop = angle[a], angle[a] - _cw(angle[a], angle[b])
        steps = [start + (stop - start) * k / 200 for k in range(201)]
        arc = [(radius * math.cos(t), radius * math.sin(t)) for t in steps]
        pts = [p for p in arc if not _inside(p, nodes[a], 0.05) and not _inside(p, nodes[b], 0.09)]
        share = _share(frozenset(), frozenset({(a, b)}), activity)
        width = 2.2 if share is None else 1.0 + 5.0 * share
        routes.append(Route(tuple(pts), _sign(graph, [a, b]), CORE_COLOUR, width))
    return routes


def _centre_lines(main: Loop, activity: Activity | None, own: dict[str, float]) -> tuple[Line, ...]:
    lines = [Line(_words(str(main.name)), 15, True, _polar(main), main.polarity, _polar(main))]
    if activity is not None:
        core_links = _links(main.variables)
        through = sum(s for _, links, s in activity if links & core_links)
        lines.append(Line(f"{_percent(through)} of loop activity", 11, True, CORE_COLOUR))
        lines.append(Line("uses one of its links", 11, False, CORE_COLOUR))
        lines.append(Line(f"this loop alone: {own.get(main.id, 0.0):+.1%}", 9.5, False, NEUTRAL))
    return tuple(lines)


def _centre_height(main: Loop, activity: Activity | None, own: dict[str, float]) -> float:
    return _size(_centre_lines(main, activity, own), 0, 0)[1] * 2


# --- chips ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """A chip before placement: what it shows, where it wants to be, what it joins."""

    loop: Loop
    lines: tuple[Line, ...]
    size: tuple[float, float]
    angle: float
    outside: frozenset[str]
    path: Links
    share: float | None
    ends: tuple[tuple[str, str, bool, bool], ...]  # core variable, sign, into chip?, dashed?


def _chip_spec(
    graph: nx.DiGraph,
    main: Loop,
    loop: Loop,
    angle: dict[str, float],
    activity: Activity | None,
    own: float | None,
) -> _Spec:
    core_links = _links(main.variables)
    runs = _runs(loop.variables, angle, core_links)
    path = _links(loop.variables) - core_links
    if runs:
        run = max(runs, key=len)
        first = _sign(graph, run[:2]) if len(run) > 2 else ""  # a shortcut: one sign
        ends = ((run[0], first, True, False), (run[-1], _sign(graph, run[-2:]), False, False))
        text = [_chain(graph, run[1:-1] or run)]
        text += [f"also {_chain(graph, r)}" for r in runs if r is not run]
    else:
        into, out = _bridges(graph, main.variables, loop.variables)
        ends = (
            (into[0], _sign(graph, into), True, True),
            (out[-1], _sign(graph, out), False, True),
        )
        start = loop.variables.index(into[-1])
        text = [_chain(graph, [*loop.variables[start:], *loop.variables[:start]])]
        via = [v for v in (*into[1:-1], *out[1:-1])]
        text += [f"linked via {', '.join(_words(v) for v in via)}"] if via else []
    lines = [Line(_words(str(loop.name)), 11, True, INK, loop.polarity, _polar(loop))]
    lines += [Line(t, 9.5, False, "#444444") for part in text for t in _wrap(part, 9.5, 2.7)]
    outside = frozenset(loop.variables) - frozenset(angle)
    share = _share(outside, path, activity)
    if share is not None:
        lines.append(
            Line(f"{_percent(share)} of loop activity passes here", 9.5, True, _polar(loop))
        )
        lines.append(Line(f"this loop alone: {own or 0.0:+.1%}", 8.5, False, NEUTRAL))
    anchors = [angle[e[0]] for e in ends]
    x, y = sum(math.cos(a) for a in anchors), sum(math.sin(a) for a in anchors)
    wish = math.atan2(y, x) if math.hypot(x, y) > 1e-6 else anchors[0] - math.pi / 2
    size = _size(tuple(lines), 0.14, 0.1)
    return _Spec(loop, tuple(lines), size, wish, outside, path, share, ends)


def _runs(chain: tuple[str, ...], angle: dict[str, float], core_links: Links) -> list[list[str]]:
    """The loop's detours from the core: core variable, outside variables, core variable."""
    at = [i for i, v in enumerate(chain) if v in angle]
    runs = []
    for k, i in enumerate(at):
        j = at[(k + 1) % len(at)]
        run = [chain[(i + s) % len(chain)] for s in range((j - i) % len(chain) or len(chain))]
        run.append(chain[j])
        if len(run) > 2 or (run[0], run[1]) not in core_links:
            runs.append(run)
    return runs


def _bridges(
    graph: nx.DiGraph, core: tuple[str, ...], loop: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Shortest causal paths from the core into a loop and from the loop back to the core."""
    import networkx as nx

    paths = nx.multi_source_dijkstra_path(graph, list(core))
    into = min((paths[v] for v in loop if v in paths), key=len, default=None)
    paths = nx.multi_source_dijkstra_path(graph, list(loop))
    out = min((paths[v] for v in core if v in paths), key=len, default=None)
    if into is None or out is None:
        raise ModelError(
            f"named loop '{loop[0]}…' has no causal path to or from the core loop",
            hint="choose another core with --core",
        )
    return list(into), list(out)


def _chain(graph: nx.DiGraph, chain: list[str] | tuple[str, ...]) -> str:
    """'a →⁺ b →⁻ c', shortened to its first two and last two variables."""
    parts = [_words(chain[0])]
    for a, b in itertools.pairwise(chain):
        parts.append(f"→{SUPER.get(_sign(graph, [a, b]), '')} {_words(b)}")
    if len(parts) > 5:
        parts = [*parts[:2], "→ …", *parts[-2:]]
    return " ".join(parts)


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


# --- routes --------------------------------------------------------------------------------


def _chip_routes(
    specs: list[_Spec],
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
        colour = _polar(specs[c].loop)
        colour = colour if share is None else _tint(colour, 0.5 + 0.5 * min(1.0, 4 * share))
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
        spot = _back(list(route.points), 0.42)
        for k in range(12):
            spot = _back(list(route.points), 0.42 + 0.2 * k)
            clear = all(math.dist(spot, p) > 0.25 for p in placed)
            if clear and not any(_inside(spot, b, 0.1) for b in boxes):
                break
        placed.append(spot)
        out.append(replace(route, sign_at=spot))
    return out


# --- dominance -----------------------------------------------------------------------------


def _activity(dominance: xr.Dataset, at: float) -> Activity:
    """Each analysed loop's variables and links (subscripts dropped), and its share of
    |relative score| at ``at``."""
    row = dominance.sel(time=at, method="nearest").isel(run=0)
    out = []
    for chain, score in zip(
        row["loop_variables"].values, row["relative_score"].values, strict=True
    ):
        value = abs(float(score))
        if math.isfinite(value) and value > 0:
            names = tuple(v.split("[")[0] for v in str(chain).split(" -> "))
            out.append((frozenset(names), _links(names), value))
    total = sum(s for *_, s in out) or 1.0
    return [(names, links, s / total) for names, links, s in out]


def _share(outside: frozenset[str], path: Links, activity: Activity | None) -> float | None:
    """Share of loop activity in loops through every variable of ``outside`` or, when that is
    empty (a shortcut between core variables), through every link of ``path``."""
    if activity is None:
        return None
    if outside:
        return sum(s for names, _, s in activity if outside <= names)
    return sum(s for _, links, s in activity if path <= links)


def _loop_weights(dominance: xr.Dataset | None, at: float | None) -> dict[str, float]:
    if dominance is None or at is None:
        return {}
    row = dominance["relative_score"].isel(run=0).sel(time=at, method="nearest")
    weights: dict[str, float] = {}
    for key, value in zip(row["loop"].values, row.values, strict=True):
        # an arrayed model's loops are scored element by element (R2[a], R2[b]): the model
        # loop R2 carries their sum
        loop_id = str(key).split("[")[0]
        weights[loop_id] = weights.get(loop_id, 0.0) + float(value)
    return weights


def _dominant_note(dominance: xr.Dataset, at: float) -> str:
    """Which loops dominate at ``at`` (named or not), with their shares."""
    row = dominance.sel(time=at, method="nearest").isel(run=0)
    label = str(row["dominant"].item())
    if not label:
        return f"no loop is active at {float(row['time']):g}"
    parts = []
    for loop_id in label.split("+"):
        loop = row.sel(loop=loop_id)
        name = str(loop["loop_name"].item())
        if not name:
            chain = [_words(v) for v in str(loop["loop_variables"].item()).split(" -> ")]
            name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
        parts.append(f"{loop_id} {name} ({float(loop['relative_score']):+.0%})")
    return f"dominant at {float(row['time']):g}: " + "; ".join(parts)


# --- frame: title, footnote, legend, limits ------------------------------------------------


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
    sub = f"core loop: {_words(str(main.name))}"
    if dominance is not None and at is not None:
        sub += f" · coloured by loop dominance at {at:g}"
    head = (Line(f"{model.name}: causal-loop diagram", 17, True), Line(sub, 11, False, "#555555"))
    top += 0.3 + _size(head, 0, 0)[1] * 2
    blocks.append(Block((left + right) / 2, top, head))
    if dominance is not None and at is not None:
        note = tuple(
            Line(t, 10, False, "#333333") for t in _wrap(_dominant_note(dominance, at), 10, width)
        )
        blocks.append(Block((left + right) / 2, bottom - 0.3, note))
        bottom -= 0.3 + _size(note, 0, 0)[1] * 2
    legend, bottom = _legend(
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


def _legend(
    x: float, top: float, width: float, weighted: bool
) -> tuple[tuple[tuple[str, float, float, str], ...], float]:
    """Legend items laid out in rows centred on ``x``; returns them and the bottom edge."""
    items = [
        ("R", "reinforcing loop"),
        ("B", "balancing loop"),
        ("sign", "link polarity: same (+) or opposite (−) direction"),
        ("dashed", "linked through other variables"),
    ]
    if weighted:
        items.append(("width", "width and shade: share of loop activity"))
    sized = [(kind, label, 0.5 + _text_width(label, 9.5, False)) for kind, label in items]
    rows: list[list[tuple[str, str, float]]] = [[]]
    for item in sized:
        if rows[-1] and sum(i[2] + 0.3 for i in rows[-1]) + item[2] > width:
            rows.append([])
        rows[-1].append(item)
    out = []
    y = top - 0.13
    for row in rows:
        cursor = x - (sum(i[2] for i in row) + 0.3 * (len(row) - 1)) / 2
        for kind, label, w in row:
            out.append((kind, cursor, y, label))
            cursor += w + 0.3
        y -= 0.3
    return tuple(out), y + 0.13


# --- small helpers -------------------------------------------------------------------------


def _links(chain: tuple[str, ...] | list[str]) -> Links:
    return frozenset(zip(chain, [*chain[1:], *chain[:1]], strict=True))


def _sign(graph: nx.DiGraph, path: list[str] | tuple[str, ...]) -> str:
    """The sign of a causal path: the product of its links' polarities ('' if one is unknown)."""
    negative = 0
    for a, b in itertools.pairwise(path):
        sign = graph.edges[a, b].get("polarity", "") if graph.has_edge(a, b) else ""
        if sign not in ("+", "-"):
            return ""
        negative += sign == "-"
    return "-" if negative % 2 else "+"


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


def _polar(loop: Loop) -> str:
    return {"R": R_COLOUR, "B": B_COLOUR}.get(loop.polarity, NEUTRAL)


def _tint(colour: str, strength: float) -> str:
    """``colour`` mixed with white: strength 1 is the colour itself, 0 is white."""
    strength = max(0.0, min(1.0, strength))
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * strength):02x}" for c in rgb)


def _percent(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _words(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float, bold: bool) -> float:
    """Width in inches of ``text`` in matplotlib's default font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / 72


def _line_width(line: Line) -> float:
    return _text_width(line.text, line.size, line.bold) + (
        1.6 * line.size / 72 if line.badge else 0
    )


def _line_height(line: Line) -> float:
    return (1.75 if line.badge else 1.3) * line.size / 72


def _size(lines: tuple[Line, ...], pad_x: float, pad_y: float) -> tuple[float, float]:
    """Half width and half height of lines of text with padding, in inches."""
    width = max(_line_width(line) for line in lines)
    return width / 2 + pad_x, sum(_line_height(line) for line in lines) / 2 + pad_y


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` at spaces into lines at most ``width`` inches wide."""
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}".strip()
        if line and _text_width(trial, size, False) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line]


# --- painting ------------------------------------------------------------------------------


def _draw_lines(ax: Any, block: Block) -> None:
    from matplotlib.patches import Circle

    y = block.top
    for line in block.lines:
        height = _line_height(line)
        mid = y - height / 2
        left = block.x - _line_width(line) / 2
        if line.badge:
            r = 0.65 * line.size / 72
            ax.add_patch(Circle((left + r, mid), r, color=line.badge_colour, zorder=7))
            ax.text(
                left + r,
                mid,
                line.badge,
                ha="center",
                va="center_baseline",
                color="white",
                fontsize=line.size * 0.95,
                fontweight="bold",
                zorder=8,
            )
            left += 1.6 * line.size / 72
        ax.text(
            left,
            mid,
            line.text,
            ha="left",
            va="center_baseline",
            fontsize=line.size,
            fontweight="bold" if line.bold else "normal",
            color=line.colour,
            zorder=8,
        )
        y -= height


def _draw_box(ax: Any, box: Box, fill: str, edge: str, width: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    r = min(0.1, box.h / 2)
    ax.add_patch(
        FancyBboxPatch(
            (box.x - box.w + r, box.y - box.h + r),
            2 * (box.w - r),
            2 * (box.h - r),
            boxstyle=f"round,pad={r}",
            fc=fill,
            ec=edge,
            lw=width,
            zorder=5,
        )
    )


def _draw_route(ax: Any, route: Route) -> None:
    from matplotlib.patches import FancyArrowPatch, PathPatch
    from matplotlib.path import Path as MplPath

    pts = list(route.points)
    head, back = pts[-1], _back(pts, 0.16)
    style = (0, (4, 2.5)) if route.dashed else "solid"
    body = MplPath([*pts[:-1], back] if len(pts) > 2 else [pts[0], back])
    ax.add_patch(
        PathPatch(
            body,
            fill=False,
            ec=route.colour,
            lw=route.width,
            ls=style,
            capstyle="round",
            joinstyle="round",
            zorder=2,
        )
    )
    ax.add_patch(
        FancyArrowPatch(
            _back(pts, 0.3),
            head,
            arrowstyle="-|>",
            color=route.colour,
            lw=0,
            mutation_scale=11 + 1.6 * route.width,
            shrinkA=0,
            shrinkB=0,
            zorder=3,
        )
    )
    if route.sign and route.sign_at:
        x, y = route.sign_at
        ax.text(
            x,
            y,
            "−" if route.sign == "-" else "+",
            ha="center",
            va="center_baseline",
            fontsize=10.5,
            fontweight="bold",
            color=INK,
            zorder=4,
            bbox={"boxstyle": "circle,pad=0.12", "fc": "white", "ec": route.colour, "lw": 1.0},
        )


def _back(pts: list[Point], distance: float) -> Point:
    """The point ``distance`` inches back along the polyline from its end."""
    left = distance
    for (x1, y1), (x0, y0) in zip(pts[::-1], pts[-2::-1], strict=False):
        step = math.hypot(x1 - x0, y1 - y0)
        if step >= left and step > 0:
            t = left / step
            return x1 + (x0 - x1) * t, y1 + (y0 - y1) * t
        left -= step
    return pts[0]


def _draw_legend(ax: Any, items: tuple[tuple[str, float, float, str], ...]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    for kind, x, y, label in items:
        if kind in ("R", "B"):
            ax.add_patch(Circle((x + 0.2, y), 0.1, color=R_COLOUR if kind == "R" else B_COLOUR))
            ax.text(
                x + 0.2,
                y,
                kind,
                ha="center",
                va="center_baseline",
                color="white",
                fontsize=8.5,
                fontweight="bold",
            )
        elif kind == "sign":
            ax.text(
                x + 0.2,
                y,
                "±",
                ha="center",
                va="center_baseline",
                fontsize=9.5,
                fontweight="bold",
                bbox={"boxstyle": "circle,pad=0.1", "fc": "white", "ec": NEUTRAL, "lw": 1.0},
            )
        else:
            ax.add_line(
                Line2D(
                    [x, x + 0.4],
                    [y, y],
                    color=NEUTRAL,
                    lw=3.5 if kind == "width" else 1.5,
                    ls=(0, (4, 2.5)) if kind == "dashed" else "solid",
                )
            )
        ax.text(x + 0.5, y, label, ha="left", va="center_baseline", fontsize=9.5, color="#444444")
