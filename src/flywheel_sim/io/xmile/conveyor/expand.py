"""The expansion of conveyors into stocks, flows and DELAYs (see the package docstring)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from flywheel_sim.io.xmile.conveyor.parts import (
    Constant,
    capped,
    error,
    helper,
    history,
    refuse_slat_access,
    window_helpers,
)
from flywheel_sim.io.xmile.conveyor.read import ConveyorSpec, LeakSpec
from flywheel_sim.io.xmile.conveyor.spread import (
    SpreadSpec,
    linear_spread,
    refuse_spread,
    spread_outflow,
)
from flywheel_sim.io.xmile.conveyor.zones import staggered_leaks, zone_leaks
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element, TimeSpec
from flywheel_sim.spec.names import canonical

Blanks = dict[str, tuple[Document, ET.Element, str]]


@dataclass
class Belt:
    """One conveyor being expanded: its stock, flows and the equations' common parts."""

    spec: ConveyorSpec
    stock: Element
    leak_keys: list[str]
    out: str  # the outflow (what reaches the end)
    zone: tuple[float, float] | None  # None: linear leakages on different zones
    fractions: list[str]
    varying: bool  # a leakage fraction changes during the run
    me: str = ""
    slats: str = ""
    length: str = ""
    initial: str = ""
    total: str = ""
    start: str = ""
    rate: str = ""
    arrivals: str = ""

    def __post_init__(self) -> None:
        spec, fractions = self.spec, self.fractions
        self.me = name_text(spec.key)
        self.slats = f"MAX(1, INT(({spec.transit}) / DT + 0.5))"
        self.length = length = f"({self.slats} * DT)"
        self.initial = initial = f"INIT({self.me})"
        self.total = f"({' + '.join(fractions)})" if fractions else "0"
        # the initial contents are laid out with the fractions of the start time
        self.start = start = f"INIT({self.total})" if self.varying else self.total
        if not fractions:
            self.rate = f"{initial} / {length}"
        elif spec.exponential:
            self.rate = (
                f"IF {start} = 0 THEN {initial} / {length} "
                f"ELSE {initial} * {start} / (1 - (1 - {start} * DT) ^ {self.slats})"
            )
        else:
            self.rate = f"{initial} / ({length} * (1 - {start} / 2) + {start} * DT / 2)"
        if self.stock.inflows:
            self.arrivals = " + ".join(
                f"DELAY({name_text(f)}, {length}, {self.rate if k == 0 else '0'})"
                for k, f in enumerate(self.stock.inflows)
            )
        else:
            self.arrivals = f"IF TIME < STARTTIME + {length} - DT / 2 THEN {self.rate} ELSE 0"


def apply_conveyors(
    elements: tuple[Element, ...],
    conveyors: list[ConveyorSpec],
    leaks: dict[str, LeakSpec],
    blanks: Blanks,
    time: TimeSpec,
    spreads: dict[str, SpreadSpec] | None = None,
) -> tuple[Element, ...]:
    """``elements`` with every conveyor expanded (see the package docstring); errors for
    flows left without an equation and leakages that drain no conveyor. ``spreads``: the
    flows with a placement other than the entry (``isee:spreadflow``)."""
    spreads = spreads or {}
    by_key = {e.key: e for e in elements}
    changed: dict[str, Element] = {}
    extra: list[Element] = []
    drained = _drained(conveyors, by_key)
    for spec in conveyors:
        belt = _belt(spec, by_key, leaks, time)
        spread = {f: spreads[f] for f in belt.stock.inflows if f in spreads}
        for one in spread.values():
            refuse_spread(spec, one, leaky=_spread_leak(belt, one))
        if spread and belt.fractions and not spec.exponential:
            outflow, helpers, leak_equations = _linear_spread(by_key, belt, spread)
        elif spread:
            leak = belt.total if belt.fractions else ""
            first = f"LN(1 - {belt.start} * DT) / DT" if belt.varying else ""
            outflow, helpers = spread_outflow(
                by_key, spec, belt.stock, spread, (belt.slats, belt.rate, leak, first)
            )
            leak_equations = {
                key: f"{fraction} * {belt.me}"
                for key, fraction in zip(belt.leak_keys, belt.fractions, strict=True)
            }
        else:
            outflow, helpers, leak_equations = _leakage(by_key, belt, leaks)
        extra += helpers
        for key, equation in leak_equations.items():
            changed[key] = replace(by_key[key], equation=equation)
        if belt.fractions:
            # fractions Stella cannot apply (negative, or more than everything) make the run
            # fail at the start, naming the outflow, rather than create or destroy material
            most = f"{belt.total} * DT" if spec.exponential else belt.total
            bad = " OR ".join([*(f"{f} < 0" for f in belt.fractions), f"{most} > 1"])
            outflow = f"IF {bad} THEN 0 / 0 ELSE {outflow}"
        changed[belt.out] = replace(by_key[belt.out], equation=outflow, element_equations=())
        changed[spec.key] = replace(belt.stock, non_negative=False)
        _limit_inflows(belt, by_key, changed, drained, blanks)
    if conveyors:
        refuse_slat_access(elements, {s.key: s for s in conveyors if not by_key[s.key].dims})
    _refuse_strays(leaks, blanks, drained)
    return tuple(changed.get(e.key, e) for e in elements) + tuple(extra)


