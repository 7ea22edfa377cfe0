"""Shared fixtures: both VMs, and a helper to build models from YAML text."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import flywheel_sim as fs

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def options(request: pytest.FixtureRequest) -> fs.Options:
    """Simulation options for each backend (every engine test runs on both VMs)."""
    return fs.Options(backend=request.param)


def model_from(text: str, file: str = "test.yaml") -> fs.Model:
    """A model from (dedented) YAML text."""
    return fs.loads_model(textwrap.dedent(text), file=file)


@pytest.fixture(autouse=True, scope="session")
def _private_run_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every command the tests run (in-process or as a subprocess) stores its runs in a
    throw-away run store, never in the user's data folder."""
    import os

    os.environ["FLYWHEEL_STORE"] = str(tmp_path_factory.mktemp("store") / "runs.duckdb")


def run_cli(
    *args: str, cwd: object = None, store: object = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``flywheel ARGS`` in a subprocess (optionally with its own run store)."""
    env = dict(os.environ)
    if store is not None:
        env["FLYWHEEL_STORE"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "flywheel_sim.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )
