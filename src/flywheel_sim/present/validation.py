"""The model tests and the unit check as the terminal shows them: a table of the tests and the
findings of each failed one, and the unit check's one line per inconsistency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from flywheel_sim.validation.report import count

if TYPE_CHECKING:
    from flywheel_sim.compile.units import UnitReport
    from flywheel_sim.validation.report import TestReport

SHOWN = 10  # findings listed per test; the JSON report has them all
STYLE = {"pass": "green", "fail": "bold red", "note": "yellow"}


def test_table(report: TestReport) -> Table:
    """One row per test: result, what it found, the worst case and where."""
    verdict = "passed" if report.ok else "FAILED"
    table = Table(
        title=escape(f"model tests of {report.model}: {verdict} ({report.seconds:.1f} s)"),
        show_lines=False,
    )
    for column in ("test", "result", "found", "worst case", "where"):
        table.add_column(column, overflow="fold")
    for test, status, summary, worst, where in report.rows():
        style = STYLE[status.lower()]
        table.add_row(
            escape(test), f"[{style}]{status}[/]", escape(summary), escape(worst), escape(where)
        )
    return table


def finding_lines(report: TestReport, shown: int = SHOWN) -> list[str]:
    """The findings of every test that did not pass, ``shown`` per test at most."""
    lines = []
    for result in report.results:
        if result.status == "pass" or not result.findings:
            continue
        lines.append(f"{result.test}:")
        lines += [f"  {finding}" for finding in result.findings[:shown]]
        if len(result.findings) > shown:
            lines.append(f"  ... and {len(result.findings) - shown} more (--json lists them all)")
    return lines


def unit_lines(report: UnitReport) -> list[str]:
    """The unit check as ``flywheel check`` prints it: a count, then one line per issue."""
    head = (
        f"units: {count(len(report.issues), 'inconsistency', 'inconsistencies')} in "
        f"{report.checked} equations"
        if report.issues
        else f"units: consistent ({report.checked} equations)"
    )
    if report.undeclared:
        head += (
            f"; {count(len(report.undeclared), 'variable declares', 'variables declare')} "
            "no unit (not checked)"
        )
    return [head, *(f"  {issue}" for issue in report.issues)]


__all__ = ["finding_lines", "test_table", "unit_lines"]