def _spread_leak(belt: Belt, spread: SpreadSpec) -> str:
    """The leakage that keeps the conveyor's input ``spread`` from being spread ("" if none
    does): leakage over the whole belt is fine, if linear with fractions that keep their
    value."""
    if not belt.fractions or (belt.spec.exponential and belt.zone == (0.0, 1.0)):
        return ""
    if belt.zone != (0.0, 1.0):
        return "a leak zone"
    return "linear leakage whose fraction changes during the run" if belt.varying else ""


def _linear_spread(
    by_key: dict[str, Element], belt: Belt, spread: dict[str, SpreadSpec]
) -> tuple[str, list[Element], dict[str, str]]:
    """Linear leakage (constant, whole belt) on a conveyor with spread inflows: the inflows
    at the entry and the initial contents as ``_linear``, plus the spread ones."""
    entry = tuple(f for f in belt.stock.inflows if f not in spread)
    outflow, extra, equations = _linear(
        by_key, replace(belt, stock=replace(belt.stock, inflows=entry))
    )
    leaving, on_belt, helpers = linear_spread(
        by_key, belt.spec, belt.stock, spread, (belt.slats, belt.total)
    )
    for key, fraction in zip(belt.leak_keys, belt.fractions, strict=True):
        equations[key] = f"{equations[key]} + {fraction} * ({on_belt})"
    return f"{outflow} + ({leaving})", extra + helpers, equations


def _drained(conveyors: list[ConveyorSpec], by_key: dict[str, Element]) -> dict[str, str]:
    """Each conveyor outflow or leakage -> its conveyor; a flow draining two is an error."""
    drained: dict[str, str] = {}
    for spec in conveyors:
        for flow in by_key[spec.key].outflows:
            if flow in drained:
                raise error(spec, f"flow '{flow}' also drains conveyor '{drained[flow]}'")
            drained[flow] = spec.name
    return drained


def _belt(
    spec: ConveyorSpec, by_key: dict[str, Element], leaks: dict[str, LeakSpec], time: TimeSpec
) -> Belt:
    """The checked conveyor ``spec``, with its leakages' fractions and zone."""
    if time.method != "euler":
        raise error(
            spec,
            f"conveyor '{spec.name}' needs Euler integration (Stella moves conveyors one "
            f"slat per DT), not {time.method}",
            hint='use <sim_specs method="Euler">',
        )
    stock = by_key[spec.key]
    leak_keys = [f for f in stock.outflows if f in leaks]
    mains = [f for f in stock.outflows if f not in leaks]
    if len(mains) != 1:
        raise error(
            spec,
            f"conveyor '{spec.name}' has {len(mains)} outflows that are not leakages",
            hint="give it exactly one outflow (what reaches the end); mark the others <leak/>",
        )
    _check_flows(spec, stock, by_key, leaks)
    checker = Constant(by_key)
    if not checker.text(spec.transit):
        raise error(
            spec,
            f"the transit time of conveyor '{spec.name}' changes during the run "
            "(a variable transit time is not supported)",
            hint="make <len> a number or an expression of constants",
        )
    zone, fractions, varying = _fractions(spec, checker, leaks, leak_keys)
    return Belt(spec, stock, leak_keys, mains[0], zone, fractions, varying)


def _check_flows(
    spec: ConveyorSpec, stock: Element, by_key: dict[str, Element], leaks: dict[str, LeakSpec]
) -> None:
    """The conveyor's flows are flows, over its dimensions; leakages have one equation."""
    dims = tuple(canonical(d) for d in stock.dims)
    for flow in (*stock.inflows, *stock.outflows):
        if flow not in by_key or by_key[flow].kind != "flow":
            raise error(spec, f"conveyor '{spec.name}' names '{flow}', which is no flow")
        element = by_key[flow]
        if tuple(canonical(d) for d in element.dims) != dims:
            raise error(
                spec,
                f"flow '{element.name}' of arrayed conveyor '{spec.name}' is not over the "
                "same dimensions as the conveyor",
                hint="give the conveyor and its flows the same <dimensions>",
            )
        if element.element_equations and flow in leaks:
            raise error(
                spec,
                f"leakage flow '{element.name}' of conveyor '{spec.name}' has equations "
                "per element (not supported)",
                hint="give the leakage one equation for all elements",
            )


