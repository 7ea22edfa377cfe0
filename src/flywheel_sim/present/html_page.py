"""The HTML of the report: the page template and its plain tables (key figures, model
documentation with citations). Everything model-supplied is escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from string import Template
from typing import TYPE_CHECKING, Any

import numpy as np

from flywheel_sim.present.analyses import fmt

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.spec.model import Element, Model

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; line-height: 1.45; }
header { background: #1b4f8a; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 6px; font-size: 24px; }
header p { margin: 4px 0; max-width: 1100px; }
header .stamp { font-size: 12px; opacity: 0.85; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #e2e6ea;
      padding: 8px 28px; z-index: 5; }
nav a { margin-right: 16px; color: #1b4f8a; text-decoration: none; font-weight: 600; }
main { padding: 8px 28px 40px; max-width: 1300px; }
section { background: #fff; border: 1px solid #e2e6ea; border-radius: 6px; margin: 18px 0;
          padding: 8px 18px 16px; }
h2 { color: #1b4f8a; font-size: 20px; }
.diagram svg { width: 100%; height: auto; max-height: 900px; }
.note { font-size: 13px; color: #555; }
.missing { color: #8a5a00; font-style: italic; }
.warn { color: #8a5a00; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin: 10px 0; }
th, td { border-bottom: 1px solid #e6e6e6; padding: 4px 10px; text-align: left;
         vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.observed td { color: #777; font-style: italic; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
         gap: 12px; margin: 10px 0; }
.card { border: 1px solid #e2e6ea; border-radius: 6px; padding: 10px 14px; }
.card h3 { margin: 0 0 6px; font-size: 14px; color: #1b4f8a; }
.card .big { font-size: 21px; font-weight: 700; }
.card p { margin: 4px 0; font-size: 13px; color: #444; }
.seed { background: #f0f6ec; }
</style>
<script type="text/javascript">$plotly</script>
</head><body>
<header><h1>$title</h1><p>$description</p><p class="stamp">$stamp</p></header>
<nav>$toc</nav>
<main>$body</main>
</body></html>
""")


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: bool = False) -> str:
    """A plain HTML table (cells escaped)."""
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="num">{html.escape(str(c))}</td>'
            if numeric and i
            else f"<td>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key_figures(model: Model, result: xr.Dataset) -> str:
    """The model's report variables at its report times, with observed values beneath."""
    from flywheel_sim.spec.model import HistorySeries
    from flywheel_sim.studies.history import LABELS, history_frame, model_values

    if model.report is None:
        return ""
    times = np.array(model.report.times, dtype=float)
    series = {s.variable: s for s in model.history.series} if model.history else {}
    frame = history_frame(model) if model.history else None
    rows = []
    for name in model.report.variables:
        if name not in result:
            continue
        item = series.get(name, HistorySeries(name, name))
        values = model_values(result, item, times)[0]
        label = name.replace("_", " ")
        if item.aggregate in LABELS:
            label += f" ({LABELS[item.aggregate]})"
        rows.append(f"<tr><td>{html.escape(label)}</td>" + _cells(values) + "</tr>")
        if name in series and frame is not None and model.history is not None:
            lookup = dict(zip(frame[model.history.time_column], frame[item.column], strict=True))
            observed = np.array([float(lookup.get(t, np.nan)) for t in times])
            rows.append('<tr class="observed"><td>observed</td>' + _cells(observed) + "</tr>")
    head = "".join(f'<th class="num">{t:g}</th>' for t in times)
    return (
        "<h3>Key figures</h3><table><thead><tr><th>variable</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _cells(values: np.ndarray) -> str:
    return "".join(f'<td class="num">{html.escape(fmt(float(v)))}</td>' for v in values)


def _default(element: Element) -> str:
    if isinstance(element.default, tuple):
        return ", ".join(f"{k}: {v:g}" for k, v in element.default)
    return fmt(float(element.default)) if element.default is not None else ""


def _sources(model: Model) -> str:
    """The model file's top-level ``source:`` text (the works it is built from), if any."""
    import yaml

    if not model.text:
        return ""
    try:  # the loader has already checked this text (aliases budgeted, safe loader)
        doc = yaml.safe_load(model.text)
    except yaml.YAMLError:
        return ""
    text = doc.get("source") if isinstance(doc, dict) else None
    return f"<p><b>Sources:</b> {html.escape(' '.join(str(text).split()))}</p>" if text else ""


def documentation(model: Model) -> str:
    """Parameters, causal links with the sentence each comes from, and the named loops."""
    parameters = table(
        ("parameter", "value", "range", "unit", "description", "source"),
        [
            (p.name, _default(p),
             f"{'' if p.minimum is None else fmt(p.minimum)} … "
             f"{'' if p.maximum is None else fmt(p.maximum)}",
             p.unit, p.description, p.source)
            for p in model.of_kind("parameter")
        ],
    )  # fmt: skip
    links = []
    for element in model.elements:
        for link in element.links:
            seed = ' class="seed"' if link.citation.lower().startswith("seed") else ""
            links.append(
                f"<tr{seed}><td>{html.escape(link.source)}</td>"
                f"<td>{html.escape(element.name)}</td><td>{html.escape(link.polarity)}</td>"
                f"<td>{html.escape(link.citation)}</td></tr>"
            )
    link_table = (
        "<table><thead><tr><th>from</th><th>to</th><th>polarity</th><th>source</th></tr>"
        f"</thead><tbody>{''.join(links)}</tbody></table>"
    )
    loops = table(
        ("loop", "type", "variables", "description"),
        [(lp.name, lp.polarity, " → ".join(lp.variables), lp.description) for lp in model.loops],
    )
    seeds = sum(1 for e in model.elements for k in e.links if k.citation.lower().startswith("seed"))
    total = sum(len(e.links) for e in model.elements)
    return (
        _sources(model)
        + (f"<h3>Named feedback loops</h3>{loops}" if model.loops else "")
        + f"<h3>Causal links and their sources</h3><p class='note'>{seeds} of {total} links "
        "quote a seed text (shaded); the others state their assumption.</p>"
        + link_table
        + f"<h3>Parameters</h3>{parameters}"
    )
