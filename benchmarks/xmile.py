"""XMILE import speed: flywheel-sim's reader beside PySD's ``pysd.read_xmile`` on SIR.xmile.

Writes benchmarks/results/xmile.json. Target (issue 8): loading is at least 10x faster than
PySD's ``read_xmile`` on the same file, measured side by side.

What is timed (wall clock):

- ours, "load": ``load_model(path)``: parse the XML, translate every equation, build and
  validate the Model;
- ours, "ready": load plus ``compile_model`` (the Program the engine runs), which is what
  ``read_xmile`` delivers (a model ready to run). The parser's and compiler's caches are
  cleared before every call, so nothing is reused between calls;
- PySD: ``read_xmile`` (parse, write the translated Python file into a temporary folder,
  import it, initialise), via benchmarks/peers.py.

The machine is shared, so the two are measured in alternating rounds and the best of each is
reported, with the ratio of the bests and the ratio within every round.

A second pair of figures is what a user waits for in a fresh process: importing the library
and loading the file once (``import flywheel_sim; load_model`` against ``import pysd;
read_xmile``), timed inside a new interpreter (its own start-up excluded), best of 3.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import flywheel_sim as fs  # noqa: E402
from flywheel_sim.spec.parser import _parse  # noqa: E402
from peers import MODEL_PATH, peer_versions, pysd_load_seconds  # noqa: E402

ROUNDS = 7
OURS_PER_ROUND = 20


def ours_seconds(path: Path, *, compile_too: bool) -> float:
    """Best of OURS_PER_ROUND cold loads (caches cleared before each)."""
    best = float("inf")
    for _ in range(OURS_PER_ROUND):
        _parse.cache_clear()
        fs.compile_model.cache_clear()
        start = time.perf_counter()
        model = fs.load_model(path)
        if compile_too:
            fs.compile_model(model)
        best = min(best, time.perf_counter() - start)
    return best


COLD_OURS = """
import time; t = time.perf_counter()
import flywheel_sim; flywheel_sim.load_model({path!r})
print(time.perf_counter() - t)
"""
COLD_PYSD = """
import time, warnings; warnings.simplefilter("ignore"); t = time.perf_counter()
import pysd; pysd.read_xmile({path!r})
print(time.perf_counter() - t)
"""


def cold_seconds(template: str, path: Path) -> float:
    """Import plus one load in a fresh interpreter (PySD writes its .py into a temp folder)."""
    with tempfile.TemporaryDirectory(prefix="xmile-bench-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(path.read_bytes())
        done = subprocess.run(
            [sys.executable, "-c", template.format(path=str(copy))],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    path = MODEL_PATH
    fs.simulate(fs.load_model(path))  # warm-up: imports, numba load
    pysd_load_seconds(path, 1)  # warm-up: PySD's translator imports
    rounds = []
    for _ in range(ROUNDS):
        load = ours_seconds(path, compile_too=False)
        ready = ours_seconds(path, compile_too=True)
        pysd = pysd_load_seconds(path, 1)
        rounds.append({"ours_load": load, "ours_ready": ready, "pysd_read_xmile": pysd})
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}
    cold = {"ours": float("inf"), "pysd": float("inf")}
    for _ in range(3):
        cold["ours"] = min(cold["ours"], cold_seconds(COLD_OURS, path))
        cold["pysd"] = min(cold["pysd"], cold_seconds(COLD_PYSD, path))
    figures = {
        "ours_load_seconds": best["ours_load"],
        "ours_load_and_compile_seconds": best["ours_ready"],
        "pysd_read_xmile_seconds": best["pysd_read_xmile"],
        "speedup_load": best["pysd_read_xmile"] / best["ours_load"],
        "speedup_load_and_compile": best["pysd_read_xmile"] / best["ours_ready"],
        "fresh_process_ours_import_and_load_seconds": cold["ours"],
        "fresh_process_pysd_import_and_read_xmile_seconds": cold["pysd"],
        "speedup_fresh_process": cold["pysd"] / cold["ours"],
        "speedup_load_and_compile_per_round": [
            round(r["pysd_read_xmile"] / r["ours_ready"], 1) for r in rounds
        ],
    }
    report = {
        "model": str(path.relative_to(HERE.parent)),
        "rounds": ROUNDS,
        "peers": peer_versions(),
        "figures": figures,
        "targets": {"speedup_min": 10.0},
        "met": figures["speedup_load_and_compile"] >= 10.0,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "xmile.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
