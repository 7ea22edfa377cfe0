"""Leakage confined to leak zones: one zone shared by all of a conveyor's leakages
(``zone_leaks``), or linear leakages on different zones (``staggered_leaks``)."""

from __future__ import annotations

from dataclasses import dataclass

from flywheel_sim.io.xmile.conveyor.parts import helper, window_helpers
from flywheel_sim.io.xmile.conveyor.read import ConveyorSpec
from flywheel_sim.spec.ast import name_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical


def delayed_inflows(stock: Element, lag: str, rate: str) -> str:
    """What entered the conveyor ``lag`` ago; before that, the initial contents arriving at
    ``rate`` (the first inflow's DELAY starts at it; with no inflow, until ``lag``)."""
    return (
        " + ".join(
            f"DELAY({name_text(f)}, {lag}, {rate if k == 0 else '0'})"
            for k, f in enumerate(stock.inflows)
        )
        or f"IF TIME < STARTTIME + {lag} - DT / 2 THEN {rate} ELSE 0"
    )


def _ages(zone: tuple[float, float], slats: str) -> tuple[str, str, str]:
    """The ages (DTs on the belt) ``lo`` to ``hi`` whose slat centre lies in ``zone``, and
    how many they are (``m``)."""
    a, b = (repr(v) for v in zone)
    lo = f"MAX(0, -INT(0.5 - {a} * {slats}))"
    hi = f"MIN({slats} - 1, INT({b} * {slats} - 0.5))"
    return lo, hi, f"MAX(0, {hi} - {lo} + 1)"


@dataclass
class _Zone:
    """One leak zone of a conveyor: ages ``lo``..``hi`` (``m`` of them), the fraction
    ``share`` leaked there, the initial contents' rate of arrival ``rate`` and, when
    exponential, ``inside``: the zone's DTs weighted by what survives of a batch in them."""

    by_key: dict[str, Element]
    spec: ConveyorSpec
    stock: Element
    lo: str
    m: str
    share: str
    rate: str
    inside: str

    def window(
        self, suffix: str, slots: str, what: str, outflows: tuple[str, ...] = ()
    ) -> list[Element]:
        """A helper stock of what is on the first ``slots`` slats (what entered over the
        last ``slots`` DTs; with ``outflows``, exponential leakage, less what they took)."""
        spec, stock = self.spec, self.stock
        held = helper(self.by_key, spec, f"{spec.name} {suffix}")
        gone = helper(self.by_key, spec, f"{spec.name} {suffix} out")
        lag = f"({slots} * DT)"
        leaving = delayed_inflows(stock, lag, self.rate)
        if spec.exponential and outflows:
            leaving = f"(1 - {self.share} * DT) ^ {self.m} * ({leaving})"
        start = f"({self.rate}) * {lag}"
        if outflows:
            start = f"({self.rate}) * DT * ({self.lo} + {self.inside})"
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


def zone_leaks(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    zone: tuple[float, float],
    leak_keys: list[str],
    fractions: list[str],
    belt: tuple[str, str, str, str],
) -> tuple[str, list[Element], list[str]]:
    """Leakages confined to a leak zone (all of the conveyor's leakages in the same one);
    ``belt`` is (their total fraction, N, the transit time N*DT, the initial contents).

    A batch of age k DTs on the belt (0 = put on this DT) is in the zone when
    leak_start <= (k + 1/2) / N <= leak_end: ages ``lo`` to ``hi``, ``m`` of them. Linear:
    each batch loses f/m of what entered every DT in the zone, so the leak is f times what
    entered over ages lo..hi, over m DTs; that window is the difference of two helper stocks
    (what entered over the first hi + 1 DTs, and over the first lo). Exponential: each batch
    loses f*DT of what it holds every DT in the zone, so the leak is f times what the zone
    holds: a helper stock of what is on ages 0..hi, less the window before the zone.
    Returns the outflow equation, the helpers and each leakage's equation."""
    total, slats, length, initial = belt
    lo, hi, m = _ages(zone, slats)
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
    parts = _Zone(by_key, spec, stock, lo, m, share, rate, inside)
    before = parts.window(
        "before leak zone", f"MAX(1, {lo})", "what is on the belt before its leak zone"
    )
    earlier = f"(IF {lo} = 0 THEN 0 ELSE {name_text(canonical(before[0].name))})"
    if spec.exponential:
        upto = parts.window(
            "up to leak zone end",
            f"({hi} + 1)",
            "what is on the belt up to the end of its leak zone",
            outflows=tuple(leak_keys),
        )
        held = f"({name_text(canonical(upto[0].name))} - {earlier})"
        leak_equations = [f"{f} * {held}" for f in fractions]
        outflow = f"(1 - {share} * DT) ^ {m} * ({delayed_inflows(stock, length, rate)})"
    else:
        upto = parts.window(
            "up to leak zone end",
            f"({hi} + 1)",
            "what entered the belt over the DTs up to the end of its leak zone",
        )
        entered = f"({name_text(canonical(upto[0].name))} - {earlier})"
        leak_equations = [f"IF {m} = 0 THEN 0 ELSE {f} * {entered} / ({m} * DT)" for f in fractions]
        outflow = f"(1 - {share}) * ({delayed_inflows(stock, length, rate)})"
    return outflow, [*before, *upto], leak_equations


