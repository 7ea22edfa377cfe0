"""``flywheel serve`` and ``flywheel report``: the dashboard needs the web extra; the report
needs only plotly and matplotlib, so it is written even where Dash cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

BLOCKER = '''
import sys


class NoDash:
    """Makes every import of Dash (and dash-cytoscape) fail, as if the web extra were absent."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dash", "dash_cytoscape"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None


sys.meta_path.insert(0, NoDash())
'''


def without_dash(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` with a sitecustomize on PYTHONPATH that blocks importing Dash."""
    folder = tmp_path / "blocker"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=600, env=env
    )


def test_the_report_is_written_without_dash(tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    blocked = without_dash(tmp_path, "-c", "import dash")
    assert blocked.returncode != 0 and "blocked" in blocked.stderr  # the blocker works
    out = tmp_path / "logistic.html"
    done = without_dash(
        tmp_path, "-m", "flywheel_sim.cli", "report", "logistic", "-o", str(out),
        "--samples", "20", "--no-calibrate",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("Plotly.newPlot(") >= 2


def test_serve_refuses_a_bad_port_and_warns_before_exposing() -> None:
    pytest.importorskip("dash")
    bad = run_cli("serve", "--port", "70000")
    assert bad.returncode == 1 and "--port must be between 1 and 65535" in bad.stderr
    missing = run_cli("serve", "no-such-model", "--port", "8")
    assert missing.returncode == 1 and "no model file or built-in model" in missing.stderr
    # an explicit --host that is not loopback serves, after a warning
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "flywheel_sim.cli", "serve", "logistic", "--host", "0.0.0.0",
         "--port", str(port)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        warning = process.stderr.readline()
        assert warning.startswith("warning: binding 0.0.0.0") and "no login" in warning
    finally:
        process.terminate()
        process.wait(timeout=20)
