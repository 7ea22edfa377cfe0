"""The causal graph of a model: variable -> variable links from the equations, flows -> stocks.

Nodes are model variables (stocks, flows, auxiliaries; arrays collapsed to one node, hidden
smoothing/delay structure folded into the variable that uses it). Parameters are left out:
nothing feeds back into them, so no loop passes through one. Each edge carries the polarity
the model declares (``links:``), if any; flows into a stock are ``+``, out of it ``-``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flywheel_sim.spec.ast import names_in
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

if TYPE_CHECKING:
    import networkx as nx

CLOCK = {"time", "dt", "starttime", "stoptime", "pi"}


def _inputs(model: Model, key: str) -> set[str]:
    element = model.element(key)
    texts = [element.equation, *(t for _, t in element.element_equations)]
    return set().union(*(names_in(parse(t)) for t in texts if t.strip()))


def causal_graph(model: Model) -> nx.DiGraph:
    """A networkx DiGraph of the model's causal links.

    Edge attributes: ``declared`` ('+', '-', '?' or None when the model declares nothing),
    ``citation`` (the declared source, or ''), ``kind`` ('flow' for flow -> stock edges,
    'equation' otherwise).
    """
    import networkx as nx

    graph = nx.DiGraph(name=model.name)
    parameters = {e.key for e in model.of_kind("parameter")}
    lookups = {e.key for e in model.of_kind("lookup")}
    for element in model.elements:
        if element.kind in ("parameter", "lookup"):
            continue
        graph.add_node(element.key, kind=element.kind, unit=element.unit, name=element.name)
    for element in model.elements:
        if element.kind == "stock":
            for flow, sign in [
                *((f, "+") for f in element.inflows),
                *((f, "-") for f in element.outflows),
            ]:
                graph.add_edge(
                    canonical(flow), element.key, declared=sign, citation="", kind="flow"
                )
            continue
        if element.kind not in ("flow", "aux"):
            continue
        declared = {canonical(link.source): link for link in element.links}
        for source in sorted(_inputs(model, element.key) - parameters - lookups - CLOCK):
            link = declared.get(source)
            graph.add_edge(
                source,
                element.key,
                declared=None if link is None else link.polarity,
                citation="" if link is None else link.citation,
                kind="equation",
            )
    return graph
