"""Spread inputs: an inflow that Stella puts on several slats of the belt at once
(``isee:spreadflow`` on the inflow) rather than all at the entry.

Stella writes ``isee:spreadflow="beginning"`` (the default: all at the entry), ``"even"`` (the
same share on every slat) or ``"dist"`` (shares in proportion to the graphical function named
by ``<isee:distrib_eq>``, normalised so that they add up to what entered), and ``"dest"`` and
``"source"``, which depend on what is on the belt and are refused. Slat ``i`` (0 = the exit,
``N - 1`` = the entry) is at ``x_i = 1 - (i + 1/2) / N`` along the belt from the entry, and
what is put there leaves ``k = i + 1`` DTs later. So a spread inflow leaves as the weighted
sum ``sum(w_k * inflow(t - k*DT) for k in 1..N) / sum(w_k)``, with ``w_k = 1`` (even) or
``g(x)`` (dist): a distributed lag, exactly expressible by stocks and DELAYs.

For a continuous graphical function with points ``(X_j, Y_j)``, ``g(x) = Y_0 + sum_j d_j *
max(0, x - X_j)``, ``d_j`` the change of slope at ``X_j``; at slat ``k`` that is ``max(0, c_j -
k) / N`` with ``c_j = N * (1 - X_j) + 1/2``, so the weighted sum needs, for each point,
``A_m = DT * sum(inflow(t - k*DT), k = 1..m)`` and ``B_m = DT * sum(k * inflow(t - k*DT), k =
1..m)`` over the ``m_j`` slats with ``k < c_j``: helper stocks updated every DT by
``A_m += DT * (in(t) - in(t - m*DT))`` and ``B_m += DT * (in(t) + A_m/DT - (m + 1) *
in(t - m*DT))``. Even is ``A_N / (N*DT)``. These semantics follow the description of isee's
placement in simlin's conveyor design notes (docs/design/conveyors.md §8, quoting isee); we
found no isee help page on them. The initial contents are laid out as without spread inputs
(evenly, with no leakage). With exponential leakage over the whole belt at a fraction ``f``,
a share also loses ``f*DT`` of itself every DT on the belt (the DT it leaves included): what
entered ``k`` DTs ago counts ``keep`` (``1 - f*DT``) over the ``k - 1`` DTs since, the helper
stocks lose ``f*DT`` of themselves every DT, and the outflow takes this DT's ``keep``; a
fraction that changes during the run needs the product of ``keep`` over the last ``m`` DTs
(``Windows.product``). With linear leakage (fractions that keep their value, whole belt), a
share of ``v`` leaks ``f * v / N`` every DT it is on the belt, as an entry batch does, so an
even spread loses ``f/N * B_N`` of what would leave and the leak gains ``f/N^2 * ((N + 1) *
A_N - B_N)``; a distribution needs windows by age squared too (``linear_spread``). Linear
fractions that change during the run and leak zones are refused with spread inputs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from flywheel_sim.errors import ModelError
from flywheel_sim.io.xmile.conveyor.read import ConveyorSpec
from flywheel_sim.io.xmile.conveyor.windows import Windows
from flywheel_sim.io.xmile.xml import Document
from flywheel_sim.spec.ast import Var, name_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

SPREADS = ("even", "dist")  # the placements expanded here; "beginning" is the default


@dataclass
class SpreadSpec:
    """A flow's ``isee:spreadflow`` placement (other than the default) and, for ``dist``,
    the distribution (``<isee:distrib_eq>``, translated to our syntax)."""

    key: str
    name: str
    doc: Document
    node: ET.Element
    method: str
    distribution: str = ""


def read_spread(
    doc: Document, flow: ET.Element, name: str, translate: Callable[[str], str]
) -> SpreadSpec | None:
    """The placement of ``flow`` on a conveyor it fills (None: at the entry, the default).
    Whether the flow fills a conveyor is known only later: refusals are made there."""
    raw = next((v for k, v in flow.attrib.items() if k.rsplit("}", 1)[-1] == "spreadflow"), "")
    method = raw.strip().lower()
    if method in ("", "beginning"):
        return None
    distribution = ""
    if method == "dist":
        node = next((c for c in flow if c.tag.rsplit("}", 1)[-1] == "distrib_eq"), None)
        text = (node.text or "").strip() if node is not None else ""
        if not text:
            raise doc.error(
                f"flow '{name}' spreads its input by a distribution "
                '(isee:spreadflow="dist") but has no <isee:distrib_eq>',
                flow,
                variable=name,
                hint="name the graphical function of the distribution in <isee:distrib_eq>",
            )
        distribution = translate(text)
    return SpreadSpec(canonical(name), name, doc, flow, method, distribution)


def refuse_spread(spec: ConveyorSpec, spread: SpreadSpec, leaky: str) -> None:
    """Spread inputs the expansion cannot express exactly, refused with one line;
    ``leaky`` says what leakage of the conveyor is in the way ("" if none is)."""
    where = f"inflow '{spread.name}' of conveyor '{spec.name}'"
    if spread.method not in SPREADS:
        raise spread.doc.error(
            f'placing {where} by isee:spreadflow="{spread.method}" is not supported '
            '(only "beginning", "even" and "dist")',
            spread.node,
            variable=spread.name,
            hint="put the inflow at the beginning of the conveyor (remove isee:spreadflow)",
        )
    if leaky:
        raise spread.doc.error(
            f'spreading {where} (isee:spreadflow="{spread.method}") on a conveyor with '
            f"{leaky} is not supported",
            spread.node,
            variable=spread.name,
            hint="put the inflow at the beginning of the conveyor (remove isee:spreadflow)",
        )


def spread_outflow(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    spreads: dict[str, SpreadSpec],
    belt: tuple[str, str, str, str],
) -> tuple[str, list[Element]]:
    """The outflow of a conveyor some of whose inflows are spread, and its helpers. ``belt``
    is (N, the initial contents' rate of arrival, the fraction of its exponential leakage
    over the whole belt or "", and if that changes during the run LN(keep) / DT at the start
    time, else "")."""
    slats, rate, leak, first = belt
    length = f"({slats} * DT)"
    parts = Windows(by_key, spec, stock, slats, [], leak, first)
    entry = [f for f in stock.inflows if f not in spreads]
    arrivals = (
        " + ".join(
            f"DELAY({name_text(f)}, {length}, {rate if k == 0 else '0'})"
            for k, f in enumerate(entry)
        )
        if entry
        else f"IF TIME < STARTTIME + {length} - DT / 2 THEN {rate} ELSE 0"
    )
    terms = [f"{parts.product(slats)} * ({arrivals})" if leak else arrivals]
    for n, ((method, distribution), flows) in enumerate(_groups(stock, spreads).items(), 1):
        if method == "even":
            window = parts.window(f"spread {n}", flows, slats)
            terms.append(f"{parts.keep} * {window} / {length}")
        else:
            points = _distribution(by_key, spreads[flows[0]], distribution)
            terms.append(_distributed(parts, f"spread {n}", flows, points))
    return " + ".join(f"({t})" for t in terms), parts.helpers


def linear_spread(
    by_key: dict[str, Element],
    spec: ConveyorSpec,
    stock: Element,
    spreads: dict[str, SpreadSpec],
    belt: tuple[str, str],
) -> tuple[str, str, list[Element]]:
    """For spread inflows on a conveyor with linear leakage (``belt``: N, the total fraction
    f, constant, over the whole belt): what leaves of them, what leaks of them per unit of
    fraction, and the helpers. A share of v put on a slat leaks f * v / N every DT it is on
    the belt (k DTs if it leaves k DTs later), as a batch put on at the entry does."""
    slats, total = belt
    parts = Windows(by_key, spec, stock, slats, [])
    out, on_belt = [], []
    for n, ((method, distribution), flows) in enumerate(_groups(stock, spreads).items(), 1):
        points = (
            [(0.0, 1.0)]
            if method == "even"
            else _distribution(by_key, spreads[flows[0]], distribution)
        )
        leaving, leaking = _linear_group(parts, f"spread {n}", flows, points, total)
        out.append(leaving)
        on_belt.append(leaking)
    return " + ".join(out), " + ".join(on_belt), parts.helpers


def _groups(stock: Element, spreads: dict[str, SpreadSpec]) -> dict[tuple[str, str], list[str]]:
    """The spread inflows of ``stock`` by placement (and distribution), in order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for flow in stock.inflows:
        if flow in spreads:
            spread = spreads[flow]
            groups.setdefault((spread.method, spread.distribution), []).append(flow)
    return groups


