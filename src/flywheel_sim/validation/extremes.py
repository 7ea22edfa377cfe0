"""Extreme conditions: each parameter alone at its declared minimum, its maximum and zero
(where its range allows zero), and each stock forced to zero in the middle of the run, all in
one batched run; a case fails when a value goes non-finite, a non-negative stock goes
negative or a declared bound breaks."""

from __future__ import annotations

import time as clock
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.engine.result import assemble
from flywheel_sim.engine.simulate import run_arrays
from flywheel_sim.validation.report import TestResult
from flywheel_sim.validation.runs import run_findings

if TYPE_CHECKING:
    from flywheel_sim.compile import Program
    from flywheel_sim.spec.model import Model


def parameter_cases(model: Model) -> list[tuple[str, str, float]]:
    """(label, parameter, value) for every parameter at its minimum, maximum and zero (zero
    only where the declared range holds it, and only once)."""
    cases = []
    for p in model.of_kind("parameter"):
        values: list[tuple[str, float]] = []
        if p.minimum is not None:
            values.append(("min", p.minimum))
        if p.maximum is not None:
            values.append(("max", p.maximum))
        zero_allowed = (p.minimum is None or p.minimum <= 0) and (
            p.maximum is None or p.maximum >= 0
        )
        if zero_allowed and all(v != 0 for _, v in values):
            values.append(("zero", 0.0))
        for which, value in values:
            cases.append((f"{p.name} = {value:g} ({which})", p.key, float(value)))
    return cases


def stock_cases(model: Model) -> tuple[list[str], float]:
    """Every stock the model declares, and the time half way through the run at which each
    is set to zero in its own run."""
    names = [e.name for e in model.of_kind("stock")]
    return names, model.time.start + (model.time.stop - model.time.start) / 2


def parameter_columns(
    program: Program, cases: list[tuple[str, str, float]], extra: int = 0
) -> dict[str, np.ndarray]:
    """Every parameter (element by element) at its default, except each case's parameter in
    its own run; run 0 is the model as it is, and ``extra`` runs at the defaults follow."""
    keys = list(program.param_keys)
    n = len(cases) + 1 + extra
    columns = {k: np.full(n, program.param_default[i]) for i, k in enumerate(keys)}
    for run, (_, name, value) in enumerate(cases, start=1):
        for key in keys:
            if key == name or key.split("[")[0] == name:
                columns[key][run] = value
    return columns


def extreme_conditions(model: Model, program: Program) -> TestResult:
    start = clock.perf_counter()
    cases = parameter_cases(model)
    stocks, at = stock_cases(model)
    labels = [
        "the model as it is",
        *(label for label, _, _ in cases),
        *(f"{name} = 0 at {at:g}" for name in stocks),
    ]
    columns = parameter_columns(program, cases, extra=len(stocks))
    emptied: list[str | None] = [None] * (1 + len(cases)) + list(stocks)
    result = assemble(run_arrays(program, columns, seed=0, zero_stocks=(emptied, at)))
    found = run_findings(model, result, labels)
    baseline = found[0]
    findings = tuple(baseline + [f for run in found[1:] for f in run])
    runs = len(found)
    bad_runs = sum(1 for run in found if run)
    summary = (
        f"{bad_runs} of {runs} runs fail" if findings else f"all {runs} runs finite and in bounds"
    )
    return TestResult.found("extreme conditions", summary, findings, start=start, runs=runs)
