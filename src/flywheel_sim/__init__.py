"""flywheel-sim: business flywheels as runnable, analysable system-dynamics models.

The public API is listed in ``__all__`` (and in docs/api.md). Importing the package loads
nothing else: each public name is imported from its module on first use (PEP 562), so
``import flywheel_sim; flywheel_sim.load_model("m.xmile")`` loads the reader and not the
analyses, and NumPy, xarray, numba, SciPy, pandas and DuckDB load only when something
needs them. The imports under ``TYPE_CHECKING`` give type checkers and editors the same
names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from flywheel_sim.compile import Program, compile_model
    from flywheel_sim.compile.units import UnitReport, check_units
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
    from flywheel_sim.engine.integrators import METHODS, Tableau
    from flywheel_sim.engine.simulate import Options, simulate
    from flywheel_sim.errors import (
        Cancelled,
        FlywheelError,
        LimitError,
        ModelError,
        OutputError,
        ParameterError,
    )
    from flywheel_sim.io.models import builtin_models, load_model, loads_model
    from flywheel_sim.limits import Limits
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
    from flywheel_sim.market import (
        MarketParams,
        load_market_study,
        market_ensemble,
        simulate_market,
    )
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
    from flywheel_sim.store.runstore import RunStore
    from flywheel_sim.studies.batch import Plan, run_plan
    from flywheel_sim.studies.calibration import Calibration, RealityCheck, calibrate
    from flywheel_sim.studies.executors import Executor
    from flywheel_sim.studies.outcomes import Outcome, parse_outcome
    from flywheel_sim.studies.sampling import Distribution, sample
    from flywheel_sim.studies.scenarios import Scenario, Study, load_study
    from flywheel_sim.validation.report import TestReport, TestResult
    from flywheel_sim.validation.suite import test_model

from flywheel_sim.version import __version__

# where each lazily imported public name is defined (the same names as the imports above)
_SOURCES: dict[str, tuple[str, ...]] = {
    "studies.calibration": ("Calibration", "RealityCheck", "calibrate"),
    "compile": ("Program", "compile_model"),
    "compile.units": ("UnitReport", "check_units"),
    "diagnostics": (
        "Coasting",
        "CriticalPush",
        "Takeoff",
        "coasting",
        "critical_push",
        "leverage",
        "takeoff",
        "weakest_link",
    ),
    "errors": (
        "Cancelled",
        "FlywheelError",
        "LimitError",
        "ModelError",
        "OutputError",
        "ParameterError",
    ),
    "limits": ("Limits",),
    "engine.integrators": ("METHODS", "Tableau"),
    "loops": (
        "Loop",
        "LoopSearch",
        "causal_graph",
        "dominance_periods",
        "find_loops",
        "instance_loops",
        "loop_dominance",
        "measure_polarity",
    ),
    "market": ("MarketParams", "load_market_study", "market_ensemble", "simulate_market"),
    "studies.outcomes": ("Outcome", "parse_outcome"),
    "engine.simulate": ("Options", "simulate"),
    "io.models": ("builtin_models", "load_model", "loads_model"),
    "spec.model": (
        "Dimension",
        "Element",
        "GraphicalFunction",
        "Link",
        "LoopSpec",
        "Model",
        "TimeSpec",
    ),
    "spec.parser": ("parse",),
    "spec.policy": ("Policy", "Ramp", "Step", "Table"),
    "store.runstore": ("RunStore",),
    "studies.scenarios": ("Scenario", "Study", "load_study"),
    "studies.batch": ("Plan", "run_plan"),
    "studies.sampling": ("Distribution", "sample"),
    "validation.report": ("TestReport", "TestResult"),
    "validation.suite": ("test_model",),
}
_LAZY = {name: f"{__name__}.{module}" for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is used (PEP 562)."""
    from importlib import import_module

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later uses are ordinary attribute look-ups
    return value


def __dir__() -> list[str]:
    """The public API and the module's dunder names; not the names this file uses to build it
    (``TYPE_CHECKING``, ``Any``, the lazy table) nor the subpackages an import binds here. No
    public name is also a subpackage's name, so importing one never replaces a public name."""
    dunders = (name for name in globals() if name.startswith("__") and name.endswith("__"))
    return sorted({*__all__, *dunders})


