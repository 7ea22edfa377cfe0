"""`flywheel market`: summary table, chart, run store, scenarios and errors."""

from __future__ import annotations

from pathlib import Path

import flywheel_sim as fs
from conftest import run_cli


def test_market_command_prints_draws_and_stores(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    done = run_cli(
        "market",
        "--customers",
        "800",
        "--sellers",
        "40",
        "--months",
        "30",
        "--set",
        "marketplace_start=3",
        "-s",
        "reinvest",
        "-s",
        "first_party_only",
        cwd=tmp_path,
        store=store,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for word in ("customers", "selection", "hhi", "top_result_share", "first_party_only"):
        assert word in out
    assert (tmp_path / "out" / "market-reinvest-first_party_only.png").stat().st_size > 1000
    batches = fs.RunStore(store).batches()
    assert set(batches["scenario"]) == {"reinvest", "first_party_only"}
    assert set(batches["kind"]) == {"market"}
    first = int(batches["id"].min())
    loaded = fs.RunStore(store).load(first)
    assert loaded.sizes["time"] == 30 and "customers" in loaded


def test_market_command_runs_several_seeds(tmp_path: Path) -> None:
    done = run_cli(
        "market",
        "--customers",
        "600",
        "--sellers",
        "30",
        "--months",
        "12",
        "--runs",
        "2",
        "--no-store",
        "--plot",
        str(tmp_path / "m.svg"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "mean ± sd of 2 runs" in " ".join(done.stdout.split())
    assert (tmp_path / "m.svg").exists()


def test_market_command_errors_are_one_line(tmp_path: Path) -> None:
    bad = run_cli("market", "--set", "comission_rate=0.1", "--no-store", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "did you mean 'commission_rate'" in bad.stderr
    unknown = run_cli("market", "-s", "harvets", "--no-store", cwd=tmp_path)
    assert unknown.returncode == 1 and "did you mean 'harvest'" in unknown.stderr
    size = run_cli("market", "--customers", "0", "--no-store", cwd=tmp_path)
    assert size.returncode == 1 and "customers must be a whole number" in size.stderr


def test_an_ensemble_gives_the_same_runs_on_every_executor() -> None:
    study = fs.load_market_study()
    chosen = [study.scenario("reinvest"), study.scenario("harvest_ramp")]
    kw = {"customers": 500, "sellers": 25, "months": 14}
    local = fs.market_ensemble(chosen, [4, 5], **kw)
    with fs.make_executor("processes", workers=2) as pool:
        spread = fs.market_ensemble(chosen, [4, 5], executor=pool, **kw)
    for name in ("reinvest", "harvest_ramp"):
        assert local[name].identical(spread[name])
        assert list(local[name].seed.values) == [4, 5]
    assert "reinvest_share@base" in local["harvest_ramp"].coords
