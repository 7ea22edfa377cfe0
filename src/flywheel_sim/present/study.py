"""Charts and tables for studies: scenario comparisons, percentile fans, outcome summaries,
the calibration fit and the sensitivity tornado."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import OutputError
from flywheel_sim.io.results import atomic_path
from flywheel_sim.present.charts import pyplot_for

if TYPE_CHECKING:
    import pandas as pd

    from flywheel_sim.studies.outcomes import Outcome

F = NDArray[np.float64]
PERCENTILES = (5, 25, 50, 75, 95)
PALETTE = ("#1b4f8a", "#c0392b", "#2e8b57", "#d4a017", "#7d3c98", "#16a085", "#555555")


def _grid(count: int) -> tuple[int, int]:
    cols = min(3, count)
    return math.ceil(count / cols), cols


def compare_chart(
    series: Mapping[str, Mapping[str, tuple[F, F]]],
    path: str | Path,
    *,
    title: str,
    units: Mapping[str, str] | None = None,
) -> Path:
    """One panel per variable, one line per scenario: ``series[scenario][variable]`` is
    (times, values)."""
    target = Path(path)
    plt = pyplot_for(target)
    variables = list(next(iter(series.values())))
    fig, panels = _panels(plt, variables, units)
    for variable, ax in zip(variables, panels, strict=False):
        for s, (scenario, by_var) in enumerate(series.items()):
            times, values = by_var[variable]
            ax.plot(times, values, color=PALETTE[s % len(PALETTE)], lw=1.8, label=scenario)
    return _finish(plt, fig, panels[0], target, title)


def _panels(
    plt: Any, variables: list[str], units: Mapping[str, str] | None
) -> tuple[Any, list[Any]]:
    """A grid of titled panels, one per variable (spare cells hidden)."""
    rows, cols = _grid(len(variables))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for variable, ax in zip(variables, flat, strict=False):
        unit = (units or {}).get(variable, "")
        ax.set_title(variable.replace("_", " ") + (f" ({unit})" if unit else ""), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in flat[len(variables) :]:
        ax.axis("off")
    return fig, flat[: len(variables)]


def _finish(plt: Any, fig: Any, first: Any, target: Path, title: str) -> Path:
    """Shared legend below the panels, a title, and an atomic write."""
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120)
    plt.close(fig)
    return target


def fan_chart(
    times: F,
    bands: Mapping[str, F],
    path: str | Path,
    *,
    title: str,
    units: Mapping[str, str] | None = None,
) -> Path:
    """Percentile fans (5–95 and 25–75 bands, median line) per variable; ``bands`` maps each
    variable to its 5th, 25th, 50th, 75th and 95th percentiles over the runs at each time,
    (5, times) — see :meth:`flywheel_sim.RunStore.percentiles` and :func:`percentile_bands`."""
    target = Path(path)
    plt = pyplot_for(target)
    variables = list(bands)
    fig, panels = _panels(plt, variables, units)
    for variable, ax in zip(variables, panels, strict=True):
        p5, p25, p50, p75, p95 = bands[variable]
        ax.fill_between(times, p5, p95, color=PALETTE[0], alpha=0.18, lw=0, label="5–95%")
        ax.fill_between(times, p25, p75, color=PALETTE[0], alpha=0.35, lw=0, label="25–75%")
        ax.plot(times, p50, color=PALETTE[0], lw=1.8, label="median")
    return _finish(plt, fig, panels[0], target, title)


def percentile_bands(series: F) -> F:
    """The fan chart's percentiles of a (runs, times) array, failed runs (NaN) left out."""
    return np.asarray(np.nanpercentile(series, PERCENTILES, axis=0), dtype=float)


