"""The market's summary table and chart (``flywheel market``'s output)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from flywheel_sim.market import MarketSettings
from flywheel_sim.market.session import MarketPlan, market_scenarios, run_plan
from flywheel_sim.present.market import SUMMARY, final, market_chart, market_summary


def test_summary_and_chart_show_every_scenario(tmp_path: Path) -> None:
    chosen = market_scenarios(["reinvest", "harvest"], {"marketplace_start": 1}, {})
    size = MarketSettings(customers=400, sellers=12, months=6, backend="numpy")
    plan = MarketPlan(chosen, size, seed=1, runs=2)
    results = run_plan(plan)
    console = Console(record=True, width=200)
    for part in market_summary(results, plan):
        console.print(part)
    text = console.export_text()
    assert "market: 400 people, 12 potential sellers, month 6 (mean ± sd of 2 runs)" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert set(rows) == {*SUMMARY, "top_result_share"}
    customers = final(results["reinvest"], "customers")
    assert customers.shape == (2,)
    mean, sd = f"{customers.mean():.4g}", f"{customers.std(ddof=1):.4g}"
    assert f"{mean} ± {sd}" in rows["customers"]  # the first scenario: no change shown
    assert rows["customers"].count("%)") == 1  # the second against the first
    for item in chosen:
        assert f"  {item.name}: {item.description}" in text
    top = final(results["harvest"], "top_result_share")
    np.testing.assert_array_equal(top, results["harvest"].sales_share_by_position.values[:, -1, 0])
    path = market_chart(results, tmp_path / "market.png")
    assert path.stat().st_size > 1000
