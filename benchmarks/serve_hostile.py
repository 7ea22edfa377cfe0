"""Hostile uploads to a running dashboard, and what everyone else sees meanwhile (issue 18
item 1).

Starts ``flywheel serve logistic`` on a free port and uploads, as the page does (a POST to
``/_dash-update-component`` with the page's session id):

- ``dt: 1e-9`` over a million time units (a 90-byte model, 1e15 steps), saved every step and
  saved once: refused by the size limit (max_cells, even raised to 1e13 here);
- a billion-step run within that raised limit (``--max-cells 1e13``), so that only the time
  budget stops it: cancelled by the engine's check when the dashboard's live-run budget
  (``--run-seconds``) is spent;

while another thread loads the page's layout every 0.2 s. Records each upload's answer and
wall time, and the latency of the other requests during it. Target: each hostile upload is
answered with a one-line error within its budget plus a second, and no other request waits
more than a second. Writes benchmarks/results/serve_hostile.json.

    python benchmarks/serve_hostile.py [--run-seconds 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HOSTILE = "name: h\ntime: {start: 0, stop: 1000000, dt: 1e-9}\nstocks:\n  x: {initial: 1}\n"
SAVED_ONCE = HOSTILE.replace("dt: 1e-9", "dt: 1e-9, save_step: 1000000")
LONG = "name: long\ntime: {start: 0, stop: 1000, dt: 1e-6, save_step: 1000}\nstocks:\n  x: {initial: 1, inflows: [f]}\nflows:\n  f: {equation: 0.001 * x}\n"  # noqa: E501


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 60) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return bytes(answer.read())


def post(url: str, body: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        out: dict[str, Any] = json.loads(answer.read())
        return out


def session_of(layout: Any) -> str:
    if isinstance(layout, dict):
        props = layout.get("props", {})
        if isinstance(props, dict) and props.get("id") == "session":
            return str(props["data"])
        items = list(layout.values())
    elif isinstance(layout, list):
        items = layout
    else:
        return ""
    for item in items:
        found = session_of(item)
        if found:
            return found
    return ""


def upload_body(key: str, session: str, filename: str, text: str) -> dict[str, Any]:
    outputs = [dict(zip(("id", "property"), p.split(".", 1), strict=True))
               for p in key.strip(".").split("...")]  # fmt: skip
    contents = "data:application/octet-stream;base64," + base64.b64encode(text.encode()).decode()
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": "upload", "property": "contents", "value": contents}],
        "state": [
            {"id": "upload", "property": "filename", "value": filename},
            {"id": "session", "property": "data", "value": session},
        ],
        "changedPropIds": ["upload.contents"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-seconds", type=float, default=5.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "flywheel_sim.cli", "serve", "logistic", "--port", str(port),
         "--run-seconds", str(args.run_seconds), "--max-cells", str(10**13)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                get(base + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        deps = json.loads(get(base + "/_dash-dependencies"))
        key = next(d["output"] for d in deps if "model.options" in d["output"])
        session = session_of(json.loads(get(base + "/_dash-layout")))
        get(base + "/_dash-layout")
        results = []
        for name, text, budget in (
            ("dt 1e-9 to 1e6 (1e15 steps), saved every step: over max_cells", HOSTILE, None),
            ("dt 1e-9 to 1e6 (1e15 steps), saved once: over max_cells", SAVED_ONCE, None),
            ("1e9 steps of growth within max_cells: the time budget", LONG, args.run_seconds),
        ):
            latencies: list[float] = []
            done = threading.Event()

            def others(latencies: list[float] = latencies, done: threading.Event = done) -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    get(base + "/_dash-layout")
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.2)

            watcher = threading.Thread(target=others, daemon=True)
            watcher.start()
            started = time.perf_counter()
            answer = post(base + "/_dash-update-component",
                          upload_body(key, session, "h.yaml", text))  # fmt: skip
            took = time.perf_counter() - started
            done.set()
            watcher.join()
            error = answer["response"]["error"]
            results.append({
                "upload": name,
                "answer": error["children"],
                "refused": error["hidden"] is False,
                "seconds": round(took, 3),
                "budget_seconds": budget,
                "other_requests": len(latencies),
                "other_max_seconds": round(max(latencies, default=0.0), 3),
            })  # fmt: skip
            print(json.dumps(results[-1]))
    finally:
        server.terminate()
        server.wait(timeout=20)
    out = HERE / "results" / "serve_hostile.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"run_seconds": args.run_seconds, "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
