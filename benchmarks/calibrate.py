"""Calibration benchmark: fit amazon's behavioural parameters to net sales (and operating
income) 1997-2024 with `calibrate`, and record the wall time, the number of runs and the fit.

Three fits with the scenario file's settings: the whole history from scratch (the search's own
quality and time), the whole history starting from the shipped defaults (what `flywheel
calibrate amazon` does: it returns the shipped fit unless it finds a better one), and
1996-2015 from scratch with the 2016-2024 forecast (out of sample: the defaults were fitted to
the years it must forecast, so it may not start from them).

Target (issue 6): the Amazon calibration completes in under 2 minutes on this 2-core machine.
Writes benchmarks/results/calibrate.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import flywheel_sim as fs
from flywheel_sim.studies.scenarios import load_study

HERE = Path(__file__).resolve().parent


def _figures(
    fit: fs.Calibration, model: fs.Model, ranges: dict[str, tuple[float, float]], folder: Path
) -> None:
    """The fit chart and the parameter table shown in docs/models/amazon.md."""
    from flywheel_sim.present.study import calibration_chart

    folder.mkdir(parents=True, exist_ok=True)
    panels = [
        (s.variable, s.times, s.values, fit.fitted[s.variable][1], fit.band.get(s.variable))
        for s in fit.series
    ]
    units = {s.variable: model.element(s.variable).unit for s in fit.series}
    title = "amazon: calibrated to Amazon's history (flywheel calibrate amazon)"
    calibration_chart(panels, folder / "amazon-calibration.png", title=title, units=units)
    rows = [
        "| parameter | fitted | 95% interval | search range | unit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in fit.parameters.itertuples():
        low, high = ranges[str(row.parameter)]
        rows.append(
            f"| `{row.parameter}` | {row.value:.4g} | {row.lower:.4g} – {row.upper:.4g} "
            f"| {low:g} – {high:g} | {model.element(str(row.parameter)).unit} |"
        )
    (folder / "amazon-calibration.md").write_text("\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figures", type=Path, help="also write the docs' chart and table here")
    args = parser.parse_args()
    model = fs.load_model("amazon")
    spec = load_study("amazon", model).calibration  # the shipped calibration set-up
    assert spec is not None
    fs.simulate(model)  # load the numba kernels outside the timing
    figures: dict[str, object] = {
        "bounds": spec.fit,
        "loss": spec.loss,
        "weights": spec.weights,
    }
    runs = (
        ("in_sample", None, False),
        ("in_sample_from_defaults", None, True),
        ("fit_to_2015", 2015.0, False),
    )
    for label, until, from_defaults in runs:
        start = time.perf_counter()
        fit = fs.calibrate(
            model,
            list(spec.fit),
            bounds=spec.fit,
            since=spec.since,
            until=until,
            loss=spec.loss,
            weights=spec.weights,
            checks=spec.checks,
            popsize=spec.popsize,
            maxiter=spec.maxiter,
            seed=spec.seed,
            start=from_defaults,
        )
        figures[label] = {
            "seconds": round(time.perf_counter() - start, 1),
            "runs": fit.evaluations,
            "metrics": fit.metrics,
            "forecast": fit.forecast,
            "fitted": fit.values,
            "warnings": fit.warnings,
            "loss": fit.loss,
            "operating_income": {
                str(int(t)): round(float(v))
                for t, v in zip(*fit.fitted["operating_income"], strict=True)
            },
            "parameters": fit.parameters.to_dict(orient="records"),
        }
        if label == "in_sample_from_defaults" and args.figures:
            _figures(fit, model, spec.fit, args.figures)
    out = HERE / "results" / "calibrate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
