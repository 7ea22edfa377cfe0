"""Integration error: the model at its shipped step and method against halved and quartered
steps (and RK4 when it runs another method), and the smallest time constant met during the run.

A model is converged at its step when no stock or outcome moves by more than ``tolerance``
(relative to the variable's largest magnitude over the run) between the shipped step and a
quarter of it, and when the step is at most a quarter of the smallest time constant. Time
constants are measured, not declared: each stock's value over its outflows at every saved time
(the time a first-order drain takes to empty it; a stock being filled from near zero is no
fast mode, so inflows are not counted), and the averaging time of each smooth or delay
written with a number or a parameter (divided by its order)."""

from __future__ import annotations

import time as clock
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.engine.simulate import simulate
from flywheel_sim.spec.ast import Call, Expr, Num, Var, walk
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse
from flywheel_sim.validation.report import Finding, TestResult

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.compile import Program
    from flywheel_sim.spec.model import Model

TOLERANCE = 0.01
_ORDERS = {"SMTH1": 1, "SMTH3": 3, "DELAY1": 1, "DELAY3": 3, "TREND": 1, "FORCST": 1}


def compared_variables(model: Model) -> list[str]:
    """The stocks and the model's outcomes (its report and history variables)."""
    names = [e.name for e in model.of_kind("stock")]
    if model.report is not None:
        names += list(model.report.variables)
    if model.history is not None:
        names += [s.variable for s in model.history.series]
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(canonical(name), model.element(name).name)
    return list(seen.values())


def integration_error(model: Model, program: Program, tolerance: float = TOLERANCE) -> TestResult:
    start = clock.perf_counter()
    dt = model.time.dt
    method = model.time.method.lower()
    save = model.time.save_step or dt
    variables = compared_variables(model)
    flows = [f for s in model.of_kind("stock") for f in s.outflows]
    wanted = list(dict.fromkeys([*variables, *flows]))
    settings = [(dt, method), (dt / 2, method), (dt / 4, method)]
    if method != "rk4":
        settings.append((dt / 4, "rk4"))
    results = [
        simulate(program, method=m, dt=step, save_step=save, variables=wanted, seed=0)
        for step, m in settings
    ]
    findings: list[Finding] = []
    for (step, m), result in zip(settings, results, strict=True):
        if str(result["status"].to_numpy()[0]) != "ok":
            findings.append(
                Finding(
                    f"{m} at dt = {step:g}",
                    "a value became NaN or infinite",
                    str(result["failed_variable"].to_numpy()[0]),
                    float(result["failed_time"].to_numpy()[0]),
                )
            )
    reference = results[-1]
    changes = {}
    for name in variables:
        changes[name] = max(
            _relative_change(results[0][name], reference[name]),
            _relative_change(results[0][name], results[2][name]),
        )
    worst_name = max(changes, key=lambda k: changes[k]) if changes else ""
    worst_change = changes.get(worst_name, 0.0)
    if worst_change > tolerance:
        findings.append(
            Finding(
                f"{method} at dt = {dt:g}",
                f"moves by {worst_change:.2%} against dt/4 (more than {tolerance:.0%})",
                worst_name,
            )
        )
    tau, tau_where = smallest_time_constant(model, results[0])
    if tau < 4 * dt:
        findings.append(
            Finding(
                f"dt = {dt:g}",
                f"exceeds a quarter of the smallest time constant ({tau:.3g})",
                tau_where,
            )
        )
    constant = (
        f"smallest time constant {tau:.3g} ({tau_where})"
        if np.isfinite(tau)
        else "no drain, smooth or delay to measure a time constant on"
    )
    summary = (
        f"largest change {worst_change:.2%} ({worst_name}) at dt = {dt:g} against dt/4; {constant}"
    )
    return TestResult.found(
        "integration error",
        summary,
        findings,
        start=start,
        runs=len(settings),
        details={
            "changes": {k: float(v) for k, v in changes.items()},
            "smallest_time_constant": float(tau),
            "time_constant_of": tau_where,
        },
    )


def _relative_change(a: xr.DataArray, b: xr.DataArray) -> float:
    x = np.asarray(a.to_numpy(), dtype=np.float64)
    y = np.asarray(b.to_numpy(), dtype=np.float64)
    if x.shape != y.shape:
        return float("inf")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("inf")
    scale = max(float(np.max(np.abs(y))), 1e-12)
    return float(np.max(np.abs(x - y)) / scale)


def smallest_time_constant(model: Model, result: xr.Dataset) -> tuple[float, str]:
    """The smallest of: each stock over its outflows at every saved time, and the averaging
    time of each smooth or delay written with a number or a parameter (over its order)."""
    best, where = float("inf"), ""
    for stock in model.of_kind("stock"):
        if stock.name not in result.data_vars:
            continue
        level = np.asarray(result[stock.name].to_numpy(), dtype=np.float64)
        total = _total(result, stock.outflows, level.shape)
        if total is None:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where((total > 0) & (level > 0), level / total, np.inf)
        if tau.size and float(np.min(tau)) < best:
            best, where = float(np.min(tau)), f"{stock.name} over its outflows"
    defaults = {p.key: p.default for p in model.of_kind("parameter")}
    for element in model.elements:
        for text in (element.equation, *(eq for _, eq in element.element_equations)):
            if not text.strip() or element.kind in ("parameter", "lookup"):
                continue
            for call in _stateful_calls(text):
                averaging = _averaging_time(call, defaults)
                if averaging is not None and 0 < averaging < best:
                    best, where = averaging, f"{call.func} in {element.name}"
    return best, where


def _total(result: xr.Dataset, flows: tuple[str, ...], shape: tuple[int, ...]) -> np.ndarray | None:
    """The sum of the positive parts of ``flows`` (None if one is not saved or not aligned)."""
    if not flows:
        return None
    total = np.zeros(shape)
    for name in flows:
        if name not in result.data_vars:
            return None
        values = np.asarray(result[name].to_numpy(), dtype=np.float64)
        if values.shape != shape:
            return None
        total += np.clip(values, 0.0, None)
    return total


def _stateful_calls(text: str) -> list[Call]:
    try:
        tree = parse(text)
    except Exception:  # the compiler reports syntax errors
        return []
    names = {*_ORDERS, "SMTHN", "DELAYN"}
    return [n for n in walk(tree) if isinstance(n, Call) and n.func in names]


def _averaging_time(call: Call, defaults: Mapping[str, object]) -> float | None:
    if len(call.args) < 2:
        return None
    value = _number(call.args[1], defaults)
    if value is None:
        return None
    order = _ORDERS.get(call.func)
    if order is None:  # SMTHN, DELAYN: the order is the third argument
        n = _number(call.args[2], defaults) if len(call.args) > 2 else None
        if n is None or n < 1:
            return None
        order = int(n)
    return value / order


def _number(expr: Expr, defaults: Mapping[str, object]) -> float | None:
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Var) and not expr.subscripts:
        value = defaults.get(canonical(expr.name))
        return float(value) if isinstance(value, int | float) else None
    return None
