"""Model -> our YAML format (docs/model-format.md), e.g. for ``flywheel convert m.xmile m.yaml``.

The text is written with PyYAML's safe dumper and reads back with :func:`load_model` into an
equal model (same elements, equations, time settings, loops, history, report, diagnostics)
and the same diagram layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flywheel_sim.errors import ModelError
from flywheel_sim.io.yaml.layout import layout_dict
from flywheel_sim.spec.ast import Binary, to_text, walk
from flywheel_sim.spec.model import Dimension, Element, GraphicalFunction, Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

SECTIONS = {
    "parameter": "parameters",
    "stock": "stocks",
    "flow": "flows",
    "aux": "auxiliaries",
    "lookup": "lookups",
}


def _table(table: GraphicalFunction) -> dict[str, Any]:
    interpolation = "discrete" if table.kind == "discrete" else "linear"
    extrapolation = "linear" if table.kind == "extrapolate" else "clamp"
    out: dict[str, Any] = {
        "points": [[x, y] for x, y in zip(table.xs, table.ys, strict=True)],
        "interpolation": interpolation,
        "extrapolation": extrapolation,
    }
    if table.x_unit:
        out["input_unit"] = table.x_unit
    return out


def _equation(text: str) -> str:
    """The equation as written, unless it chains ``^`` without parentheses (``a^b^c``), which
    versions before ``^`` grouped right to left read as ``(a^b)^c``: then
    with explicit parentheses, so that every version reads the same value."""
    if "^" not in text:
        return text
    try:
        tree = parse(text)
    except ModelError:
        return text
    for node in walk(tree):
        if isinstance(node, Binary) and node.op == "^" and _is_power(node.left, node.right):
            return to_text(tree)
    return text


def _is_power(*nodes: object) -> bool:
    return any(isinstance(n, Binary) and n.op == "^" for n in nodes)


def _element(e: Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.dims:
        out["dims"] = list(e.dims)
    if e.kind == "parameter":
        out["default"] = dict(e.default) if isinstance(e.default, tuple) else e.default
        if e.minimum is not None:
            out["min"] = e.minimum
        if e.maximum is not None:
            out["max"] = e.maximum
    elif e.kind == "lookup":
        assert e.lookup is not None
        out.update(_table(e.lookup))
    else:
        key = "initial" if e.kind == "stock" else "equation"
        if e.equation.strip():
            out[key] = _equation(e.equation)
        if e.element_equations:
            out["elements"] = {k: _equation(v) for k, v in e.element_equations}
    if e.kind == "stock":
        if e.inflows:
            out["inflows"] = list(e.inflows)
        if e.outflows:
            out["outflows"] = list(e.outflows)
    if e.kind in ("stock", "flow") and e.non_negative:
        out["non_negative"] = True
    if e.bounds is not None:
        out["bounds"] = list(e.bounds)
    if e.lookup is not None and e.kind in ("aux", "flow"):
        out["lookup"] = _table(e.lookup)
    elif e.lookup is not None and e.kind != "lookup":
        raise ModelError(
            f"{e.kind} '{e.name}' has a graphical function, which our YAML format only allows "
            "on auxiliaries and flows",
            variable=e.name,
            hint="move the graphical function to an auxiliary the stock uses",
        )
    for key, value in (("unit", e.unit), ("description", e.description), ("source", e.source)):
        if value:
            out[key] = value
    if e.links:
        out["links"] = {
            link.source: {
                "polarity": link.polarity,
                **({"source": link.citation} if link.citation else {}),
            }
            for link in e.links
        }
    return out


def _dimension(dim: Dimension, dims: dict[str, Dimension]) -> Any:
    """A dimension's elements, with its mappings when it has any (model-format.md): the
    targets' names when every one pairs by position, else each target's pairs listed."""
    if not dim.maps_to:
        return list(dim.elements)
    if not dim.pairs:
        return {"elements": list(dim.elements), "maps_to": list(dim.maps_to)}
    listed = {canonical(t): p for t, p in dim.pairs}
    maps: dict[str, Any] = {}
    for target in dim.maps_to:
        pairs = listed.get(canonical(target))
        if pairs is None:  # by position, written out
            pairs = tuple((e,) for e in dims[canonical(target)].elements)
        maps[target] = [p[0] if len(p) == 1 else list(p) for p in pairs]
    return {"elements": list(dim.elements), "maps_to": maps}


def model_dict(model: Model) -> dict[str, Any]:
    """``model`` as the plain data our YAML format holds."""
    if model.policies:
        raise ModelError(
            f"model '{model.name}' has time-varying policies, which a model file cannot hold",
            hint="keep policies in a scenario file",
        )
    time = model.time
    doc: dict[str, Any] = {"name": model.name}
    if model.description:
        doc["description"] = model.description
    doc["time"] = {
        "start": time.start,
        "stop": time.stop,
        "dt": time.dt,
        "units": time.units,
        "method": time.method,
    }
    if time.save_step is not None:
        doc["time"]["save_step"] = time.save_step
    if model.units:
        doc["units"] = dict(model.units)
    if model.dimensions:
        by_key = {canonical(d.name): d for d in model.dimensions}
        doc["dimensions"] = {d.name: _dimension(d, by_key) for d in model.dimensions}
    for kind, section in SECTIONS.items():
        items = {e.name: _element(e) for e in model.elements if e.kind == kind}
        if items:
            doc[section] = items
    extras = (
        ("loops", _loops(model)),
        ("history", _history(model)),
        ("report", _report(model)),
        ("diagnostics", _diagnostics(model)),
        ("layout", layout_dict(model.layout)),
    )
    doc.update({key: value for key, value in extras if value})
    return doc


def _loops(model: Model) -> dict[str, Any]:
    return {
        loop.name: {
            "variables": list(loop.variables),
            "polarity": loop.polarity,
            **({"description": loop.description} if loop.description else {}),
            **({"source": loop.source} if loop.source else {}),
        }
        for loop in model.loops
    }


def _history(model: Model) -> dict[str, Any]:
    h = model.history
    if h is None:
        return {}
    series = {s.variable: {"column": s.column, "aggregate": s.aggregate} for s in h.series}
    data: Any = h.data  # one data set, or several joined on time
    if isinstance(data, tuple):
        data = data[0] if len(data) == 1 else list(data)
    return {"data": data, "time": h.time_column, "series": series}


def _report(model: Model) -> dict[str, Any]:
    r = model.report
    if r is None:
        return {}
    out: dict[str, Any] = {"times": list(r.times), "variables": list(r.variables)}
    if r.chart:
        out["chart"] = list(r.chart)
    return out


def _diagnostics(model: Model) -> dict[str, Any]:
    d = model.diagnostics
    if d is None:
        return {}
    pairs = (("push", d.push), ("stock", d.stock), ("outcome", d.outcome), ("at", d.at))
    out: dict[str, Any] = {k: v for k, v in pairs if v is not None}
    if d.stop:
        out["coast"] = {"stop": dict(d.stop)}
        if d.coast_at is not None:
            out["coast"]["at"] = d.coast_at
    return out


def dumps_yaml(model: Model) -> str:
    """``model`` as YAML text in our model format."""
    return yaml.safe_dump(model_dict(model), sort_keys=False, allow_unicode=True, width=100)


def save_yaml(model: Model, path: str | Path) -> Path:
    """Write ``model`` as a YAML model file; returns the path."""
    from flywheel_sim.io.results import write_text

    return write_text(path, dumps_yaml(model))


__all__ = ["dumps_yaml", "model_dict", "save_yaml"]
