"""``flywheel loops``, ``dominance`` and ``diagram``: the feedback loops of a model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.markup import escape

from flywheel_sim.cli.common import ModelArg, console, err, load

if TYPE_CHECKING:
    from flywheel_sim.present.diagram.placed import LayoutChoice


def loops(
    model: ModelArg = None,
    max_length: Annotated[int | None, typer.Option(help="Longest loop to search for.")] = None,
    max_loops: Annotated[int, typer.Option(help="Stop after this many loops.")] = 20_000,
    show: Annotated[int, typer.Option(help="Rows to print (named loops first).")] = 40,
) -> None:
    """List the model's feedback loops: id, name, type (R/B), length and variables."""
    from flywheel_sim.loops import find_loops, search_dominance
    from flywheel_sim.present.loop_tables import loops_view

    loaded = load(model)
    search = find_loops(loaded, max_length=max_length, max_loops=max_loops)
    shown, warnings = loops_view(loaded, search, search_dominance(loaded, search), show=show)
    for item in shown:
        console.print(item)
    for warning in warnings:
        err.print(warning)


def dominance(
    model: ModelArg = None,
    plot: Annotated[Path | None, typer.Option(help="Draw relative loop scores: .png/.svg")] = None,
    top: Annotated[int, typer.Option(help="Loops to draw (largest scores).")] = 8,
) -> None:
    """Which loops dominate when (Loops That Matter): periods of dominance and, with --plot,
    the relative loop scores over time."""
    from flywheel_sim.loops import loop_dominance
    from flywheel_sim.present.loop_tables import dominance_table

    data = loop_dominance(load(model))
    console.print(dominance_table(data))
    if plot is not None:
        from flywheel_sim.present.charts import plot_dominance

        console.print(f"drew {escape(str(plot_dominance(data, plot, top=top)))}")


def diagram(
    model: ModelArg = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Picture: .svg, .png or .pdf")] = Path(
        "diagram.svg"
    ),
    core: Annotated[str | None, typer.Option(help="Named loop to put in the middle.")] = None,
    at: Annotated[
        float | None, typer.Option(help="Colour loops by dominance at this time.")
    ] = None,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            help="model: where the modeller drew each variable (the default when the model "
            "has a layout: a Vensim sketch, XMILE views, a YAML layout:); auto: the loop circle.",
        ),
    ] = None,
) -> None:
    """Draw the causal-loop diagram: the core loop as a circle, the other named loops around;
    or the causal graph where the modeller drew it (--layout model)."""
    from flywheel_sim.loops import find_loops, search_dominance
    from flywheel_sim.present.diagram.draw import draw_diagram

    loaded = load(model)
    search = find_loops(loaded)
    data = None if at is None else search_dominance(loaded, search)
    if layout not in (None, "model", "auto"):
        raise typer.BadParameter("use model or auto", param_hint="--layout")
    choice = cast("LayoutChoice | None", layout)
    path = draw_diagram(loaded, search, out, core=core, dominance=data, at=at, layout=choice)
    console.print(f"drew {escape(str(path))}")
