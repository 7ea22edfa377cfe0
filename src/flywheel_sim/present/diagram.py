"""The causal-loop diagram: the flywheel's core loop as a circle, other named loops around it.

Drawn with matplotlib and networkx only (no Graphviz): the core loop's variables sit on a
circle in loop order; variables of the other named loops are placed around it by a spring
layout with the circle held fixed. Links carry + / - signs; each named loop gets an R or B
marker with its name at the middle of its variables. With dominance data, loop markers and
links are coloured and thickened by the loop's relative score at the chosen time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import ModelError
from flywheel_sim.output import atomic_path
from flywheel_sim.present.charts import pyplot_for
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.loops.find import Loop, LoopSearch

R_COLOUR, B_COLOUR, NEUTRAL = "#1b7837", "#b2182b", "#555555"


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
    from matplotlib.patches import Circle, FancyArrowPatch

    main = _core(search, core)
    named = [loop for loop in search.loops if loop.name and loop is not main]
    n = len(main.variables)
    radius = max(2.8, n * 1.9 / (2 * math.pi))
    angle = {v: math.pi / 2 - 2 * math.pi * i / n for i, v in enumerate(main.variables)}
    pos = {v: (radius * math.cos(a), radius * math.sin(a)) for v, a in angle.items()}
    chips = _chips(main, named, angle, radius)
    weights = _loop_weights(dominance, at)
    extent = radius + (5.2 if named else 1.6)
    fig, ax = plt.subplots(figsize=(min(4 + 1.35 * extent, 18),) * 2)
    ax.set_aspect("equal")
    ax.axis("off")
    graph = search.graph
    core_edges = list(zip(main.variables, main.variables[1:] + main.variables[:1], strict=True))
    for a, b in core_edges:
        colour, width = _edge_style([main], weights, True)
        _arrow(ax, FancyArrowPatch, pos[a], pos[b], colour, width, "arc3,rad=-0.15")
        _sign(ax, pos[a], pos[b], graph, a, b, colour)
    for loop, (cx, cy), leave, enter, text in chips:
        colour = R_COLOUR if loop.polarity == "R" else B_COLOUR
        share = weights.get(loop.id)
        label = f"{loop.polarity}  {str(loop.name).replace('_', ' ')}"
        if share is not None:
            label += f"  ({share:+.1%})"
        ax.text(
            cx,
            cy,
            f"{label}\n{text}",
            ha="center",
            va="center",
            fontsize=9,
            color="#222222",
            zorder=5,
            wrap=True,
            bbox={
                "boxstyle": "round,pad=0.5",
                "fc": "white",
                "ec": colour,
                "lw": 1.2 + (4 * abs(share) if share is not None else 0.8),
            },
        )
        style_colour, width = _edge_style([loop], weights, False)
        if leave is not None:
            _arrow(
                ax,
                FancyArrowPatch,
                pos[leave],
                (cx, cy),
                style_colour,
                width,
                _outward(pos[leave], (cx, cy)),
                shrink_b=60,
            )
        if enter is not None:
            _arrow(
                ax,
                FancyArrowPatch,
                (cx, cy),
                pos[enter],
                style_colour,
                width,
                _outward((cx, cy), pos[enter]),
                shrink_a=60,
            )
    for v in main.variables:
        ax.text(
            *pos[v],
            _label(v),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            zorder=6,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#f2f6fb", "ec": "#3b5b92", "lw": 1.4},
        )
    main_share = weights.get(main.id)
    centre = f"{main.polarity}\n{str(main.name).replace('_', ' ')}"
    if main_share is not None:
        centre += f"\n{main_share:+.1%}"
    ax.text(
        0,
        0,
        centre,
        ha="center",
        va="center",
        fontsize=15,
        fontweight="bold",
        color=R_COLOUR if main.polarity == "R" else B_COLOUR,
        zorder=5,
    )
    ax.add_patch(
        Circle(
            (0, 0),
            radius * 0.45,
            fill=False,
            lw=2.5,
            color=R_COLOUR if main.polarity == "R" else B_COLOUR,
        )
    )
    if dominance is not None and at is not None:
        ax.text(
            0,
            -extent + 0.4,
            _dominant_note(dominance, at),
            ha="center",
            va="bottom",
            fontsize=10,
            color="#333333",
            wrap=True,
        )
    title = f"{model.name}: causal-loop diagram — core loop: {main.name}"
    if dominance is not None and at is not None:
        title += f" (loop dominance at {at:g})"
    ax.set_title(title, fontsize=13)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=130)
    plt.close(fig)
    return target


def _chips(
    main: Loop, loops: list[Loop], angle: dict[str, float], radius: float
) -> list[tuple[Loop, tuple[float, float], str | None, str | None, str]]:
    """One chip per named loop: where it leaves and re-enters the core loop, its position
    outside the circle (spread so chips keep a minimum angle apart) and its chain as text."""
    items: list[tuple[float, Loop, str | None, str | None, str]] = []
    for loop in loops:
        chain = list(loop.variables)
        outside = [v for v in chain if v not in angle]
        leave = enter = None
        if outside:
            first = chain.index(outside[0])
            last = chain.index(outside[-1])
            leave = chain[first - 1] if chain[first - 1] in angle else None
            enter = (
                chain[(last + 1) % len(chain)] if chain[(last + 1) % len(chain)] in angle else None
            )
        anchors = (
            [angle[v] for v in (leave, enter) if v is not None]
            or [angle[v] for v in chain if v in angle]
            or [0.0]
        )
        centre = math.atan2(sum(math.sin(a) for a in anchors), sum(math.cos(a) for a in anchors))
        shown = outside if len(outside) <= 4 else [*outside[:2], "…", outside[-1]]
        text = " → ".join(v.replace("_", " ") for v in shown) if shown else "(within the core)"
        items.append((centre, loop, leave, enter, "\n".join(_wrap(text, 34))))
    items.sort(key=lambda item: -item[0] % (2 * math.pi))
    gap = 2 * math.pi / max(len(items), 1)
    spread = min(gap, 0.62)
    for i in range(1, len(items)):  # keep chips at least `spread` apart, clockwise
        if (-items[i][0]) - (-items[i - 1][0]) < spread:
            items[i] = (items[i - 1][0] - spread, *items[i][1:])
    out = []
    for i, (centre, loop, leave, enter, text) in enumerate(items):
        r = radius + 3.0 + (0.9 if i % 2 else 0.0)
        out.append((loop, (r * math.cos(centre), r * math.sin(centre)), leave, enter, text))
    return out


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


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
            chain = str(loop["loop_variables"].item()).split(" -> ")
            name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
        parts.append(f"{loop_id} {name} ({float(loop['relative_score']):+.0%})")
    return f"dominant at {float(row['time']):g}: " + "; ".join(parts)


def _outward(start: tuple[float, float], end: tuple[float, float]) -> str:
    """An arc that bows away from the centre, so links to chips go around the core loop
    rather than across it (more bow the nearer the straight line passes the centre)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    side = 1.0 if (-dy * mx + dx * my) > 0 else -1.0
    length = math.hypot(dx, dy) or 1.0
    closeness = 1.0 - min(math.hypot(mx, my) / (0.5 * length + 1e-9), 1.0)
    return f"arc3,rad={side * (0.15 + 0.55 * closeness):.2f}"


