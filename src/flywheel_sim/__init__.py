"""flywheel-sim: business flywheels as runnable, analysable system-dynamics models.

The public API is listed in ``__all__`` (and in docs/api.md). Heavy libraries (xarray,
numba, matplotlib) are imported only when first needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.calibration import Calibration, calibrate
from flywheel_sim.compile import Program, compile_model
from flywheel_sim.diagnostics import (
    Coasting,
    CriticalPush,
    Takeoff,
    coasting,
    critical_push,
    leverage,
    takeoff,
    weakest_link,
)
from flywheel_sim.errors import FlywheelError, ModelError, OutputError, ParameterError
from flywheel_sim.integrators import METHODS, Tableau
from flywheel_sim.loops import (
    Loop,
    LoopSearch,
    causal_graph,
    dominance_periods,
    find_loops,
    instance_loops,
    loop_dominance,
    measure_polarity,
)
from flywheel_sim.market import MarketParams, load_market_study, market_ensemble, simulate_market
from flywheel_sim.outcomes import Outcome, parse_outcome
from flywheel_sim.simulate import Options, simulate
from flywheel_sim.spec.loader import builtin_models, load_model, loads_model
from flywheel_sim.spec.model import (
    Dimension,
    Element,
    GraphicalFunction,
    Link,
    LoopSpec,
    Model,
    TimeSpec,
)
from flywheel_sim.spec.parser import parse
from flywheel_sim.spec.policy import Policy, Ramp, Step, Table
from flywheel_sim.store import RunStore
from flywheel_sim.study import Scenario, Study, load_study
from flywheel_sim.sweep import Plan, run_plan
from flywheel_sim.uncertainty import Distribution, sample

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.executors import Executor

__version__ = "0.1.0"


def make_executor(name: str = "local", **options: object) -> Executor:
    """An executor for batches of runs: ``local``, ``processes`` or ``dask`` (see
    :mod:`flywheel_sim.executors`)."""
    from flywheel_sim.executors import make_executor as make

    return make(name, **options)  # type: ignore[arg-type]


def global_sensitivity(*args: object, **kwargs: object) -> pd.DataFrame:
    """Sobol or Morris indices of an outcome (see :func:`flywheel_sim.sensitivity.sensitivity`)."""
    from flywheel_sim.sensitivity import sensitivity

    return sensitivity(*args, **kwargs)  # type: ignore[arg-type]


def tornado_chart(*args: object, **kwargs: object) -> Path:
    """Draw sensitivity indices (see :func:`flywheel_sim.sensitivity.tornado_chart`)."""
    from flywheel_sim.sensitivity import tornado_chart as draw

    return draw(*args, **kwargs)  # type: ignore[arg-type]


__all__ = [
    "METHODS",
    "Calibration",
    "Coasting",
    "CriticalPush",
    "Dimension",
    "Distribution",
    "Element",
    "FlywheelError",
    "GraphicalFunction",
    "Link",
    "Loop",
    "LoopSearch",
    "LoopSpec",
    "MarketParams",
    "Model",
    "ModelError",
    "Options",
    "Outcome",
    "OutputError",
    "ParameterError",
    "Plan",
    "Policy",
    "Program",
    "Ramp",
    "RunStore",
    "Scenario",
    "Step",
    "Study",
    "Table",
    "Tableau",
    "Takeoff",
    "TimeSpec",
    "__version__",
    "builtin_models",
    "calibrate",
    "causal_graph",
    "coasting",
    "compile_model",
    "critical_push",
    "dominance_periods",
    "find_loops",
    "global_sensitivity",
    "instance_loops",
    "leverage",
    "load_market_study",
    "load_model",
    "load_study",
    "loads_model",
    "loop_dominance",
    "make_executor",
    "market_ensemble",
    "measure_polarity",
    "parse",
    "parse_outcome",
    "run_plan",
    "sample",
    "simulate",
    "simulate_market",
    "takeoff",
    "tornado_chart",
    "weakest_link",
]
