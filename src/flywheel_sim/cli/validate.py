"""``flywheel test``: the reviewer's model tests (see docs/model-tests.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from flywheel_sim.cli.common import ModelArg, console, load


def test(
    model: ModelArg = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Write the whole report as JSON (for CI).")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Run only this test (repeatable): units, extreme conditions..."
        ),
    ] = None,
) -> None:
    """Run the model tests a system-dynamics reviewer runs: units, extreme conditions, bounds,
    integration error, reality checks and loop sanity. Exits with 1 when a test fails."""
    from flywheel_sim.present.validation import finding_lines, test_table
    from flywheel_sim.validation.suite import test_model

    report = test_model(load(model), tests=only)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        console.print(test_table(report))
        for line in finding_lines(report):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


test.__test__ = False  # type: ignore[attr-defined]  # pytest: a command, not a test
