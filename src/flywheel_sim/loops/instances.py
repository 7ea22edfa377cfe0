"""Feedback loops of arrayed models, element by element.

In a model with dimensions, one loop of the equations (``customers -> traffic -> ... ->
customers``) runs once for every element (``customers[incumbent] -> ...`` and
``customers[entrant] -> ...``), and elements can close loops through each other (a market
share that depends on both platforms). Loop dominance must score each of those instance loops
separately: the incumbent's virtuous cycle can dominate while the entrant's is still weak.

:func:`instance_loops` builds the instance-level causal graph from the compiled code (every
slot's reads, flows into stocks, PREVIOUS; the hidden structure of smooths and delays folded
into the variable that uses it; parameters and values fixed at the start left out), lists its
elementary loops and names each after the model-level loop it instantiates: ``R2[entrant]``
(``virtuous_cycle[entrant]``) when all its arrayed variables share one element, ``R4[entrant,
incumbent]`` when it crosses elements. A loop that visits one variable at two elements is not
an elementary loop of the model-level graph; it gets its own id (``Rx1``, ``Bx1``, ...) and a
type from the product of its links' polarities.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from flywheel_sim.compile import Program, ops
from flywheel_sim.loops.cycles import loop_type, rotate
from flywheel_sim.loops.find import Loop, LoopSearch
from flywheel_sim.loops.polarity import (
    instance_owner,
    model_polarities,
    owner,
    segments,
    slot_polarities,
    trajectories,
)

if TYPE_CHECKING:
    import networkx as nx

    from flywheel_sim.engine.simulate import Options


def instance_polarity(
    program: Program, params: object = None, *, options: Options | None = None
) -> dict[tuple[str, str], str]:
    """Measured polarity of every link between variable instances, from a simulation."""
    states, times = trajectories(program, params, options=options)
    return model_polarities(program, slot_polarities(program, states, times), by_instance=True)


def _index(key: str) -> str:
    return key[key.index("[") + 1 : -1] if "[" in key else ""


def instance_graph(program: Program) -> nx.DiGraph:
    """The causal graph over model variable instances (``x[a]``), from the compiled code."""
    import networkx as nx

    keys = program.slot_keys
    params = {int(s) for s in program.param_slots}
    dynamic: set[int] = {int(s) for s in program.stock_slots}
    code = program.step_code
    dynamic |= {int(code[pc + 1]) for pc in range(0, len(code), 2) if code[pc] == ops.STORE}
    succ: dict[int, set[int]] = defaultdict(set)
    for z, segment in segments(program).items():
        if z not in dynamic:
            continue  # computed once at the start (or a constant): no loop passes through it
        for pc in range(0, len(segment), 2):
            if segment[pc] == ops.LOAD or segment[pc] >= ops.FUSE_SLOT:
                x = int(segment[pc + 1])
                if x not in params and x != z:
                    succ[x].add(z)
    for stock, flow in zip(program.edge_stock, program.edge_slot, strict=True):
        succ[int(flow)].add(int(program.stock_slots[stock]))
    for src, dst in zip(program.prev_src, program.prev_dst, strict=True):
        succ[int(src)].add(int(dst))
    hidden = {i for i, k in enumerate(keys) if "#" in k}
    graph = nx.DiGraph()
    for x in range(len(keys)):
        if x in hidden or x in params:
            continue
        graph.add_node(keys[x])
        stack, seen = [x], {x}
        while stack:
            node = stack.pop()
            for z in succ.get(node, ()):
                if z in seen:
                    continue
                seen.add(z)
                if z in hidden:
                    stack.append(z)
                elif instance_owner(keys[z]) != keys[x]:
                    graph.add_edge(keys[x], instance_owner(keys[z]))
    return graph


def instance_loops(
    program: Program,
    search: LoopSearch,
    *,
    max_loops: int = 20_000,
    params: object = None,
    options: Options | None = None,
) -> tuple[list[Loop], bool]:
    """Every elementary loop over variable instances (up to ``max_loops``; the flag says
    whether the list is complete), each named after the model-level loop it instantiates.
    Loops that cross elements are typed by the polarity of their instance links, measured
    along a simulation (``params``), falling back on the model-level link's polarity."""
    import networkx as nx

    graph = instance_graph(program)
    by_order = {rotate(list(loop.variables)): loop for loop in search.loops}
    rank = {loop.id: n for n, loop in enumerate(search.loops)}
    named: list[tuple[tuple[int, str], Loop]] = []
    crossing: list[tuple[tuple[str, ...], str]] = []
    complete = True
    for count, cycle in enumerate(nx.simple_cycles(graph)):
        if count >= max_loops:
            complete = False
            break
        elements = [owner(k) for k in cycle]
        indices = sorted({_index(k) for k in cycle} - {""})
        label = f"[{','.join(indices)}]" if indices else ""
        base = by_order.get(rotate(elements)) if len(set(elements)) == len(elements) else None
        if base is None:
            crossing.append((rotate(cycle), label))
            continue
        i = cycle.index(cycle[elements.index(base.variables[0])])
        order = tuple(cycle[i:] + cycle[:i])
        name = base.name + label if base.name else None
        loop = Loop(base.id + label, order, base.polarity, base.links, name)
        named.append(((rank[base.id], label), loop))
    loops = [loop for _, loop in sorted(named, key=lambda item: item[0])]
    # loops through one variable at two elements: numbered in a fixed order (shortest first)
    measured = instance_polarity(program, params, options=options) if crossing else {}
    counters = {"R": 0, "B": 0, "?": 0}
    for order, label in sorted(crossing, key=lambda c: (len(c[0]), c[0])):
        signs = tuple(
            _link_sign(measured, search, a, b)
            for a, b in zip(order, order[1:] + order[:1], strict=True)
        )
        kind = loop_type(signs)
        counters[kind] += 1
        prefix = "U" if kind == "?" else kind
        loops.append(Loop(f"{prefix}x{counters[kind]}{label}", order, kind, signs, None))
    return loops, complete


def _link_sign(measured: dict[tuple[str, str], str], search: LoopSearch, a: str, b: str) -> str:
    sign = measured.get((a, b), "?")
    if sign in ("+", "-"):
        return sign
    if search.graph.has_edge(owner(a), owner(b)):
        return str(search.graph.edges[owner(a), owner(b)]["polarity"])
    return "?"
