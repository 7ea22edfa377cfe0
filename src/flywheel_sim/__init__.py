"""flywheel-sim: business flywheels as runnable, analysable system-dynamics models.

The public API is listed in ``__all__`` (and in docs/api.md). Heavy libraries (xarray,
numba, matplotlib) are imported only when first needed.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "Coasting",
    "CriticalPush",
    "Dimension",
    "Element",
    "FlywheelError",
    "GraphicalFunction",
    "Link",
    "Loop",
    "LoopSearch",
    "LoopSpec",
    "Model",
    "ModelError",
    "Options",
    "OutputError",
    "ParameterError",
    "Policy",
    "Program",
    "Ramp",
    "Step",
    "Table",
    "Tableau",
    "Takeoff",
    "TimeSpec",
    "__version__",
    "builtin_models",
    "causal_graph",
    "coasting",
    "compile_model",
    "critical_push",
    "dominance_periods",
    "find_loops",
    "instance_loops",
    "leverage",
    "load_model",
    "loads_model",
    "loop_dominance",
    "measure_polarity",
    "parse",
    "simulate",
    "takeoff",
    "weakest_link",
]
