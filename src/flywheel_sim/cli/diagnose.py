"""``flywheel diagnose``: the questions a strategist asks of a flywheel."""

from __future__ import annotations

from typing import Annotated

import typer

from flywheel_sim.cli.common import ModelArg, console, load, parse_stops
from flywheel_sim.errors import ModelError


def diagnose(
    model: ModelArg = None,
    push: Annotated[str | None, typer.Option(help="The push parameter.")] = None,
    stock: Annotated[str | None, typer.Option(help="The stock that should grow.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome for the leverage ranking.")] = None,
    at: Annotated[float | None, typer.Option(help="Time of the outcome.")] = None,
    top: Annotated[int, typer.Option(help="Parameters to list by leverage.")] = 10,
    coast_at: Annotated[
        float | None, typer.Option(help="Coasting: when every push and investment stops.")
    ] = None,
    stop: Annotated[
        list[str] | None,
        typer.Option(help="Coasting: a parameter to stop, NAME or NAME=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Flywheel diagnostics: take-off, the critical push, coasting, leverage of every parameter
    and the weakest link of the core loop."""
    from flywheel_sim.diagnostics import Questions, diagnose
    from flywheel_sim.present.loop_tables import diagnosis_view

    loaded = load(model)
    stops = parse_stops(stop or [])
    asked = Questions(push, stock, outcome, at, coast_at, stops, weakest_link=True)
    if asked.resolved(loaded).stock is None:
        raise ModelError(
            f"say which stock should grow: --stock (model '{loaded.name}' declares no diagnostics)"
        )
    for item in diagnosis_view(loaded, diagnose(loaded, questions=asked), top=top):
        console.print(item)
