"""The flows of Vensim's stocks: ``x = INTEG(rate, initial)`` names no flows, so they are read
from the rate.

When the rate only adds and subtracts variables (``births - deaths``), each is a flow of the
stock (inflow when added, outflow when subtracted), as a diagram would draw it; such a variable
must be an auxiliary or a constant over the stock's own dimensions. Any other rate (a number, a
product, a function, a stock, the same variable twice, a stock defined element by element)
becomes one flow of its own, ``<stock> net flow``, whose equation is the rate and whose unit
the stock's per time unit (so the unit checker checks the rate).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flywheel_sim.spec.ast import Binary, Expr, Num, Unary, Var, to_text
from flywheel_sim.spec.model import Element
from flywheel_sim.spec.names import canonical


def terms(node: Expr, sign: int = 1) -> list[tuple[Expr, int]]:
    """The added (+1) and subtracted (-1) terms of a sum."""
    if isinstance(node, Binary) and node.op in "+-":
        right = sign if node.op == "+" else -sign
        return terms(node.left, sign) + terms(node.right, right)
    if isinstance(node, Unary) and node.op in "+-":
        return terms(node.operand, sign if node.op == "+" else -sign)
    return [(node, sign)]


def split_rate(
    rate: Expr, stock: Element, by_key: dict[str, Element]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The stock's inflows and outflows when the rate is a sum of flow-like variables."""
    dims = tuple(canonical(d) for d in stock.dims)
    inflows: list[str] = []
    outflows: list[str] = []
    for term, sign in terms(rate):
        if not isinstance(term, Var) or tuple(term.subscripts) != dims:
            return None
        target = by_key.get(term.name)
        if target is None or target.kind not in ("aux", "parameter", "flow"):
            return None
        if tuple(canonical(d) for d in target.dims) != dims or term.name in (
            *inflows,
            *outflows,
        ):
            return None
        (inflows if sign > 0 else outflows).append(target.name)
    return tuple(inflows), tuple(outflows)


def as_flow(element: Element) -> Element:
    """An auxiliary or constant named as a stock's flow, as a flow."""
    if element.kind == "parameter":
        default = element.default
        if isinstance(default, tuple):
            per = tuple((k, to_text(Num(v))) for k, v in default)
            return replace(element, kind="flow", default=None, element_equations=per)
        assert default is not None
        return replace(
            element,
            kind="flow",
            default=None,
            minimum=None,
            maximum=None,
            equation=to_text(Num(default)),
        )
    return replace(element, kind="flow")


def attach_flows(elements: list[Element], stocks: dict[str, Any], time_unit: str) -> list[Element]:
    """The elements with each stock's flows named (and made flows), net flows added (in the
    stock's unit per ``time_unit``)."""
    by_key = {e.key: e for e in elements}
    named: set[str] = set()
    out: list[Element] = []
    extra: list[Element] = []
    for element in elements:
        if element.kind != "stock":
            out.append(element)
            continue
        whole, per_element = stocks[element.key]
        split = split_rate(whole, element, by_key) if not per_element else None
        if split is not None:
            named.update(canonical(n) for n in split[0] + split[1])
            out.append(replace(element, inflows=split[0], outflows=split[1]))
            continue
        name = _free_name(f"{element.name} net flow", by_key)
        flow = Element(
            name=name,
            kind="flow",
            dims=element.dims,
            equation=to_text(whole) if not per_element else "",
            element_equations=tuple((k, to_text(t)) for k, t in per_element),
            unit=_per(element.unit, time_unit),
            description=f"the rate of INTEG in the equation of '{element.name}'",
            line=element.line,
        )
        by_key[flow.key] = flow
        extra.append(flow)
        out.append(replace(element, inflows=(name,)))
    return [as_flow(e) if e.key in named else e for e in out] + extra


def _per(unit: str, time_unit: str) -> str:
    if not unit or not time_unit or time_unit == "time":
        return ""
    return f"({unit})/{time_unit}" if any(c in unit for c in "*/^ ") else f"{unit}/{time_unit}"


def _free_name(name: str, by_key: dict[str, Element]) -> str:
    candidate, n = name, 2
    while canonical(candidate) in by_key:
        candidate, n = f"{name} {n}", n + 1
    return candidate
