"""The documentation shows what exists: the worked example is the shipped file, and runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import flywheel_sim as fs

ROOT = Path(__file__).resolve().parents[1]


def test_model_format_shows_the_worked_example_verbatim() -> None:
    doc = (ROOT / "docs" / "model-format.md").read_text()
    example = (ROOT / "examples" / "mini_flywheel.yaml").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    assert example in blocks


def test_worked_example_tells_the_story_the_docs_tell() -> None:
    model = fs.load_model(ROOT / "examples" / "mini_flywheel.yaml")
    result = fs.simulate(model, {"launch_push": [20000.0, 0.0]})
    # "customers grow from 2,000 to about 850,000 in ten years ... without it about 7,000"
    assert result.total_customers.isel(time=0).values.tolist() == [2000.0, 2000.0]
    assert float(result.time[-1] - result.time[0]) == 10.0
    final = result.total_customers.isel(time=-1).values
    assert 800_000 < final[0] < 900_000
    assert 5_000 < final[1] < 10_000
    assert result.customers.dims == ("run", "time", "segment")
    assert np.all(result.status.values == "ok")


def test_every_builtin_is_documented() -> None:
    from flywheel_sim.spec.builtins import BUILTINS

    doc = (ROOT / "docs" / "model-format.md").read_text()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", doc))  # DELAY1 does not document DELAY
    assert sorted(set(BUILTINS) - words) == []
