"""Vensim conformance: the 96 cases of tests/mdl (SDXorg/test-models, see tests/mdl/SOURCES.md)
against the output Vensim produced.

Each case's model is read with ``load_model`` and run with ``simulate``; every column of
Vensim's output (``output.tab`` or ``output.csv``; ``Time`` and the control variables INITIAL
TIME, FINAL TIME, TIME STEP and SAVEPER aside) is compared at every saved time with the
conformance tolerances and name matching of tests/io/test_xmile_conformance.py (relative 1e-3,
absolute 1e-5; case-insensitive, spaces and underscores equivalent; ``var[a,b]`` is element
(a, b) of ``var``). The outcome of every case is pinned in tests/mdl/expected.yaml:

- ``pass``: reads, runs and reproduces Vensim's output;
- ``refused: "<fragment>"``: refused with one ModelError, on one line, naming the model file and
  containing the fragment;
- ``misread: "<why>"``: reads and runs but disagrees with Vensim, a silent wrong result. A bug,
  not an accepted outcome: the test is an expected failure while the case still disagrees and
  fails as soon as it passes or is refused (update the entry then), like xfail(strict=True).

Any other exception (a traceback) fails the case whatever its pin.
"""

from __future__ import annotations

import functools
import re
import traceback
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from test_xmile_conformance import CONTROL, mismatches, read_expected

from flywheel_sim import ModelError, load_model, simulate
from flywheel_sim.spec.names import canonical

HERE = Path(__file__).parents[1] / "mdl"
PINS = HERE / "expected.yaml"
EXPECTED: dict[str, Any] = (
    yaml.safe_load(PINS.read_text(encoding="utf-8")) or {} if PINS.exists() else {}
)
CASES = sorted(p.name for p in HERE.iterdir() if p.is_dir())
KINDS = ("pass", "refused", "misread", "crashed")


def model_file(folder: Path) -> Path:
    """The case's model: its one ``.mdl`` file (any case of the suffix)."""
    return next(p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".mdl")


def reference(folder: Path) -> Path:
    """Vensim's output; Stella's ``output_stella*.csv`` (a run of the XMILE version) is not
    used."""
    return next(p for p in (folder / "output.tab", folder / "output.csv") if p.exists())


def vensim_output(path: Path) -> pd.DataFrame:
    """Vensim's expected output, the quotes around names dropped (``"Stock[a,b]"`` in .tab
    files) and the control variables set aside."""
    frame = read_expected(path)
    frame.columns = [c.replace('"', "") for c in frame.columns]
    return frame[[c for c in frame.columns if canonical(c) not in CONTROL]]


def crash_text(exc: BaseException) -> str:
    """One line for an unexpected exception: its type, message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}".replace("\n", " ")


@functools.cache
def outcome(name: str) -> tuple[str, str]:
    """('pass', '') / ('refused', message) / ('misread', first mismatches) / ('crashed',
    exception) for one case."""
    folder = HERE / name
    try:
        result = simulate(load_model(model_file(folder)))
    except ModelError as exc:
        return "refused", str(exc)
    except Exception as exc:  # any other exception is a bug of ours: report it, fail the case
        return "crashed", crash_text(exc)
    try:
        problems = mismatches(result, vensim_output(reference(folder)))
    except (KeyError, IndexError, ValueError) as exc:  # an element or dimension not matched
        return "misread", f"cannot match Vensim's columns: {crash_text(exc)}"
    return ("misread", "; ".join(problems[:3])) if problems else ("pass", "")


def check(name: str) -> None:
    want = EXPECTED[name]
    got, detail = outcome(name)
    if got == "crashed":
        pytest.fail(f"crashed instead of a clear ModelError: {detail}")
    if want == "pass":
        assert (got, detail) == ("pass", "")
    elif "refused" in want:
        assert got == "refused", f"{got}: {detail}"
        assert "\n" not in detail, f"not one line: {detail!r}"
        assert model_file(HERE / name).name in detail, f"does not name the file: {detail}"
        assert want["refused"] in detail, detail
    elif got == "misread":
        pytest.xfail(f"misread: {want['misread']} ({detail})")
    else:
        pytest.fail(f"pinned misread but now {got}: update tests/mdl/expected.yaml ({detail})")


def test_expectations_are_well_formed() -> None:
    assert set(EXPECTED) == set(CASES), {
        "not pinned": sorted(set(CASES) - set(EXPECTED)),
        "pinned but absent": sorted(set(EXPECTED) - set(CASES)),
    }
    for name, want in EXPECTED.items():
        assert want == "pass" or (
            isinstance(want, dict)
            and len(want) == 1
            and {"refused", "misread"} >= set(want)
            and isinstance(next(iter(want.values())), str)
        ), name


def test_every_case_has_one_model_and_vensim_output() -> None:
    for name in CASES:
        folder = HERE / name
        assert len([p for p in folder.iterdir() if p.suffix.lower() == ".mdl"]) == 1, name
        frame = vensim_output(reference(folder))
        assert frame.columns[0] == "Time" and frame.shape[1] > 1, name
        assert not frame["Time"].isna().any(), name
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name


@pytest.mark.parametrize("name", CASES)
def test_case(name: str) -> None:
    check(name)


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """One line for the log: how many cases pass, are refused, are misread."""
    counts = dict.fromkeys(KINDS, 0)
    for name in CASES:
        counts[outcome(name)[0]] += 1
    with capsys.disabled():
        print(
            f"\nVensim conformance: {counts['pass']} of {len(CASES)} pass, "
            f"{counts['refused']} refused, {counts['misread']} misread"
            + (f", {counts['crashed']} crash" if counts["crashed"] else "")
        )
    assert counts["crashed"] == 0, "cases crash instead of a clear ModelError"
