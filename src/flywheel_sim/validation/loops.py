"""Loop sanity: are the loops a model names the loops its equations have, and do they matter?

Reported, never failed (a loop that never dominates may still be the story's point, and a
reviewer decides): a named loop the equations do not contain; a named loop whose declared type
(R or B) the measured link signs contradict; a declared link sign the equations contradict; a
named loop that never dominates and whose share of the behaviour (its largest relative loop
score, Loops That Matter) stays below :data:`MATTERS`."""

from __future__ import annotations

import time as clock
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.loops.dominance import loop_periods, search_dominance
from flywheel_sim.loops.find import find_loops
from flywheel_sim.spec.names import canonical
from flywheel_sim.validation.report import Finding, TestResult

if TYPE_CHECKING:
    from flywheel_sim.compile import Program
    from flywheel_sim.spec.model import Model

MATTERS = 0.05  # a loop carrying at most 5% of the behaviour at every time "never matters"


def loop_sanity(model: Model, program: Program) -> TestResult:
    start = clock.perf_counter()
    findings: list[Finding] = []
    if not model.loops:
        return TestResult(
            "loops", "pass", "the model names no loops", seconds=clock.perf_counter() - start
        )
    search = find_loops(model)
    findings += [
        Finding(name, "named loop not found in the equations") for name in search.unmatched
    ]
    declared = {canonical(spec.name): spec for spec in model.loops}
    named = [loop for loop in search.loops if loop.name]
    for loop in named:
        spec = declared.get(canonical(loop.name or ""))
        if spec is None or spec.polarity == "?" or loop.polarity == "?":
            continue
        if spec.polarity != loop.polarity:
            findings.append(
                Finding(
                    loop.name or loop.id,
                    f"declared {spec.polarity} but its link signs make it {loop.polarity}",
                )
            )
    findings += [Finding("links", str(c)) for c in search.contradictions]
    data = search_dominance(model, search)
    periods = loop_periods(data)
    shares = {}
    for loop in named:
        ids = [i for i in periods if i == loop.id or i.startswith(loop.id + "[")]
        dominates = any(b > a for i in ids for a, b in periods[i])
        mask = [
            str(v) == loop.id or str(v).startswith(loop.id + "[") for v in data["loop"].to_numpy()
        ]
        scores = np.abs(data["relative_score"].to_numpy()[..., np.array(mask, dtype=bool)])
        share = float(np.nanmax(scores)) if scores.size else 0.0
        shares[loop.name or loop.id] = share
        if not dominates and share < MATTERS:
            findings.append(
                Finding(
                    loop.name or loop.id,
                    f"never dominates and never matters (at most {share:.1%} of the behaviour)",
                )
            )
    summary = (
        f"{len(findings)} remarks on {len(model.loops)} named loops"
        if findings
        else f"all {len(model.loops)} named loops found, typed as declared, and matter"
    )
    return TestResult.found(
        "loops",
        summary,
        findings,
        start=start,
        failing=False,
        runs=1,
        details={"largest_share": shares},
    )
