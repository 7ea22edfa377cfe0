"""Vensim .mdl import speed: flywheel-sim's ``load_model`` beside PySD's ``pysd.read_vensim``.

Writes benchmarks/results/mdl.json and prints a table. Target (issue 20): reading a
10,000-line .mdl takes well under a second (here: under 1 s, best fresh-process wall time).

Models: a generated 10,000-line model (benchmarks/mdl_generate.py: chained sectors of
subscripted stocks, flows, auxiliaries, lookups, SMOOTH/DELAY3, two-dimensional constants and a
sketch, written into a temporary folder) and two conformance cases, SIR and teacup
(tests/mdl). What is timed, wall clock and CPU (``time.process_time``), best and median:

- ours, in this process: ``load_model(path)`` ("load") and load plus ``compile_model``
  ("ready": what ``read_vensim`` delivers, a model ready to run), the equation parser's and the
  compiler's caches cleared before every call;
- PySD, in one process of the peers' interpreter (``--peers-python``): ``read_vensim(path)``
  (translate, write the .py beside a copy of the model in a temporary folder, import it,
  initialise), after an untimed read of teacup that imports PySD's translator;
- each, in fresh processes (alternating ours and PySD's, its own start-up excluded): the import
  of the library and one load, with byte-code caches as an installed package has them (a cache
  folder of the benchmark's own, filled by a warm-up round; see benchmarks/xmile.py).

Where our reader cannot read a model (before it exists, or a construct it refuses) ours is
reported "not available" with the error, and PySD is still timed. PySD takes tens of seconds
on the large model, so it gets fewer rounds there (``--pysd-rounds``). The load average at the
start and end is recorded (the machine may be shared).

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/mdl.py --peers-python peers-venv/bin/python

where the peers venv is ``python3 -m venv peers-venv; peers-venv/bin/pip install pysd``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import flywheel_sim as fs  # noqa: E402
from flywheel_sim.compile import PROGRAMS  # noqa: E402
from flywheel_sim.spec.parser import _parse  # noqa: E402
from mdl_generate import generate  # noqa: E402
from xmile import load_average  # noqa: E402

CASES = HERE.parent / "tests" / "mdl"
SMALL = {
    "SIR": CASES / "samples__SIR__SIR" / "SIR.mdl",
    "teacup": CASES / "samples__teacup__teacup" / "teacup.mdl",
}
TARGET_SECONDS = 1.0
TIMEOUT = 600

COLD_OURS = """
import time; t = time.perf_counter(); c = time.process_time()
import flywheel_sim
try:
    flywheel_sim.load_model({path!r})
except Exception as exc:
    print("ERROR", type(exc).__name__, str(exc).replace("\\n", " ")); raise SystemExit
print(time.perf_counter() - t, time.process_time() - c)
"""
COLD_PYSD = """
import time, warnings; warnings.simplefilter("ignore")
t = time.perf_counter(); c = time.process_time()
import pysd; pysd.read_vensim({path!r})
print(time.perf_counter() - t, time.process_time() - c)
"""
WARM_PYSD = """
import json, time, warnings; warnings.simplefilter("ignore")
import pysd
pysd.read_vensim({warmup!r})
times = []
for _ in range({rounds}):
    t = time.perf_counter(); c = time.process_time()
    pysd.read_vensim({path!r})
    times.append([time.perf_counter() - t, time.process_time() - c])
print(json.dumps(times))
"""


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]


def summary(samples: list[list[float]]) -> dict[str, Any]:
    """Best and median of (wall, CPU) samples."""
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "rounds": len(samples),
        "best_wall_seconds": min(walls),
        "median_wall_seconds": statistics.median(walls),
        "best_cpu_seconds": min(cpus),
        "median_cpu_seconds": statistics.median(cpus),
    }


def ours_unavailable(path: Path) -> str | None:
    """Why our reader cannot read ``path`` (one line), or None when it can."""
    try:
        fs.load_model(path)
    except Exception as exc:  # the reader may not exist yet, or refuse a construct
        return one_line(exc)
    return None


def ours_in_process(path: Path, rounds: int, *, compile_too: bool) -> list[list[float]]:
    samples = []
    for _ in range(rounds):
        _parse.cache_clear()
        PROGRAMS.clear()
        start, cpu = time.perf_counter(), time.process_time()
        model = fs.load_model(path)
        if compile_too:
            fs.compile_model(model)
        samples.append([time.perf_counter() - start, time.process_time() - cpu])
    return samples


def run_child(python: str, code: str, caches: Path) -> str:
    """Run ``code`` in a fresh interpreter; its last line of output. Byte-code caches go
    under ``caches`` (also where the shell sets PYTHONDONTWRITEBYTECODE)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(caches)
    done = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, env=env, timeout=TIMEOUT
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise RuntimeError(lines[-1])
    return done.stdout.strip().splitlines()[-1]


def pysd_copy(path: Path, folder: Path) -> Path:
    """A copy of the model (and the files beside it) where PySD may write its .py file."""
    target = folder / path.stem
    shutil.copytree(path.parent, target, dirs_exist_ok=True)
    return target / path.name


def pysd_in_process(path: Path, rounds: int, python: str, work: Path) -> list[list[float]]:
    code = WARM_PYSD.format(
        warmup=str(pysd_copy(SMALL["teacup"], work / "warmup")),
        path=str(pysd_copy(path, work / "warm")),
        rounds=rounds,
    )
    samples: list[list[float]] = json.loads(run_child(python, code, work / "pycache"))
    return samples


