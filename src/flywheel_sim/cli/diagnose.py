"""``flywheel diagnose``: the questions a strategist asks of a flywheel."""

from __future__ import annotations

from typing import Annotated

import typer

from flywheel_sim.cli.common import (
    ModelArg,
    console,
    default_model,
)
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.io.models import load_model


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
    from rich.table import Table

    from flywheel_sim import diagnostics as dx

    loaded = load_model(model or default_model())
    spec = loaded.diagnostics
    push = push or (spec.push if spec else None)
    stock = stock or (spec.stock if spec else None)
    outcome = outcome or (spec.outcome if spec else None) or stock
    at = at if at is not None else (spec.at if spec else None)
    if stock is None:
        raise ModelError(
            f"say which stock should grow: --stock (model '{loaded.name}' declares no diagnostics)"
        )
    if not any(e.dims for e in loaded.elements):
        found = dx.takeoff(loaded, stock=stock)
        if found.time is not None:
            said = f"reinforcing loops dominate and growth accelerates from t = {found.time:g}"
        else:
            said = "reinforcing loops never dominate with growth accelerating, within the horizon"
        console.print(f"[bold]take-off[/] ({stock}): {said}")
    if push is not None:
        crit = dx.critical_push(loaded, push=push, stock=stock)
        console.print(
            f"[bold]critical push[/] ({push}): {crit.value:.4g} "
            f"(between {crit.low:.4g} and {crit.high:.4g}, tolerance "
            f"{crit.tolerance:.3g}; default {loaded.element(push).default})"
        )
    stops = dict(_stops(stop)) if stop else dict(spec.stop if spec else ())
    coast_at = coast_at if coast_at is not None else (spec.coast_at if spec else None)
    if stops and coast_at is not None:
        watched = outcome or stock
        coast = dx.coasting(loaded, at=coast_at, stop=stops, variable=watched)
        units = loaded.time.units

        def span(value: float | None) -> str:
            return f"{value:.3g} {units}" if value is not None else "not within the horizon"

        console.print(
            f"[bold]coasting[/] ({watched}): if {_and(list(stops))} "
            f"{'stops' if len(stops) == 1 else 'stop'} at {coast_at:g}, "
            f"growth halves after {span(coast.half_time)} (as it is: "
            f"{span(coast.baseline_half_time)}); at the end it keeps "
            f"{coast.retained:.0%} of its value"
        )
    if outcome is not None:
        frame = dx.leverage(loaded, outcome=outcome, at=at)
        label = f"{outcome}" + (f" at {at:g}" if at is not None else " at the end")
        table = Table(title=f"leverage: elasticity of {label} to each parameter")
        for column in ("parameter", "value", "elasticity"):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for row in frame.head(top).itertuples():
            table.add_row(str(row.parameter), f"{row.value:.4g}", f"{row.elasticity:+.3f}")
        console.print(table)
    if loaded.loops and not any(e.dims for e in loaded.elements):
        links = dx.weakest_link(loaded)
        table = Table(
            title=f"weakest link of {links.attrs['loop']}: where strengthening "
            "raises the loop's gain most"
        )
        for column in ("link", "strengthen", "elasticity of the loop gain"):
            table.add_column(column, justify="right" if column.startswith("elast") else "left")
        for row in links.itertuples():
            value = "" if row.elasticity != row.elasticity else f"{row.elasticity:+.3f}"
            table.add_row(str(row.link), str(row.parameter), value)
        console.print(table)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _stops(items: list[str]) -> list[tuple[str, float]]:
    out = []
    for item in items:
        name, _, value = item.partition("=")
        try:
            out.append((name.strip(), float(value) if value else 0.0))
        except ValueError:
            raise ParameterError(
                f"--stop {item}: '{value}' is not a number — write NAME or NAME=VALUE"
            ) from None
    return out
