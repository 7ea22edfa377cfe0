"""What a Model holds beyond XMILE, kept in one ``<flywheel:meta>`` element (JSON text).

XMILE allows elements of other namespaces anywhere; other tools ignore ours. It carries the
model description, parameter ranges, sources and cited links of elements, named loops,
history, report and diagnostics settings and the save step, so YAML -> XMILE -> YAML keeps
them. JSON is parsed with :func:`json.loads` (data only) and checked field by field.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, cast

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.xml import FLYWHEEL_NS, Document
from flywheel_sim.spec.model import Element, Link, LoopSpec, Model

if TYPE_CHECKING:  # imported where built: a model without them does not create their classes
    from flywheel_sim.spec.analyses import DiagnosticsSpec, History, Report

TAG = f"{{{FLYWHEEL_NS}}}meta"
MAX_META_CHARS = 5_000_000


def model_meta(model: Model) -> dict[str, Any]:
    """The parts of ``model`` that XMILE has no element for, as JSON-ready data."""
    elements: dict[str, Any] = {}
    for e in model.elements:
        entry: dict[str, Any] = {}
        if e.kind == "parameter" and (e.minimum is not None or e.maximum is not None):
            entry["range"] = [e.minimum, e.maximum]
        if e.kind == "aux" and not e.dims and _is_number(e.equation):
            entry["aux"] = e.equation  # XMILE reads a constant auxiliary as a parameter
        if e.bounds is not None:
            entry["bounds"] = list(e.bounds)
        if e.source:
            entry["source"] = e.source
        if e.links:
            entry["links"] = [[link.source, link.polarity, link.citation] for link in e.links]
        if entry:
            elements[e.key] = entry
    out: dict[str, Any] = {"elements": elements}
    if model.description:
        out["description"] = model.description
    if model.time.save_step is not None:
        out["save_step"] = model.time.save_step
    if model.loops:
        out["loops"] = [
            {k: v for k, v in asdict(loop).items() if k != "line"} for loop in model.loops
        ]
    for key in ("history", "report", "diagnostics"):
        value = getattr(model, key)
        if value is not None:
            out[key] = {k: v for k, v in asdict(value).items() if k != "line"}
    return out


def apply_meta(model: Model, doc: Document) -> Model:
    """``model`` with what the file's ``<flywheel:meta>`` says (unchanged if it has none)."""
    node = doc.root.find(TAG)
    if node is None:
        return model
    text = node.text or ""
    if len(text) > MAX_META_CHARS:
        raise doc.error("<flywheel:meta> is too large", node)
    import json  # only files we wrote carry the element; others need no JSON parser

    try:
        data = json.loads(text)
        return _apply(model, data)
    except RecursionError:  # JSON nested thousands deep
        raise doc.error(
            "<flywheel:meta> is malformed (nested too deeply)",
            node,
            hint="remove the element to read the model without it",
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        reason = " ".join(str(exc).split())
        if "integer string conversion" in reason or isinstance(exc, OverflowError):
            reason = "a number is too large"
        reason = reason if len(reason) <= 120 else reason[:120] + "…"
        raise doc.error(
            f"<flywheel:meta> is malformed ({type(exc).__name__}: {reason})",
            node,
            hint="remove the element to read the model without it",
        ) from None
    except ModelError as exc:
        raise exc.located(file=doc.file, line=doc.line(node)) from None


def _apply(model: Model, data: dict[str, Any]) -> Model:
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    entries = data.get("elements", {})
    time = model.time
    if data.get("save_step") is not None:
        time = replace(time, save_step=float(data["save_step"]))
    return replace(
        model,
        elements=tuple(_element(e, entries.get(e.key, {})) for e in model.elements),
        time=time,
        description=str(data.get("description", model.description)),
        loops=tuple(_loop(lp) for lp in data.get("loops", [])),
        history=_history(data["history"]) if "history" in data else None,
        report=_report(data["report"]) if "report" in data else None,
        diagnostics=_diagnostics(data["diagnostics"]) if "diagnostics" in data else None,
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _element(e: Element, entry: dict[str, Any]) -> Element:
    changes: dict[str, Any] = {}
    if "aux" in entry and e.kind == "parameter" and _is_number(str(entry["aux"])):
        changes.update(kind="aux", equation=str(entry["aux"]), default=None)
    if "range" in entry:
        lo, hi = entry["range"]
        changes["minimum"] = None if lo is None else float(lo)
        changes["maximum"] = None if hi is None else float(hi)
    if "bounds" in entry:
        low, high = entry["bounds"]
        changes["bounds"] = tuple(
            None if v is None else (str(v) if isinstance(v, str) else float(v)) for v in (low, high)
        )
    if "source" in entry:
        changes["source"] = str(entry["source"])
    if "links" in entry:
        changes["links"] = tuple(
            Link(str(s), cast(Any, str(p)), str(c)) for s, p, c in entry["links"]
        )
    return replace(e, **changes) if changes else e


def _loop(lp: dict[str, Any]) -> LoopSpec:
    return LoopSpec(
        str(lp["name"]),
        tuple(str(v) for v in lp["variables"]),
        cast(Any, str(lp.get("polarity", "?"))),
        str(lp.get("description", "")),
        str(lp.get("source", "")),
    )


def _history(h: dict[str, Any]) -> History:
    from flywheel_sim.spec.analyses import History, HistorySeries

    series = tuple(
        HistorySeries(str(s["variable"]), str(s["column"]), cast(Any, s["aggregate"]))
        for s in h["series"]
    )
    raw = h["data"]  # one data set (text) or several (a list)
    data = tuple(str(d) for d in raw) if isinstance(raw, list) else (str(raw),)
    return History(data, str(h["time_column"]), series)


def _report(r: dict[str, Any]) -> Report:
    from flywheel_sim.spec.analyses import Report

    return Report(
        tuple(float(t) for t in r["times"]),
        tuple(str(v) for v in r["variables"]),
        tuple(str(v) for v in r.get("chart", [])),
    )


def _diagnostics(d: dict[str, Any]) -> DiagnosticsSpec:
    from flywheel_sim.spec.analyses import DiagnosticsSpec

    return DiagnosticsSpec(
        push=_name(d.get("push")),
        stock=_name(d.get("stock")),
        outcome=_name(d.get("outcome")),
        at=_number(d.get("at")),
        coast_at=_number(d.get("coast_at")),
        stop=tuple((str(n), float(v)) for n, v in d.get("stop", [])),
    )


def _name(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected a name, not {value!r}")


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, not {value!r}")
    return float(value)


__all__ = ["TAG", "apply_meta", "model_meta"]
