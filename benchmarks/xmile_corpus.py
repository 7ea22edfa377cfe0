"""The XMILE corpus (tests/xmile_corpus) run by flywheel-sim, pysimlin and PySD.

For each tool and each model: did it run, and did its result agree with the model's reference
(the shipped expected output, or pysimlin's where none is shipped; see
tests/xmile_corpus/SOURCES.md), with the tolerances of the conformance test (relative 1e-3,
absolute 1e-5). Writes benchmarks/results/xmile_corpus.json and prints a table.

- ours: exactly what tests/io/test_xmile_corpus.py judges (its ``outcome``);
- peers: each runs in a child interpreter (``--peers-python``; default this one), which writes
  every result table to a temporary folder; this process compares them with the references,
  matching names as XMILE does (case-insensitive, spaces and underscores equivalent; pysimlin's
  module separator ``·`` read as ``.``). pysimlin: ``simlin.load(path).run(analyze_loops=
  False).results``; PySD: ``pysd.read_xmile`` on a copy in a temporary folder, then ``run()``.
  A model that takes a peer longer than 60 s is counted as an error.

"agreed (shipped)" counts agreement with shipped outputs only: for the models whose reference
is pysimlin's own run, pysimlin's agreement is not independent.

Usage (the models are not in the repository: give their folder)::

    export FLYWHEEL_XMILE_CORPUS=/path/to/xmile_corpus     # or shared/xmile_corpus beside
    PYTHONPATH=src .venv/bin/python benchmarks/xmile_corpus.py \\
        --peers-python /path/to/peers-venv/bin/python

where the peers venv is ``python3 -m venv peers-venv; peers-venv/bin/pip install pysd
pysimlin`` (kept apart from the project's venv). Without ``--peers-python`` the peers run in
this interpreter and a tool that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "io"))

PEERS = ("pysimlin", "pysd")
CONTROL = {"initial_time", "final_time", "time_step", "saveper", "dt", "time"}
TIMEOUT = 60


# ------------------------------------------------------------------ child: run one peer


def run_peer(tool: str, corpus: Path, out: Path) -> None:
    """In the child interpreter: run every model with ``tool``; write ``<id>.csv`` or
    ``<id>.err``. Imports nothing from flywheel_sim."""
    import shutil
    import signal
    import warnings

    warnings.simplefilter("ignore")

    def alarm(*_: Any) -> None:
        raise TimeoutError(f"over {TIMEOUT} s")

    signal.signal(signal.SIGALRM, alarm)
    try:
        module = __import__("simlin" if tool == "pysimlin" else "pysd")
    except ImportError as exc:
        (out / "_not_installed").write_text(str(exc))
        return
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        path = next(p for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES)
        signal.alarm(TIMEOUT)
        try:
            if tool == "pysimlin":
                frame = module.load(str(path)).run(analyze_loops=False).results
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    copy = Path(tmp) / path.name
                    shutil.copy(path, copy)
                    frame = module.read_xmile(str(copy)).run()
            frame.index.name = "time"
            frame.to_csv(out / f"{folder.name}.csv")
        except BaseException as exc:
            text = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
            (out / f"{folder.name}.err").write_text(text)
        finally:
            signal.alarm(0)


SUFFIXES = (".xmile", ".stmx", ".itmx")


# ------------------------------------------------------------------ parent: compare


def key(name: str) -> str:
    """A column name in canonical form: ``Name[a, B]`` -> ``name[a,b]``."""
    from flywheel_sim.spec.names import canonical

    name = name.replace("·", ".")
    match = re.fullmatch(r"(.*?)\[(.*)\]", name.strip())
    base, subs = (match.group(1), match.group(2).split(",")) if match else (name, [])
    # a module's variable: each dotted part on its own ('a."module/output"')
    parts = re.findall(r'"[^"]*"|[^."]+', base)
    text = ".".join(canonical(p) for p in parts) if parts else canonical(base)
    return f"{text}[{','.join(canonical(s) for s in subs)}]" if subs else text


def table_agrees(table_path: Path, reference: Path) -> bool:
    import numpy as np
    import pandas as pd
    from test_xmile_conformance import ATOL, RTOL, read_expected

    got = pd.read_csv(table_path)
    columns = {key(c): c for c in got.columns}
    times = got[got.columns[0]].to_numpy(dtype=float)
    expected = read_expected(reference)
    time_col = expected.columns[0]
    for column in expected.columns[1:]:
        k = key(column)
        if k in CONTROL:
            continue
        if k not in columns:
            return False
        values = got[columns[k]].to_numpy(dtype=float)
        for t, want in zip(expected[time_col], expected[column], strict=True):
            if math.isnan(want):
                continue
            idx = np.flatnonzero(np.isclose(times, t, rtol=1e-6, atol=5e-4))
            if idx.size == 0 or not np.isclose(values[idx[0]], want, rtol=RTOL, atol=ATOL):
                return False
    return True


def judge_peer(tool: str, corpus: Path, python: str) -> dict[str, dict[str, Any]]:
    from test_xmile_corpus import references

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        subprocess.run(
            [python, __file__, "--child", tool, "--corpus", str(corpus), "--out", tmp],
            check=True,
        )
        seconds = time.perf_counter() - start
        if (out / "_not_installed").exists():
            return {}
        result = {}
        for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
            err = out / f"{folder.name}.err"
            if err.exists():
                result[folder.name] = {"status": "error", "detail": err.read_text()}
                continue
            refs = references(folder)
            agreed = [r for r in refs if table_agrees(out / f"{folder.name}.csv", r)]
            status = "agreed" if agreed else ("ran" if not refs else "disagreed")
            result[folder.name] = {
                "status": status,
                "reference": agreed[0].name if agreed else "",
            }
        result["_seconds"] = {"status": "", "detail": f"{seconds:.1f}"}
        return result


def judge_ours(corpus: Path) -> dict[str, dict[str, Any]]:
    from test_xmile_corpus import outcome

    result: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        try:
            got, detail = outcome(folder)
        except Exception as exc:  # a traceback in ours: counted, and shown
            got, detail = "crash", f"{type(exc).__name__}: {exc}"
        status = {"pass": "agreed", "misread": "disagreed", "refused": "refused"}.get(got, got)
        result[folder.name] = {"status": status, "detail": detail}
    result["_seconds"] = {"status": "", "detail": f"{time.perf_counter() - start:.1f}"}
    return result


def counts(result: dict[str, dict[str, Any]], corpus: Path) -> dict[str, int]:
    shipped = {p.name for p in corpus.iterdir() if p.is_dir() and any(p.glob("output*"))}
    rows = {k: v for k, v in result.items() if not k.startswith("_")}
    return {
        "models": len(rows),
        "ran": sum(v["status"] in ("agreed", "disagreed", "ran") for v in rows.values()),
        "agreed": sum(v["status"] == "agreed" for v in rows.values()),
        "agreed (shipped)": sum(v["status"] == "agreed" for k, v in rows.items() if k in shipped),
        "disagreed": sum(v["status"] == "disagreed" for v in rows.values()),
        "refused/errored": sum(v["status"] in ("refused", "error", "crash") for v in rows.values()),
        "shipped references": len(shipped),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--peers-python", default=sys.executable)
    parser.add_argument("--child", choices=PEERS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        run_peer(args.child, args.corpus, args.out)
        return
    from test_xmile_corpus import ROOT

    corpus = args.corpus or ROOT
    if corpus is None:
        sys.exit("no corpus: give --corpus or set FLYWHEEL_XMILE_CORPUS")
    results = {"flywheel-sim": judge_ours(corpus)}
    for tool in PEERS:
        judged = judge_peer(tool, corpus, args.peers_python)
        results[tool] = judged
    summary = {tool: counts(r, corpus) if r else None for tool, r in results.items()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "xmile_corpus.json").write_text(
        json.dumps({"summary": summary, "models": results}, indent=1)
    )
    header = ["tool", "models", "ran", "agreed", "agreed (shipped)", "disagreed"]
    header += ["refused/errored", "seconds"]
    print(" | ".join(header))
    for tool, row in summary.items():
        if row is None:
            print(f"{tool} | not installed")
            continue
        cells = [tool] + [str(row[h]) for h in header[1:-1]]
        print(" | ".join([*cells, results[tool]["_seconds"]["detail"]]))
    shipped = next(iter(summary.values()))
    print(f"({shipped['shipped references'] if shipped else 0} models ship an expected output)")


if __name__ == "__main__":
    main()
