"""simulate(): analytic solutions, convergence order, batching, parameters, seeds, failures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import flywheel_sim as fs
from conftest import model_from


def test_exponential_matches_the_discrete_and_continuous_solutions(options: fs.Options) -> None:
    model = fs.load_model("exponential")
    euler = fs.simulate(model, options=options)
    t = euler.time.values
    r, x0, dt = 0.1, 100.0, model.time.dt
    np.testing.assert_allclose(euler.stock.values[0], x0 * (1 + r * dt) ** (t / dt), rtol=1e-12)
    rk4 = fs.simulate(model, method="rk4", options=options)
    h = r * dt  # RK4 multiplies a linear stock by the degree-4 Taylor polynomial of e^h
    np.testing.assert_allclose(
        rk4.stock.values[0], x0 * (1 + h + h**2 / 2 + h**3 / 6 + h**4 / 24) ** (t / dt), rtol=1e-12
    )
    np.testing.assert_allclose(rk4.stock.values[0], x0 * np.exp(r * t), rtol=1e-8)


def test_logistic_matches_its_closed_form(options: fs.Options) -> None:
    result = fs.simulate(
        fs.load_model("logistic"), {"growth_rate": [0.3, 0.5, 1.2]}, options=options
    )
    t = result.time.values
    for run, r in enumerate([0.3, 0.5, 1.2]):
        exact = 1000 / (1 + (1000 - 10) / 10 * np.exp(-r * t))
        np.testing.assert_allclose(result.population.values[run], exact, rtol=2e-4, atol=1e-6)


def test_bass_matches_its_closed_form(options: fs.Options) -> None:
    result = fs.simulate(fs.load_model("bass"), options=options)
    t = result.time.values
    m, p, q = 1e6, 0.03, 0.38
    decay = np.exp(-(p + q) * t)
    exact = m * (1 - decay) / (1 + q / p * decay)
    np.testing.assert_allclose(result.adopters.values[0], exact, rtol=1e-7, atol=1e-3)


def test_sir_conserves_people_and_follows_its_invariant(options: fs.Options) -> None:
    result = fs.simulate(fs.load_model("sir"), method="rk4", options=options)
    s, i, r = (result[v].values[0] for v in ("susceptible", "infectious", "recovered"))
    np.testing.assert_allclose(s + i + r, 1005.0, rtol=1e-12)
    r0 = 0.3 * 5
    np.testing.assert_allclose(s, 1000 * np.exp(-r0 * r / 1000), rtol=1e-7)


def test_sir_matches_the_reference_output_of_the_xmile_sample(options: fs.Options) -> None:
    """Stella/Vensim's Euler output for SIR.xmile at t = 100 (4-5 significant digits)."""
    result = fs.simulate(fs.load_model("sir"), options=options)
    final = result.isel(run=0, time=-1)
    assert final.infectious.item() == pytest.approx(2.07135, rel=1e-5)
    assert final.recovered.item() == pytest.approx(590.771, rel=1e-5)
    assert final.susceptible.item() == pytest.approx(412.158, rel=1e-5)


def test_first_order_delays_follow_the_exponential_step_response(options: fs.Options) -> None:
    result = fs.simulate(fs.load_model("delay"), dt=1 / 128, method="rk4", options=options)
    t = result.time.values
    exact = 10 + 5 * (1 - np.exp(-(t - 5) / 4)) * (t >= 5)
    for name in ("arrivals", "delayed_1", "smoothed_1"):
        # the step falls inside an RK4 step, so the error is O(dt), not O(dt^4)
        np.testing.assert_allclose(result[name].values[0], exact, atol=2e-3)
    pipeline = result.pipeline.values[0]
    np.testing.assert_allclose(pipeline, 10 + 5 * (t >= 9 - 1e-9), atol=1e-9)


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_measured_convergence_order(method: str, order: int, options: fs.Options) -> None:
    model = model_from(
        """
        name: decay
        time: {start: 0, stop: 2, dt: 0.25}
        stocks:
          x: {initial: 1, outflows: [out]}
        flows:
          out: {equation: x * (1 + 0.5 * SIN(TIME))}
        """
    )
    # exact: dx/dt = -x (1 + 0.5 sin t)  =>  x = exp(-(t + 0.5 (1 - cos t)))
    exact = math.exp(-(2 + 0.5 * (1 - math.cos(2))))
    dts = [0.25, 0.125, 0.0625, 0.03125]
    errors = [
        abs(fs.simulate(model, method=method, dt=dt, options=options).x.values[0, -1] - exact)
        for dt in dts
    ]
    measured = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert measured == pytest.approx(order, abs=0.15)


