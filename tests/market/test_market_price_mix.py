"""The market's price index rises while no segment's prices do (docs/models/market.md, "Where
the aggregates differ"): a mix effect, third-party units being dearer and a growing share."""

from __future__ import annotations

import numpy as np

from flywheel_sim.market.params import MarketParams
from flywheel_sim.market.state import create
from flywheel_sim.market.step import step


def segment_indices(months: int, seed: int) -> list[tuple[float, float, float, float]]:
    """Each month: the price index, the first-party and third-party unit-weighted relative
    prices, and the third-party share of units."""
    p = MarketParams.make()
    rng = np.random.default_rng(seed)
    state = create(p, 10_000, 1_000, rng)
    rows = []
    for _ in range(months):
        state, out, _ = step(state, p, rng)
        o, first = state.offers, state.first_party
        relative = o.price / state.ref_price[o.category]
        own, other = o.sold[:first], o.sold[first:]
        own_index = float((own * relative[:first]).sum() / max(own.sum(), 1))
        other_index = float((other * relative[first:]).sum() / max(other.sum(), 1))
        share = float(other.sum() / max(own.sum() + other.sum(), 1))
        rows.append((out["price_index"], own_index, other_index, share))
    return rows


def test_the_price_index_rises_by_mix_not_by_price() -> None:
    rows = segment_indices(120, seed=0)
    start, end = rows[47], rows[119]  # months 48 and 120
    assert end[0] > start[0] + 0.05  # the aggregate rises
    assert end[1] <= start[1] + 0.01  # first-party units do not get dearer
    assert end[2] < start[2]  # third-party units get cheaper
    assert end[3] > start[3] + 0.1  # third-party units take a larger share
    assert end[2] > 1.5 * end[1]  # and they are the dearer segment
