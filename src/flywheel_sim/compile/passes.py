"""The emitter's whole-program passes, each linear in the size of the model (the order up to
a heap's log factor): the topological order of the equations, the names each equation reads,
the peephole pass that fuses operands into binary ops, and the deepest stack the code needs.

They are here because the simple forms (``graphlib``, names gathered with
:func:`flywheel_sim.spec.ast.walk`, a loop over the instruction pairs) dominated compiling a
model of tens of thousands of variables (benchmarks/compile.py): ``graphlib`` searches the
whole graph for a cycle before it orders anything, and the per-pair loops ran in Python over
a million instructions. The order and the names read follow the model's declarations, never
a set's hash order, so a Program is the same under every ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping

import numpy as np

from flywheel_sim._types import I64
from flywheel_sim.compile import ops
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Unary, Var, VarList, walk

_POPS = np.zeros(max(ops.POPS) + 1, np.int64)
for _op, _n in ops.POPS.items():
    _POPS[_op] = _n
_FUSABLE = np.zeros(ops.FUSE_CONST, bool)
_FUSABLE[sorted(ops.FUSABLE)] = True
assert not _FUSABLE[ops.LOAD] and not _FUSABLE[ops.CONST]  # so fusions never overlap


def static_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The nodes of ``graph`` (each node's predecessors) in a topological order that keeps
    the order of ``graph``'s keys wherever the dependencies allow: of the nodes ready, the
    first listed goes first (Kahn's algorithm over a heap of the nodes' positions), so a
    model declared in an order of evaluation is evaluated in that order, and the order never
    depends on the order of a node's predecessors (nor on a set's hash order). Linear but
    for the heap's log. On a cycle, ``graphlib`` raises its CycleError (naming the cycle)."""
    index = {name: n for n, name in enumerate(graph)}
    names = list(graph)
    waiting = [0] * len(names)  # predecessors not yet placed, per node
    successors: list[list[int]] = [[] for _ in names]
    for n, preds in enumerate(graph.values()):
        for pred in preds:
            found = index.get(pred)
            if found is None:  # a node that is only a predecessor: after the keys
                found = index[pred] = len(names)
                names.append(pred)
                waiting.append(0)
                successors.append([])
            successors[found].append(n)
            waiting[n] += 1
    ready = [n for n, w in enumerate(waiting) if w == 0]  # ascending: already a heap
    placed: list[int] = []
    while ready:
        n = heapq.heappop(ready)
        placed.append(n)
        for s in successors[n]:
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, s)
    if len(placed) < len(names):
        return list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    return [names[n] for n in placed]


def names_read(node: Expr) -> tuple[str, ...]:
    """The names of the variables an equation reads (those of
    :func:`flywheel_sim.spec.ast.names_in`), each once, in the order first met (parents
    before children, left to right): a tuple made from a set would follow the strings' hash
    order, which changes with ``PYTHONHASHSEED``, and with it the order of the equations."""
    found: dict[str, None] = {}  # a dict keeps the order of insertion
    _collect(node, found)
    return tuple(found)


def _collect(node: Expr, found: dict[str, None]) -> None:
    kind = type(node)
    if kind is Var:
        assert isinstance(node, Var)
        found[node.name] = None
        if node.subscripts:
            for sub in walk(node):  # rare: a subscript computed while the model runs
                if sub is not node and isinstance(sub, Var):
                    found[sub.name] = None
    elif kind is Binary:
        assert isinstance(node, Binary)
        _collect(node.left, found)
        _collect(node.right, found)
    elif kind is Call:
        assert isinstance(node, Call)
        for arg in node.args:
            _collect(arg, found)
    elif kind is Unary:
        assert isinstance(node, Unary)
        _collect(node.operand, found)
    elif kind is If:
        assert isinstance(node, If)
        _collect(node.cond, found)
        _collect(node.then, found)
        _collect(node.orelse, found)
    elif kind is VarList:
        assert isinstance(node, VarList)
        for item in node.items:
            _collect(item, found)


def fuse(code: list[int]) -> I64:
    """Peephole: ``LOAD x; <binary op>`` and ``CONST c; <binary op>`` become one fused op,
    saving the VMs a pass over the runs for most arithmetic. (A fusable op is never LOAD or
    CONST, so two fusions never overlap and all can be found at once.)"""
    pairs = np.array(code, np.int64).reshape(-1, 2)
    op = pairs[:, 0]
    operand = (op == ops.LOAD) | (op == ops.CONST)
    fused = np.zeros(len(op), bool)
    nxt = op[1:]
    fused[:-1] = operand[:-1] & _FUSABLE[nxt]  # the code has no fused op yet
    base = np.where(op == ops.LOAD, ops.FUSE_SLOT, ops.FUSE_CONST)
    pairs[:-1, 0] = np.where(fused[:-1], base[:-1] + nxt, op[:-1])
    keep = np.ones(len(op), bool)
    keep[1:] = ~fused[:-1]
    return pairs[keep].reshape(-1)


def stack_depth(code: I64) -> int:
    """The deepest the value stack gets running ``code`` (a fused op needs one more)."""
    op, arg = code[0::2], code[1::2]
    pops = _POPS[op]
    pops = np.where(op == ops.AVAILABLE, 4 * arg + 3, pops)
    pops = np.where(op == ops.PRIORITY, 2 * arg + 4, pops)
    depth = np.cumsum((op != ops.STORE).astype(np.int64) - pops)
    best = int(depth.max(initial=0))
    fused = depth[op >= ops.FUSE_CONST]
    return max(best, int(fused.max(initial=-1)) + 1)
