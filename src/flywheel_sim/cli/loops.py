"""``flywheel loops``, ``dominance`` and ``diagram``: the feedback loops of a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flywheel_sim.cli.common import (
    ModelArg,
    console,
    default_model,
    err,
)
from flywheel_sim.io.models import load_model


def loops(
    model: ModelArg = None,
    max_length: Annotated[int | None, typer.Option(help="Longest loop to search for.")] = None,
    max_loops: Annotated[int, typer.Option(help="Stop after this many loops.")] = 20_000,
    show: Annotated[int, typer.Option(help="Rows to print (named loops first).")] = 40,
) -> None:
    """List the model's feedback loops: id, name, type (R/B), length and variables."""
    from rich.table import Table

    from flywheel_sim.loops import find_loops

    loaded = load_model(model or default_model())
    search = find_loops(loaded, max_length=max_length, max_loops=max_loops)
    kinds = [loop.polarity for loop in search.loops]
    table = Table(
        title=f"{loaded.name}: {len(search.loops)} feedback loops "
        f"({kinds.count('R')} R, {kinds.count('B')} B, {kinds.count('?')} ?)"
    )
    from flywheel_sim.loops.dominance import loop_dominance, loop_periods

    arrayed = any(e.dims for e in loaded.elements)
    data = loop_dominance(loaded, loops=None if arrayed else list(search.loops))
    periods = loop_periods(data)

    def spans_of(loop_id: str) -> str:
        if not arrayed:
            return ", ".join(f"{a:g}–{b:g}" for a, b in periods.get(loop_id, []) if b > a)
        parts = []  # an arrayed model's loops dominate element by element
        for instance, spans in periods.items():
            if instance.startswith(loop_id + "[") and any(b > a for a, b in spans):
                shown = ", ".join(f"{a:g}–{b:g}" for a, b in spans if b > a)
                parts.append(f"{escape(instance[len(loop_id) :])} {shown}")
        return "; ".join(parts)

    for column in ("id", "name", "type", "length", "variables", "dominant"):
        table.add_column(column, overflow="fold")
    for loop in search.loops[:show]:
        spans = spans_of(loop.id)
        table.add_row(
            loop.id,
            loop.name or "",
            loop.polarity,
            str(loop.length),
            escape(" → ".join(loop.variables)),
            spans,
        )
    console.print(table)
    if len(search.loops) > show:
        console.print(f"... {len(search.loops) - show} more (--show N to list them)")
    console.print(f"search: {search.note}")
    if arrayed:
        ids = [str(i) for i in data["loop"].values]
        crossing = [i for i in ids if "x" in i.split("[")[0]]
        console.print(
            f"by element: {len(ids)} instance loops, {len(crossing)} of them crossing "
            "elements (ids like Rx1); `flywheel dominance` shows when each dominates"
        )
    for name in search.unmatched:
        err.print(f"[yellow]named loop '{name}' was not found in the equations[/]")
    for contradiction in search.contradictions:
        err.print(f"[yellow]{escape(str(contradiction))}[/]")


def dominance(
    model: ModelArg = None,
    plot: Annotated[Path | None, typer.Option(help="Draw relative loop scores: .png/.svg")] = None,
    top: Annotated[int, typer.Option(help="Loops to draw (largest scores).")] = 8,
) -> None:
    """Which loops dominate when (Loops That Matter): periods of dominance and, with --plot,
    the relative loop scores over time."""
    from rich.table import Table

    from flywheel_sim.loops import dominance_periods, loop_dominance

    loaded = load_model(model or default_model())
    data = loop_dominance(loaded)
    names = dict(zip(data["loop"].values, data["loop_name"].values, strict=True))
    table = Table(title=f"{loaded.name}: dominant loops (>= 50% of the behaviour)")
    for column in ("from", "to", "dominant loops"):
        table.add_column(column)
    for start, end, label in dominance_periods(data):
        shown = ", ".join(f"{i} {names[i]}".strip() for i in label.split("+"))
        table.add_row(f"{start:g}", f"{end:g}", escape(shown))
    console.print(table)
    if plot is not None:
        from flywheel_sim.present.charts import plot_dominance

        console.print(f"drew {plot_dominance(data, plot, top=top)}")


def diagram(
    model: ModelArg = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Picture: .svg, .png or .pdf")] = Path(
        "diagram.svg"
    ),
    core: Annotated[str | None, typer.Option(help="Named loop to put in the middle.")] = None,
    at: Annotated[
        float | None, typer.Option(help="Colour loops by dominance at this time.")
    ] = None,
) -> None:
    """Draw the causal-loop diagram: the core loop as a circle, the other named loops around."""
    from flywheel_sim.loops import find_loops
    from flywheel_sim.present.diagram.draw import draw_diagram

    loaded = load_model(model or default_model())
    search = find_loops(loaded)
    dominance_data = None
    if at is not None:
        from flywheel_sim.loops import loop_dominance

        arrayed = any(e.dims for e in loaded.elements)
        dominance_data = loop_dominance(loaded, loops=None if arrayed else list(search.loops))
    path = draw_diagram(loaded, search, out, core=core, dominance=dominance_data, at=at)
    console.print(f"drew {path}")
