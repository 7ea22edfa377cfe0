"""A flow's unit conversion ``<multiplier>`` (XMILE 1.0 §4.3, any flow): "if the unit
conversion multiplier is 3 and the flow's value is 4, 4 units of material will be taken from
the upstream stock and 3*4 = 12 units of material will be given to the downstream stock".

The stocks downstream get a flow ``"<flow> converted"`` (flow × multiplier) in the flow's
place. Exact where nothing changes the flow after it is computed; a flow a non-negative stock
may cut (its limits are applied after the flows), a flow into a conveyor (whose capacity would
cut the converted flow only) and a multiplier per array element are refused. Used by
:mod:`flywheel_sim.io.xmile.queue`, which reads the options.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical


@dataclass
class Part:
    """One queue stock, or one flow with <overflow/> or <multiplier>."""

    key: str
    name: str
    doc: Document
    node: ET.Element

    def error(self, message: str, hint: str | None = None) -> ModelError:
        return self.doc.error(message, self.node, variable=self.name, hint=hint)

    def where(self) -> str:
        line = self.doc.line(self.node)
        return f"{Path(self.doc.file).name}:{line}" if self.doc.file else f"line {line}"


def convert_multipliers(
    elements: tuple[Element, ...],
    by_key: dict[str, Element],
    multipliers: dict[str, tuple[Part, str]],
    cut_and_queues: tuple[set[str], set[str]],
    conveyors: set[str],
) -> tuple[tuple[Element, ...], tuple[Element, ...]]:
    """Each flow with a multiplier: a flow ``"<flow> converted"`` replaces it in the inflows
    of the stocks downstream. ``cut_and_queues``: the flows a non-negative stock may cut after
    they are computed, and the queues' keys; ``conveyors``: the conveyors' keys."""
    if not multipliers:
        return elements, ()
    cut, queues = cut_and_queues
    renamed: dict[str, str] = {}
    extra: list[Element] = []
    uniflows: set[str] = set()
    for key, (part, factor) in multipliers.items():
        flow = by_key[key]
        downstream = [e for e in elements if e.kind == "stock" and key in e.inflows]
        if not downstream:
            continue  # into a cloud: nothing receives the converted flow
        _check_multiplier(part, flow, downstream, cut, conveyors, queues)
        if any(s.key in queues for s in downstream):
            uniflows.add(key)  # a queue's inflow (XMILE 1.0 §4.3), on both sides
        name = f"{flow.name} converted"
        if canonical(name) in by_key:
            raise part.error(
                f"the multiplier of flow '{part.name}' needs a helper flow '{name}', a name "
                "the model uses",
                hint="rename that variable",
            )
        # into a non-negative stock or a queue the converted flow must not turn negative
        guard = any(s.non_negative or s.key in queues for s in downstream)
        extra.append(_converted(flow, name, factor, guard))
        renamed[key] = canonical(name)
    out = []
    for e in elements:
        if e.kind == "stock" and any(f in renamed for f in e.inflows):
            e = replace(e, inflows=tuple(renamed.get(f, f) for f in e.inflows))
        elif e.key in uniflows:
            e = replace(e, non_negative=True)
        out.append(e)
    return tuple(out), tuple(extra)


def _converted(flow: Element, name: str, factor: str, guard: bool) -> Element:
    """The flow the stocks downstream of ``flow`` get: flow × factor (the run fails where a
    negative factor would be cut by them, when ``guard``)."""
    equation = f"{name_text(flow.key)} * ({factor})"
    if guard:
        equation = f"IF ({factor}) < 0 THEN 0 / 0 ELSE {equation}"
    return Element(
        name=name,
        kind="flow",
        dims=flow.dims,
        equation=equation,
        description=f"what flow '{flow.name}' delivers downstream: its value times its unit "
        "conversion multiplier (XMILE 1.0 §4.3)",
        line=flow.line,
    )


def _check_multiplier(
    part: Part,
    flow: Element,
    downstream: list[Element],
    cut: set[str],
    conveyors: set[str],
    queues: set[str],
) -> None:
    if flow.kind != "flow":
        raise part.error(f"'{part.name}' has a <multiplier> but no stock names it as a flow")
    hint = (
        "drop the <multiplier> and convert the units in the downstream stock's other flows, "
        "or mark the stock <non_negative>false</non_negative> if it cannot run out"
    )
    for stock in downstream:
        if stock.non_negative and not flow.non_negative and stock.key not in queues:
            raise part.error(
                f"<multiplier> on flow '{part.name}', which may turn negative into "
                f"non-negative stock '{stock.name}', is not supported (the stock's limit "
                "would apply to the converted flow only)",
                hint="make the flow a uniflow (<non_negative/>), or drop the <multiplier>",
            )
        if stock.key in conveyors:
            raise part.error(
                f"<multiplier> on flow '{part.name}' into conveyor '{stock.name}' is not supported",
                hint="put the multiplier on the conveyor's outflow",
            )
    if part.key in cut:
        raise part.error(
            f"<multiplier> on flow '{part.name}', which a non-negative stock may cut, is not "
            "supported (the stock's limit applies after the multiplier is taken)",
            hint=hint,
        )