def _fractions(
    spec: ConveyorSpec, checker: Constant, leaks: dict[str, LeakSpec], leak_keys: list[str]
) -> tuple[tuple[float, float] | None, list[str], bool]:
    """The leak zone shared by the leakages (None: linear ones on different zones), their
    fractions, and whether any fraction changes during the run."""
    zones = {leaks[key].zone for key in leak_keys}
    if len(zones) > 1 and spec.exponential:
        raise error(
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
    return zone, fractions, varying


def _leakage(
    by_key: dict[str, Element], belt: Belt, leaks: dict[str, LeakSpec]
) -> tuple[str, list[Element], dict[str, str]]:
    """The outflow's equation, the helpers, and each leakage's equation."""
    spec, stock = belt.spec, belt.stock
    if not belt.fractions:
        return belt.arrivals, [], {}
    if belt.zone is None:
        zoned = [leaks[key].zone for key in belt.leak_keys]
        outflow, helpers, equations = staggered_leaks(
            by_key, spec, stock, zoned, belt.fractions, (belt.slats, belt.length, belt.initial)
        )
    elif belt.zone != (0.0, 1.0):
        outflow, helpers, equations = zone_leaks(
            by_key,
            spec,
            stock,
            belt.zone,
            belt.leak_keys,
            belt.fractions,
            (belt.total, belt.slats, belt.length, belt.initial),
        )
    elif not spec.exponential:
        return _linear(by_key, belt)
    else:
        return _exponential(by_key, belt)
    return outflow, helpers, dict(zip(belt.leak_keys, equations, strict=True))


def _linear(by_key: dict[str, Element], belt: Belt) -> tuple[str, list[Element], dict[str, str]]:
    """Linear leakage over the whole belt: every DT each batch loses f/N of what entered."""
    spec, length = belt.spec, belt.length
    window = helper(by_key, spec, f"{spec.name} in transit")
    arrived = helper(by_key, spec, f"{spec.name} arrivals")
    extra = window_helpers(
        belt.stock,
        (window, f"what entered conveyor '{spec.name}' over the last transit time"),
        (arrived, f"what reaches the end of conveyor '{spec.name}' before leakage"),
        f"({belt.rate}) * {length}",
        belt.arrivals,
    )
    outflow = f"(1 - {belt.total}) * {name_text(canonical(arrived))}"
    if belt.varying:
        # a batch leaves with 1 - (the fractions of its N DTs on the belt) / N
        past, seen = history(by_key, spec, belt.stock, belt.total, belt.start, length)
        extra += past
        outflow = f"(1 - {seen} / {length}) * {name_text(canonical(arrived))}"
    equations = {
        key: f"{fraction} * {name_text(canonical(window))} / {length}"
        for key, fraction in zip(belt.leak_keys, belt.fractions, strict=True)
    }
    return outflow, extra, equations


def _exponential(
    by_key: dict[str, Element], belt: Belt
) -> tuple[str, list[Element], dict[str, str]]:
    """Exponential leakage over the whole belt: every DT each slat loses f*DT of itself."""
    total, start = belt.total, belt.start
    outflow = f"(1 - {total} * DT) ^ {belt.slats} * ({belt.arrivals})"
    extra: list[Element] = []
    if belt.varying:
        # a batch leaves with the product of (1 - fractions * DT) over its N DTs
        per_dt = f"LN(1 - {total} * DT) / DT"
        first = f"LN(1 - {start} * DT) / DT"
        extra, seen = history(by_key, belt.spec, belt.stock, per_dt, first, belt.length)
        outflow = f"EXP({seen}) * ({belt.arrivals})"
    equations = {
        key: f"{fraction} * {belt.me}"
        for key, fraction in zip(belt.leak_keys, belt.fractions, strict=True)
    }
    return outflow, extra, equations


def _limit_inflows(
    belt: Belt,
    by_key: dict[str, Element],
    changed: dict[str, Element],
    drained: dict[str, str],
    blanks: Blanks,
) -> None:
    """Capacity and inflow limit cut the inflows (first listed first); inflows are uniflows."""
    spec, stock = belt.spec, belt.stock
    limits = []
    if spec.in_limit:
        limits.append(f"({spec.in_limit})")
    if spec.capacity:
        leaving = " + ".join(name_text(f) for f in stock.outflows)
        limits.append(f"(({spec.capacity}) - {belt.me}) / DT + {leaving}")
    taken: list[str] = []
    for flow in stock.inflows:
        element = changed.get(flow, by_key[flow])
        if limits and flow in drained:
            raise error(
                spec,
                f"the capacity or inflow limit of conveyor '{spec.name}' would hold back "
                f"'{flow}', which conveyor '{drained[flow]}' computes",
                hint="remove <capacity>/<in_limit> or put a stock between the conveyors",
            )
        if flow in blanks:
            continue  # reported by _refuse_strays
        if limits:
            budget = limits[0] if len(limits) == 1 else f"MIN({', '.join(limits)})"
            if taken:
                budget = f"{budget} - {' - '.join(taken)}"
            element = replace(
                element,
                equation=capped(element.equation, budget),
                element_equations=tuple(
                    (k, capped(t, budget)) for k, t in element.element_equations
                ),
            )
            taken.append(name_text(flow))
        changed[flow] = replace(element, non_negative=True)


def _refuse_strays(leaks: dict[str, LeakSpec], blanks: Blanks, drained: dict[str, str]) -> None:
    """Leakages that drain no conveyor, and flows with no equation that no conveyor fills."""
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
