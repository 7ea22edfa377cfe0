"""Shared fixtures: both VMs, and a helper to build models from YAML text."""

from __future__ import annotations

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
