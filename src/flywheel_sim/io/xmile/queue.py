"""Queues (XMILE 1.0 §3.7.3, isee help "Queue Computation") and the flow options that go with
them (``<overflow/>``, and the unit conversion ``<multiplier>`` of any flow, §4.3) as plain
stock-and-flow structure.

A queue is a FIFO of batches: every DT each inflow adds one batch (what it delivers in that
DT), and the outflows take batches from the front. What limits a queue's outflow is what is
downstream: a conveyor's capacity or inflow limit, an arrested conveyor, an oven. "Queues
flowing to regular stocks and clouds are not limited in any way, so their outflows will always
empty the queue" (§3.7.3), and an ``<overflow/>`` outflow takes something only when a higher
priority outflow "has been blocked due to capacity constraints, inflow limit constraints, or
the downstream conveyor being arrested".

The reader refuses every queue whose outflow can be blocked (a queue feeding a conveyor: the
conveyor must be discrete, and discrete conveyors are not read). What is left does not depend
on the batches, so with Euler steps it is exactly:

- the queue: an ordinary stock; its inflows are uniflows (§4.3: queue inflows MUST be
  non-negative);
- its first outflow: everything in the queue plus what came in this DT,
  ``queue / DT + inflow 1 + inflow 2 ...``, so the queue is empty after every step;
- every other outflow, overflows included: 0 (nothing is left, and nothing is ever blocked).

When a queue's inflow may itself be cut by a non-negative stock upstream (whose limits are
applied after the flows are computed), the queue is made a non-negative stock too, so its
outflow is cut to what actually arrived. Reading the batches (``SIZE(queue)``, ``queue[k]``,
``MEAN``, ``MIN``, ``MAX``, ``STDDEV``, ``RANK``, ``PROD`` of the queue) is refused; the
queue's value and ``SUM`` are its total.

A flow's ``<multiplier>`` is read here too and expanded by
:mod:`flywheel_sim.io.xmile.multiplier`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.containers import container_reads
from flywheel_sim.io.xmile.multiplier import Part, convert_multipliers
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element, TimeSpec
from flywheel_sim.spec.names import canonical

# the functions that read a container's elements (a queue's batches); SUM is the total
_SIZE_OF = re.compile(r"\bSIZE\s*\(\s*\"?([^()\[\],\"]+?)\"?\s*\)", re.IGNORECASE)
_BLOCKED = "model the waiting line as a stock whose outflow is what the conveyor accepts"


@dataclass
class QueueParts:
    """What the reader found: queue stocks, overflow flows, multipliers (translated)."""

    queues: list[Part] = field(default_factory=list)
    overflows: dict[str, Part] = field(default_factory=dict)
    multipliers: dict[str, tuple[Part, str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # the queues' flattened names

    def __bool__(self) -> bool:
        return bool(self.queues or self.overflows or self.multipliers)


def read_queue_parts(
    parts: QueueParts,
    doc: Document,
    node: ET.Element,
    name: str,
    translate: Callable[[str], str],
) -> None:
    """Record the <queue/>, <overflow/> and <multiplier> of one variable; refuse them where
    XMILE does not allow them (a queue is a stock; the other two belong to flows)."""
    tag, part = node.tag, Part(canonical(name), name, doc, node)
    for option, owner in (("queue", "stock"), ("overflow", "flow"), ("multiplier", "flow")):
        if node.find(option) is not None and tag != owner:
            raise ModelError(f"<{option}> belongs in a <{owner}>, not in <{tag}>")
    if node.find("element/multiplier") is not None:
        raise ModelError(
            "a <multiplier> per array element is not supported",
            hint="give the flow one <multiplier> for all its elements",
        )
    if node.find("queue") is not None:
        if node.find("conveyor") is not None:
            raise ModelError("a stock cannot be both a conveyor and a queue (XMILE 1.0 §4.2)")
        parts.queues.append(part)
    overflow = node.find("overflow")
    if overflow is not None and (overflow.text or "").strip().lower() not in ("false", "0", "no"):
        parts.overflows[part.key] = part
    multiplier = node.find("multiplier")
    if multiplier is not None:
        text = translate((multiplier.text or "").strip())
        if not text:
            raise ModelError(
                "the <multiplier> is empty", hint="give it an expression, or remove it"
            )
        parts.multipliers[part.key] = (part, text)


def refuse_batch_size(node: ET.Element, prefix: str, queues: set[str]) -> None:
    """``SIZE(queue)`` counts a queue's batches; the equation translator would read it as the
    size of a scalar (1), so it is refused here, before."""
    for eqn in node.iter("eqn"):
        for match in _SIZE_OF.finditer(eqn.text or ""):
            key = canonical(match.group(1).replace("\\n", " ").strip())
            if prefix + key in queues or key in queues:
                raise ModelError(
                    f"SIZE({match.group(1).strip()}) counts the batches of a queue (not "
                    "supported: the reader keeps the queue's total, not its batches)",
                    hint="use the queue's value (its total)",
                )


def apply_queues(
    elements: tuple[Element, ...],
    parts: QueueParts,
    conveyors: set[str],
    blanks: dict[str, tuple[Document, ET.Element, str]],
    time: TimeSpec,
) -> tuple[Element, ...]:
    """``elements`` with every multiplier and queue expanded (see the module docstring).
    The queues' outflows are taken out of ``blanks`` (flows without an equation)."""
    if not parts:
        return elements
    by_key = {e.key: e for e in elements}
    elements, extra = convert_multipliers(
        elements, by_key, parts.multipliers, _multiplied_cut(by_key, parts, conveyors), conveyors
    )
    by_key = {e.key: e for e in elements + extra}
    changed: dict[str, Element] = {}
    drained: dict[str, str] = {}
    limited = _limited_queues(by_key, parts, conveyors)
    for spec in parts.queues:
        stock = by_key[spec.key]
        _check_queue(spec, stock, by_key, conveyors, drained, time)
        me = name_text(spec.key)
        primary = " + ".join([f"{me} / DT", *(name_text(f) for f in stock.inflows)])
        if _may_start_negative(spec, stock):  # a queue holds batches: never less than none
            primary = f"IF INIT({me}) < 0 THEN 0 / 0 ELSE {primary}"
        for n, flow in enumerate(stock.outflows):
            if blanks.pop(flow, None) is None:
                _refuse_outflow_equation(spec, by_key[flow])
            changed[flow] = replace(
                changed.get(flow, by_key[flow]),  # another queue's inflow: already a uniflow
                equation=primary if n == 0 else "0",
                element_equations=(),
            )
        for flow in stock.inflows:
            changed[flow] = replace(changed.get(flow, by_key[flow]), non_negative=True)
        changed[spec.key] = replace(stock, non_negative=spec.key in limited)
    for key, part in parts.overflows.items():
        if key not in drained or by_key[drained[key]].outflows[0] == key:
            raise part.error(
                f"flow '{part.name}' is marked <overflow/> but is no queue outflow after the "
                "first (XMILE 1.0 §4.3)",
                hint="remove <overflow/>, or list the flow after the queue's first outflow",
            )
    _refuse_batch_access(elements + extra, {p.key: p for p in parts.queues})
    return tuple(changed.get(e.key, e) for e in elements + extra)


