"""The market's numba kernels (the ``fast`` extra) give NumPy's bits: the sums they take in
NumPy's pairwise order, and whole runs of both backends under several settings."""

from __future__ import annotations

import numpy as np
import pytest

from flywheel_sim.market import simulate_market

pytest.importorskip("numba")


def test_sums_are_numpys_pairwise_sums_bit_for_bit() -> None:
    from flywheel_sim.market.pairwise import spread, total, total32

    rng = np.random.default_rng(0)
    sizes = [*range(0, 300), 1000, 1023, 1024, 5200, 8191, 8192, 8193, 50_001]
    for n in sizes:
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 6, n)  # rounding matters
        b = (rng.standard_normal(n) * 100).astype(np.float32)
        lo = int(rng.integers(0, n + 1))
        m = int(rng.integers(0, n - lo + 1))
        assert total(a, lo, m) == a[lo : lo + m].sum(), (n, lo, m)
        assert total32(b, lo, m) == b[lo : lo + m].sum(), (n, lo, m)
        assert total(a, 0, n) == a.sum(), n
        if n:
            assert spread(a) == a.std(), n


@pytest.mark.parametrize(
    ("values", "seed"),
    [
        # every rule early, cheap Prime: members join, leave and churn; stock runs out
        (
            {
                "marketplace_start": 4,
                "prime_start": 10,
                "fba_start": 14,
                "prime_fee": 2.0,
                "initial_customer_share": 0.05,
            },
            7,
        ),
        # scarce stock, cheap FBA, fast exits, harvesting: the rarer branches
        (
            {
                "marketplace_start": 2,
                "prime_start": 6,
                "fba_start": 8,
                "safety_stock": 0.0,
                "exit_after": 2,
                "harvest_from": 20,
                "seller_entry_rate": 0.2,
                "initial_customer_share": 0.05,
                "fba_fee": 0.5,
            },
            8,
        ),
    ],
)
def test_backends_agree_on_every_output(values: dict[str, float], seed: int) -> None:
    kw = {"customers": 1500, "sellers": 120, "months": 40, "seed": seed}
    fast = simulate_market(values, backend="numba", **kw)
    reference = simulate_market(values, backend="numpy", **kw)
    for name in fast.data_vars:
        np.testing.assert_array_equal(fast[name].values, reference[name].values, err_msg=name)
    for rule in ("stockouts", "seller_exit", "prime_joining", "prime_leaving", "churn"):
        assert float(fast[rule].sum()) > 0, rule


def test_both_implementations_have_the_same_modules_names_and_signatures() -> None:
    import inspect
    import pkgutil

    from flywheel_sim.market import fast, rules
    from flywheel_sim.market.step import kernels

    assert kernels("numpy") is rules and kernels("numba") is fast
    modules = {m.name for m in pkgutil.iter_modules(rules.__path__)}
    assert modules == {m.name for m in pkgutil.iter_modules(fast.__path__)}
    assert modules == {"people", "sellers", "platform", "choice", "books"}
    assert rules.__all__ == fast.__all__ and len(rules.__all__) == 18
    for name in rules.__all__:
        reference, twin = getattr(rules, name), getattr(fast, name)
        assert reference is not twin, name
        assert twin.__module__ == reference.__module__.replace(".rules.", ".fast."), name
        assert inspect.signature(twin) == inspect.signature(reference), name


def test_the_parallel_shopping_kernel_gives_the_serial_kernels_bits(monkeypatch) -> None:
    from flywheel_sim.market.fast import choice

    values = {
        "marketplace_start": 2,
        "prime_start": 4,
        "fba_start": 6,
        "initial_customer_share": 0.9,
    }
    kw = {"customers": 9000, "sellers": 200, "months": 8, "seed": 3, "backend": "numba"}
    serial = simulate_market(values, **kw)
    assert float(serial.traffic.max()) > 2 * choice.CHUNK  # several chunks of trips
    monkeypatch.setattr(choice, "PARALLEL_FROM", 0)  # every month's trips in parallel chunks
    parallel = simulate_market(values, **kw)
    assert parallel.identical(serial)
    reference = simulate_market(values, **{**kw, "backend": "numpy"})
    assert reference.identical(serial)
