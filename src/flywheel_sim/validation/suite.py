"""``test_model``: every model test in one call (see :mod:`flywheel_sim.validation`)."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from flywheel_sim.compile import compile_model
from flywheel_sim.validation.report import Finding, Status, TestReport, TestResult, count

if TYPE_CHECKING:
    from flywheel_sim.compile import Program
    from flywheel_sim.spec.model import Model
    from flywheel_sim.studies.scenarios import Study

TESTS = ("units", "extreme conditions", "integration error", "reality checks", "loops")


def units_test(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.compile.units import check_units

    start = clock.perf_counter()
    report = check_units(model)
    findings = tuple(
        Finding(issue.variable, f"{issue.message} ({issue.hint})" if issue.hint else issue.message)
        for issue in report.issues
    )
    status: Status
    if findings:
        status = "fail"
        issues = count(len(findings), "inconsistency", "inconsistencies")
        summary = f"{issues} in {report.checked} equations"
    elif report.undeclared:
        status = "note"
        summary = (
            f"consistent; {len(report.undeclared)} variables declare no unit and are not checked"
        )
    else:
        status = "pass"
        summary = f"all {report.checked} equations consistent"
    first = report.issues[0] if report.issues else None
    return TestResult(
        "units",
        status,
        summary,
        findings,
        worst=first.variable if first else "",
        where=first.message if first else "",
        seconds=clock.perf_counter() - start,
        details={"undeclared": list(report.undeclared)},
    )


def _extremes(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.validation.extremes import extreme_conditions

    return extreme_conditions(model, program)


def _integration(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.validation.convergence import integration_error

    return integration_error(model, program)


def _reality(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.validation.reality import reality_checks

    return reality_checks(model, program, study)


def _loops(model: Model, program: Program, study: Study | None) -> TestResult:
    from flywheel_sim.validation.loops import loop_sanity

    return loop_sanity(model, program)


RUNNERS: dict[str, Callable[[Model, Program, Study | None], TestResult]] = {
    "units": units_test,
    "extreme conditions": _extremes,
    "integration error": _integration,
    "reality checks": _reality,
    "loops": _loops,
}


def test_model(
    model: Model, *, study: Study | None = None, tests: Sequence[str] | None = None
) -> TestReport:
    """Run the reviewer's tests on ``model`` (all of :data:`TESTS`, or those named) and
    return what they found; a failure is never raised, it is reported. ``study`` is the
    model's scenario file (its reality checks are tested); by default the one beside the
    model file, or a built-in model's own."""
    from flywheel_sim.errors import ModelError, did_you_mean

    chosen = list(tests) if tests else list(TESTS)
    for name in chosen:
        if name not in RUNNERS:
            hint = did_you_mean(name, list(RUNNERS)) or f"tests: {', '.join(TESTS)}"
            raise ModelError(f"unknown model test '{name}'", hint=hint)
    start = clock.perf_counter()
    program = compile_model(model)
    if study is None and "reality checks" in chosen:
        study = model_study(model)
    results = tuple(RUNNERS[name](model, program, study) for name in chosen)
    return TestReport(model.name, results, clock.perf_counter() - start)


def model_study(model: Model) -> Study:
    """The scenario file that belongs to ``model``: beside its file, or a built-in model's."""
    from pathlib import Path

    from flywheel_sim.io.models import builtin_models
    from flywheel_sim.studies.scenarios import Study, load_study

    if model.file and Path(model.file).is_file():
        return load_study(model.file, model)
    if model.file == f"{model.name}.yaml" and model.name in builtin_models():
        return load_study(model.name, model)
    return Study()


test_model.__test__ = False  # type: ignore[attr-defined]  # pytest: a library function