def _refuse_outflow_equation(spec: Part, element: Element) -> None:
    """XMILE 1.0 §4.3: queue outflows "MUST NOT have an equation as their attached conveyor or
    queue drives them", and Stella saves a driven outflow's equation as 0. Any other equation
    was written for a reason the standard does not describe: refused, not ignored."""
    for text in (element.equation, *(t for _, t in element.element_equations)):
        if text.strip() and _number(text) != 0.0:
            raise ModelError(
                f"outflow '{element.name}' of queue '{spec.name}' has the equation '{text}', "
                "but the queue drives its outflows (XMILE 1.0 §4.3: they MUST NOT have one) "
                "and what Stella would do with it is not documented",
                file=spec.doc.file,
                line=element.line,
                variable=element.name,
                hint="remove the <eqn> (or make it 0): the first outflow then empties the "
                "queue every DT; or make the queue a plain stock with that outflow",
            )


def _may_start_negative(spec: Part, stock: Element) -> bool:
    """Whether the queue's initial value may be negative: refused when it is a number, left
    to the run (which then fails, naming the outflow) when it is an expression."""
    for text in (stock.equation, *(t for _, t in stock.element_equations)):
        value = _number(text) if text.strip() else 0.0
        if value is None:
            return True
        if value < 0:
            raise spec.error(
                f"queue '{spec.name}' starts at {text}: a queue holds batches, never less than "
                "none",
                hint="give the queue an initial value of 0 or more",
            )
    return False


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _check_queue(
    spec: Part,
    stock: Element,
    by_key: dict[str, Element],
    conveyors: set[str],
    drained: dict[str, str],
    time: TimeSpec,
) -> None:
    if time.method != "euler":
        raise spec.error(
            f"queue '{spec.name}' needs Euler integration (a queue moves batches per DT), "
            f"not {time.method}",
            hint='use <sim_specs method="Euler">',
        )
    if not stock.outflows:
        raise spec.error(f"queue '{spec.name}' has no outflow", hint="give the queue an <outflow>")
    dims = tuple(canonical(d) for d in stock.dims)
    for flow in (*stock.inflows, *stock.outflows):
        element = by_key.get(flow)
        if element is None or element.kind != "flow":
            raise spec.error(f"queue '{spec.name}' names '{flow}', which is no flow")
        if tuple(canonical(d) for d in element.dims) != dims:
            raise spec.error(
                f"flow '{element.name}' of arrayed queue '{spec.name}' is not over the same "
                "dimensions as the queue",
                hint="give the queue and its flows the same <dimensions>",
            )
    for flow in stock.outflows:
        if flow in drained:
            raise spec.error(f"flow '{flow}' also drains queue '{by_key[drained[flow]].name}'")
        drained[flow] = spec.key
        for other in by_key.values():
            if other.kind == "stock" and flow in other.outflows and other.key != spec.key:
                raise spec.error(
                    f"outflow '{by_key[flow].name}' of queue '{spec.name}' also drains "
                    f"stock '{other.name}'"
                )
            if other.key in conveyors and flow in other.inflows:
                raise spec.error(
                    f"queue '{spec.name}' feeds conveyor '{other.name}' (not supported: the "
                    "conveyor would hold batches back, and XMILE requires it to be discrete, "
                    "which the reader does not read)",
                    hint=_BLOCKED,
                )


