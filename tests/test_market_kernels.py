"""The market's numba kernels (the ``fast`` extra) give NumPy's bits: the sums they take in
NumPy's pairwise order, and whole runs of both backends under several settings."""

from __future__ import annotations

import numpy as np
import pytest

from flywheel_sim.market import simulate_market

pytest.importorskip("numba")


def test_sums_are_numpys_pairwise_sums_bit_for_bit() -> None:
    from flywheel_sim.market.kernels_books import total, total32

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


def test_the_stock_out_queue_is_numpys_argsort() -> None:
    from flywheel_sim.market.kernels import _queue

    rng = np.random.default_rng(1)
    for size in (1, 2, 10, 500, 5000):
        offer = rng.integers(0, 300, size * 2)
        subset = np.sort(rng.choice(offer.size, size, replace=False))
        u = rng.random(size)
        np.testing.assert_array_equal(_queue(offer, subset, u), np.argsort(offer[subset] + u))
    # equal keys: NumPy decides their order, so the kernel declines
    offer, subset = np.array([3, 3, 5]), np.arange(3)
    assert _queue(offer, subset, np.array([0.25, 0.25, 0.5])) is None
    assert _queue(np.array([2, 3]), np.arange(2), np.array([1.0, 0.0])) is None  # 2+1 == 3+0