def test_batch_equals_a_loop_of_single_runs(options: fs.Options) -> None:
    model = fs.load_model("sir")
    rng = np.random.default_rng(7)
    values = {"contact_infectivity": rng.uniform(0.1, 0.6, 25), "duration": rng.uniform(2, 9, 25)}
    batch = fs.simulate(model, values, save_step=1.0, options=options)
    for run in range(25):
        single = fs.simulate(
            model, {k: float(v[run]) for k, v in values.items()}, save_step=1.0, options=options
        )
        for name in batch.data_vars:
            np.testing.assert_allclose(
                batch[name].values[run], single[name].values[0], rtol=1e-12, atol=1e-12
            )


def test_backends_agree_on_every_builtin_model() -> None:
    for name in fs.builtin_models():
        model = fs.load_model(name)
        a = fs.simulate(model, options=fs.Options(backend="numpy"), seed=3)
        b = fs.simulate(model, options=fs.Options(backend="numba"), seed=3)
        for var in a.data_vars:
            # last-bit differences of exp/log (NumPy SIMD vs libm) can show in a difference of
            # large terms near zero, so the absolute tolerance follows the variable's scale
            scale = float(np.nanmax(np.abs(a[var].values), initial=0.0))
            np.testing.assert_allclose(
                a[var].values,
                b[var].values,
                rtol=1e-12,
                atol=1e-13 + 1e-14 * scale,
                err_msg=f"{name}.{var}",
            )


def test_parameters_from_a_dataframe_and_coordinates(options: fs.Options) -> None:
    frame = pd.DataFrame({"growth_rate": [0.2, 0.4], "capacity": [500.0, 2000.0]})
    result = fs.simulate(fs.load_model("logistic"), frame, options=options)
    assert result.sizes["run"] == 2
    assert result.growth_rate.values.tolist() == [0.2, 0.4]
    assert result.capacity.values.tolist() == [500.0, 2000.0]
    assert result.initial_population.values.tolist() == [10.0, 10.0]
    assert result.population.dims == ("run", "time")
    exact = [k / (1 + (k - 10) / 10 * math.exp(-r * 30)) for r, k in ((0.2, 500), (0.4, 2000))]
    assert result.population.values[:, -1] == pytest.approx(exact, rel=1e-4)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"growth_rat": 0.3}, "unknown parameter 'growth_rat' in model 'logistic' — did you mean"),
        ({"growth_rate": [0.1, 0.2], "capacity": [1.0, 2.0, 3.0]}, "same length"),
        ({"growth_rate": [[0.1, 0.2]]}, "scalar or a 1-D array"),
        ({"growth_rate": "fast"}, "must be numeric"),
        ({"growth_rate": math.nan}, "non-finite"),
        ({"growth_rate": 7.0}, "outside its declared range [0.01, 3]"),
    ],
)
def test_bad_parameters_are_rejected(params: dict[str, object], message: str) -> None:
    with pytest.raises(fs.ParameterError) as info:
        fs.simulate(fs.load_model("logistic"), params)  # type: ignore[arg-type]
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "cuda"}, "backend 'cuda' must be auto, numpy, numba"),
        ({"out_of_range": "wrap"}, "out_of_range 'wrap' must be error or clip"),
    ],
)
def test_unknown_options_are_rejected_when_made(options: dict[str, str], message: str) -> None:
    with pytest.raises(fs.ParameterError, match=message):
        fs.Options(**options)  # type: ignore[arg-type]


def test_out_of_range_values_are_clipped_only_when_asked() -> None:
    options = fs.Options(backend="numpy", out_of_range="clip")
    result = fs.simulate(fs.load_model("logistic"), {"growth_rate": [-1.0, 9.0]}, options=options)
    assert result.growth_rate.values.tolist() == [0.01, 3.0]


