"""The summary table ``flywheel run`` prints: one row per element, but bounded.

A model with a 300,000-element array printed 900,000 rows through rich and took over ten
minutes (found while measuring memory for the hardening work); the table now shows the first
elements of each array and counts the rest, and stops after a bounded number of rows."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

import flywheel_sim as fs
from conftest import model_from

ARRAYED = """\
name: wide
time: {start: 0, stop: 2, dt: 1}
dimensions: {d: %d}
parameters:
  p: {dims: [d], default: 0.5}
stocks:
  s: {dims: [d], initial: 1, inflows: [f]}
flows:
  f: {dims: [d], equation: p * s}
"""


def text_of(table: object) -> str:
    console = Console(file=io.StringIO(), width=120)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_each_element_is_a_row_up_to_the_cap_then_counted() -> None:
    from flywheel_sim.present.tables import summary_table

    result = fs.simulate(model_from(ARRAYED % 40))
    text = text_of(summary_table(result, per_variable=5))
    for name in ("s", "f"):
        assert f"{name}[5]" in text and f"{name}[6]" not in text
        assert f"{name}[…]" in text
    assert text.count("35 more elements") == 2
    # the values are each element's own: s[1] goes 1 -> 1.5 -> 2.25
    row = next(line for line in text.splitlines() if "s[1]" in line)
    assert "2.25" in row and "1.5" not in row.split("s[1]")[0]


def test_small_arrays_are_shown_whole() -> None:
    from flywheel_sim.present.tables import summary_table

    text = text_of(summary_table(fs.simulate(model_from(ARRAYED % 3))))
    assert "s[3]" in text and "more element" not in text


def test_the_table_stops_after_its_row_budget() -> None:
    from flywheel_sim.present.tables import summary_table

    lines = ["name: many", "time: {start: 0, stop: 1, dt: 1}", "auxiliaries:"]
    lines += [f"  a{i}: {{equation: {i}}}" for i in range(30)]
    result = fs.simulate(model_from("\n".join(lines) + "\n"))
    text = text_of(summary_table(result, rows=10))
    assert "a9 " in text and "a10 " not in text
    assert "20 more variables" in text


def test_arrayed_rows_match_the_data() -> None:
    """Two dimensions: rows follow C order over the element pairs, each with its own values."""
    from flywheel_sim.present.tables import summary_table

    model = model_from(
        "name: two\ntime: {start: 0, stop: 1, dt: 1}\ndimensions: {a: [x, y], b: 2}\n"
        "parameters:\n  k: {dims: [a, b], default: "
        '{"x,1": 1, "x,2": 2, "y,1": 3, "y,2": 4}}\n'
        "auxiliaries:\n  v: {dims: [a, b], equation: k * 1}\n"
    )
    result = fs.simulate(model)
    text = text_of(summary_table(result))
    rows = [line for line in text.splitlines() if "v[" in line]
    assert [r.split()[1] for r in rows] == ["v[x,1]", "v[x,2]", "v[y,1]", "v[y,2]"]
    finals = [float(r.split("│")[4]) for r in rows]
    assert np.allclose(finals, [1, 2, 3, 4])


def test_initial_and_final_are_the_first_and_last_times() -> None:
    """A scalar stock going 1 -> 2 -> 3 shows initial 1 and final 3 (a slip once showed the
    mean of the series in both)."""
    from flywheel_sim.present.tables import summary_table

    model = model_from(
        "name: grow\ntime: {start: 0, stop: 2, dt: 1}\nparameters:\n  k: {default: 1}\n"
        "stocks:\n  s: {initial: 1, inflows: [f]}\nflows:\n  f: {equation: k}\n"
    )
    for result in (fs.simulate(model), fs.simulate(model, {"k": [1.0, 1.0]})):
        row = next(line for line in text_of(summary_table(result)).splitlines() if " s " in line)
        cells = [c.strip() for c in row.split("│")[1:-1]]
        assert cells[2:] == ["1", "3", "1", "3"], cells
