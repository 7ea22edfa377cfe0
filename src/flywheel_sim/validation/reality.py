"""Reality checks as a test: the behaviour a model's scenario file says it must keep
(``calibration: checks:``, see docs/model-format.md), each run with its parameter changes
against the model as it is, broken or kept."""

from __future__ import annotations

import time as clock
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.validation.report import Finding, TestResult

if TYPE_CHECKING:
    from flywheel_sim.compile import Program
    from flywheel_sim.spec.model import Model
    from flywheel_sim.studies.scenarios import Study


def reality_checks(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.studies.calibration.objective import Objective, checked

    start = clock.perf_counter()
    declared = study.calibration.checks if study and study.calibration else ()
    if not declared:
        return TestResult(
            "reality checks",
            "pass",
            "the model's scenario file declares no reality checks",
            seconds=clock.perf_counter() - start,
        )
    checks = checked(model, declared)
    objective = Objective(model, [], [], "log", checks=checks)
    values = objective.check_values(np.zeros((1, 0)))
    findings = []
    for check, value in zip(checks, values, strict=True):
        if float(check.penalty(value)[0]) > 1e-9:
            shown = f"{float(value[0]):.4g}" if np.isfinite(value[0]) else "not finite"
            findings.append(
                Finding(check.name, f"broken: {check.describe()}; the run gives {shown}")
            )
    summary = (
        f"{len(findings)} of {len(checks)} checks broken"
        if findings
        else f"all {len(checks)} checks kept"
    )
    return TestResult.found(
        "reality checks", summary, findings, start=start, runs=1 + sum(1 for c in checks if c.set)
    )