def test_a_failing_run_is_reported_and_the_others_are_unaffected(options: fs.Options) -> None:
    model = model_from(
        """
        name: blowup
        time: {start: 0, stop: 10, dt: 0.5, save_step: 1}
        parameters:
          horizon: {default: 100}
        stocks:
          s: {initial: 0, inflows: [f]}
        flows:
          f: {equation: 1 / (horizon - TIME)}
        auxiliaries:
          ok: {equation: TIME * 2}
        """
    )
    result = fs.simulate(model, {"horizon": [4.0, 100.0, 7.5]}, options=options)
    assert result.status.values.tolist() == ["failed", "ok", "failed"]
    assert result.failed_variable.values.tolist() == ["f", "", "f"]
    assert result.failed_time.values[0] == 4.0 and result.failed_time.values[2] == 7.5
    assert math.isnan(result.failed_time.values[1])
    assert np.isfinite(result.ok.values[0, :5]).all() and np.isnan(result.ok.values[0, 5:]).all()
    expected = fs.simulate(model, {"horizon": 100.0}, options=options)
    np.testing.assert_array_equal(result.s.values[1], expected.s.values[0])


def test_random_runs_are_reproducible_and_independent(options: fs.Options) -> None:
    model = model_from(
        """
        name: noise
        time: {start: 0, stop: 5, dt: 1}
        auxiliaries:
          u: {equation: "RANDOM(0, 1)"}
        """
    )
    a = fs.simulate(model, seed=np.arange(4), options=options)
    b = fs.simulate(model, seed=np.arange(4), options=options)
    np.testing.assert_array_equal(a.u.values, b.u.values)
    assert len({tuple(row) for row in a.u.values}) == 4
    single = fs.simulate(model, seed=[2], options=options)
    np.testing.assert_array_equal(single.u.values[0], a.u.values[2])
    derived = fs.simulate(model, seed=11, options=options)
    again = fs.simulate(model, seed=[int(derived.seed.values[0])], options=options)
    np.testing.assert_array_equal(derived.u.values, again.u.values)


def test_time_settings_can_be_overridden_and_are_checked() -> None:
    model = fs.load_model("logistic")
    result = fs.simulate(model, stop=10, dt=0.5, save_step=2, options=fs.Options("numpy"))
    assert result.time.values.tolist() == [0, 2, 4, 6, 8, 10]
    with pytest.raises(fs.ModelError, match="not a whole number of steps"):
        fs.simulate(model, stop=10, dt=0.3)
    with pytest.raises(fs.ModelError, match=r"save step 0\.3 is not a whole multiple of dt"):
        fs.simulate(model, save_step=0.3)
    with pytest.raises(fs.ModelError, match="must be after the start time"):
        fs.simulate(model, stop=-1)
    with pytest.raises(fs.ModelError, match="unknown integration method 'rk5'"):
        fs.simulate(model, method="rk5")


def test_variables_can_be_chosen(options: fs.Options) -> None:
    result = fs.simulate(fs.load_model("sir"), variables=["Infectious"], options=options)
    assert list(result.data_vars) == ["infectious"]
    with pytest.raises(fs.ModelError, match="did you mean 'recovered'"):
        fs.simulate(fs.load_model("sir"), variables=["recoverd"])


def test_non_negative_stocks_and_flows(options: fs.Options) -> None:
    model = model_from(
        """
        name: nonneg
        time: {start: 0, stop: 4, dt: 1}
        stocks:
          tank: {initial: 5, outflows: [drain, spill], non_negative: true}
          other: {initial: 0, inflows: [spill]}
        flows:
          drain: {equation: "3"}
          spill: {equation: "4"}
          back: {equation: "-2", non_negative: true}
        """
    )
    result = fs.simulate(model, options=options).isel(run=0)
    assert result.tank.values.tolist() == [5, 0, 0, 0, 0]
    assert result.drain.values.tolist() == [3, 0, 0, 0, 0]
    assert result.spill.values.tolist() == [2, 0, 0, 0, 0]
    assert result.other.values.tolist() == [0, 2, 2, 2, 2]
    assert result.back.values.tolist() == [0, 0, 0, 0, 0]


