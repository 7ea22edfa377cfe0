"""Elementary feedback loops: found with networkx, classified, matched to the named loops.

A loop's type is the product of its link polarities (declared where the model declares them,
measured from a simulation otherwise): reinforcing (R), balancing (B), or '?' when a link's
sign depends on the state. Large models can have very many loops, so the search is bounded
(by loop length and count) and says when it stopped; short loops come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flywheel_sim.compile import Program, compile_model
from flywheel_sim.loops.cycles import loop_type, rotate
from flywheel_sim.loops.graph import causal_graph
from flywheel_sim.loops.polarity import Contradiction, annotate, measure_polarity
from flywheel_sim.loops.strongest import strongest_loops
from flywheel_sim.spec.model import Model
from flywheel_sim.spec.names import canonical

if TYPE_CHECKING:
    import networkx as nx

    from flywheel_sim.engine.simulate import Options

MAX_LOOPS = 20_000


@dataclass(frozen=True)
class Loop:
    """One elementary feedback loop: its variables in causal order and its type."""

    id: str
    variables: tuple[str, ...]
    polarity: str  # R, B or ?
    links: tuple[str, ...]  # polarity of each link variables[i] -> variables[i+1]
    name: str | None = None  # the model's name for it, if it declares this loop

    @property
    def length(self) -> int:
        return len(self.variables)


@dataclass(frozen=True)
class LoopSearch:
    """The result of :func:`find_loops`."""

    loops: tuple[Loop, ...]
    complete: bool
    note: str
    contradictions: tuple[Contradiction, ...]
    unmatched: tuple[str, ...]  # named loops of the model that were not found
    graph: nx.DiGraph
    max_length: int | None = None  # the bounds the search was asked for
    max_loops: int = MAX_LOOPS

    def by_name(self, name: str) -> Loop:
        for loop in self.loops:
            if loop.name == name:
                return loop
        raise KeyError(name)


def find_loops(
    model: Model,
    *,
    max_length: int | None = None,
    max_loops: int = MAX_LOOPS,
    params: object = None,
    program: Program | None = None,
    options: Options | None = None,
) -> LoopSearch:
    """All elementary feedback loops of ``model`` (up to ``max_length`` variables), with
    types, link polarities and the model's names for them. If there are more than
    ``max_loops``, the exhaustive search stops and the strongest-path search of Loops That
    Matter returns the loops that are strong at some time of the run instead (``complete`` is
    then False and ``note`` says so). ``options`` (limits, a cancel check) apply to the runs
    that measure polarities and strengths."""
    import networkx as nx

    program = program or compile_model(model)
    graph = causal_graph(model)
    contradictions = annotate(graph, measure_polarity(program, params, options=options))
    cycles: list[list[str]] = []
    complete, note = True, "all elementary loops"
    for cycle in nx.simple_cycles(graph, length_bound=max_length):
        if len(cycles) >= max_loops:
            complete = False
            break
        cycles.append(cycle)
    if not complete:  # too many to list: keep the loops that can matter instead
        strong, searched = strongest_loops(model, program, params, options=options)
        cycles = [
            c
            for c in strong
            if graph.has_edge(c[-1], c[0]) and (max_length is None or len(c) <= max_length)
        ]
        note = (
            f"exhaustive search stopped after {max_loops} loops; {len(cycles)} loops found "
            f"by the strongest-path search at {searched} times of the run (Eberlein & "
            "Schoenberg 2020); raise max_loops to list them all"
        )
    if complete and max_length is not None:
        note = f"all elementary loops of up to {max_length} variables"
    declared = {rotate([canonical(v) for v in loop.variables]): loop.name for loop in model.loops}
    found: list[tuple[tuple[str, ...], str, tuple[str, ...], str | None]] = []
    for cycle in cycles:
        order = rotate(cycle)
        named = declared.get(order)
        if named is not None:
            first = canonical(next(s for s in model.loops if s.name == named).variables[0])
            i = order.index(first)
            order = order[i:] + order[:i]
        pairs = zip(order, order[1:] + order[:1], strict=True)
        signs = [str(graph.edges[a, b]["polarity"]) for a, b in pairs]
        found.append((order, loop_type(signs), tuple(signs), named))
    found.sort(key=lambda f: (f[3] is None, len(f[0]), f[0]))
    counters = {"R": 0, "B": 0, "?": 0}
    loops = []
    for order, kind, link_signs, named in found:
        counters[kind] += 1
        prefix = "U" if kind == "?" else kind
        loops.append(Loop(f"{prefix}{counters[kind]}", order, kind, link_signs, named))
    matched = {loop.name for loop in loops if loop.name}
    unmatched = tuple(loop.name for loop in model.loops if loop.name not in matched)
    return LoopSearch(
        tuple(loops),
        complete,
        note,
        tuple(contradictions),
        unmatched,
        graph,
        max_length,
        max_loops,
    )
