"""Reading a conveyor's ``<conveyor>`` and its leakage flows' options from XMILE."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.names import canonical

_WHAT = "model it with DELAY/DELAYN, or make it a plain stock"


@dataclass
class ConveyorSpec:
    """One ``<stock>`` with ``<conveyor>``: equations already translated to our syntax."""

    key: str
    name: str
    doc: Document
    node: ET.Element
    transit: str
    capacity: str | None
    in_limit: str | None
    exponential: bool


@dataclass
class LeakSpec:
    """One leakage flow (``<leak/>`` or ``<leak>fraction</leak>``) and its fraction."""

    key: str
    name: str
    doc: Document
    node: ET.Element
    fraction: str
    zone: tuple[float, float] = (0.0, 1.0)  # leak_start, leak_end: from the entry


def read_conveyor(
    doc: Document, stock: ET.Element, name: str, translate: Callable[[str], str]
) -> ConveyorSpec:
    """The ``<conveyor>`` of ``stock``; ``translate(raw) -> text`` translates an equation."""
    node = stock.find("conveyor")
    assert node is not None

    def refuse(what: str, hint: str = _WHAT) -> ModelError:
        return doc.error(
            f"{what} in the <conveyor> of stock '{name}' is not supported",
            node,
            variable=name,
            hint=hint,
        )

    if (node.get("discrete") or "").strip().lower() == "true":
        raise refuse('a discrete conveyor (discrete="true")')
    arrest = (node.findtext("arrest") or "").strip()
    if arrest and translate(arrest) not in ("", "0"):
        raise refuse("<arrest>", "remove the arrest condition or model the conveyor with DELAY")
    transit = translate(node.findtext("len") or "")
    if not transit:
        raise doc.error(
            f"the <conveyor> of stock '{name}' has no transit time",
            node,
            variable=name,
            hint="give it <len>transit time</len>",
        )
    capacity = translate(node.findtext("capacity") or "") or None
    in_limit = translate(node.findtext("in_limit") or "") or None
    exponential = (node.get("exponential_leak") or "").strip().lower() == "true"
    return ConveyorSpec(canonical(name), name, doc, node, transit, capacity, in_limit, exponential)


def leak_zone(doc: Document, flow: ET.Element, name: str) -> tuple[float, float]:
    """The leak zone of a leakage flow: ``leak_start`` and ``leak_end``, fractions of the
    belt from the entry (default the whole belt, 0 to 1)."""
    marker = flow.find("leak")
    zone = []
    for attr, default in (("leak_start", 0.0), ("leak_end", 1.0)):
        raw = flow.get(attr) or (marker.get(attr) if marker is not None else None)
        value = default if raw is None else _number(raw)
        if value is None or not 0.0 <= value <= 1.0:
            raise doc.error(
                f"{attr}=\"{raw}\" on flow '{name}' must be a number from 0 to 1",
                flow,
                variable=name,
            )
        zone.append(value)
    if zone[0] > zone[1]:
        raise doc.error(f"the leak zone of flow '{name}' starts after it ends", flow, variable=name)
    return zone[0], zone[1]


_SIZE = re.compile(r"\bSIZE\s*\(\s*\"?([^()\[\],\"]+?)\"?\s*\)", re.IGNORECASE)


def refuse_slat_size(node: ET.Element, prefix: str, belts: set[str]) -> None:
    """``SIZE(conveyor)`` counts the conveyor's slats (XMILE 1.0 §3.7.1.3); the equation
    translator would read it as the size of a scalar (1), so it is refused here, before."""
    for eqn in node.iter("eqn"):
        for match in _SIZE.finditer(eqn.text or ""):
            name = canonical(match.group(1).replace("\\n", " ").strip())
            if prefix + name in belts or name in belts:
                raise ModelError(
                    f"SIZE({match.group(1).strip()}) counts the slats of a conveyor (not "
                    "supported)",
                    hint="use the transit time / DT",
                )


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None
