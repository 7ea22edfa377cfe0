"""What a fresh process imports to load a model and run it once (issue 21, cold start): the
Dataset needs xarray and pandas, never dask (~0.3 s) or SciPy (~0.5 s); loading and compiling a
plain YAML model needs neither, nor the modules of what it does not use. Each case runs in its
own interpreter, since this test session has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _all_modules_after(code: str) -> set[str]:
    """Every module (dotted names) a fresh interpreter has imported after running ``code``."""
    listing = "print(json.dumps(sorted(sys.modules)))"
    script = f"import sys, json\n{code}\n{listing}"
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    return {name.split(".")[0] for name in _all_modules_after(code)}


def test_one_run_on_the_numpy_vm_imports_neither_dask_nor_scipy_nor_numba() -> None:
    # the Dataset's time and run axes used to import dask through xarray's dask check
    modules = _modules_after(
        "import flywheel_sim as fs\n"
        "ds = fs.simulate(fs.load_model('sir'), options=fs.Options(backend='numpy'))\n"
        "assert ds.sizes['run'] == 1"
    )
    assert {"xarray", "flywheel_sim"} <= modules  # the check sees what was imported
    assert not modules & {"dask", "scipy", "numba"}


def test_an_arrayed_model_ensemble_does_not_import_dask() -> None:
    # arrayed (string) dimension coordinates and parameter coordinates on run, 3 runs
    modules = _modules_after(
        "import flywheel_sim as fs\n"
        "m = fs.load_model('amazon')\n"
        "ds = fs.simulate(m, seed=[1, 2, 3], options=fs.Options(backend='numpy'))\n"
        "assert ds.sizes['run'] == 3"
    )
    assert "xarray" in modules and not modules & {"dask", "scipy"}


def test_one_run_on_the_default_backend_does_not_import_dask() -> None:
    modules = _modules_after("import flywheel_sim as fs\nfs.simulate(fs.load_model('sir'))")
    assert "xarray" in modules and "dask" not in modules


def test_one_run_on_the_default_backend_imports_neither_scipy_nor_numba() -> None:
    # a fresh process compiles the model natively (llvmlite) rather than loading numba and
    # its cached kernels, which import SciPy
    pytest.importorskip("llvmlite")
    modules = _modules_after("import flywheel_sim as fs\nfs.simulate(fs.load_model('sir'))")
    assert "llvmlite" in modules and not modules & {"scipy", "numba"}


# what loading and compiling a YAML model without units, layout, policies, history, report or
# diagnostics (SIR) never needs (issue 21, cold start: each was imported before and cost a fresh
# process 1-11 ms), and what it never needed (the other formats, the analyses, the engine)
NOT_FOR_LOAD_AND_COMPILE = {
    "flywheel_sim.spec.units",  # with fractions and decimal: only for a model's own units
    "fractions",
    "flywheel_sim.spec.layout",  # the diagram's dataclasses
    "flywheel_sim.io.yaml.layout",
    "flywheel_sim.spec.policy",  # with csv: only for a parameter with a policy
    "flywheel_sim.spec.analyses",  # History, Report, DiagnosticsSpec
    "importlib.resources",  # with zipfile, tempfile and shutil: the library is a folder
    "zipfile",
    "flywheel_sim.io.xmile",
    "flywheel_sim.io.mdl",
    "flywheel_sim.io.yaml.writer",
    "flywheel_sim.engine",
    "flywheel_sim.compile.units",
    "flywheel_sim.cli",
    "flywheel_sim.present",
    "flywheel_sim.studies",
    "flywheel_sim.store",
    "flywheel_sim.loops",
    "flywheel_sim.market",
    "flywheel_sim.validation",
    "flywheel_sim.diagnostics",
    "xarray",
    "pandas",
}


def test_loading_and_compiling_a_plain_yaml_model_imports_only_what_it_needs() -> None:
    modules = _all_modules_after(
        "import flywheel_sim as fs\nfs.compile_model(fs.load_model('sir'))"
    )
    # the check sees what was imported: the reader, PyYAML and the compiler
    assert {"flywheel_sim.io.yaml.reader", "yaml", "flywheel_sim.compile.emit"} <= modules
    assert not modules & NOT_FOR_LOAD_AND_COMPILE


def test_a_model_with_units_layout_and_history_imports_their_modules_when_read() -> None:
    # the deferred imports still happen where needed (a model text written for this test; a
    # policy is given in Python, so its module is imported by whoever builds it)
    modules = _all_modules_after(
        "import flywheel_sim as fs\n"
        'm = fs.loads_model("""\n'
        "time: {start: 0, stop: 4, dt: 1}\n"
        "units: {widget: person}\n"
        "parameters:\n"
        "  rate: {default: 1, unit: widget}\n"
        "stocks:\n"
        "  stock: {initial: 0, inflows: [inflow], unit: widget}\n"
        "flows:\n"
        "  inflow: {equation: rate, unit: widget}\n"
        "history: {data: amazon_history, series: {stock: net_sales_usd_m}}\n"
        "layout: {variables: {stock: {x: 1, y: 2}}}\n"
        '""")\n'
        "assert m.layout is not None and m.history is not None and m.units\n"
        "fs.compile_model(m)"
    )
    assert {
        "flywheel_sim.spec.units",
        "flywheel_sim.spec.layout",
        "flywheel_sim.spec.analyses",
    } <= modules


def test_the_analyses_settings_are_still_importable_from_spec_model() -> None:
    # History, HistorySeries, Report and DiagnosticsSpec moved to spec.analyses (issue 21)
    from flywheel_sim.spec import analyses, model
    from flywheel_sim.spec.model import AGGREGATES, DiagnosticsSpec, History, HistorySeries, Report

    assert (History, HistorySeries, Report, DiagnosticsSpec) == (
        analyses.History,
        analyses.HistorySeries,
        analyses.Report,
        analyses.DiagnosticsSpec,
    )
    assert AGGREGATES is analyses.AGGREGATES
    with pytest.raises(AttributeError):
        model.NoSuchName  # noqa: B018
