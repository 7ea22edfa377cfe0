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

This module holds :func:`draw_diagram` and the painting; the layout is in
:mod:`flywheel_sim.present.diagram.layout`, text measuring and labels in
:mod:`flywheel_sim.present.diagram.text`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.io.results import atomic_path
from flywheel_sim.present.charts import pyplot_for
from flywheel_sim.present.diagram.layout import (
    Box,
    Layout,
    Route,
    back_along,
    diagram_layout,
)
from flywheel_sim.present.diagram.placed import (
    LayoutChoice,
    PlacedLayout,
    placed_layout,
    use_model_layout,
)
from flywheel_sim.present.diagram.text import (
    B_COLOUR,
    CORE_COLOUR,
    INK,
    NEUTRAL,
    R_COLOUR,
    Block,
    line_height,
    line_width,
    node_lines,
    polarity_colour,
    tint,
)
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.loops.find import LoopSearch

__all__ = ["Layout", "diagram_layout", "draw_diagram"]


def draw_diagram(
    model: Model,
    search: LoopSearch,
    path: str | Path,
    *,
    core: str | None = None,
    dominance: xr.Dataset | None = None,
    at: float | None = None,
    layout: LayoutChoice | None = None,
) -> Path:
    """Draw the causal-loop diagram of the model's named loops into ``path`` (.png/.svg/.pdf);
    at the modeller's positions (:mod:`~flywheel_sim.present.diagram.placed`) with
    ``layout="model"``, and by default when the model has a layout; ``"auto"`` never."""
    target = Path(path)
    plt = pyplot_for(target)
    lay: Layout | PlacedLayout
    if use_model_layout(model, layout):
        lay = placed_layout(model, search, core=core, dominance=dominance, at=at)
    else:
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
        _draw_lines(ax, Block(box.x, box.y + box.h - 0.06, node_lines(name)))
    for chip in lay.chips:
        fill = (
            "white"
            if chip.share is None
            else tint(polarity_colour(chip.loop), 0.05 + 0.4 * chip.share)
        )
        width = 1.4 if chip.share is None else 1.2 + 3.5 * chip.share
        _draw_box(ax, chip.box, fill, polarity_colour(chip.loop), width)
        _draw_lines(ax, Block(chip.box.x, chip.box.y + chip.box.h - 0.08, chip.lines))
    for block in lay.blocks:
        _draw_lines(ax, block)
    _draw_legend(ax, lay.legend)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=150)
    plt.close(fig)
    return target


# --- painting ----------------------------------------------------------------------------


def _draw_lines(ax: Any, block: Block) -> None:
    from matplotlib.patches import Circle

    y = block.top
    for line in block.lines:
        height = line_height(line)
        mid = y - height / 2
        left = block.x - line_width(line) / 2
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
    head, back = pts[-1], back_along(pts, 0.16)
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
            back_along(pts, 0.3),
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