def _staggered_shares(
    zones: list[tuple[float, float]], fractions: list[str], slats: str
) -> tuple[list[tuple[str, str, str]], dict[int, str], str]:
    """Each zone's ages (lo, hi, m), each leakage's share of what entered (f_k * r_k), and
    the DTs' worth of a batch lost over the belt (for the initial layout)."""
    ages = [_ages(zone, slats) for zone in zones]
    order = sorted(range(len(zones)), key=lambda i: zones[i][0])
    share: dict[int, str] = {}  # f_k * r_k: the share of what entered that leakage k takes
    for n, i in enumerate(order):
        lo_i, _, m_i = ages[i]
        taken = [
            f"(IF {ages[j][2]} > 0 THEN {share[j]} * MIN(MAX(0, {lo_i} - {ages[j][0]}), "
            f"{ages[j][2]}) / {ages[j][2]} ELSE 0)"
            for j in order[:n]
        ]
        remaining = f"(1 - ({' + '.join(taken)}))" if taken else "1"
        share[i] = f"(IF {m_i} > 0 THEN {fractions[i]} * {remaining} ELSE 0)"
    lost = " + ".join(
        f"(IF {m} > 0 THEN {share[i]} * (({m} - 1) / 2 + {slats} - 1 - {hi}) ELSE 0)"
        for i, (_, hi, m) in enumerate(ages)
    )
    return ages, share, lost


def staggered_leaks(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    zones: list[tuple[float, float]],
    fractions: list[str],
    belt: tuple[str, str, str],
) -> tuple[str, list[Element], list[str]]:
    """Linear leakages on different leak zones; ``belt`` is (N, the transit time N*DT, the
    initial contents). As isee does by default ("ignore losses from earlier leak zones"
    off), each fraction applies to what is left of a batch when it reaches that leakage's
    zone: ``r_k`` = 1 less what the zones starting earlier took by then (each leaks
    f_j * r_j / m_j of what entered every DT in its zone). The leak of k is f_k * r_k times
    what entered over its zone's ages, over m_k DTs; what arrives is 1 - sum(f_k * r_k) of
    what entered. Returns the outflow, the helpers and the leaks."""
    slats, length, initial = belt
    ages, share, lost = _staggered_shares(zones, fractions, slats)
    rate = f"{initial} / (DT * ({slats} - ({lost})))"
    helpers: list[Element] = []

    def entered(suffix: str, slots: str) -> str:
        """A helper stock of what entered over the last ``slots`` DTs (slots >= 1)."""
        held = helper(by_key, spec, f"{spec.name} {suffix}")
        gone = helper(by_key, spec, f"{spec.name} {suffix} out")
        lag = f"({slots} * DT)"
        helpers.extend(
            window_helpers(
                stock,
                (held, f"what entered conveyor '{spec.name}' over {suffix}"),
                (gone, f"what leaves '{held}'"),
                f"({rate}) * {lag}",
                delayed_inflows(stock, lag, rate),
            )
        )
        return name_text(canonical(held))

    windows: dict[tuple[float, float], str] = {}
    leak_equations = []
    for i, zone in enumerate(zones):
        lo, hi, m = ages[i]
        if zone not in windows:
            n = len(windows) + 1
            upto = entered(f"up to leak zone {n} end", f"({hi} + 1)")
            before = entered(f"before leak zone {n}", f"MAX(1, {lo})")
            windows[zone] = f"({upto} - (IF {lo} = 0 THEN 0 ELSE {before}))"
        leak_equations.append(f"IF {m} = 0 THEN 0 ELSE {share[i]} * {windows[zone]} / ({m} * DT)")
    total = " + ".join(share[i] for i in range(len(zones)))
    return f"(1 - ({total})) * ({delayed_inflows(stock, length, rate)})", helpers, leak_equations