def _hinges(points: list[tuple[float, float]]) -> tuple[float, list[tuple[int, float, float]]]:
    """g(x) = Y_0 + sum of bend * max(0, x - X) over (point number, X, bend); points whose
    bend is 0, or at x >= 1 (every slat is before them), are left out."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    slopes = [(ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]) for j in range(len(points) - 1)]
    bends = [b - a for a, b in zip([0.0, *slopes], [*slopes, 0.0], strict=True)]
    kept = [(j + 1, x, d) for j, (x, d) in enumerate(zip(xs, bends, strict=True))]
    return ys[0], [(j, x, d) for j, x, d in kept if d != 0 and x < 1]


def _linear_group(
    parts: Windows, suffix: str, flows: list[str], points: list[tuple[float, float]], total: str
) -> tuple[str, str]:
    """What leaves of ``flows`` spread by ``points`` under linear leakage ``total``, and what
    leaks of them per unit of fraction: with w_k the weight of the slat left k DTs later and
    W their sum, (sum(w_k in_k) - total/N * sum(k w_k in_k)) / W, and sum over j of in_j
    times the weight still on the belt after j - 1 DTs, / (N W): windows of what entered,
    plain, by age and by age squared, for the whole belt and before each bend."""
    n = parts.slats
    y0, bends = _hinges(points)
    a = parts.window(suffix, flows, n)
    b = parts.weighted(f"{suffix} by age", flows, n, a)
    s0, s1 = [f"({y0!r}) * {a}"], [f"({y0!r}) * {b}"]
    st, weights = [f"({y0!r}) * (({n} + 1) * {a} - {b})"], [f"({y0!r}) * {n}"]
    for j, x, bend in bends:
        c = f"({n} * (1 - ({x!r})) + 0.5)"
        m = f"MIN({n}, MAX(0, INT({c})))"
        k = f"({bend!r}) / {n}"
        a = parts.window(f"{suffix} point {j}", flows, m)
        b = parts.weighted(f"{suffix} point {j} by age", flows, m, a)
        sq = parts.squared(f"{suffix} point {j} by age squared", flows, m, (a, b))
        s0.append(f"(IF {m} = 0 THEN 0 ELSE {k} * ({c} * {a} - {b}))")
        s1.append(f"(IF {m} = 0 THEN 0 ELSE {k} * ({c} * {b} - {sq}))")
        tail = f"(({m} + 1) * {c} - {m} * ({m} + 1) / 2) * {a} - {c} * {b} + ({sq} - {b}) / 2"
        st.append(f"(IF {m} = 0 THEN 0 ELSE {k} * ({tail}))")
        weights.append(f"{k} * ({c} * {m} - {m} * ({m} + 1) / 2)")
    w = f"({' + '.join(weights)})"
    # no weight on any slat (a distribution narrower than a slat): the run fails, never guesses
    guard = f"IF {w} <= 0 THEN 0 / 0 ELSE "
    leaving = f"{guard}(({' + '.join(s0)}) - {total} / {n} * ({' + '.join(s1)})) / (DT * {w})"
    return leaving, f"{guard}({' + '.join(st)}) / ({n} * DT * {w})"


def _distributed(
    parts: Windows, suffix: str, flows: list[str], points: list[tuple[float, float]]
) -> str:
    """The outflow of ``flows`` spread by the graphical function with ``points``."""
    n = parts.slats
    y0, bends = _hinges(points)
    whole = parts.window(suffix, flows, n)
    numerator = [f"({y0!r}) * {whole}"]
    total = [f"({y0!r}) * {n}"]
    for j, x, bend in bends:
        c = f"({n} * (1 - ({x!r})) + 0.5)"
        m = f"MIN({n}, MAX(0, INT({c})))"
        a = parts.window(f"{suffix} point {j}", flows, m)
        b = parts.weighted(f"{suffix} point {j} by age", flows, m, a)
        numerator.append(f"(IF {m} = 0 THEN 0 ELSE ({bend!r}) / {n} * ({c} * {a} - {b}))")
        total.append(f"({bend!r}) / {n} * ({c} * {m} - {m} * ({m} + 1) / 2)")
    weights = f"({' + '.join(total)})"
    entry = f"{parts.product(n)} * ({parts.delayed(flows, n)})"
    spread = f"{parts.keep} * ({' + '.join(numerator)}) / (DT * {weights})"
    return f"IF {weights} <= 0 THEN {entry} ELSE {spread}"


def _distribution(
    by_key: dict[str, Element], spread: SpreadSpec, text: str
) -> list[tuple[float, float]]:
    """The points of the graphical function named by ``<isee:distrib_eq>``; refused unless
    it is one continuous table with increasing x and no negative y."""

    def refuse(what: str, hint: str = "") -> ModelError:
        return spread.doc.error(
            f"the distribution of flow '{spread.name}' (<isee:distrib_eq>{text}"
            f"</isee:distrib_eq>) {what} (not supported)",
            spread.node,
            variable=spread.name,
            hint=hint or "name one graphical function with increasing x and y of 0 or more",
        )

    element = _named(by_key, text)
    table = element.lookup if element is not None else None
    if element is not None and table is None and _named(by_key, element.equation) is not None:
        # a module input connected to another variable: its own <gf> is gone, and whether
        # Stella spreads by that one or by the connected graphical function is not known
        raise refuse(
            f"is a module input connected to '{element.equation}'",
            "name a graphical function of the module that is not a module input",
        )
    if element is None or table is None:
        raise refuse("is not the name of a graphical function")
    if element.dims:
        raise refuse("is arrayed")
    if table.kind != "continuous":
        raise refuse(f"is a graphical function of type {table.kind}")
    if any(b <= a for a, b in zip(table.xs, table.xs[1:], strict=False)):
        raise refuse("has x values that do not increase")
    if any(y < 0 for y in table.ys):
        raise refuse("has negative y values")
    return list(zip(table.xs, table.ys, strict=True))


def _named(by_key: dict[str, Element], text: str) -> Element | None:
    """The element ``text`` names, if it is a bare name."""
    try:
        tree = parse(text)
    except ModelError:
        return None
    if not isinstance(tree, Var) or tree.subscripts:
        return None
    return by_key.get(tree.name)