def outcome_summary(outcomes: Sequence[Outcome], values: Mapping[str, F]) -> pd.DataFrame:
    """Mean, standard deviation and percentiles of each outcome over the runs (failed runs,
    NaN, left out and counted)."""
    import pandas as pd

    rows = []
    for outcome in outcomes:
        v = np.asarray(values[outcome.label], dtype=float)
        ok = v[np.isfinite(v)]
        row: dict[str, float | str | int] = {"outcome": outcome.label, "runs": int(ok.size)}
        row["failed"] = int(v.size - ok.size)
        row["mean"] = float(ok.mean()) if ok.size else math.nan
        row["sd"] = float(ok.std(ddof=1)) if ok.size > 1 else math.nan
        for p in PERCENTILES:
            row[f"p{p}"] = float(np.percentile(ok, p)) if ok.size else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_chart(
    series: Sequence[tuple[str, F, F, F, tuple[F, F, F] | None]],
    path: str | Path,
    *,
    title: str,
    until: float | None = None,
    units: Mapping[str, str] | None = None,
) -> Path:
    """Fitted against observed, one panel per series: (variable, times, observed, fitted,
    band) with the 95% prediction band; a log scale for positive series; a line at ``until``
    when the later years are out of sample."""
    target = Path(path)
    plt = pyplot_for(target)
    fig, panels = _panels(plt, [s[0] for s in series], units)
    for (_, times, observed, fitted, band), ax in zip(series, panels, strict=True):
        if band is not None:
            ax.fill_between(band[0], band[1], band[2], color=PALETTE[0], alpha=0.18, lw=0,
                            label="95% prediction band")  # fmt: skip
        ax.plot(times, fitted, color=PALETTE[0], lw=1.8, label="model (fitted)")
        ax.plot(times, observed, "o", color=PALETTE[1], ms=3.5, label="observed")
        if (observed > 0).all() and (fitted > 0).all():
            ax.set_yscale("log")
        if until is not None:
            ax.axvline(until, color="#555555", lw=1, ls="--", label="end of fit")
    return _finish(plt, fig, panels[0], target, title)


def tornado_chart(frame: pd.DataFrame, path: str | Path, *, title: str) -> Path:
    """Draw what :func:`analyse` returned as horizontal bars, the most influential parameter
    on top: Sobol' ST and S1 side by side with confidence intervals, or Morris mu_star with
    its confidence interval and sigma as markers. ``.png``, ``.svg`` or ``.pdf``."""
    target = Path(path)
    if "ST" in frame.columns:
        key = "ST"
    elif "mu_star" in frame.columns:
        key = "mu_star"
    else:
        raise OutputError(f"cannot draw '{target}': pass the frame analyse() returned")
    if frame.empty:
        raise OutputError(f"cannot draw '{target}': the frame has no parameters")
    plt = pyplot_for(target)
    rows = frame.sort_values(key, ascending=False, kind="stable")
    fig, ax = plt.subplots(figsize=(8.5, 1.5 + 0.5 * len(rows)))
    place = np.arange(len(rows), dtype=float)
    level = frame.attrs.get("confidence")
    (_sobol_bars if key == "ST" else _morris_bars)(ax, rows, place)
    ax.set_yticks(place, [str(p) for p in rows["parameter"]])
    ax.invert_yaxis()  # the largest first, on top
    ax.set_ylabel("parameter")
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="x", alpha=0.3)
    interval = f"{level:.0%} interval" if level else "confidence interval"
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        frameon=False,
        title=f"error bars: {interval}",
        title_fontsize=9,
    )
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(target) as tmp:  # "tight" keeps the legend beside the axes
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120, bbox_inches="tight")
    plt.close(fig)
    return target


def _sobol_bars(ax: Any, rows: pd.DataFrame, place: F) -> None:
    half = 0.38
    for column, shift, colour, label in (
        ("ST", -half / 2, "#1f77b4", "total (ST)"),
        ("S1", half / 2, "#ff7f0e", "first order (S1)"),
    ):
        ax.barh(
            place + shift,
            rows[column].to_numpy(dtype=float),
            height=half,
            xerr=rows[f"{column}_conf"].to_numpy(dtype=float),
            color=colour,
            ecolor="black",
            capsize=3,
            label=label,
        )
    upper = float(np.nanmax((rows["ST"] + rows["ST_conf"]).to_numpy(dtype=float)))
    ax.set_xlim(min(0.0, float(np.nanmin(rows["S1"] - rows["S1_conf"]))), max(1.0, upper))
    ax.set_xlabel("Sobol' index (share of the outcome's variance)")


def _morris_bars(ax: Any, rows: pd.DataFrame, place: F) -> None:
    ax.barh(
        place,
        rows["mu_star"].to_numpy(dtype=float),
        height=0.6,
        xerr=rows["mu_star_conf"].to_numpy(dtype=float),
        color="#1f77b4",
        ecolor="black",
        capsize=3,
        label="μ* (mean |elementary effect|)",
    )
    ax.plot(
        rows["sigma"].to_numpy(dtype=float),
        place,
        "D",
        color="#d62728",
        markersize=7,
        label="σ (spread of effects)",
    )
    ax.set_xlabel("elementary effect (outcome change across a parameter's range)")
