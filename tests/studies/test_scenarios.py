"""Scenario files, outcomes, distributions and sampling designs, and the study commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import flywheel_sim as fs
from conftest import run_cli
from flywheel_sim.store.runstore import RunStore
from flywheel_sim.studies.outcomes import Outcome, parse_outcome, parse_outcomes
from flywheel_sim.studies.sampling import Distribution, parse_distribution, sample, uniforms
from flywheel_sim.studies.scenarios import load_study, loads_study, study_path

AMAZON_SCENARIOS = {
    "reinvest",
    "harvest",
    "no_marketplace",
    "no_selection_link",
    "no_prime",
    "late_prime",
    "underinvest_capacity",
}


def flywheel(*args: str, cwd: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, store=store)


# -- scenario files ------------------------------------------------------------------------------
def test_amazon_ships_its_scenarios() -> None:
    model = fs.load_model("amazon")
    study = load_study("amazon", model)
    assert set(study.scenarios) == AMAZON_SCENARIOS
    assert "net_sales@2024" in study.outcomes and len(study.uncertainty) >= 8
    harvest, base = study.scenario("harvest").apply(model)
    assert harvest.policies == {"reinvest_share": fs.Ramp(to=0.2, start=2005, end=2008)}
    assert base == {}
    late = study.scenario("late_prime").apply(model)
    assert late[1] == {"prime_start": 2012.0}
    assert study.scenario("baseline").apply(model) == (model, {})


def test_scenarios_change_the_outcomes_as_the_story_says() -> None:
    model = fs.load_model("amazon")
    study = load_study("amazon", model)
    sales = {}
    for name in AMAZON_SCENARIOS:
        applied, values = study.scenario(name).apply(model)
        result = fs.simulate(applied, values, variables=["net_sales"])
        sales[name] = float(parse_outcome("net_sales@2024", model).of(result)[0])
    base = sales["reinvest"]
    for name in ("harvest", "no_marketplace", "no_prime", "late_prime", "underinvest_capacity"):
        assert sales[name] < base, name
    assert sales["no_prime"] < sales["late_prime"]  # launching late beats never launching


def test_a_scenario_file_beside_a_model(tmp_path: Path) -> None:
    model_file = tmp_path / "shop.yaml"
    model_file.write_text(
        "name: shop\ntime: {start: 0, stop: 10, dt: 1}\n"
        "parameters:\n  rate: {default: 0.1, min: 0, max: 1}\n"
        "stocks:\n  x: {initial: 1, inflows: [gain]}\nflows:\n  gain: {equation: rate * x}\n"
    )
    (tmp_path / "prices.csv").write_text("t,rate\n0,0.1\n5,0.3\n")
    (tmp_path / "shop.scenarios.yaml").write_text(
        "outcomes: [x@end, x@5, gain@max]\n"
        "scenarios:\n"
        "  fast: {set: {rate: 0.2}}\n"
        "  data:\n"
        "    policies:\n"
        "      rate: {series: {file: prices.csv, time: t, column: rate}, hold: true}\n"
        "uncertainty:\n  rate: {dist: uniform, low: 0.05, high: 0.15}\n"
    )
    model = fs.load_model(model_file)
    assert study_path(str(model_file)) == tmp_path / "shop.scenarios.yaml"
    study = load_study(str(model_file), model)
    applied, _ = study.scenario("data").apply(model)
    result = fs.simulate(applied)
    assert result["rate"].values[0].tolist()[:7] == [0.1] * 5 + [0.3] * 2
    assert [o.label for o in parse_outcomes(study.outcomes, model)] == [
        "x@end",
        "x@5",
        "gain@max",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenarios:\n  a: {set: {rte: 1}}\n", r"s\.yaml:2: 'rte' is not a parameter.*'rate'"),
        ("scenarios:\n  a: {set: {x: 1}}\n", r"s\.yaml:2: 'x' is a stock, not a parameter"),
        ("scenarios:\n  a: {set: {rate: high}}\n", r"'rate' must be set to a number"),
        ("scenarios:\n  a: {sets: {rate: 1}}\n", r"unknown key 'sets' in scenario 'a'"),
        ("scenarios:\n  a:\n    policies: {rate: {step: {to: 1}}}\n", r"s\.yaml:3: .*keys to, at"),
        ("uncertainty:\n  rate: {dist: uniform, low: 1}\n", r"s\.yaml:2: a uniform .*low, high"),
        ("uncertainty:\n  rate: {dist: gamma, k: 1}\n", r"unknown distribution 'gamma'"),
        ("outcomes: [x@2050]\n", r"s\.yaml:1: outcome 'x@2050': 2050 is outside the run"),
        ("outcomes: x\n", r"outcomes is a list"),
        ("scenaros: {}\n", r"unknown key 'scenaros'"),
        ("calibration: {weights: {}}\n", r"s\.yaml:1: calibration needs fit:"),
        ("calibration:\n  fit: {x: [0, 1]}\n", r"s\.yaml:2: 'x' is a stock, not a parameter"),
        ("calibration:\n  fit: {rate: 0.5}\n", r"s\.yaml:2: 'rate' needs a range \[low, high\]"),
        ("calibration:\n  fit: {rate: [0, 1]}\n  loss: l2\n", r"s\.yaml:3: unknown loss 'l2'"),
        (
            "calibration:\n  fit: {rate: [0, 1]}\n  weights: {y: 2}\n",
            r"s\.yaml:3: .*'y'",
        ),
        ("calibration:\n  fit: {rate: [0, 1]}\n  since: soon\n", r"since must be a time"),
        ("calibration:\n  fit: {rate: [0, 1]}\n  popsize: 2.5\n", r"s\.yaml:3: popsize must be"),
        (
            "calibration:\n  fit: {rate: [0, 1]}\n  checks:\n    c: {outcome: x@5}\n",
            r"s\.yaml:4: reality check 'c' needs a bound",
        ),
        (
            "calibration:\n  fit: {rate: [0, 1]}\n  checks:\n    c: {outcome: y@5, below: 1}\n",
            r"s\.yaml:4: reality check 'c': outcome 'y@5'",
        ),
        (
            "calibration:\n  fit: {rate: [0, 1]}\n  checks:\n    c: {outcome: x@5, blow: 1}\n",
            r"unknown key 'blow' in check 'c'",
        ),
        (
            "calibration:\n  fit: {rate: [0, 1]}\n  checks:\n"
            "    c: {outcome: x@5, below: 1, set: {rate: fast}}\n",
            r"s\.yaml:4: 'set' of check 'c' maps parameters to numbers",
        ),
    ],
)
def test_scenario_file_errors_name_the_line(text: str, message: str) -> None:
    model = fs.loads_model(
        "name: m\ntime: {start: 0, stop: 10, dt: 1}\n"
        "parameters:\n  rate: {default: 0.1, min: 0, max: 1}\n"
        "stocks:\n  x: {initial: 1, inflows: [gain]}\nflows:\n  gain: {equation: rate * x}\n"
    )
    with pytest.raises(fs.ModelError, match=message):
        loads_study(text, model, file="s.yaml")


def test_a_calibration_section_may_declare_reality_checks_only() -> None:
    """A model with no history (seller, rivals) still declares the behaviour it must keep."""
    model = fs.loads_model(
        "name: m\ntime: {start: 0, stop: 10, dt: 1}\n"
        "parameters:\n  rate: {default: 0.1, min: 0, max: 1}\n"
        "stocks:\n  x: {initial: 1, inflows: [gain]}\nflows:\n  gain: {equation: rate * x}\n"
    )
    study = loads_study("calibration:\n  checks:\n    c: {outcome: x@5, above: 1}\n", model)
    assert study.calibration is not None
    assert study.calibration.fit == {}
    assert [c.name for c in study.calibration.checks] == ["c"]


def test_unknown_scenario_suggests() -> None:
    study = load_study("amazon", fs.load_model("amazon"))
    with pytest.raises(fs.ModelError, match=r"no scenario 'harvst'.*did you mean 'harvest'"):
        study.scenario("harvst")


# -- outcomes ------------------------------------------------------------------------------------
def test_outcomes() -> None:
    model = fs.load_model("logistic")
    result = fs.simulate(model, {"growth_rate": [0.5, 1.0]})
    population = result["population"].values
    assert np.array_equal(parse_outcome("population", model).of(result), population[:, -1])
    at = parse_outcome("population@10", model)
    assert at == Outcome("population", 10.0)
    assert np.array_equal(at.of(result), population[:, 20])
    assert np.array_equal(parse_outcome("net_growth@max", model).of(result),
                          result["net_growth"].values.max(axis=1))  # fmt: skip
    for text, message in [
        ("populaton@10", "no variable 'populaton'.*did you mean 'population'"),
        ("population@soon", "'soon' is not a time"),
        ("population@99", "99 is outside the run"),
    ]:
        with pytest.raises(fs.ModelError, match=message):
            parse_outcome(text, model)
    with pytest.raises(fs.ModelError, match="is arrayed"):
        parse_outcome("customers@2020", fs.load_model("rivals"))


# -- distributions and designs -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("uniform:2,5", stats.uniform(2, 3)),
        ("normal:1,0.5", stats.norm(1, 0.5)),
        ("normal:1,0.5,0.5,2", stats.truncnorm(-1, 2, loc=1, scale=0.5)),
        ("normal:0,1,2,5", stats.truncnorm(2, 5)),  # the upper tail
        ("normal:0,1,-6,-3", stats.truncnorm(-6, -3)),  # the lower tail
        ("normal:0,1,9,12", stats.truncnorm(9, 12)),  # a sliver of far tail
        ("lognormal:2,0.3", stats.lognorm(0.3, scale=2)),
        ("triangular:0,1,4", stats.triang(0.25, loc=0, scale=4)),
        ("beta:2,5", stats.beta(2, 5)),
        ("beta:2,5,10,20", stats.beta(2, 5, loc=10, scale=10)),
    ],
)
def test_each_distribution_has_the_right_quantiles(text: str, reference: object) -> None:
    dist = parse_distribution(text)
    u = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(dist.ppf(u), reference.ppf(u), rtol=1e-9)  # type: ignore[attr-defined]
    drawn = sample({"p": dist}, 20_000, method="montecarlo", seed=3)["p"]
    assert abs(drawn.mean() - reference.mean()) < 4 * reference.std() / np.sqrt(20_000)  # type: ignore[attr-defined]


def test_discrete_distribution_follows_its_weights() -> None:
    dist = Distribution("discrete", (("values", (1.0, 2.0, 4.0)), ("weights", (1.0, 1.0, 2.0))))
    drawn = sample({"p": dist}, 40_000, method="montecarlo", seed=1)["p"]
    shares = [float((drawn == v).mean()) for v in (1.0, 2.0, 4.0)]
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], atol=0.01)
    assert set(parse_distribution("discrete:3,5").ppf(np.array([0.1, 0.9]))) == {3.0, 5.0}


def test_latin_hypercube_fills_every_stratum_and_sobol_is_balanced() -> None:
    design = uniforms("lhs", 50, 3, seed=2)
    for column in design.T:
        assert sorted(np.floor(column * 50).astype(int)) == list(range(50))
    sobol = uniforms("sobol", 256, 2, seed=2)
    assert abs(sobol.mean() - 0.5) < 0.01
    counts = np.histogram(sobol[:, 0], bins=16, range=(0, 1))[0]
    assert (counts == 16).all()  # a scrambled Sobol' net: exactly balanced
    assert np.array_equal(uniforms("lhs", 10, 2, seed=5), uniforms("lhs", 10, 2, seed=5))
    with pytest.raises(fs.ModelError, match="unknown sampling method 'grid'"):
        uniforms("grid", 10, 2, seed=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uniform:3,1", "low must be below high"),
        ("normal:1,-1", "sd must be positive"),
        ("triangular:0,5,4", "low <= mode <= high"),
        ("lognormal:0,1", "must be positive"),
        ("uniform:1", "needs low, high"),
        ("weird:1,2", "cannot read distribution"),
        ("uniform:a,b", "cannot read distribution"),
    ],
)
def test_distribution_errors(text: str, message: str) -> None:
    with pytest.raises(fs.ModelError, match=message):
        parse_distribution(text)


# -- the commands --------------------------------------------------------------------------------
def test_flywheel_compare(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    done = flywheel(
        "compare", "amazon", "-s", "reinvest", "-s", "harvest", "-s", "no_prime",
        cwd=tmp_path, store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "reinvest" in done.stdout and "harvest" in done.stdout
    data = RunStore(store).load(1)
    sales = data["net_sales"].sel(time=2024).values
    change = f"({sales[1] / sales[0] - 1:+.0%})"  # harvest against reinvest, as printed
    assert sales[1] < 0.9 * sales[0]
    assert "net_sales@2024" in done.stdout and change in done.stdout
    assert (tmp_path / "out" / "compare-amazon.png").read_bytes()[:4] == b"\x89PNG"
    assert list(data["scenario"].values) == ["reinvest", "harvest", "no_prime"]
    assert list(data["prime_start"].values) == [2005.0, 2005.0, 2100.0]
    bad = flywheel("compare", "amazon", "-s", "harvst", cwd=tmp_path, store=store)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("error: no scenario 'harvst'")


def test_flywheel_sweep_and_sensitivity(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    done = flywheel(
        "sweep", "logistic", "--samples", "300", "--dist", "growth_rate=uniform:0.3,0.8",
        "--outcome", "population@10", "--outcome", "net_growth@max", "--method", "sobol",
        "--chunk", "128", "--plot", "fan.svg", cwd=tmp_path, store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "population@10" in done.stdout and "stored as batch 1" in done.stdout
    assert (tmp_path / "fan.svg").read_text().lstrip().startswith("<?xml")
    data = RunStore(store).load(1)
    rates = data["growth_rate"].values
    assert data.sizes["run"] == 300 and rates.min() >= 0.3 and rates.max() <= 0.8
    expected = fs.simulate(fs.load_model("logistic"), {"growth_rate": rates}, seed=0)
    assert np.array_equal(data["population"].values, expected["population"].values)
    sens = flywheel(
        "sensitivity", "logistic", "--outcome", "population@10", "--samples", "64",
        "--dist", "growth_rate=uniform:0.3,0.8", "--dist", "capacity=uniform:900,1100",
        "--plot", "tornado.png", cwd=tmp_path, store=store,
    )  # fmt: skip
    assert sens.returncode == 0, sens.stderr
    lines = [line for line in sens.stdout.splitlines() if "growth_rate" in line]
    assert lines and "stored as batch 2" in sens.stdout
    assert (tmp_path / "tornado.png").read_bytes()[:4] == b"\x89PNG"
    morris = flywheel(
        "sensitivity", "logistic", "-o", "population@10", "--method", "morris",
        "--samples", "10", "--dist", "growth_rate=uniform:0.3,0.8",
        "--dist", "capacity=uniform:900,1100", cwd=tmp_path, store=store,
    )  # fmt: skip
    assert morris.returncode == 0, morris.stderr
    assert "mu_star" in morris.stdout
    for args, message in [
        (("sweep", "logistic"), "say which outcomes to look at: --outcome"),
        (("sweep", "logistic", "-o", "population"), "no parameter distributions for 'logistic'"),
        (("sweep", "logistic", "-o", "x", "--dist", "a=uniform:1,2"), "no variable 'x'"),
        (
            ("sweep", "logistic", "-o", "population", "--dist", "growth_rate=uniform:1"),
            "--dist growth_rate",
        ),
        (
            ("sweep", "logistic", "-o", "population", "--dist", "population=uniform:1,2"),
            "is a stock",
        ),
        (("sweep", "logistic", "--samples", "0"), "--samples must be at least 1"),
        (("sweep", "amazon", "--method", "grid"), "unknown --method 'grid'"),
        (("sweep", "amazon", "--executor", "cloud"), "cloud"),
    ]:
        bad = flywheel(*args, cwd=tmp_path, store=store)
        assert bad.returncode == 1, args
        last = bad.stderr.strip().splitlines()
        assert len(last) == 1 and message in last[0], bad.stderr


def test_flywheel_calibrate(tmp_path: Path) -> None:
    """Fit the logistic model to its own noise-free output written as a CSV."""
    store = tmp_path / "runs.duckdb"
    model = fs.load_model("logistic")
    truth = fs.simulate(model, {"growth_rate": 0.7, "capacity": 900.0}, save_step=1)
    rows = ["year,pop"] + [
        f"{t:g},{float(v)!r}"
        for t, v in zip(truth.time.values, truth.population.values[0], strict=True)
    ]
    (tmp_path / "obs.csv").write_text("\n".join(rows) + "\n")
    done = flywheel(
        "calibrate", "logistic", "--fit", "growth_rate,capacity", "--data", "obs.csv",
        "--series", "population=pop", "--time", "year", "--until", "15", "--maxiter", "40",
        "--save", "fitted.scenarios.yaml", "--plot", "fit.png", cwd=tmp_path, store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("│ growth_rate"))
    assert float(line.split("│")[2]) == pytest.approx(0.7, rel=1e-3)
    assert "in sample (population, 16 observations): MAPE 0.0%" in done.stdout
    assert "forecast after 15 (population, 15 observations)" in done.stdout
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"
    saved = load_study("x", model, file=tmp_path / "fitted.scenarios.yaml")
    values = dict(saved.scenario("calibrated").values)
    assert values["capacity"] == pytest.approx(900.0, rel=1e-3)
    info = RunStore(store).batch(1)
    assert info.kind == "calibration" and info.settings["fitted"]["growth_rate"] > 0.69
    for args, message in [
        (("--fit", ""), "say which parameters to fit"),
        (("--fit", "growth_rate", "--series", "population"), "must look like VARIABLE=COLUMN"),
        (("--fit", "growth_rate", "--data", "nope.csv"), "cannot read nope.csv"),
        (("--fit", "growth_rate", "--bounds", "growth_rate=a:b"), "NAME=LOW:HIGH"),
        (("--fit", "growth_rate", "--weight", "population=x"), "'x' is not a number"),
        (
            (
                "--fit",
                "growth_rate",
                "--data",
                "obs.csv",
                "--series",
                "population=pop",
                "--time",
                "year",
                "--maxiter",
                "2",
                "--save",
                "fitted.scenarios.yaml",
            ),
            "does not rewrite a scenario file",
        ),
    ]:
        bad = flywheel("calibrate", "logistic", *args, cwd=tmp_path, store=store)
        assert bad.returncode == 1
        assert message in bad.stderr.strip().splitlines()[-1], bad.stderr


def test_the_calibration_section_is_what_flywheel_calibrate_fits_by_default(
    tmp_path: Path,
) -> None:
    """A model whose scenario file declares its calibration is fitted by a bare
    `flywheel calibrate MODEL`; command-line options override the file."""
    truth = {"growth_rate": 0.7, "capacity": 900.0}
    from importlib import resources

    text = (resources.files("flywheel_sim.library") / "models" / "logistic.yaml").read_text()
    result = fs.simulate(fs.load_model("logistic"), truth, save_step=1)
    rows = ["year,pop"] + [
        f"{t:g},{float(v)!r}"
        for t, v in zip(result.time.values, result.population.values[0], strict=True)
    ]
    (tmp_path / "obs.csv").write_text("\n".join(rows) + "\n")
    text += "\nhistory:\n  data: obs.csv\n  series: {population: {column: pop}}\n"
    (tmp_path / "grow.yaml").write_text(text)
    (tmp_path / "grow.scenarios.yaml").write_text(
        "calibration:\n  fit: {growth_rate: [0.2, 1.5], capacity: [500, 2000]}\n"
        "  loss: relative\n  until: 20\n"
    )
    study = load_study(tmp_path / "grow.yaml", fs.load_model(tmp_path / "grow.yaml"))
    assert study.calibration is not None
    assert study.calibration.fit == {"growth_rate": (0.2, 1.5), "capacity": (500.0, 2000.0)}
    assert study.calibration.loss == "relative" and study.calibration.until == 20
    amazon = load_study("amazon", fs.load_model("amazon")).calibration
    names = {c.name for c in amazon.checks}
    assert amazon is not None and {"no_selection_link", "no_marketplace", "price_low"} <= names
    assert (amazon.popsize, amazon.maxiter, amazon.seed) == (6, 300, 1)
    cut = next(c for c in amazon.checks if c.name == "no_selection_link")
    assert cut.set == {"selection_experience_link": 0.0} and cut.below == 0.8 and cut.relative
    done = flywheel(
        "calibrate", "grow.yaml", "--maxiter", "40", "--plot", "fit.png",
        cwd=tmp_path, store=tmp_path / "runs.duckdb",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("│ capacity"))
    assert float(line.split("│")[2]) == pytest.approx(900.0, rel=1e-3)
    assert "forecast after 20" in done.stdout
    narrow = flywheel(
        "calibrate", "grow.yaml", "--fit", "growth_rate", "--bounds", "growth_rate=0.2:0.5",
        "--until", "25", "--maxiter", "20", "--plot", "fit.png", "--from-scratch",
        cwd=tmp_path, store=tmp_path / "runs.duckdb",
    )  # fmt: skip
    assert narrow.returncode == 0, narrow.stderr
    line = next(ln for ln in narrow.stdout.splitlines() if ln.startswith("│ growth_rate"))
    assert float(line.split("│")[2]) <= 0.5  # --bounds overrides the file's range
    assert "forecast after 25" in narrow.stdout
