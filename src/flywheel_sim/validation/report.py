"""What the model tests found: one :class:`TestResult` per test, each with its findings, in a
:class:`TestReport` that prints as a table and serialises to JSON."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "note"]  # note: reported, never failed (loop sanity)


def count(n: int, one: str, many: str) -> str:
    """``1 inconsistency``, ``2 inconsistencies``."""
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: the case that showed it (a parameter at an extreme, a stock knocked out,
    a step size) and what happened, where and when."""

    case: str
    what: str
    variable: str = ""
    time: float | None = None

    def __str__(self) -> str:
        when = f" at {self.time:g}" if self.time is not None else ""
        where = f" ({self.variable}{when})" if self.variable else when
        return f"{self.case}: {self.what}{where}"

    @property
    def place(self) -> str:
        """What happened and where, for a table's last column."""
        when = f" at {self.time:g}" if self.time is not None else ""
        return f"{self.what}: {self.variable}{when}" if self.variable else self.what


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one test: ``status``, a one-line ``summary``, the worst case and where it
    happened, every finding, how many runs it took and how long."""

    __test__ = False  # not a pytest test class

    test: str
    status: Status
    summary: str
    findings: tuple[Finding, ...] = ()
    worst: str = ""
    where: str = ""
    runs: int = 0
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def found(
        cls,
        test: str,
        summary: str,
        findings: list[Finding] | tuple[Finding, ...],
        *,
        start: float,
        failing: bool = True,
        runs: int = 0,
        details: dict[str, Any] | None = None,
    ) -> TestResult:
        """The result of a test that found ``findings`` (it fails on any, or only notes them
        when not ``failing``); the first finding is the worst case; timed from ``start``."""
        import time

        status: Status = ("fail" if failing else "note") if findings else "pass"
        first = findings[0] if findings else None
        return cls(
            test,
            status,
            summary,
            tuple(findings),
            worst=first.case if first else "",
            where=first.place if first else "",
            runs=runs,
            seconds=time.perf_counter() - start,
            details=details or {},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "status": self.status,
            "summary": self.summary,
            "worst": self.worst,
            "where": self.where,
            "runs": self.runs,
            "seconds": round(self.seconds, 3),
            "findings": [
                {"case": f.case, "what": f.what, "variable": f.variable, "time": f.time}
                for f in self.findings
            ],
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class TestReport:
    """Every test's result for one model. ``ok`` is False when any test failed."""

    __test__ = False

    model: str
    results: tuple[TestResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.status != "fail" for r in self.results)

    @property
    def failed(self) -> tuple[TestResult, ...]:
        return tuple(r for r in self.results if r.status == "fail")

    def result(self, test: str) -> TestResult:
        for r in self.results:
            if r.test == test:
                return r
        raise KeyError(f"no test called '{test}' (tests: {', '.join(self.tests)})")

    @property
    def tests(self) -> tuple[str, ...]:
        return tuple(r.test for r in self.results)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(test, result, summary, worst case, where) for a table."""
        return [(r.test, r.status.upper(), r.summary, r.worst, r.where) for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "results": [r.to_dict() for r in self.results],
        }

    def __str__(self) -> str:
        lines = [f"model tests of {self.model}: {'passed' if self.ok else 'FAILED'}"]
        for test, status, summary, worst, where in self.rows():
            tail = "; ".join(x for x in (worst, where) if x)
            lines.append(f"  {status:<4} {test}: {summary}" + (f" — {tail}" if tail else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "note")}
        return (
            f"TestReport({self.model!r}: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['note']} noted, {self.seconds:.1f} s)"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows()
        )
        head = "".join(f"<th>{h}</th>" for h in ("test", "result", "summary", "worst", "where"))
        title = html.escape(f"model tests of {self.model}: {'passed' if self.ok else 'FAILED'}")
        return f"<p><b>{title}</b></p><table><tr>{head}</tr>{rows}</table>"