def _arrow(
    ax: Any,
    patch: Any,
    start: tuple[float, float],
    end: tuple[float, float],
    colour: str,
    width: float,
    style: str,
    shrink_a: float = 26,
    shrink_b: float = 30,
) -> None:
    ax.add_patch(
        patch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=16,
            connectionstyle=style,
            color=colour,
            lw=width,
            shrinkA=shrink_a,
            shrinkB=shrink_b,
            zorder=1,
        )
    )


def _sign(
    ax: Any,
    start: tuple[float, float],
    end: tuple[float, float],
    graph: Any,
    a: str,
    b: str,
    colour: str,
) -> None:
    sign = graph.edges[a, b].get("polarity", "") if graph.has_edge(a, b) else ""
    if not sign:
        return
    (x0, y0), (x1, y1) = start, end
    mx, my = x0 + 0.7 * (x1 - x0), y0 + 0.7 * (y1 - y0)
    ax.text(
        mx * 1.06,
        my * 1.06,
        sign,
        fontsize=13,
        fontweight="bold",
        ha="center",
        va="center",
        color=colour,
        zorder=3,
    )


def _has_link(loop: Loop, a: str, b: str) -> bool:
    chain = list(loop.variables)
    return any(x == a and y == b for x, y in zip(chain, chain[1:] + chain[:1], strict=True))


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


def _edge_style(loops: list[Loop], weights: dict[str, float], in_core: bool) -> tuple[str, float]:
    if not weights:
        return ("#3b5b92" if in_core else NEUTRAL), (2.2 if in_core else 1.2)
    strongest = max(loops, key=lambda loop: abs(weights.get(loop.id, 0.0)))
    share = abs(weights.get(strongest.id, 0.0))
    colour = R_COLOUR if strongest.polarity == "R" else B_COLOUR
    return (colour if share > 0.05 else "#bbbbbb"), 0.8 + 5.0 * share
