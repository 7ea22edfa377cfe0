"""What a fresh process imports to load a model and run it once (issue 21, cold start): the
Dataset needs xarray and pandas, never dask (~0.3 s) or SciPy (~0.5 s). Each case runs in its
own interpreter, since this test session has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    listing = "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    script = f"import sys, json\n{code}\n{listing}"
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


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