def test_a_negative_inflow_into_a_non_negative_stock_is_limited(options: fs.Options) -> None:
    # XMILE: "negative inflows flow outward"; the stock keeps what it has, the flow is cut
    model = model_from(
        """
        name: tide
        time: {start: 0, stop: 4, dt: 1}
        stocks:
          pond: {initial: 5, inflows: [tide], non_negative: true}
          sea: {initial: 0, outflows: [tide]}
        flows:
          tide: {equation: "-3"}
        """
    )
    result = fs.simulate(model, options=options).isel(run=0)
    assert result.pond.values.tolist() == [5, 2, 0, 0, 0]
    assert result.tide.values.tolist() == [-3, -2, 0, 0, 0]
    assert result.sea.values.tolist() == [0, 3, 5, 5, 5]  # what left the pond, no more


def test_non_negative_priority_inflows_first_then_outflows(options: fs.Options) -> None:
    # available in DT: stock 5 + positive inflow 1; the negative inflow (listed first) takes
    # 4 of it, the outflow gets the remaining 2 of its 3; a negative outflow brings material in
    model = model_from(
        """
        name: priority
        time: {start: 0, stop: 1, dt: 1}
        stocks:
          tank: {initial: 5, inflows: [leak, feed], outflows: [use], non_negative: true}
          bin: {initial: 0, outflows: [back, take], non_negative: true}
        flows:
          leak: {equation: "-4"}
          feed: {equation: "1"}
          use: {equation: "3"}
          back: {equation: "-2"}
          take: {equation: "3"}
        """
    )
    result = fs.simulate(model, options=options).isel(run=0, time=0)
    assert [float(result[v]) for v in ("leak", "feed", "use")] == [-4, 1, 2]
    assert [float(result[v]) for v in ("back", "take")] == [-2, 2]
    final = fs.simulate(model, options=options).isel(run=0, time=-1)
    assert float(final.tank) == 0 and float(final.bin) == 0


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_limited_flows_keep_the_stock_equation(options: fs.Options, method: str) -> None:
    """The limits change flows, never a stock directly (XMILE: the stock equation SHOULD
    NOT be violated): under Euler each stock moves by DT times its reported net flow."""
    model = model_from(
        """
        name: swing
        time: {start: 0, stop: 12, dt: 0.5}
        stocks:
          a: {initial: 3, inflows: [swing], outflows: [drain], non_negative: true}
          b: {initial: 1, outflows: [swing]}
        flows:
          swing: {equation: "4 * SIN(TIME)"}
          drain: {equation: "0.5 + 0.2 * a"}
        """
    )
    result = fs.simulate(model, method=method, options=options).isel(run=0)
    assert result.a.values.min() >= 0
    if method == "euler":
        net = (result.swing - result.drain).values[:-1] * 0.5
        np.testing.assert_allclose(np.diff(result.a.values), net, atol=1e-12)
        np.testing.assert_allclose(np.diff(result.b.values), -result.swing.values[:-1] * 0.5)


def test_a_constant_flow_of_a_non_negative_stock_is_cut_only_while_needed(
    options: fs.Options,
) -> None:
    # a constant is normally computed once; a limited flow is computed again every DT, so
    # the cut of the first steps does not stick once the tank is refilled
    model = model_from(
        """
        name: refill
        time: {start: 0, stop: 5, dt: 1}
        stocks:
          tank: {initial: 1, inflows: [fill], outflows: [use], non_negative: true}
        flows:
          fill: {equation: "STEP(10, 2)"}
          use: {equation: "3"}
        """
    )
    result = fs.simulate(model, options=options).isel(run=0)
    assert result.use.values.tolist() == [1, 0, 3, 3, 3, 3]
    assert result.tank.values.tolist() == [1, 0, 0, 7, 14, 21]


@pytest.mark.parametrize("order", ["upstream first", "downstream first"])
def test_a_chain_of_non_negative_stocks_in_either_order(options: fs.Options, order: str) -> None:
    # 'shop' counts on 'supply' from 'depot'; when the depot cuts it, the shop's own outflow
    # is cut again in a second pass, whichever stock is declared first
    depot = "  depot: {initial: 1, inflows: [restock], outflows: [supply], non_negative: true}"
    shop = "  shop: {initial: 0, inflows: [supply], outflows: [sales], non_negative: true}"
    stocks = [depot, shop] if order == "upstream first" else [shop, depot]
    model = model_from(
        "name: chain\ntime: {start: 0, stop: 4, dt: 1}\nstocks:\n"
        + "\n".join(stocks)
        + '\nflows:\n  supply: {equation: "5"}\n  sales: {equation: "5"}\n'
        + '  restock: {equation: "STEP(10, 3)"}\n'
    )
    result = fs.simulate(model, options=options).isel(run=0)
    assert result.shop.values.tolist() == [0, 0, 0, 0, 0]
    assert result.sales.values.tolist() == [1, 0, 0, 5, 5]
    assert result.depot.values.tolist() == [1, 0, 0, 0, 5]


