"""Conveyors (XMILE 1.0 §3.7.2; Stella's "traditional conveyor") as plain stock-and-flow
structure, so that every engine and every analysis treats them like any other model.

Stella's conveyor is a belt of ``N = transit time / DT`` slats: every DT the inflow is put on
the belt, everything moves one slat, and what reaches the end is the outflow. With Euler
steps and a transit time that stays the same during the run, that belt is exactly:

- the conveyor: an ordinary stock (inflows minus outflow minus leakages);
- its outflow: the inflow of ``N`` DTs ago (``DELAY(inflow, N*DT, x)``), times the share that
  survives the leakages; before ``N*DT`` it is the initial contents arriving, laid out as if
  a constant inflow ``x`` had been arriving (Stella's steady state; without leakage that is
  the initial value spread evenly over the slats);
- linear leakage (the default: every DT each batch loses the same amount, ``f`` of what
  entered over the whole belt): ``f * W / (N*DT)``, where ``W`` is what entered over the
  last transit time, a helper stock ``"<conveyor> in transit"`` whose outflow is
  ``"<conveyor> arrivals"`` (what reaches the end before leakage);
- exponential leakage (``exponential_leak="true"``: every DT each slat loses ``f*DT`` of what
  it holds): ``f * conveyor``, and the outflow is ``(1 - f*DT)^N`` of what entered;
- a leak zone confines leakage to part of the belt (``_zone``); leakage fractions that change
  during the run need their sum over each batch's time on the belt (``_history``).

Capacity and inflow limit cut the inflows (first listed first); conveyor inflows are
uniflows (XMILE §4.3). Anything the belt cannot be reduced to this way (a transit time that
changes during the run, arrest, discrete conveyors, exponential leakages on different zones,
whole-unit leakage, spread inputs, queues) is refused with one line. docs/xmile.md and
docs/design.md describe the mapping.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Unary,
    Var,
    VarList,
    name_text,
    walk,
)
from flywheel_sim.spec.builtins import BUILTINS
from flywheel_sim.spec.model import Element, TimeSpec
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

_CONSTANT_NAMES = frozenset({"dt", "starttime", "stoptime", "pi"})
_VARYING_KINDS = frozenset({"time", "random", "stateful"})  # builtins whose value changes
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


def apply_conveyors(
    elements: tuple[Element, ...],
    conveyors: list[ConveyorSpec],
    leaks: dict[str, LeakSpec],
    blanks: dict[str, tuple[Document, ET.Element, str]],
    time: TimeSpec,
) -> tuple[Element, ...]:
    """``elements`` with every conveyor expanded (see the module docstring); errors for
    flows left without an equation and leakages that drain no conveyor."""
    by_key = {e.key: e for e in elements}
    changed: dict[str, Element] = {}
    extra: list[Element] = []
    drained: dict[str, str] = {}  # conveyor outflow or leakage -> its conveyor
    for spec in conveyors:
        for flow in by_key[spec.key].outflows:
            if flow in drained:
                raise _error(spec, f"flow '{flow}' also drains conveyor '{drained[flow]}'")
            drained[flow] = spec.name
    for spec in conveyors:
        if time.method != "euler":
            raise _error(
                spec,
                f"conveyor '{spec.name}' needs Euler integration (Stella moves conveyors one "
                f"slat per DT), not {time.method}",
                hint='use <sim_specs method="Euler">',
            )
        stock = by_key[spec.key]
        leak_keys = [f for f in stock.outflows if f in leaks]
        mains = [f for f in stock.outflows if f not in leaks]
        if len(mains) != 1:
            raise _error(
                spec,
                f"conveyor '{spec.name}' has {len(mains)} outflows that are not leakages",
                hint="give it exactly one outflow (what reaches the end); mark the others <leak/>",
            )
        dims = tuple(canonical(d) for d in stock.dims)
        for flow in (*stock.inflows, *stock.outflows):
            if flow not in by_key or by_key[flow].kind != "flow":
                raise _error(spec, f"conveyor '{spec.name}' names '{flow}', which is no flow")
            element = by_key[flow]
            if tuple(canonical(d) for d in element.dims) != dims:
                raise _error(
                    spec,
                    f"flow '{element.name}' of arrayed conveyor '{spec.name}' is not over the "
                    "same dimensions as the conveyor",
                    hint="give the conveyor and its flows the same <dimensions>",
                )
            if element.element_equations and flow in leaks:
                raise _error(
                    spec,
                    f"leakage flow '{element.name}' of conveyor '{spec.name}' has equations "
                    "per element (not supported)",
                    hint="give the leakage one equation for all elements",
                )
        checker = _Constant(by_key)
        if not checker.text(spec.transit):
            raise _error(
                spec,
                f"the transit time of conveyor '{spec.name}' changes during the run "
                "(a variable transit time is not supported)",
                hint="make <len> a number or an expression of constants",
            )
        zones = {leaks[key].zone for key in leak_keys}
        if len(zones) > 1 and spec.exponential:
            raise _error(
                spec,
                f"the exponential leakages of conveyor '{spec.name}' have different leak zones "
                "(not supported)",
                hint="give every leakage of the conveyor the same leak_start and leak_end",
            )
        # None: linear leakages on different zones (each takes its fraction of what reaches it)
        zone = None if len(zones) > 1 else zones.pop() if zones else (0.0, 1.0)
        fractions = []
        varying = False
        for key in leak_keys:
            leak = leaks[key]
            if not checker.text(leak.fraction):
                if zone != (0.0, 1.0):
                    raise leak.doc.error(
                        f"the leakage fraction of flow '{leak.name}' changes during the run "
                        "and the leakage has a leak zone (not supported together)",
                        leak.node,
                        variable=leak.name,
                        hint="make the fraction an expression of constants, or leak over the "
                        "whole conveyor",
                    )
                varying = True
            fractions.append(f"({leak.fraction})")
        me = name_text(spec.key)
        slats = f"MAX(1, INT(({spec.transit}) / DT + 0.5))"
        length = f"({slats} * DT)"
        initial = f"INIT({me})"
        total = f"({' + '.join(fractions)})" if fractions else "0"
        # the initial contents are laid out with the fractions of the start time
        start = f"INIT({total})" if varying else total
        survive = f"(1 - {total} * DT) ^ {slats}"
        if not fractions:
            rate = f"{initial} / {length}"
        elif spec.exponential:
            rate = (
                f"IF {start} = 0 THEN {initial} / {length} "
                f"ELSE {initial} * {start} / (1 - (1 - {start} * DT) ^ {slats})"
            )
        else:
            rate = f"{initial} / ({length} * (1 - {start} / 2) + {start} * DT / 2)"
        if stock.inflows:
            arrivals = " + ".join(
                f"DELAY({name_text(f)}, {length}, {rate if k == 0 else '0'})"
                for k, f in enumerate(stock.inflows)
            )
        else:
            arrivals = f"IF TIME < STARTTIME + {length} - DT / 2 THEN {rate} ELSE 0"
        out = mains[0]
        if fractions and zone is None:
            zoned = [leaks[key].zone for key in leak_keys]
            outflow, helpers, leak_equations = _staggered(
                by_key, spec, stock, zoned, fractions, slats, length, initial
            )
            extra += helpers
            for key, equation in zip(leak_keys, leak_equations, strict=True):
                changed[key] = replace(by_key[key], equation=equation)
        elif fractions and zone is not None and zone != (0.0, 1.0):
            outflow, helpers, leak_equations = _zone(
                by_key, spec, stock, zone, leak_keys, fractions, total, slats, length, initial
            )
            extra += helpers
            for key, equation in zip(leak_keys, leak_equations, strict=True):
                changed[key] = replace(by_key[key], equation=equation)
        elif fractions and not spec.exponential:
            window = _helper(by_key, spec, f"{spec.name} in transit")
            arrived = _helper(by_key, spec, f"{spec.name} arrivals")
            extra += _window(
                stock,
                (window, f"what entered conveyor '{spec.name}' over the last transit time"),
                (arrived, f"what reaches the end of conveyor '{spec.name}' before leakage"),
                f"({rate}) * {length}",
                arrivals,
            )
            outflow = f"(1 - {total}) * {name_text(canonical(arrived))}"
            if varying:
                # a batch leaves with 1 - (the fractions of its N DTs on the belt) / N
                history, seen = _history(by_key, spec, stock, total, start, length)
                extra += history
                outflow = f"(1 - {seen} / {length}) * {name_text(canonical(arrived))}"
            for key, fraction in zip(leak_keys, fractions, strict=True):
                changed[key] = replace(
                    by_key[key],
                    equation=f"{fraction} * {name_text(canonical(window))} / {length}",
                )
        elif fractions:
            outflow = f"{survive} * ({arrivals})"
            if varying:
                # a batch leaves with the product of (1 - fractions * DT) over its N DTs
                per_dt = f"LN(1 - {total} * DT) / DT"
                first = f"LN(1 - {start} * DT) / DT"
                history, seen = _history(by_key, spec, stock, per_dt, first, length)
                extra += history
                outflow = f"EXP({seen}) * ({arrivals})"
            for key, fraction in zip(leak_keys, fractions, strict=True):
                changed[key] = replace(by_key[key], equation=f"{fraction} * {me}")
        else:
            outflow = arrivals
        if fractions:
            # fractions Stella cannot apply (negative, or more than everything) make the run
            # fail at the start, naming the outflow, rather than create or destroy material
            most = f"{total} * DT" if spec.exponential else total
            bad = " OR ".join([*(f"{f} < 0" for f in fractions), f"{most} > 1"])
            outflow = f"IF {bad} THEN 0 / 0 ELSE {outflow}"
        changed[out] = replace(by_key[out], equation=outflow, element_equations=())
        changed[spec.key] = replace(stock, non_negative=False)
        limits = []
        if spec.in_limit:
            limits.append(f"({spec.in_limit})")
        if spec.capacity:
            leaving = " + ".join(name_text(f) for f in stock.outflows)
            limits.append(f"(({spec.capacity}) - {me}) / DT + {leaving}")
        taken: list[str] = []
        for flow in stock.inflows:
            element = changed.get(flow, by_key[flow])
            if limits and flow in drained:
                raise _error(
                    spec,
                    f"the capacity or inflow limit of conveyor '{spec.name}' would hold back "
                    f"'{flow}', which conveyor '{drained[flow]}' computes",
                    hint="remove <capacity>/<in_limit> or put a stock between the conveyors",
                )
            if flow in blanks:
                continue  # reported below
            if limits:
                budget = limits[0] if len(limits) == 1 else f"MIN({', '.join(limits)})"
                if taken:
                    budget = f"{budget} - {' - '.join(taken)}"
                element = replace(
                    element,
                    equation=_capped(element.equation, budget),
                    element_equations=tuple(
                        (k, _capped(t, budget)) for k, t in element.element_equations
                    ),
                )
                taken.append(name_text(flow))
            changed[flow] = replace(element, non_negative=True)
    if conveyors:
        _refuse_slat_access(elements, {s.key: s for s in conveyors if not by_key[s.key].dims})
    for key, leak in leaks.items():
        if key not in drained:
            raise leak.doc.error(
                f"flow '{leak.name}' is marked <leak> but is no outflow of a conveyor",
                leak.node,
                variable=leak.name,
                hint="remove <leak/>, or list the flow as an <outflow> of a conveyor",
            )
    for key, (doc, node, name) in blanks.items():
        if key not in drained:
            raise doc.error(
                f"no equation in flow '{name}'",
                node,
                variable=name,
                hint="give it an <eqn> (a module input must be connected)",
            )
    return tuple(changed.get(e.key, e) for e in elements) + tuple(extra)


def _zone(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    zone: tuple[float, float],
    leak_keys: list[str],
    fractions: list[str],
    total: str,
    slats: str,
    length: str,
    initial: str,
) -> tuple[str, list[Element], list[str]]:
    """Leakages confined to a leak zone (all of the conveyor's leakages in the same one).

    A batch of age k DTs on the belt (0 = put on this DT) is in the zone when
    leak_start <= (k + 1/2) / N <= leak_end: ages ``lo`` to ``hi``, ``m`` of them. Linear:
    each batch loses f/m of what entered every DT in the zone, so the leak is f times what
    entered over ages lo..hi, over m DTs; that window is the difference of two helper stocks
    (what entered over the first hi + 1 DTs, and over the first lo). Exponential: each batch
    loses f*DT of what it holds every DT in the zone, so the leak is f times what the zone
    holds: a helper stock of what is on ages 0..hi, less the window before the zone.
    Returns the outflow equation, the helpers and each leakage's equation."""
    a, b = (repr(v) for v in zone)
    lo = f"MAX(0, -INT(0.5 - {a} * {slats}))"
    hi = f"MIN({slats} - 1, INT({b} * {slats} - 0.5))"
    m = f"MAX(0, {hi} - {lo} + 1)"
    share = f"(IF {m} > 0 THEN {total} ELSE 0)"
    after = f"({slats} - 1 - {hi})"
    if spec.exponential:
        survive = f"(1 - {share} * DT) ^ {m}"
        inside = f"(IF {share} = 0 THEN {m} ELSE (1 - {survive}) / ({share} * DT))"
        rate = f"{initial} / (DT * ({lo} + {inside} + {after} * {survive}))"
    else:
        inside = ""
        rate = (
            f"{initial} / (DT * ({lo} + {m} - {share} * ({m} - 1) / 2 + {after} * (1 - {share})))"
        )

    def delayed(lag: str) -> str:
        return (
            " + ".join(
                f"DELAY({name_text(f)}, {lag}, {rate if k == 0 else '0'})"
                for k, f in enumerate(stock.inflows)
            )
            or f"IF TIME < STARTTIME + {lag} - DT / 2 THEN {rate} ELSE 0"
        )

    def window(suffix: str, slots: str, what: str, outflows: tuple[str, ...] = ()) -> list[Element]:
        held = _helper(by_key, spec, f"{spec.name} {suffix}")
        gone = _helper(by_key, spec, f"{spec.name} {suffix} out")
        lag = f"({slots} * DT)"
        leaving = (
            delayed(lag)
            if not spec.exponential or not outflows
            else (f"(1 - {share} * DT) ^ {m} * ({delayed(lag)})")
        )
        start = f"({rate}) * {lag}"
        if outflows:
            start = f"({rate}) * DT * ({lo} + {inside})"
        return [
            Element(
                name=held,
                kind="stock",
                dims=stock.dims,
                equation=start,
                inflows=stock.inflows,
                outflows=(*outflows, canonical(gone)),
                description=f"{what} (conveyor '{spec.name}')",
                line=stock.line,
            ),
            Element(
                name=gone,
                kind="flow",
                dims=stock.dims,
                equation=leaving,
                description=f"what leaves '{held}'",
                line=stock.line,
            ),
        ]

    before = window("before leak zone", f"MAX(1, {lo})", "what is on the belt before its leak zone")
    before_key = name_text(canonical(before[0].name))
    earlier = f"(IF {lo} = 0 THEN 0 ELSE {before_key})"
    if spec.exponential:
        upto = window(
            "up to leak zone end",
            f"({hi} + 1)",
            "what is on the belt up to the end of its leak zone",
            outflows=tuple(leak_keys),
        )
        held = f"({name_text(canonical(upto[0].name))} - {earlier})"
        leak_equations = [f"{f} * {held}" for f in fractions]
        outflow = f"(1 - {share} * DT) ^ {m} * ({delayed(length)})"
    else:
        upto = window(
            "up to leak zone end",
            f"({hi} + 1)",
            "what entered the belt over the DTs up to the end of its leak zone",
        )
        entered = f"({name_text(canonical(upto[0].name))} - {earlier})"
        leak_equations = [f"IF {m} = 0 THEN 0 ELSE {f} * {entered} / ({m} * DT)" for f in fractions]
        outflow = f"(1 - {share}) * ({delayed(length)})"
    return outflow, [*before, *upto], leak_equations


# functions that, given a conveyor alone, read its slats (XMILE 1.0 §3.7.1.3): the belt as
# an array. SUM(conveyor) is its value, which is also what we compute.
_SLAT_FUNCTIONS = frozenset({"MEAN", "MIN", "MAX", "SIZE", "STDDEV", "PROD", "RANK"})


def _refuse_slat_access(elements: tuple[Element, ...], belts: dict[str, ConveyorSpec]) -> None:
    """A conveyor's slats read as an array (``MEAN(conveyor)``, ``MAX(conveyor)``...): we keep
    no slats, and reading the conveyor as one number would be a wrong result, so refuse.
    (``conveyor[3]`` is already an error: the conveyor is no array.)"""
    if not belts:
        return
    for element in elements:
        texts = [element.equation, *(t for _, t in element.element_equations)]
        for text in texts:
            if not text.strip() or not any(key in text for key in belts):
                continue
            try:
                tree = parse(text)
            except ModelError:
                continue
            for node in walk(tree):
                if (
                    isinstance(node, Call)
                    and node.func in _SLAT_FUNCTIONS
                    and node.args
                    and (len(node.args) == 1 or node.func == "RANK")
                    and isinstance(node.args[0], Var)
                    and not node.args[0].subscripts
                    and node.args[0].name in belts
                ):
                    spec = belts[node.args[0].name]
                    raise ModelError(
                        f"{node.func}({spec.name}) reads the slats of conveyor '{spec.name}' "
                        f"in '{element.name}' (not supported)",
                        file=spec.doc.file,
                        line=element.line,
                        variable=element.name,
                        hint="only the conveyor's total (its value, or SUM of it) can be read",
                    )


def _staggered(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    zones: list[tuple[float, float]],
    fractions: list[str],
    slats: str,
    length: str,
    initial: str,
) -> tuple[str, list[Element], list[str]]:
    """Linear leakages on different leak zones. As isee does by default ("ignore losses from
    earlier leak zones" off), each fraction applies to what is left of a batch when it
    reaches that leakage's zone: ``r_k`` = 1 less what the zones starting earlier took by
    then (each leaks f_j * r_j / m_j of what entered every DT in its zone). The leak of k is
    f_k * r_k times what entered over its zone's ages, over m_k DTs; what arrives is
    1 - sum(f_k * r_k) of what entered. Returns the outflow, the helpers and the leaks."""
    count = len(zones)
    lo, hi, m = [], [], []
    for a, b in zones:
        lo.append(f"MAX(0, -INT(0.5 - {a!r} * {slats}))")
        hi.append(f"MIN({slats} - 1, INT({b!r} * {slats} - 0.5))")
        m.append(f"MAX(0, {hi[-1]} - {lo[-1]} + 1)")
    order = sorted(range(count), key=lambda i: zones[i][0])
    share: dict[int, str] = {}  # f_k * r_k: the share of what entered that leakage k takes
    for n, i in enumerate(order):
        taken = [
            f"(IF {m[j]} > 0 THEN {share[j]} * MIN(MAX(0, {lo[i]} - {lo[j]}), {m[j]}) / {m[j]} "
            "ELSE 0)"
            for j in order[:n]
        ]
        remaining = f"(1 - ({' + '.join(taken)}))" if taken else "1"
        share[i] = f"(IF {m[i]} > 0 THEN {fractions[i]} * {remaining} ELSE 0)"
    lost = " + ".join(
        f"(IF {m[i]} > 0 THEN {share[i]} * (({m[i]} - 1) / 2 + {slats} - 1 - {hi[i]}) ELSE 0)"
        for i in range(count)
    )
    rate = f"{initial} / (DT * ({slats} - ({lost})))"

    def delayed(lag: str) -> str:
        return (
            " + ".join(
                f"DELAY({name_text(f)}, {lag}, {rate if k == 0 else '0'})"
                for k, f in enumerate(stock.inflows)
            )
            or f"IF TIME < STARTTIME + {lag} - DT / 2 THEN {rate} ELSE 0"
        )

    helpers: list[Element] = []

    def entered(suffix: str, slots: str) -> str:
        """A helper stock of what entered over the last ``slots`` DTs (slots >= 1)."""
        held = _helper(by_key, spec, f"{spec.name} {suffix}")
        gone = _helper(by_key, spec, f"{spec.name} {suffix} out")
        lag = f"({slots} * DT)"
        helpers.extend(
            _window(
                stock,
                (held, f"what entered conveyor '{spec.name}' over {suffix}"),
                (gone, f"what leaves '{held}'"),
                f"({rate}) * {lag}",
                delayed(lag),
            )
        )
        return name_text(canonical(held))

    windows: dict[tuple[float, float], str] = {}
    leak_equations = []
    for i, zone in enumerate(zones):
        if zone not in windows:
            n = len(windows) + 1
            upto = entered(f"up to leak zone {n} end", f"({hi[i]} + 1)")
            before = entered(f"before leak zone {n}", f"MAX(1, {lo[i]})")
            windows[zone] = f"({upto} - (IF {lo[i]} = 0 THEN 0 ELSE {before}))"
        leak_equations.append(
            f"IF {m[i]} = 0 THEN 0 ELSE {share[i]} * {windows[zone]} / ({m[i]} * DT)"
        )
    total = " + ".join(share[i] for i in range(count))
    return f"(1 - ({total})) * ({delayed(length)})", helpers, leak_equations


def _history(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    value: str,
    first: str,
    length: str,
) -> tuple[list[Element], str]:
    """Helpers that sum ``value`` (a leakage fraction, or its log) over the last N DTs, this
    one included (before the start: ``first``); returns them and that sum, times DT."""
    rate = _helper(by_key, spec, f"{spec.name} leak fractions")
    held = _helper(by_key, spec, f"{spec.name} leak fraction history")
    gone = _helper(by_key, spec, f"{spec.name} leak fraction history out")
    dims, line = stock.dims, stock.line
    helpers = [
        Element(name=rate, kind="flow", equation=value, dims=dims, line=line),
        Element(
            name=held,
            kind="stock",
            equation=f"({first}) * {length}",
            inflows=(canonical(rate),),
            outflows=(canonical(gone),),
            description=f"the leakage fractions of conveyor '{spec.name}' over its belt",
            dims=dims,
            line=line,
        ),
        Element(
            name=gone,
            kind="flow",
            equation=f"DELAY({name_text(canonical(rate))}, {length}, {first})",
            dims=dims,
            line=line,
        ),
    ]
    seen = (
        f"({name_text(canonical(held))} + DT * ({name_text(canonical(rate))} - "
        f"{name_text(canonical(gone))}))"
    )
    return helpers, seen


def _capped(text: str, budget: str) -> str:
    return f"MIN(({text}), {budget})" if text.strip() else text


def _helper(by_key: dict[str, Element], spec: ConveyorSpec, name: str) -> str:
    if canonical(name) in by_key:
        raise _error(
            spec,
            f"conveyor '{spec.name}' needs a helper variable '{name}', a name the model uses",
            hint="rename that variable",
        )
    return name


def _error(spec: ConveyorSpec, message: str, hint: str | None = None) -> ModelError:
    return spec.doc.error(message, spec.node, variable=spec.name, hint=hint)


class _Constant:
    """Whether an equation keeps its value during a run: numbers, parameters, INIT(...), the
    clock constants and auxiliaries built only from those."""

    def __init__(self, by_key: dict[str, Element]) -> None:
        self.by_key = by_key
        self.known: dict[str, bool] = {}

    def text(self, text: str) -> bool:
        try:
            return self.expr(parse(text))
        except ModelError:
            return False

    def name(self, key: str) -> bool:
        if key in _CONSTANT_NAMES:
            return True
        element = self.by_key.get(key)
        if element is None:
            return False
        if element.kind in ("parameter", "lookup"):
            return element.policy is None
        if element.kind not in ("aux", "flow"):
            return False
        if key not in self.known:
            self.known[key] = False  # a cycle is not constant
            texts = [element.equation, *(t for _, t in element.element_equations)]
            self.known[key] = all(self.text(t) for t in texts if t.strip())
        return self.known[key]

    def expr(self, node: Expr) -> bool:
        if isinstance(node, Num):
            return True
        if isinstance(node, Var):
            return self.name(node.name)
        if isinstance(node, Unary):
            return self.expr(node.operand)
        if isinstance(node, Binary):
            return self.expr(node.left) and self.expr(node.right)
        if isinstance(node, If):
            return self.expr(node.cond) and self.expr(node.then) and self.expr(node.orelse)
        if isinstance(node, VarList):
            return all(self.expr(i) for i in node.items)
        if isinstance(node, Call):
            if node.func in ("INIT", "DT", "STARTTIME", "STOPTIME"):
                return True
            builtin = BUILTINS.get(node.func)
            if builtin is not None and builtin.kind in _VARYING_KINDS:
                return False
            # math, reductions, lookups; a function we do not know is refused when the
            # model is compiled ("unknown function"), with its own message
            return all(self.expr(a) for a in node.args)
        return False


def _window(
    stock: Element,
    held: tuple[str, str],
    gone: tuple[str, str],
    initial: str,
    leaving: str,
) -> list[Element]:
    """A helper stock fed by the conveyor's inflows (name and description ``held``, initial
    value ``initial``) and its one outflow (``gone``, equation ``leaving``): what entered the
    belt over a stretch of its length, over the conveyor's dimensions."""
    return [
        Element(
            name=held[0],
            kind="stock",
            dims=stock.dims,
            equation=initial,
            inflows=stock.inflows,
            outflows=(canonical(gone[0]),),
            description=held[1],
            line=stock.line,
        ),
        Element(
            name=gone[0],
            kind="flow",
            dims=stock.dims,
            equation=leaving,
            description=gone[1],
            line=stock.line,
        ),
    ]
