"""The public API: __all__ matches docs/api.md, and importing the package stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import flywheel_sim

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_all_matches_the_documented_api() -> None:
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)(?:\(|`)", DOCS.read_text()))
    documented &= (set(dir(flywheel_sim)) | set(flywheel_sim.__all__)) - {"__all__"}
    exported = set(flywheel_sim.__all__)
    assert exported == documented, (exported - documented, documented - exported)
    for name in exported:
        assert hasattr(flywheel_sim, name), name


def test_import_is_light_and_fast() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import flywheel_sim; "
        "print(time.perf_counter() - t); "
        "print(sorted(m for m in ('xarray', 'numba', 'matplotlib', 'pandas', 'typer', 'rich') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    _, heavy = done.stdout.strip().splitlines()
    assert heavy == "[]"  # the timing itself is a benchmark figure, not a unit-test assertion


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", flywheel_sim.__version__)
