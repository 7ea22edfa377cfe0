"""Real XMILE models (Stella saves, tutorial and other engines' test models) against an
independent result: the yardstick for issue 19.

The corpus is described in tests/xmile_corpus/SOURCES.md (where each model comes from, its
licence, the tool that saved it, where its reference comes from) and every model's outcome is
pinned in tests/xmile_corpus/expected.yaml:

- ``pass``: loads, runs, and reproduces one of its references (the same comparison and
  tolerances as tests/io/test_xmile_conformance.py: relative 1e-3, absolute 1e-5);
- ``refused: "<fragment>"``: refused with one ModelError, on one line, naming the model file
  and containing the fragment (never a traceback, never another exception);
- ``misread: "<why>"``: loads and runs but disagrees with its reference, a silent wrong result.
  These are bugs, not accepted outcomes: the test is xfail(strict=True), so it fails as soon
  as the model is fixed (update the entry) and any model pinned ``pass`` that starts to
  disagree fails as an ordinary test.

The model files themselves are public data from other repositories and are not committed
here: the corpus folder is ``$FLYWHEEL_XMILE_CORPUS`` if set, else ``shared/xmile_corpus``
beside the repository. Without it, these tests skip.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_xmile_conformance import mismatches, read_expected

from flywheel_sim import ModelError, load_model, simulate

HERE = Path(__file__).parents[1] / "xmile_corpus"
EXPECTED: dict[str, Any] = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
SUFFIXES = (".xmile", ".stmx", ".itmx")


def corpus_folder() -> Path | None:
    """Where the model folders are: the environment variable, else shared/ beside the
    repository (where CI lays it), else None."""
    candidates = [os.environ.get("FLYWHEEL_XMILE_CORPUS", "")]
    candidates.append(str(Path(__file__).parents[2].parent / "shared" / "xmile_corpus"))
    for text in candidates:
        if text and Path(text).is_dir():
            return Path(text)
    return None


ROOT = corpus_folder()
needs_corpus = pytest.mark.skipif(
    ROOT is None, reason="XMILE corpus not found: set FLYWHEEL_XMILE_CORPUS"
)


def model_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES)


def references(folder: Path) -> list[Path]:
    """Shipped outputs first (output.csv/.tab, then output_stella*.csv), then one computed by
    hand (tests/xmile_corpus/by_hand/<id>.csv, in this repository), then pysimlin's."""
    shipped = [p for p in (folder / "output.csv", folder / "output.tab") if p.exists()]
    shipped += sorted(folder.glob("output_*.csv"))
    others = [HERE / "by_hand" / f"{folder.name}.csv", folder / "reference_pysimlin.csv"]
    return shipped + [p for p in others if p.exists()]


@functools.cache
def outcome(folder: Path) -> tuple[str, str]:
    """('pass', '') / ('refused', message) / ('misread', first mismatches) / ('unchecked',
    why) for one corpus model; any other exception propagates (a traceback is a failure)."""
    path = model_file(folder)
    try:
        result = simulate(load_model(path))
    except ModelError as exc:
        return "refused", str(exc)
    refs = references(folder)
    if not refs:
        return "unchecked", "runs, but there is no reference to judge it by: add one"
    first: list[str] = []
    for ref in refs:
        expected = read_expected(ref)
        # Stella quotes a module variable's name in its output: 'a."module/output"'
        expected.columns = [c.replace('"', "") for c in expected.columns]
        problems = mismatches(result, expected)
        if not problems:
            return "pass", ""
        first = first or [f"{ref.name}: {p}" for p in problems[:3]]
    return "misread", "; ".join(first)


def check(folder: Path) -> None:
    want = EXPECTED[folder.name]
    got, detail = outcome(folder)  # any other exception fails the test with its traceback
    if want == "pass":
        assert (got, detail) == ("pass", "")
    elif "refused" in want:
        assert got == "refused", f"{got}: {detail}"
        assert "\n" not in detail, f"not one line: {detail!r}"
        assert model_file(folder).name in detail, f"does not name the file: {detail}"
        assert want["refused"] in detail, detail
    else:  # misread: must be refused or agree; today it does neither (xfail strict)
        assert got in ("pass", "refused"), f"{got}: {detail}"


IDS = sorted(EXPECTED)


def params() -> list[Any]:
    out = []
    for ident in IDS:
        want = EXPECTED[ident]
        marks = []
        if isinstance(want, dict) and "misread" in want:
            marks.append(pytest.mark.xfail(strict=True, reason=f"misread: {want['misread']}"))
        out.append(pytest.param(ident, marks=marks, id=ident))
    return out


def test_expectations_are_well_formed() -> None:
    for ident, want in EXPECTED.items():
        assert want == "pass" or (
            isinstance(want, dict) and len(want) == 1 and {"refused", "misread"} >= set(want)
        ), ident
        assert re.fullmatch(r"[a-z0-9_]+", ident), ident
    listed = {
        m.group(1)
        for m in re.finditer(r"^\| `([a-z0-9_]+)` \|", (HERE / "SOURCES.md").read_text(), re.M)
    }
    assert listed == set(EXPECTED), "SOURCES.md and expected.yaml list different models"


@needs_corpus
def test_every_corpus_model_is_pinned() -> None:
    assert ROOT is not None
    present = {p.name for p in ROOT.iterdir() if p.is_dir()}
    assert present == set(EXPECTED), {
        "not in expected.yaml": sorted(present - set(EXPECTED)),
        "missing from the corpus": sorted(set(EXPECTED) - present),
    }


@needs_corpus
@pytest.mark.parametrize("ident", params())
def test_corpus_model(ident: str) -> None:
    assert ROOT is not None
    check(ROOT / ident)


@needs_corpus
def test_corpus_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """One line for the log: how many run and agree, are refused, are misread."""
    assert ROOT is not None
    counts: dict[str, int] = {}
    for ident in IDS:
        got, _ = outcome(ROOT / ident)
        counts[got] = counts.get(got, 0) + 1
    with capsys.disabled():
        print(
            f"\nXMILE corpus: {counts.get('pass', 0)} of {len(IDS)} run and agree with their "
            f"reference, {counts.get('refused', 0)} refused, {counts.get('misread', 0)} "
            "misread"
        )
    assert set(counts) <= {"pass", "refused", "misread"}, counts