def make_executor(name: str = "local", **options: object) -> Executor:
    """An executor for batches of runs: ``local``, ``processes`` or ``dask`` (see
    :mod:`flywheel_sim.studies.executors`)."""
    from flywheel_sim.studies.executors import make_executor as make

    return make(name, **options)  # type: ignore[arg-type]


def load_xmile(path: str | Path) -> Model:
    """Read an XMILE 1.0 file into a Model (see :func:`flywheel_sim.io.xmile.load_xmile`)."""
    from flywheel_sim.io.xmile import load_xmile as load

    return load(path)


def save_xmile(model: Model, path: str | Path) -> Path:
    """Write ``model`` as XMILE 1.0 (see :func:`flywheel_sim.io.xmile.save_xmile`)."""
    from flywheel_sim.io.xmile import save_xmile as save

    return save(model, path)


def save_yaml(model: Model, path: str | Path) -> Path:
    """Write ``model`` in our YAML format (see :func:`flywheel_sim.io.yaml.writer.save_yaml`)."""
    from flywheel_sim.io.yaml.writer import save_yaml as save

    return save(model, path)


def global_sensitivity(*args: object, **kwargs: object) -> pd.DataFrame:
    """Sobol or Morris indices of an outcome (see
    :func:`flywheel_sim.studies.sensitivity.sensitivity`)."""
    from flywheel_sim.studies.sensitivity import sensitivity

    return sensitivity(*args, **kwargs)  # type: ignore[arg-type]


def write_report(model: str | Path, path: str | Path, **options: object) -> Path:
    """Write the one-file HTML report of a model (``flywheel report``); options as
    :class:`flywheel_sim.present.html_report.ReportOptions` (at, samples, fit, popsize, maxiter,
    calibrate, seed). Needs the web extra."""
    from flywheel_sim.present.html_report import ReportOptions
    from flywheel_sim.present.html_report import write_report as write

    return write(model, path, ReportOptions(**options))  # type: ignore[arg-type]


def dashboard(model: str = "amazon", budgets: Any = None, **settings: Any) -> Any:
    """The interactive dashboard as a Dash app showing ``model`` first (``app.run()`` serves
    it; ``flywheel serve`` does that on 127.0.0.1). ``budgets`` is a
    :class:`flywheel_sim.web.budgets.Budgets` (time and size budgets, uploads kept); other
    keywords (``host``, ``allow_hosts``) go to :func:`flywheel_sim.web.app.create_app`.
    Needs the web extra."""
    from flywheel_sim.web.app import create_app
    from flywheel_sim.web.budgets import DEFAULT

    return create_app(model, budgets=budgets or DEFAULT, **settings)


def tornado_chart(*args: object, **kwargs: object) -> Path:
    """Draw sensitivity indices (see :func:`flywheel_sim.present.study.tornado_chart`)."""
    from flywheel_sim.present.study import tornado_chart as draw

    return draw(*args, **kwargs)  # type: ignore[arg-type]


__all__ = [
    "METHODS",
    "Calibration",
    "Cancelled",
    "Coasting",
    "CriticalPush",
    "Dimension",
    "Distribution",
    "Element",
    "FlywheelError",
    "GraphicalFunction",
    "LimitError",
    "Limits",
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
    "RealityCheck",
    "RunStore",
    "Scenario",
    "Step",
    "Study",
    "Table",
    "Tableau",
    "Takeoff",
    "TestReport",
    "TestResult",
    "TimeSpec",
    "UnitReport",
    "__version__",
    "builtin_models",
    "calibrate",
    "causal_graph",
    "check_units",
    "coasting",
    "compile_model",
    "critical_push",
    "dashboard",
    "dominance_periods",
    "find_loops",
    "global_sensitivity",
    "instance_loops",
    "leverage",
    "load_market_study",
    "load_model",
    "load_study",
    "load_xmile",
    "loads_model",
    "loop_dominance",
    "make_executor",
    "market_ensemble",
    "measure_polarity",
    "parse",
    "parse_outcome",
    "run_plan",
    "sample",
    "save_xmile",
    "save_yaml",
    "simulate",
    "simulate_market",
    "takeoff",
    "test_model",
    "tornado_chart",
    "weakest_link",
    "write_report",
]
