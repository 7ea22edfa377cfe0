"""The bad-input corpus: every case in ``tests/corpus/*/cases.yaml`` runs the ``flywheel``
command on a hostile or broken input and must end as the project promises — a non-zero exit,
exactly one line on stderr that contains the case's ``expect`` text, no traceback, within
``LIMIT`` seconds of CPU time (and ``WALL_LIMIT`` seconds of wall time, which catches a case
that hangs without computing), and the corpus folder unchanged (nothing the user had is lost).
CPU time is what a case costs; wall time on a shared machine also counts everyone else's work.

A case is a mapping::

    id: tiny-dt                         # unique within its folder
    source: "where the case comes from"
    args: [run, "{dir}/tiny_dt.yaml"]   # {dir}: the case's folder, {tmp}: a fresh folder (cwd)
    expect: "steps"                     # case-insensitive text the error line contains
    subprocess: false                   # true: run `python -m flywheel_sim.cli` in a process
    exit: 1                             # optional exact exit code (default: any non-zero)

Cases run in-process by default (calling :func:`flywheel_sim.cli.app.main`, the entry point
the console script runs), which keeps a few hundred of them within seconds; ``subprocess:
true`` is for cases about signals, hangs or process state.
"""

from __future__ import annotations

import hashlib
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_cli

HERE = Path(__file__).parent
LIMIT = 10.0  # seconds of CPU time per case ("within a few seconds", imports included)
WALL_LIMIT = 60.0  # seconds of wall time per case: a case blocked in a hang
KEYS = {"id", "source", "args", "expect", "subprocess", "exit"}


def cases() -> list[Any]:
    found = []
    for manifest in sorted(HERE.glob("*/cases.yaml")):
        entries = yaml.safe_load(manifest.read_text(encoding="utf-8")) or []
        seen: set[str] = set()
        for entry in entries:
            unknown = set(entry) - KEYS
            assert not unknown, f"{manifest}: case {entry.get('id')} has unknown keys {unknown}"
            assert {"id", "source", "args", "expect"} <= set(entry), f"{manifest}: {entry}"
            assert entry["id"] not in seen, f"{manifest}: case id {entry['id']} repeated"
            seen.add(entry["id"])
            found.append(
                pytest.param(manifest.parent, entry, id=f"{manifest.parent.name}/{entry['id']}")
            )
    return found


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
    }


class TooSlow(Exception):
    pass


@pytest.fixture(scope="module", autouse=True)
def _kernels_compiled() -> None:
    """Compile the numba VM's kernels before any case is timed: the first run on a fresh
    install compiles them (tens of seconds of CPU, once, then cached), whatever the input."""
    import importlib.util

    if importlib.util.find_spec("numba") is None:
        return  # the NumPy VM compiles nothing
    import flywheel_sim as fs
    from flywheel_sim.engine.vm.compiled import SCALAR_BELOW

    model = fs.loads_model(
        "name: warm\ntime: {start: 0, stop: 2, dt: 1}\nparameters:\n  k: {default: 0.1}\n"
        "stocks:\n  s: {initial: 1, inflows: [f]}\nflows:\n  f: {equation: s * k}\n"
    )
    for runs in (1, SCALAR_BELOW):  # the scalar kernel, then the block kernel
        fs.simulate(model, {"k": [0.1] * runs}, options=fs.Options(backend="numba"))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (a subprocess case)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def in_process(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from flywheel_sim.cli.app import main

    def alarm(signum: int, frame: object) -> None:
        what = "CPU" if signum == signal.SIGPROF else "wall"
        limit = LIMIT if signum == signal.SIGPROF else WALL_LIMIT
        raise TooSlow(f"still running after {limit:.0f} s of {what} time")

    old_argv = sys.argv
    old_handlers = {sig: signal.signal(sig, alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
    sys.argv = ["flywheel", *args]
    signal.setitimer(signal.ITIMER_PROF, LIMIT)
    signal.setitimer(signal.ITIMER_REAL, WALL_LIMIT)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        sys.argv = old_argv
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("folder", "case"), cases())
def test_bad_input_ends_in_one_line(
    folder: Path,
    case: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(a).format(dir=folder, tmp=tmp_path) for a in case["args"]]
    before = digest(folder)
    monkeypatch.chdir(tmp_path)
    started, wall = cpu_seconds(), time.monotonic()
    if case.get("subprocess"):
        done = run_cli(*args, cwd=tmp_path, timeout=WALL_LIMIT)
        code, stderr = done.returncode, done.stderr
    else:
        code, stderr = in_process(args, capsys)
    took, wall = cpu_seconds() - started, time.monotonic() - wall
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert code != 0 if "exit" not in case else code == case["exit"], (code, stderr)
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert case["expect"].lower() in lines[0].lower(), lines[0]
    assert took < LIMIT, f"took {took:.1f} s of CPU time"
    assert wall < WALL_LIMIT, f"took {wall:.1f} s of wall time"
    assert digest(folder) == before, "the case changed files in its folder"


def test_the_corpus_is_not_empty() -> None:
    assert len(cases()) >= 10
