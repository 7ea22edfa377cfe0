"""Cycles of a causal graph as feedback loops: one canonical rotation per cycle, and the
loop's type from the polarities of its links. Shared by the exhaustive search
(:mod:`~flywheel_sim.loops.find`), the strongest-path search
(:mod:`~flywheel_sim.loops.strongest`) and the loops of arrayed models
(:mod:`~flywheel_sim.loops.instances`)."""

from __future__ import annotations

from collections.abc import Sequence


def rotate(cycle: Sequence[str]) -> tuple[str, ...]:
    """The cycle started at its smallest variable, so that one loop has one spelling."""
    items = list(cycle)
    start = items.index(min(items))
    return tuple(items[start:] + items[:start])


def loop_type(signs: Sequence[str]) -> str:
    """R (an even number of '-' links), B (odd), or '?' when a link's sign is not known."""
    if any(s not in ("+", "-") for s in signs):
        return "?"
    return "R" if list(signs).count("-") % 2 == 0 else "B"