def fresh_rounds(
    path: Path, rounds: dict[str, int], python: str, work: Path
) -> dict[str, list[list[float]]]:
    """Alternating fresh processes of ours and PySD's, after one untimed warm-up of each (its
    byte-code caches); a tool with 0 rounds is left out."""
    codes = {
        "ours": (sys.executable, COLD_OURS.format(path=str(path))),
        "pysd": (python, COLD_PYSD.format(path=str(pysd_copy(path, work / "cold")))),
    }
    tools = [tool for tool in codes if rounds.get(tool)]
    out: dict[str, list[list[float]]] = {tool: [] for tool in tools}
    for index in range(max((rounds[tool] for tool in tools), default=0) + 1):
        for tool in tools:
            if index > rounds[tool]:
                continue
            line = run_child(*codes[tool], work / "pycache")
            if line.startswith("ERROR"):
                raise RuntimeError(line[6:])
            if index:  # round 0 is the warm-up
                out[tool].append([float(x) for x in line.split()])
    return out


def measure(path: Path, rounds: int, pysd_rounds: int, python: str, work: Path) -> dict[str, Any]:
    """Every figure for one model."""
    text = path.read_text(encoding="utf-8", errors="replace")
    entry: dict[str, Any] = {"lines": text.count("\n"), "bytes": path.stat().st_size}
    why = ours_unavailable(path)
    if why is None:
        entry["ours_load_in_process"] = summary(ours_in_process(path, rounds, compile_too=False))
        entry["ours_load_and_compile_in_process"] = summary(
            ours_in_process(path, rounds, compile_too=True)
        )
    else:
        entry["ours"] = f"not available: {why}"
    try:
        entry["pysd_read_vensim_in_process"] = summary(
            pysd_in_process(path, pysd_rounds, python, work)
        )
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        entry["pysd"] = f"not available: {one_line(exc)}"
    wanted = {"ours": rounds if why is None else 0, "pysd": 0 if "pysd" in entry else pysd_rounds}
    try:
        for tool, samples in fresh_rounds(path, wanted, python, work).items():
            entry[f"{tool}_fresh_process"] = summary(samples)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        entry["fresh_process_error"] = one_line(exc)
    ours, pysd = entry.get("ours_fresh_process"), entry.get("pysd_fresh_process")
    if ours and pysd:
        entry["speedup_fresh_process"] = pysd["best_wall_seconds"] / ours["best_wall_seconds"]
        entry["speedup_fresh_process_cpu"] = pysd["best_cpu_seconds"] / ours["best_cpu_seconds"]
    if "ours_load_and_compile_in_process" in entry and "pysd_read_vensim_in_process" in entry:
        entry["speedup_in_process_ready"] = (
            entry["pysd_read_vensim_in_process"]["best_wall_seconds"]
            / entry["ours_load_and_compile_in_process"]["best_wall_seconds"]
        )
    return entry


def cell(entry: dict[str, Any], key: str, fallback: str) -> str:
    figures = entry.get(key)
    if not figures:
        return "not available" if fallback in entry else "-"
    wall = f"{figures['best_wall_seconds']:.3f} / {figures['median_wall_seconds']:.3f}"
    return f"{wall} ({figures['best_cpu_seconds']:.3f} CPU)"


def table(models: dict[str, dict[str, Any]]) -> str:
    header = ["model", "lines", "ours load", "ours ready", "ours fresh", "PySD", "PySD fresh"]
    rows = [" | ".join(header), "(seconds: best / median wall time (best CPU time))"]
    for name, entry in models.items():
        cells = [
            name,
            str(entry["lines"]),
            cell(entry, "ours_load_in_process", "ours"),
            cell(entry, "ours_load_and_compile_in_process", "ours"),
            cell(entry, "ours_fresh_process", "ours"),
            cell(entry, "pysd_read_vensim_in_process", "pysd"),
            cell(entry, "pysd_fresh_process", "pysd"),
        ]
        rows.append(" | ".join(cells))
        rows += [f"  {name}: {entry[k]}" for k in ("ours", "pysd") if k in entry]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers-python", default=sys.executable)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7, help="ours, and PySD on small models")
    parser.add_argument("--pysd-rounds", type=int, default=2, help="PySD on the large model")
    args = parser.parse_args()
    start = load_average()
    models: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="mdl-bench-") as tmp:
        work = Path(tmp)
        big = work / "generated" / f"generated_{args.lines}.mdl"
        big.parent.mkdir()
        big.write_text(generate(args.lines), encoding="utf-8")
        paths = {big.stem: big, **SMALL}
        for name, path in paths.items():
            pysd_rounds = args.pysd_rounds if path == big else args.rounds
            models[name] = measure(path, args.rounds, pysd_rounds, args.peers_python, work)
    entry = models[big.stem]
    best = entry.get("ours_fresh_process", {}).get("best_wall_seconds")
    report = {
        "peers_python": args.peers_python,
        "load_average_start_end": [start, load_average()],
        "target": f"{big.stem}: a fresh process imports and loads it in under {TARGET_SECONDS} s",
        "met": None if best is None else best < TARGET_SECONDS,
        "models": models,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "mdl.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(models))
    print(f"target met: {report['met']} ({report['target']})")


if __name__ == "__main__":
    main()
