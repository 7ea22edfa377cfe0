"""Shared fixtures: both VMs, a helper to build models from YAML text, the CLI in a subprocess,
and the check that a citation quotes the seed texts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import flywheel_sim as fs

BACKENDS = ["numpy", "numba", "native"]
SEEDS = Path(__file__).resolve().parents[1] / "docs" / "seeds"


@pytest.fixture(params=BACKENDS)
def options(request: pytest.FixtureRequest) -> fs.Options:
    """Simulation options for each backend (every engine test runs on every VM)."""
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
    # compiled native kernels go to a throw-away folder too, not the user's cache
    os.environ["FLYWHEEL_KERNEL_CACHE"] = str(tmp_path_factory.mktemp("kernels"))


@pytest.fixture(scope="session")
def amazon_report() -> tuple[str, dict[str, float]]:
    """The flagship's HTML report at small settings, built once for the whole session: the
    report tests read its text and the browser test opens it (building it takes most of a
    minute, and the command itself is tested on a small model)."""
    pytest.importorskip("plotly")
    from flywheel_sim.present.html_report import ReportOptions, build_report

    return build_report("amazon", ReportOptions(samples=20, popsize=2, maxiter=2))


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


def flywheel_in_process(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """``flywheel ARGS`` in this process, as the console script runs it (so that tests can
    patch what it calls): exit code, stdout and stderr."""
    from flywheel_sim.cli.app import main

    old = sys.argv
    sys.argv = ["flywheel", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err


def normal_text(text: str) -> str:
    """Text with typographic quotes and dashes made plain and whitespace runs single."""
    table = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-"}
    for old, new in table.items():
        text = text.replace(old, new)
    return " ".join(text.split())


SEED_TEXT = {
    n: normal_text(p.read_text("utf-8"))
    for n, p in ((1, SEEDS / "seed1_mohammed_2023.txt"), (2, SEEDS / "seed2_faist_2024.txt"))
}
ALL_SEEDS = " ".join(SEED_TEXT.values())


def cites_a_seed_or_says_why(text: str) -> bool:
    """A 'Seed N: ...' citation whose fragments appear verbatim, a seed quote, or a stated
    assumption / issue requirement / historical fact."""
    text = text.strip()
    if not text:
        return False  # the empty string is in every text: it quotes nothing
    match = re.match(r"Seed ([12]): (.*)", text, re.S)
    if match:
        body = re.sub(r"\([^)]*\)\s*$", "", match.group(2)).strip()
        fragments = [f.strip(" .") for f in body.split("...") if f.strip(" .")]
        return bool(fragments) and all(
            normal_text(f) in SEED_TEXT[int(match.group(1))] for f in fragments
        )
    if re.match(r"(assumption|issue)\b", text) or re.match(r"(Amazon|Prime|FBA)\b", text):
        return len(text) > 15
    return normal_text(text).strip(" .") in ALL_SEEDS
