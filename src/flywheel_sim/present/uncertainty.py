"""Monte Carlo bands as the dashboard and the report show them: the uncertain parameters
sampled (Latin hypercube), the model run in chunks with progress, and the percentile bands of
each variable (summed over its dimensions). No Dash: ``flywheel report`` uses it without the
web extra, and the dashboard runs it as a background job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from flywheel_sim.engine.simulate import Options

F = NDArray[np.float64]


def monte_carlo(
    model: Any,
    distributions: Mapping[str, Any],
    variables: Sequence[str],
    *,
    samples: int,
    fixed: Mapping[str, float],
    seed: int = 0,
    chunk: int = 50,
    progress: Callable[[int, int], None] | None = None,
    options: Options | None = None,
) -> tuple[F, dict[str, F], int]:
    """Sample the distributions, run the model in chunks (reporting progress) and return
    (times, percentile bands per variable, failed runs). Seeds are derived as
    ``simulate(seed=...)`` derives them, so the chunks equal one batched call. ``options``
    (limits, a cancel check) apply to every chunk; a cancel check that is true between two
    chunks stops with :class:`~flywheel_sim.errors.Cancelled`."""
    from flywheel_sim.errors import Cancelled
    from flywheel_sim.present.study import percentile_bands
    from flywheel_sim.studies.batch import run_chunk, seeds_for
    from flywheel_sim.studies.sampling import sample

    names = tuple(distributions)
    drawn = sample(distributions, samples, method="lhs", seed=seed)
    values = np.column_stack([drawn[n] for n in names])
    seeds = seeds_for(seed, samples)
    fixed = {k: v for k, v in fixed.items() if k not in distributions}
    collected: dict[str, list[F]] = {v: [] for v in variables}
    failed = 0
    times = np.zeros(0)
    if progress is not None:
        progress(0, samples)
    for first in range(0, samples, chunk):
        if options is not None and options.cancel is not None and options.cancel():
            raise Cancelled(f"the Monte Carlo was cancelled after {first} of {samples} runs")
        part = slice(first, min(first + chunk, samples))
        out = run_chunk(
            model, names, values[part], fixed, seeds[part], variables, None, options=options
        )
        times = out.times
        failed += sum(s != "ok" for s in out.status)
        for variable in variables:
            data = out.series[variable]
            collected[variable].append(data.reshape(data.shape[0], data.shape[1], -1).sum(2))
        if progress is not None:
            progress(part.stop, samples)
    bands = {v: percentile_bands(np.concatenate(parts)) for v, parts in collected.items()}
    return times, bands, failed
