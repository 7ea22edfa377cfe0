"""What ``flywheel run`` does after simulating: the summary table (or, for a model with a
report section, its key figures next to history and the history chart), a failed run named,
the run kept in the run store, the results written and the variables drawn.

Everything said goes through the caller's ``say`` (standard output) and ``warn`` (standard
error) as it happens, so a failure part-way keeps what was already said."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr
    from rich.console import RenderableType

    from flywheel_sim.spec.model import Model


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """Where a run goes besides the terminal."""

    out: Path | None = None  # results file: .csv, .parquet or .nc
    plot: Path | None = None  # chart of the variables: .png, .svg or .pdf
    chart: bool = True  # models with a report: out/MODEL.png (model against history)
    keep: bool = True  # keep the run in the run store
    store_path: Path | None = None  # the run store file (default: $FLYWHEEL_STORE)


def finish_run(
    model: Model,
    result: xr.Dataset,
    outputs: RunOutputs,
    *,
    variables: Sequence[str] | None,
    settings: Mapping[str, Any],
    say: Callable[[RenderableType], None],
    warn: Callable[[str], None],
) -> bool:
    """Show, keep, write and draw one simulated ``result`` of ``model`` (``variables`` as
    chosen on the command line, ``settings`` stored with the run); True when a run failed."""
    from rich.markup import escape

    from flywheel_sim.present.tables import summary_table

    if model.report is None or variables:
        say(summary_table(result))
    if model.report is not None:
        from flywheel_sim.present.report import history_chart, key_figures

        say(key_figures(model, result))
        if outputs.chart and outputs.plot is None:
            chart = history_chart(model, result, Path("out") / f"{model.name}.png")
            say(f"drew {escape(str(chart))}")
    failed = result["status"].values == "failed"
    if failed.any():
        r = int(failed.argmax())
        warn(
            f"[red]run {r} failed:[/] {escape(str(result['failed_variable'].values[r]))} became "
            f"non-finite at t = {float(result['failed_time'].values[r]):g}"
        )
    if outputs.keep:
        from flywheel_sim.store.runstore import RunStore

        run_store = RunStore(outputs.store_path)
        batch = run_store.save_result(model, result, settings=dict(settings))
        say(f"stored as batch {batch} in {escape(str(run_store.path))}")
    if outputs.out is not None:
        from flywheel_sim.io.results import write_result

        say(f"wrote {escape(str(write_result(result, outputs.out)))}")
    if outputs.plot is not None:
        from flywheel_sim.present.charts import plot_result

        drawn = plot_result(result, outputs.plot, list(variables) if variables else None)
        say(f"drew {escape(str(drawn))}")
    return bool(failed.any())
