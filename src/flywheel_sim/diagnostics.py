"""Flywheel diagnostics: answers to a strategist's questions, each a pure function.

- :func:`critical_push` — the smallest push that makes growth self-sustaining (batched
  bisection: every round is one ``simulate`` call over a grid of push sizes);
- :func:`leverage` — the elasticity of an outcome to every parameter, ranked (one call with
  two nudged runs per parameter);
- :func:`takeoff` — when the reinforcing loops first dominate and growth accelerates;
- :func:`coasting` — if every push and investment stops at a time, how long until growth
  halves (a step policy on each of them, against the run as it is);
- :func:`weakest_link` — the link whose strengthening raises the core loop's gain the most.

:func:`diagnose` asks them together, as the model's ``diagnostics:`` section (or the
:class:`Questions` given) says, and returns one :class:`Diagnosis`: what ``flywheel
diagnose``, the dashboard's diagnostics tab and ``flywheel report`` show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.compile import compile_model
from flywheel_sim.engine.simulate import Options, simulate
from flywheel_sim.errors import ModelError, ParameterError
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.policy import Step

if TYPE_CHECKING:
    import pandas as pd

PLAIN = Options()  # the default simulation options (no cancel check, the default limits)


@dataclass(frozen=True)
class CriticalPush:
    """The push below which the flywheel does not turn: between ``low`` and ``high``."""

    parameter: str
    low: float  # largest push found that does not take off
    high: float  # smallest push found that does
    tolerance: float
    stock: str
    rounds: int

    @property
    def value(self) -> float:
        return 0.5 * (self.low + self.high)


def _parameter(model: Model, name: str) -> tuple[str, float, float]:
    element = model.element(name)
    if element.kind != "parameter" or not isinstance(element.default, int | float):
        raise ParameterError(f"'{name}' is not a scalar parameter of model '{model.name}'")
    low = 0.0 if element.minimum is None else element.minimum
    high = element.maximum if element.maximum is not None else max(10 * element.default, 1.0)
    return element.key, low, high


def _takes_off(final: np.ndarray, baseline: float, ratio: float) -> np.ndarray:
    return final >= ratio * max(baseline, 1e-12)


def critical_push(
    model: Model,
    *,
    push: str,
    stock: str,
    ratio: float = 10.0,
    low: float | None = None,
    high: float | None = None,
    tolerance: float | None = None,
    grid: int = 16,
    params: dict[str, float] | None = None,
    options: Options = PLAIN,
) -> CriticalPush:
    """The smallest value of the ``push`` parameter for which ``stock`` at the horizon ends at
    least ``ratio`` times above both its starting and its final no-push value
    (self-sustaining growth, not a one-off lift that decays back).

    Bisection on a grid: each round simulates ``grid`` push sizes in one batched call and
    narrows to the interval where take-off starts, until it is narrower than ``tolerance``
    (default 0.1% of the range). Raises if the flywheel turns without a push, or never turns.
    """
    key, lo_default, hi_default = _parameter(model, push)
    lo = lo_default if low is None else low
    hi = hi_default if high is None else high
    tol = (hi - lo) * 1e-3 if tolerance is None else tolerance
    program = compile_model(model)
    fixed = {k: float(v) for k, v in (params or {}).items()}
    stock_key = canonical(stock)

    def path(values: np.ndarray) -> np.ndarray:
        batch = {k: np.full(len(values), v) for k, v in fixed.items()}
        batch[key] = values
        result = simulate(program, batch, variables=[stock_key], options=options)
        data = result[stock_key]
        extra = [d for d in data.dims if d not in ("run", "time")]
        return np.asarray((data.sum(extra) if extra else data).values)  # (runs, times)

    def finals(values: np.ndarray) -> np.ndarray:
        return path(values)[:, -1]

    baseline = path(np.array([0.0]))[0]
    # self-sustaining: end `ratio` times above both where the stock started without a push
    # and where it ends without one (a lift that decays back is not a take-off)
    base = float(max(baseline[0], baseline[-1]))
    ends = finals(np.array([lo, hi]))
    if _takes_off(ends[:1], base, ratio)[0] and lo > 0:
        raise ModelError(
            f"'{stock}' already takes off with {push} = {lo:g}", hint="lower the search range"
        )
    if not _takes_off(ends[1:], base, ratio)[0]:
        raise ModelError(
            f"no {push} up to {hi:g} makes '{stock}' end {ratio:g} times above where it ends "
            "without a push (it does not take off, or it turns without one)",
            hint="raise the search range or lower the ratio",
        )
    rounds = 0
    while hi - lo > tol:
        rounds += 1
        values = np.linspace(lo, hi, grid)
        ok = _takes_off(finals(values), base, ratio)
        first = int(np.argmax(ok))
        lo, hi = float(values[max(first - 1, 0)]), float(values[first])
    return CriticalPush(key, lo, hi, tol, stock_key, rounds)


@dataclass(frozen=True)
class Coasting:
    """How long the wheel keeps turning after every push and investment stops at ``at``.

    ``growth`` is the growth of ``variable`` (its change per time unit) just before ``at``;
    ``half_time`` is how long after ``at`` that growth first falls to half, with the pushes
    stopped, and ``baseline_half_time`` the same had nothing stopped (None: not within the
    horizon). ``retained`` is the variable at the horizon with everything stopped, as a share
    of its value had nothing stopped.
    """

    variable: str
    at: float
    stopped: tuple[tuple[str, float], ...]
    growth: float
    half_time: float | None
    baseline_half_time: float | None
    retained: float


def _halving(times: np.ndarray, values: np.ndarray, at: float) -> tuple[float, float | None]:
    """Growth over the last step before ``at``, and the time after ``at`` at which growth
    (per step, placed at the step's middle, interpolated linearly) first falls to half."""
    growth = np.diff(values) / np.diff(times)
    middle = 0.5 * (times[1:] + times[:-1])
    before = np.flatnonzero(times[1:] <= at + 1e-9 * max(1.0, abs(at)))
    if before.size == 0:
        raise ParameterError(f"coasting time {at:g} is at or before the start of the run")
    g0 = float(growth[before[-1]])
    start = before[-1]
    below = np.flatnonzero(growth[start + 1 :] <= 0.5 * g0)
    if below.size == 0:
        return g0, None
    k = start + 1 + int(below[0])
    g_a, g_b, t_a, t_b = growth[k - 1], growth[k], middle[k - 1], middle[k]
    share = 1.0 if g_a == g_b else (g_a - 0.5 * g0) / (g_a - g_b)
    crossing = float(t_a + share * (t_b - t_a))
    return g0, max(crossing - at, 0.0)


def coasting(
    model: Model,
    *,
    at: float,
    stop: Mapping[str, float] | Sequence[str],
    variable: str,
    params: dict[str, float] | None = None,
    options: Options = PLAIN,
) -> Coasting:
    """If every push and investment in ``stop`` (parameter names, stopped at 0, or a mapping
    to the values they drop to) stops at time ``at``, how long until the growth of
    ``variable`` halves — against how long it takes had nothing stopped.

    Two runs saved every ``dt``: the model as it is, and the model with each stopped
    parameter following a step policy to its stopped value at ``at``. Raises if ``variable``
    is not growing at ``at``.
    """
    stops = dict(stop) if isinstance(stop, Mapping) else dict.fromkeys(stop, 0.0)
    if not stops:
        raise ParameterError("coasting needs at least one push or investment parameter to stop")
    time = model.time
    if not time.start < at < time.stop:
        raise ParameterError(
            f"coasting time {at:g} is outside the run ({time.start:g} to {time.stop:g})"
        )
    key = canonical(variable)
    model.element(variable)
    stopped = model.with_policies({name: Step(to=float(v), at=at) for name, v in stops.items()})
    runs = []
    for which in (model, stopped):
        result = simulate(which, params or {}, save_step=time.dt, variables=[key], options=options)
        runs.append(np.asarray(result[key].values[0], dtype=float))
    times = np.asarray(result["time"].values, dtype=float)
    if runs[0].ndim != 1:
        raise ModelError(f"coasting needs a scalar variable, and '{variable}' is arrayed")
    g0, base_half = _halving(times, runs[0], at)
    if not g0 > 0:
        raise ModelError(
            f"'{variable}' is not growing at {at:g} (change {g0:.4g} per {time.units}), "
            "so there is no growth to halve",
            hint="choose a time when it grows",
        )
    _, half = _halving(times, runs[1], at)
    retained = float(runs[1][-1] / runs[0][-1]) if runs[0][-1] != 0 else math.nan
    names = tuple((model.element(n).key, float(v)) for n, v in stops.items())
    return Coasting(key, at, names, g0, half, base_half, retained)


def leverage(
    model: Model,
    *,
    outcome: str,
    at: float | None = None,
    step: float = 0.01,
    params: dict[str, float] | None = None,
    options: Options = PLAIN,
) -> pd.DataFrame:
    """Elasticity of ``outcome`` (at time ``at``, default the end) to every parameter:
    (Δoutcome / outcome) / (Δp / p) by central differences of ±``step`` (relative), all in one
    batched call. Sorted by |elasticity|, largest first. Parameters at 0, and dates
    (parameters in the time unit whose value lies in the run's time range, such as a launch
    year, for which a relative change means nothing), are left out."""
    import pandas as pd

    program = compile_model(model)
    defaults = dict(zip(program.param_keys, program.param_default, strict=True))
    defaults.update({canonical(k): float(v) for k, v in (params or {}).items()})
    dates = {e.key for e in model.of_kind("parameter") if _is_date(model, e.unit, e.default)}
    names = [k for k, v in defaults.items() if v != 0 and "[" not in k and k not in dates]
    runs = 2 * len(names) + 1
    batch = {k: np.full(runs, v) for k, v in defaults.items()}
    for i, name in enumerate(names):
        batch[name][2 * i] *= 1 + step
        batch[name][2 * i + 1] *= 1 - step
    key = canonical(outcome)
    clipped = replace(options, out_of_range="clip")
    result = simulate(program, batch, variables=[key], options=clipped)
    series = result[key]
    extra = [d for d in series.dims if d not in ("run", "time")]
    series = series.sum(extra) if extra else series
    values = series.isel(time=-1) if at is None else series.interp(time=at)
    y = np.asarray(values.values)
    base = y[-1]
    rows = []
    for i, name in enumerate(names):
        up, down = batch[name][2 * i], batch[name][2 * i + 1]
        change = (y[2 * i] - y[2 * i + 1]) / base if base else np.nan
        rows.append(
            {
                "parameter": name,
                "value": defaults[name],
                "elasticity": change / ((up - down) / defaults[name]),
            }
        )
    frame = pd.DataFrame(rows)
    order = frame.elasticity.abs().sort_values(ascending=False, na_position="last").index
    return frame.loc[order].reset_index(drop=True)


def _is_date(model: Model, unit: str, value: object) -> bool:
    time = model.time
    return (
        canonical(unit) == canonical(time.units)
        and isinstance(value, int | float)
        and time.start <= value <= time.stop + (time.stop - time.start)
    )


@dataclass(frozen=True)
class Takeoff:
    """When the flywheel took off: reinforcing loops dominate and the stock accelerates."""

    time: float | None
    stock: str


def takeoff(
    model: Model,
    *,
    stock: str,
    params: dict[str, float] | None = None,
    hold: int = 3,
    options: Options = PLAIN,
) -> Takeoff:
    """The first save time from which, for ``hold`` save steps, the dominant loops are
    reinforcing and ``stock`` grows faster and faster (None if that never happens)."""
    from flywheel_sim.loops import loop_dominance

    data = loop_dominance(model, params, options=options)
    types = dict(zip(data["loop"].values, data["loop_type"].values, strict=True))
    labels = data["dominant"].values[0]
    reinforcing = np.array(
        [bool(lab) and all(types[i] == "R" for i in str(lab).split("+")) for lab in labels]
    )
    key = canonical(stock)
    series = simulate(model, params, variables=[key], options=options)[key].isel(run=0)
    values = np.interp(data["time"].values, series["time"].values, series.values)
    growth = np.gradient(values, data["time"].values)
    accelerating = np.gradient(growth, data["time"].values) > 0
    good = reinforcing & accelerating & (growth > 0)
    for i in range(len(good) - hold + 1):
        if good[i : i + hold].all():
            return Takeoff(float(data["time"].values[i]), key)
    return Takeoff(None, key)


def loop_gain(
    model: Model,
    loop_variables: list[str],
    params: object = None,
    options: Options = PLAIN,
) -> np.ndarray:
    """The gain of a loop at every saved time of every run: the product of the partial
    derivatives of its links (flow -> stock links count +1/-1): arrays (times, runs)."""
    from flywheel_sim.loops.polarity import slot_gains, trajectories
    from flywheel_sim.loops.scores import model_link_scores

    program = compile_model(model)
    states, times = trajectories(program, params, options=options)
    links = model_link_scores(program, slot_gains(program, states, times))
    gain = np.ones(states.shape[1:])
    for a, b in zip(loop_variables, [*loop_variables[1:], loop_variables[0]], strict=True):
        gain = gain * links.get((a, b), np.zeros_like(gain))
    return gain


def weakest_link(
    model: Model,
    *,
    loop: str | None = None,
    step: float = 0.01,
    params: dict[str, float] | None = None,
    options: Options = PLAIN,
) -> pd.DataFrame:
    """Where strengthening the core loop pays most (Collins: the wheel stalls at its weakest
    component).

    For each link x -> z of the loop (default: the longest named reinforcing loop), the
    parameters in z's equation set its strength; each is raised and lowered by ``step``
    (relative) in one batched call, and the elasticity of the loop's gain (the product of its
    links' partial derivatives, averaged over the run) is measured. Rows are links with their
    most effective parameter, the weakest link — whose strengthening raises the gain most —
    first. Links into stocks have no strength parameter.
    """
    import pandas as pd

    from flywheel_sim.loops import find_loops
    from flywheel_sim.spec.ast import names_in
    from flywheel_sim.spec.parser import parse

    search = find_loops(model, options=options)
    named = [x for x in search.loops if x.name]
    if loop is None:
        candidates = [x for x in named if x.polarity == "R"] or named
        if not candidates:
            raise ModelError(f"model '{model.name}' names no loops", hint="pass loop=...")
        core = max(candidates, key=lambda x: x.length)
    else:
        core = search.by_name(loop)
    parameters = {e.key: e for e in model.of_kind("parameter")}
    chain = list(core.variables)
    links: list[tuple[str, str, list[str]]] = []
    for a, b in zip(chain, chain[1:] + chain[:1], strict=True):
        target = model.element(b)
        if target.kind == "stock":  # a flow into a stock: no parameter sets its strength
            links.append((a, b, []))
            continue
        used = names_in(parse(target.equation)) if target.equation.strip() else set()
        knobs = sorted(
            k
            for k in used
            if k in parameters
            and isinstance(parameters[k].default, int | float)
            and parameters[k].default != 0
            and not _is_date(model, parameters[k].unit, parameters[k].default)
        )
        links.append((a, b, knobs))
    knobs = sorted({k for _, _, ks in links for k in ks})
    defaults = {
        k: float(e.default) for k, e in parameters.items() if isinstance(e.default, int | float)
    }
    defaults.update({canonical(k): float(v) for k, v in (params or {}).items()})
    runs = 2 * len(knobs) + 1
    batch = {k: np.full(runs, v) for k, v in defaults.items()}
    spans = {}
    for i, name in enumerate(knobs):  # up and down by `step`, kept inside the declared range
        value, low, high = defaults[name], parameters[name].minimum, parameters[name].maximum
        up, down = value * (1 + step), value * (1 - step)
        up, down = max(up, down), min(up, down)
        up = min(up, high) if high is not None else up
        down = max(down, low) if low is not None else down
        batch[name][2 * i], batch[name][2 * i + 1] = up, down
        spans[name] = (up - down) / abs(value)
    gain = np.abs(loop_gain(model, chain, batch, options)).mean(axis=0)
    base = gain[-1]
    effect = {
        name: (gain[2 * i] - gain[2 * i + 1]) / spans[name] / base
        if base and spans[name]
        else np.nan
        for i, name in enumerate(knobs)
    }
    rows = []
    for a, b, ks in links:
        best = max(ks, key=lambda k: effect[k], default=None)
        rows.append(
            {
                "link": f"{a} -> {b}",
                "parameter": best or "",
                "elasticity": effect[best] if best else np.nan,
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["loop"] = core.name
    order = frame.elasticity.sort_values(ascending=False, na_position="last").index
    return frame.loc[order].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class Questions:
    """What :func:`diagnose` asks. A field left None (``stop`` empty) falls back on the model's
    ``diagnostics:`` section; the outcome falls back on the stock. ``weakest_link`` also asks
    for the weakest link of the core loop (models that name loops, without dimensions)."""

    push: str | None = None  # the push parameter (critical push)
    stock: str | None = None  # the stock that should grow (take-off, critical push)
    outcome: str | None = None  # leverage ranking and coasting watch this variable
    at: float | None = None  # time of the outcome (default: the end)
    coast_at: float | None = None  # coasting: when every push and investment stops
    stop: tuple[tuple[str, float], ...] = ()  # coasting: parameters and the values they drop to
    weakest_link: bool = False

    def resolved(self, model: Model) -> Questions:
        """These questions with every gap filled from the model's ``diagnostics:`` section."""
        spec = model.diagnostics
        stock = self.stock or (spec.stock if spec else None)
        return Questions(
            push=self.push or (spec.push if spec else None),
            stock=stock,
            outcome=self.outcome or (spec.outcome if spec else None) or stock,
            at=self.at if self.at is not None else (spec.at if spec else None),
            coast_at=self.coast_at
            if self.coast_at is not None
            else (spec.coast_at if spec else None),
            stop=tuple(dict(self.stop or (spec.stop if spec else ())).items()),
            weakest_link=self.weakest_link,
        )


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The answers of :func:`diagnose` (each None when it was not asked): ``asked`` holds the
    questions as resolved against the model's ``diagnostics:`` section."""

    model: str
    asked: Questions
    takeoff: Takeoff | None
    push: CriticalPush | None
    push_default: float | None  # the push parameter's current value
    coasting: Coasting | None
    leverage: pd.DataFrame | None
    weakest_link: pd.DataFrame | None
    units: str  # the model's time unit
    # why there is no critical push when one was asked (the flywheel turns without a push, or
    # no push within the parameter's range makes it turn)
    push_note: str | None = None

    @property
    def outcome(self) -> str:
        """The variable the leverage ranking (and coasting) looked at."""
        return self.asked.outcome or ""


def diagnose(
    model: Model,
    params: Mapping[str, float] | None = None,
    *,
    questions: Questions | None = None,
    progress: Callable[[int, int], None] | None = None,
    options: Options = PLAIN,
) -> Diagnosis:
    """Take-off (models without dimensions), critical push, coasting, leverage and, when
    asked, the weakest link, with ``params`` (a parameter mapping) applied to every question
    (the critical push varies its own parameter). ``progress(done, total)`` is called after
    each question. Raises ModelError when no stock to grow is given or declared.
    ``options`` (limits, a cancel check) apply to every run of every question."""
    asked = (questions or Questions()).resolved(model)
    if asked.stock is None:
        raise ModelError(
            f"model '{model.name}' declares no diagnostics",
            hint="add a diagnostics: section with push, stock and outcome (docs/model-format.md)",
        )
    values = {k: float(v) for k, v in (params or {}).items()}
    arrayed = any(e.dims for e in model.elements)
    weakest = asked.weakest_link and bool(model.loops) and not arrayed
    total = 5 if weakest else 4
    step = progress or (lambda done, total: None)
    step(0, total)
    found = None if arrayed else takeoff(model, stock=asked.stock, params=values, options=options)
    step(1, total)
    push, default, note = None, None, None
    if asked.push:
        key = model.element(asked.push).key
        fixed = {k: v for k, v in values.items() if k != key}
        try:
            push = critical_push(
                model, push=asked.push, stock=asked.stock, params=fixed, options=options
            )
        except ModelError as exc:  # no push size decides the take-off: say so, answer the rest
            note = exc.message
        value = values.get(key, model.element(asked.push).default)
        default = float(value) if isinstance(value, int | float) else None
    step(2, total)
    coast = None
    if asked.stop and asked.coast_at is not None:
        coast = coasting(
            model,
            at=asked.coast_at,
            stop=dict(asked.stop),
            variable=asked.outcome or asked.stock,
            params=values or None,
            options=options,
        )
    step(3, total)
    outcome = asked.outcome or asked.stock
    frame = leverage(model, outcome=outcome, at=asked.at, params=values, options=options)
    step(4, total)
    links = None
    if weakest:
        links = weakest_link(model, params=values or None, options=options)
        step(5, total)
    return Diagnosis(
        model.name, asked, found, push, default, coast, frame, links, model.time.units, note
    )
