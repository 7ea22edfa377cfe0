"""Time-series charts of a Result (matplotlib, imported on first use)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel_sim.errors import OutputError
from flywheel_sim.io.results import atomic_path

if TYPE_CHECKING:
    import xarray as xr

CHART_FORMATS = (".png", ".svg", ".pdf")


def pyplot_for(target: Path) -> Any:
    """matplotlib's pyplot (headless), after checking ``target`` is a format we can draw;
    OutputError with the fix when it is not, or when matplotlib is missing."""
    if target.suffix.lower() not in CHART_FORMATS:
        raise OutputError(f"cannot draw '{target}': use one of {', '.join(CHART_FORMATS)}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise OutputError("charts need matplotlib: pip install 'flywheel-sim[plot]'") from None
    return plt


def plot_result(
    result: xr.Dataset,
    path: str | Path,
    variables: list[str] | None = None,
    *,
    max_panels: int = 12,
) -> Path:
    """Draw each variable over time (one panel each; every run as a line) into ``path``."""
    target = Path(path)
    plt = pyplot_for(target)
    names = list(variables or result.data_vars)[:max_panels]
    cols = min(3, len(names)) or 1
    rows = math.ceil(len(names) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    time = result["time"].values
    for ax, name in zip(axes.flat, names, strict=False):
        data = result[name]
        extra = [d for d in data.dims if d not in ("run", "time")]
        stacked = data.stack(line=["run", *extra]).transpose("time", "line")
        lines = ax.plot(time, stacked.values, lw=1.2, alpha=0.9 if stacked.shape[1] < 10 else 0.3)
        if extra and len(lines) <= 10:  # name the elements of an arrayed variable
            labels = [",".join(map(str, key[1:])) for key in stacked["line"].values]
            if result.sizes.get("run", 1) > 1:
                labels = [
                    f"run {key[0]}: {label}"
                    for key, label in zip(stacked["line"].values, labels, strict=True)
                ]
            ax.legend(lines, labels, fontsize=7)
        unit = data.attrs.get("units", "")
        ax.set_title(f"{name}" + (f" ({unit})" if unit else ""), fontsize=9)
        ax.set_xlabel(result.attrs.get("time_units", "time"), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"{result.attrs.get('model', '')} ({result.attrs.get('method', '')})", fontsize=10)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120)
    plt.close(fig)
    return target


def plot_dominance(data: xr.Dataset, path: str | Path, *, top: int = 8, run: int = 0) -> Path:
    """Relative loop scores over time (the ``top`` loops by peak |score|), stacked lines."""
    target = Path(path)
    plt = pyplot_for(target)
    relative = data["relative_score"].isel(run=run)
    peak = abs(relative).max("time").values
    chosen = list(peak.argsort()[::-1][:top])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i in chosen:
        loop = relative.isel(loop=i)
        name = loop["loop_name"].item()
        if not name:  # an unnamed loop: its first variables
            chain = str(loop["loop_variables"].item()).split(" -> ")
            name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
        label = f"{loop['loop'].item()} {name}"
        ax.plot(relative["time"].values, loop.values, lw=1.5, label=label)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("relative loop score (+ reinforcing, - balancing)")
    ax.set_xlabel("time")
    ax.set_title(f"{data.attrs.get('model', '')}: loop dominance (Loops That Matter)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix[1:].lower(), dpi=120)
    plt.close(fig)
    return target