def _may_cut(by_key: dict[str, Element], skip: set[str]) -> set[str]:
    """The flows a non-negative stock may cut after they are computed: its outflows, and its
    inflows that may turn negative (not uniflows). ``skip``: stocks that cut nothing."""
    out: set[str] = set()
    for stock in by_key.values():
        if stock.kind != "stock" or not stock.non_negative or stock.key in skip:
            continue
        out.update(stock.outflows)
        out.update(f for f in stock.inflows if f in by_key and not by_key[f].non_negative)
    return out


def _limited_queues(by_key: dict[str, Element], parts: QueueParts, conveyors: set[str]) -> set[str]:
    """The queues an upstream non-negative stock may starve: one of their inflows may be cut
    (directly, or by a queue so starved). They are made non-negative stocks."""
    queues = {p.key for p in parts.queues}
    cut = _may_cut(by_key, queues | conveyors)
    limited: set[str] = set()
    grown = True
    while grown:
        grown = False
        for key in queues - limited:
            if any(f in cut for f in by_key[key].inflows):
                limited.add(key)
                cut.update(by_key[key].outflows)
                grown = True
    return limited


def _multiplied_cut(
    by_key: dict[str, Element], parts: QueueParts, conveyors: set[str]
) -> tuple[set[str], set[str]]:
    """The flows a non-negative stock may cut (a starved queue's outflows included), and the
    queues."""
    queues = {p.key for p in parts.queues}
    cut = _may_cut(by_key, queues | conveyors)
    for key in _limited_queues(by_key, parts, conveyors):
        cut.update(by_key[key].outflows)
    return cut, queues


def _refuse_batch_access(elements: tuple[Element, ...], queues: dict[str, Part]) -> None:
    """A queue's batches read as an array (``MEAN(queue)``, ``MAX(queue)``...): the reader
    keeps the total, not the batches, so refuse rather than read the total."""
    for element, func, key in container_reads(elements, queues):
        spec = queues[key]
        raise ModelError(
            f"{func}({spec.name}) reads the batches of queue '{spec.name}' "
            f"in '{element.name}' (not supported)",
            file=spec.doc.file,
            line=element.line,
            variable=element.name,
            hint="only the queue's total (its value, or SUM of it) can be read",
        )