def test_a_model_without_stocks_runs(options: fs.Options) -> None:
    model = model_from(
        """
        name: clock
        time: {start: 1, stop: 3, dt: 0.5}
        auxiliaries:
          t2: {equation: TIME * 2}
        """
    )
    assert fs.simulate(model, options=options).t2.values[0].tolist() == [2, 3, 4, 5, 6]


def test_heavy_ensemble_is_one_call(options: fs.Options) -> None:
    n = 2000 if options.backend == "numba" else 500
    values = np.linspace(0.05, 2.0, n)
    result = fs.simulate(
        fs.load_model("logistic"), {"growth_rate": values}, save_step=5, options=options
    )
    t = result.time.values
    exact = 1000 / (1 + 99 * np.exp(-np.outer(values, t)))
    np.testing.assert_allclose(result.population.values, exact, rtol=5e-3)


def test_a_stock_forced_to_zero_mid_run_restarts_from_zero() -> None:
    """``run_arrays(..., zero_stocks=...)``: each run's named stock (all its elements) is set to
    zero at the first step at or after the time, then integrates on; the other runs and stocks
    are untouched (a constant inflow makes every value exact)."""
    from flywheel_sim.engine.result import assemble
    from flywheel_sim.engine.simulate import run_arrays

    model = model_from(
        """
time: {start: 0, stop: 10, dt: 0.5, method: rk4}
stocks:
  x: {initial: 1, inflows: [fill]}
  y: {initial: 2, inflows: [fill_y]}
flows:
  fill: {equation: "2"}
  fill_y: {equation: "1"}
"""
    )
    out = assemble(run_arrays(model, seed=[0, 0, 0], zero_stocks=(["x", None, "y"], 4.8)))
    t = out.time.values
    x = out.x.values
    y = out.y.values

    def same(a: np.ndarray, b: np.ndarray) -> None:  # RK4's stage weights round in the last bit
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)

    same(x[1], 1 + 2 * t)  # the untouched run
    same(y[1], 2 + t)
    same(x[0], np.where(t < 5, 1 + 2 * t, 2 * (t - 5)))  # zero at 5.0, the first step after 4.8
    same(y[0], 2 + t)
    same(y[2], np.where(t < 5, 2 + t, t - 5))
    same(x[2], x[1])
    assert x[0][t == 5.0][0] == 0.0
    with pytest.raises(fs.ModelError, match="no stock 'fill' to set to zero"):
        run_arrays(model, seed=[0], zero_stocks=(["fill"], 5.0))
    with pytest.raises(fs.ParameterError, match="names 2 runs but there are 1"):
        run_arrays(model, zero_stocks=(["x", None], 5.0))


@pytest.mark.parametrize("runs", [3, 40])  # the scalar and the block numba kernels
def test_zeroing_agrees_between_the_vms(runs: int) -> None:
    """Forcing stocks to zero gives the same runs on the numba kernels as on the reference VM
    (amazon: RK4, non-negative stocks, delays, smooths)."""
    from flywheel_sim.engine.result import assemble
    from flywheel_sim.engine.simulate import run_arrays

    model = fs.load_model("amazon")
    stocks = [e.name for e in model.of_kind("stock")]
    emptied = [stocks[i % len(stocks)] if i % 3 else None for i in range(runs)]
    results = [
        assemble(
            run_arrays(
                model, seed=[0] * runs, zero_stocks=(emptied, 2010.3), options=fs.Options(backend=b)
            )
        )
        for b in ("numpy", "numba")
    ]
    assert list(results[0].status.values) == list(results[1].status.values)
    for name in ("customers", "sellers", "net_sales", "fulfilment_assets"):
        np.testing.assert_allclose(
            results[1][name].values, results[0][name].values, rtol=1e-9, equal_nan=True
        )
    untouched = assemble(run_arrays(model, seed=[0] * runs))
    plain = [i for i, name in enumerate(emptied) if name is None]
    np.testing.assert_array_equal(
        results[1].customers.values[plain], untouched.customers.values[plain]
    )
