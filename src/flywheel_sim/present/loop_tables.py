"""Terminal views (rich) of the loop analyses and the diagnostics: what ``flywheel loops``,
``flywheel dominance`` and ``flywheel diagnose`` print. Each returns the renderables for
standard output and, where there are any, the warnings for standard error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import xarray as xr
    from rich.console import RenderableType

    from flywheel_sim.diagnostics import Diagnosis
    from flywheel_sim.loops.find import LoopSearch
    from flywheel_sim.spec.model import Model


def _spans(spans: list[tuple[float, float]]) -> str:
    return ", ".join(f"{a:g}–{b:g}" for a, b in spans if b > a)


def dominant_spans(data: xr.Dataset, loop_id: str, *, arrayed: bool) -> str:
    """When a listed loop dominates: its periods, or in an arrayed model those of each of its
    instances (``[entrant] 1995–2003; [incumbent] ...``)."""
    from flywheel_sim.loops.dominance import loop_periods

    periods = loop_periods(data)
    if not arrayed:
        return _spans(periods.get(loop_id, []))
    parts = []  # an arrayed model's loops dominate element by element
    for instance, spans in periods.items():
        if instance.startswith(loop_id + "[") and any(b > a for a, b in spans):
            parts.append(f"{escape(instance[len(loop_id) :])} {_spans(spans)}")
    return "; ".join(parts)


def loops_view(
    model: Model, search: LoopSearch, data: xr.Dataset, *, show: int
) -> tuple[list[RenderableType], list[str]]:
    """The loop table (named loops first, ``show`` rows, when each dominates), the search's
    note and, for arrayed models, the count of instance loops; warnings for named loops not
    found and declared polarities the equations contradict."""
    from flywheel_sim.loops.dominance import is_arrayed

    arrayed = is_arrayed(model)
    kinds = [loop.polarity for loop in search.loops]
    table = Table(
        title=escape(f"{model.name}: {len(search.loops)} feedback loops ")
        + f"({kinds.count('R')} R, {kinds.count('B')} B, {kinds.count('?')} ?)"
    )
    for column in ("id", "name", "type", "length", "variables", "dominant"):
        table.add_column(column, overflow="fold")
    for loop in search.loops[:show]:
        table.add_row(
            escape(loop.id),
            escape(loop.name or ""),
            loop.polarity,
            str(loop.length),
            escape(" → ".join(loop.variables)),
            dominant_spans(data, loop.id, arrayed=arrayed),
        )
    out: list[RenderableType] = [table]
    if len(search.loops) > show:
        out.append(f"... {len(search.loops) - show} more (--show N to list them)")
    out.append(f"search: {escape(search.note)}")
    if arrayed:
        ids = [str(i) for i in data["loop"].values]
        crossing = [i for i in ids if "x" in i.split("[")[0]]
        out.append(
            f"by element: {len(ids)} instance loops, {len(crossing)} of them crossing "
            "elements (ids like Rx1); `flywheel dominance` shows when each dominates"
        )
    warnings = [
        f"[yellow]named loop '{escape(name)}' was not found in the equations[/]"
        for name in search.unmatched
    ]
    warnings += [f"[yellow]{escape(str(c))}[/]" for c in search.contradictions]
    return out, warnings


def dominance_table(data: xr.Dataset) -> Table:
    """Periods of dominance: from, to and the dominant loops (id and name)."""
    from flywheel_sim.loops.dominance import dominance_periods

    names = dict(zip(data["loop"].values, data["loop_name"].values, strict=True))
    model = escape(str(data.attrs["model"]))
    table = Table(title=f"{model}: dominant loops (>= 50% of the behaviour)")
    for column in ("from", "to", "dominant loops"):
        table.add_column(column)
    for start, end, label in dominance_periods(data):
        shown = ", ".join(f"{i} {names[i]}".strip() for i in label.split("+"))
        table.add_row(f"{start:g}", f"{end:g}", escape(shown))
    return table


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def diagnosis_view(model: Model, found: Diagnosis, *, top: int) -> list[RenderableType]:
    """The diagnosis as ``flywheel diagnose`` prints it: take-off, critical push, coasting,
    the ``top`` parameters by leverage and the weakest link of the core loop."""
    asked = found.asked
    out: list[RenderableType] = []
    if found.takeoff is not None:
        if found.takeoff.time is not None:
            said = (
                f"reinforcing loops dominate and growth accelerates from t = {found.takeoff.time:g}"
            )
        else:
            said = "reinforcing loops never dominate with growth accelerating, within the horizon"
        out.append(f"[bold]take-off[/] ({escape(str(asked.stock))}): {said}")
    if found.push is not None and asked.push is not None:
        crit = found.push
        out.append(
            f"[bold]critical push[/] ({escape(asked.push)}): {crit.value:.4g} "
            f"(between {crit.low:.4g} and {crit.high:.4g}, tolerance "
            f"{crit.tolerance:.3g}; default {model.element(asked.push).default})"
        )
    if found.push_note is not None and asked.push is not None:
        out.append(
            f"[bold]critical push[/] ({escape(asked.push)}): none — {escape(found.push_note)}"
        )
    if found.coasting is not None:
        coast = found.coasting
        stops = [name for name, _ in asked.stop]

        def span(value: float | None) -> str:
            return f"{value:.3g} {found.units}" if value is not None else "not within the horizon"

        out.append(
            f"[bold]coasting[/] ({escape(found.outcome)}): if {escape(_and(stops))} "
            f"{'stops' if len(stops) == 1 else 'stop'} at {coast.at:g}, "
            f"growth halves after {escape(span(coast.half_time))} (as it is: "
            f"{escape(span(coast.baseline_half_time))}); at the end it keeps "
            f"{coast.retained:.0%} of its value"
        )
    if found.leverage is not None:
        label = found.outcome + (f" at {asked.at:g}" if asked.at is not None else " at the end")
        table = Table(title=escape(f"leverage: elasticity of {label} to each parameter"))
        for column in ("parameter", "value", "elasticity"):
            table.add_column(column, justify="left" if column == "parameter" else "right")
        for row in found.leverage.head(top).itertuples():
            table.add_row(escape(str(row.parameter)), f"{row.value:.4g}", f"{row.elasticity:+.3f}")
        out.append(table)
    if found.weakest_link is not None:
        links = found.weakest_link
        table = Table(
            title=escape(f"weakest link of {links.attrs['loop']}: where strengthening ")
            + "raises the loop's gain most"
        )
        for column in ("link", "strengthen", "elasticity of the loop gain"):
            table.add_column(column, justify="right" if column.startswith("elast") else "left")
        for row in links.itertuples():
            value = "" if row.elasticity != row.elasticity else f"{row.elasticity:+.3f}"
            table.add_row(escape(str(row.link)), escape(str(row.parameter)), value)
        out.append(table)
    return out
