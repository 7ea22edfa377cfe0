"""Scenarios side by side: run each chosen scenario once, keep the runs in the run store, and
return the outcomes and the series a comparison table and chart show (``flywheel compare``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Model

if TYPE_CHECKING:
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.outcomes import Outcome
    from flywheel_sim.studies.scenarios import Scenario, Study

F = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Comparison:
    """Compared scenarios: their ``outcomes``' values (scenario -> one value per outcome),
    each variable's series (scenario -> variable -> (times, values)) and the stored batch."""

    model: Model
    scenarios: tuple[Scenario, ...]
    outcomes: tuple[Outcome, ...]
    values: dict[str, list[float]]
    series: dict[str, dict[str, tuple[F, F]]]
    batch: int

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(o.variable for o in self.outcomes))


def chosen_scenarios(study: Study, names: Sequence[str] | None, model: Model) -> list[Scenario]:
    """The scenarios ``names``, else every scenario of the file; ModelError if none."""
    chosen = list(names or study.scenarios)
    if not chosen:
        raise ModelError(
            f"no scenarios to compare for '{model.name}'",
            hint="give -s NAME for scenarios in its scenario file",
        )
    return [study.scenario(n) for n in chosen]


def compare_scenarios(
    model: Model,
    scenarios: Sequence[Scenario],
    outcomes: Sequence[Outcome],
    store: RunStore,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run every scenario once, storing each run as it finishes (one batch, kind compare)."""
    from flywheel_sim.compile import compile_model
    from flywheel_sim.engine.grid import time_grid
    from flywheel_sim.engine.simulate import simulate
    from flywheel_sim.store.runstore import Chunk, NewBatch

    names = [s.name for s in scenarios]
    variables = list(dict.fromkeys(o.variable for o in outcomes))
    set_names = list(dict.fromkeys(k for s in scenarios for k, _ in s.values))
    batch = store.begin(
        NewBatch(
            kind="compare",
            model=model,
            scenario=",".join(names),
            n_runs=len(scenarios),
            settings={"scenarios": names, "outcomes": [o.label for o in outcomes]},
            times=time_grid(compile_model(model), stop=None, dt=None, save_step=None).times,
            variables=variables,
            parameters=set_names,
        )
    )
    series: dict[str, dict[str, tuple[F, F]]] = {}
    values: dict[str, list[float]] = {}
    status = "interrupted"
    try:
        for index, item in enumerate(scenarios):
            applied, set_values = item.apply(model)
            result = simulate(applied, set_values, variables=variables)
            times = np.asarray(result["time"].values, dtype=float)
            series[item.name] = {
                v: (times, np.asarray(result[v].values[0], dtype=float)) for v in variables
            }
            values[item.name] = [float(o.of(result)[0]) for o in outcomes]
            run = Chunk(
                first_run=index,
                params=np.array([scenario_values(model, set_values, set_names)]),
                seeds=np.array([0]),
                status=[str(result["status"].values[0])],
                series={v: np.asarray(result[v].values, dtype=float) for v in variables},
                times=times,
                scenario=item.name,
                failed_variable=[str(v) for v in result["failed_variable"].values],
                failed_time=np.asarray(result["failed_time"].values, dtype=float),
            )
            store.write_chunk(batch, index, run)
            if progress is not None:
                progress(index + 1, len(scenarios))
        status = "done"
    finally:
        store.finish(batch, status)
    return Comparison(model, tuple(scenarios), tuple(outcomes), values, series, batch)


def scenario_values(model: Model, values: dict[str, float], names: list[str]) -> list[float]:
    """The values of parameters ``names`` in a scenario: those it sets, else the model's
    defaults (NaN for a non-scalar default)."""
    out = []
    for name in names:
        if name in values:
            out.append(values[name])
        else:
            default = model.element(name).default
            out.append(float(default) if isinstance(default, int | float) else float("nan"))
    return out
