"""``flywheel report``: one self-contained HTML file with every section, escaped model text,
notes instead of failures for what a model lacks, and the command's options and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("plotly")  # the report needs no Dash (tests/cli/test_cli_web.py)

import flywheel_sim as fs
from conftest import run_cli
from flywheel_sim.present.html_report import ReportOptions, build_report, write_report

QUICK = ReportOptions(samples=20, popsize=2, maxiter=2)
SECTIONS = ["diagram", "behaviour", "dominance", "diagnostics", "tests", "scenarios",
            "uncertainty", "calibration", "model"]  # fmt: skip


@pytest.fixture(scope="module")
def amazon(amazon_report: tuple[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    return amazon_report  # built once per session in tests/conftest.py, QUICK's settings


def test_the_amazon_report_has_every_section_and_is_self_contained(
    amazon: tuple[str, dict[str, float]],
) -> None:
    page, timings = amazon
    assert re.findall(r'<section id="(\w+)">', page) == SECTIONS
    assert list(timings) == SECTIONS
    # no file or address outside the page: plotly.js inline, no src= or stylesheet links
    assert not re.search(r"<script[^>]+src=", page) and "<link" not in page
    library_end = page.index("</script>")
    assert "plotly.js v" in page[:library_end]  # (map features of plotly.js name CDNs)
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", page[library_end:])
    charts = page.count("Plotly.newPlot(")
    assert charts == 6  # behaviour, dominance, leverage, scenarios, fan, calibration
    assert page.count("<svg") >= 1 and "causal-loop diagram" in page
    assert "Not available" not in page


def test_the_report_shows_history_citations_and_diagnostics(
    amazon: tuple[str, dict[str, float]],
) -> None:
    page, _ = amazon
    model = fs.load_model("amazon")
    seeds = [k.citation for e in model.elements for k in e.links if k.citation.startswith("Seed")]
    assert seeds and all(_escaped(c) in page for c in seeds)
    assert "observed (yearly total)" in page and "Key figures" in page
    # fitted to history the wheel turns without the early push, and the report says so
    assert "Critical push (push size)" in page and "no push_size up to 20000 makes" in page
    for name in ("harvest", "no_prime", "late_prime"):
        assert f"<td>{name}</td>" in page
    assert "mean absolute percentage error" in page
    # the model tests' section shows amazon's results as `flywheel test` does
    tests = page[page.index('<section id="tests">') : page.index('<section id="scenarios">')]
    assert "amazon passes every test" in tests and "all 16 checks kept" in tests


def _escaped(text: str) -> str:
    import html

    return html.escape(text)


def test_a_model_without_history_or_scenarios_gets_notes_not_failures() -> None:
    page, _ = build_report("logistic", QUICK)
    assert re.findall(r'<section id="(\w+)">', page) == SECTIONS
    notes = re.findall(r'<p class="missing">Not available for this model: ([^<]+)</p>', page)
    joined = " ".join(notes)
    assert "declares no diagnostics" in joined
    assert "no scenario file" in joined and "no parameter uncertainty" in joined
    assert "declares no history" in joined
    assert page.count("Plotly.newPlot(") >= 2  # behaviour and dominance still drawn


def test_model_text_is_escaped(tmp_path: Path) -> None:
    source = (Path(fs.__file__).parent / "library" / "models" / "logistic.yaml").read_text()
    hostile = source.replace(
        "description: >", 'description: >\n  <script>alert("x")</script> <img src=x onerror=1>', 1
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile)
    page, _ = build_report(path, QUICK)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page


def test_write_report_is_atomic_and_readable(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    with pytest.raises(fs.ModelError, match="no model file or built-in model"):
        write_report("no-such-model", target, QUICK)
    assert target.read_text() == "old"
    assert fs.write_report("logistic", target, samples=20, calibrate=False) == target
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert target.stat().st_mode & 0o044 == 0o044  # others may read a report meant to be shared


def test_report_options_are_checked() -> None:
    with pytest.raises(fs.ModelError, match="samples must be between"):
        ReportOptions(samples=5)
    with pytest.raises(fs.ModelError, match="needs popsize ≥ 2"):
        ReportOptions(popsize=1)


def test_the_report_command(tmp_path: Path) -> None:
    out = tmp_path / "logistic.html"
    done = run_cli("report", "logistic", "-o", str(out), "--samples", "20", "--no-calibrate")
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout.replace("\n", "")
    assert "calibration was switched off" in out.read_text()
    bad = run_cli("report", "logistic", "-o", str(out), "--samples", "3")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "samples must be between 10 and 100000" in bad.stderr
