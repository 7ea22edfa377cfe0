"""Data shipped with the package: historical series that models are compared and fitted to.

``amazon_history.csv`` is Amazon's annual net sales 1996-2024 and operating income (where
published), in USD million, with the source of every figure (copied from the project's shared
data; see the CSV's source columns). ``amazon_metrics.csv`` holds the operating figures the
shareholder letters give for some years (customers served, paid Prime members, the
third-party share of physical gross merchandise sales, AWS sales), each with its source.
``amazon_operations.csv`` holds the operating series of the 10-K filings and letters that the
amazon model's rebuild sets its internals from (fulfillment, shipping, technology and content,
capital expenditure, free cash flow, fulfillment square footage, third-party seller services
and subscription revenue, the Prime fee, seller and customer counts where stated), each value
with its source; a few recent values come from secondary transcriptions and say so.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd


def datasets() -> list[str]:
    """Names of the shipped data sets (file names without .csv)."""
    folder = resources.files("flywheel_sim.library") / "data"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


def load_dataset(name: str) -> pd.DataFrame:
    """A shipped data set as a DataFrame (e.g. ``load_dataset("amazon_history")``)."""
    import pandas as pd

    if name not in datasets():
        hint = did_you_mean(name, datasets()) or f"data sets: {', '.join(datasets())}"
        raise ModelError(f"no shipped data set called '{name}'", hint=hint)
    with (resources.files("flywheel_sim.library") / "data" / f"{name}.csv").open("rb") as handle:
        return pd.read_csv(handle)
