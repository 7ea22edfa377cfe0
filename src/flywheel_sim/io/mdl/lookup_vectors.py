"""Element lookup tables called over a range marked with ``!``: ``tab[d!](x)``.

Inside VECTOR SELECT (whose vectors are written ``x[d!]``) the call ``tab[d!](x)`` is the
vector whose element ``e`` of ``d`` is ``tab[e](x)``: the table of each element read at the
same ``x``. Our VECTOR_SELECT takes whole arrays (``x[*]``), so the vector becomes a hidden
auxiliary over ``d``, ``<tab> at <n>[d]``, each element calling its own table
(``tab[a1](x)``, ``tab[a2](x)`` ...), and the call reads ``<tab> at <n>[d!]``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Call, Expr, Var, rebuilt, to_text, walk
from flywheel_sim.spec.model import Dimension, Element
from flywheel_sim.spec.names import canonical


@dataclass(frozen=True)
class LookupVector:
    """A hidden auxiliary: over ``dims`` (canonical), one equation per element."""

    name: str
    dims: tuple[str, ...]
    equations: tuple[tuple[tuple[str, ...], Expr], ...]  # element -> its table's call


def bang_lookups(
    node: Expr,
    dims: Mapping[str, tuple[str, ...]],
    lookups: set[str],
    made: dict[str, LookupVector],
    rewrite: Callable[[Expr], Expr],
    taken: Callable[[str], bool],
) -> Expr:
    """``node`` with each ``LOOKUP(tab[d!], x)`` (the parser's ``tab[d!](x)``) replaced by
    a reference ``<tab> at <n>[d!]`` to a hidden auxiliary recorded in ``made``."""
    if isinstance(node, Call) and node.func == "LOOKUP" and _banged(node):
        table = node.args[0]
        assert isinstance(table, Var)
        return _vector(table, node.args[1:], dims, lookups, made, rewrite, taken)
    if isinstance(node, Call):
        args = tuple(bang_lookups(a, dims, lookups, made, rewrite, taken) for a in node.args)
        return Call(node.func, args)
    if isinstance(node, Var):
        return node
    return rebuilt(node, lambda n: bang_lookups(n, dims, lookups, made, rewrite, taken))


def _banged(node: Call) -> bool:
    table = node.args[0] if node.args else None
    return isinstance(table, Var) and any(
        isinstance(s, str) and s.endswith("!") for s in table.subscripts
    )


def _vector(
    table: Var,
    args: tuple[Expr, ...],
    dims: Mapping[str, tuple[str, ...]],
    lookups: set[str],
    made: dict[str, LookupVector],
    rewrite: Callable[[Expr], Expr],
    taken: Callable[[str], bool],
) -> Expr:
    if len(args) != 1:
        raise ModelError(f"the lookup '{table.name}' is called with {len(args)} arguments")
    x = args[0]
    for inner in walk(x):
        if isinstance(inner, Var) and (
            inner.name in dims or any(isinstance(s, str) and s in dims for s in inner.subscripts)
        ):
            raise ModelError(
                f"'{table.name}[{', '.join(map(str, table.subscripts))}](x)' reads every "
                "element's table at one x: an x that depends on a subscript range is not "
                "supported yet",
                hint="compute x in an auxiliary first",
            )
    subs = [str(s) for s in table.subscripts]
    banged = [s[:-1] for s in subs if s.endswith("!")]
    if len(set(banged)) < len(banged) or any(b not in dims for b in banged):
        raise ModelError(f"'{table.name}' must mark distinct subscript ranges with !")
    called = rewrite(x)
    equations = []
    for combo in itertools.product(*(dims[b] for b in banged)):
        chosen = iter(combo)
        cell = [next(chosen) if s.endswith("!") else s for s in subs]
        key = f"{table.name}[{','.join(cell)}]"
        if key not in lookups:
            raise ModelError(f"there is no lookup table '{key}'")
        equations.append((combo, Call(key, (called,))))
    found = next(
        (v for v in made.values() if v.dims == tuple(banged) and v.equations == tuple(equations)),
        None,
    )
    if found is None:
        number = len(made) + 1
        while canonical(f"{table.name} at {number}") in lookups | set(made) or taken(
            canonical(f"{table.name} at {number}")
        ):
            number += 1
        found = LookupVector(f"{table.name} at {number}", tuple(banged), tuple(equations))
        made[found.name] = found
    return Var(canonical(found.name), tuple(f"{b}!" for b in banged))


def vector_elements(made: Mapping[str, LookupVector], dims: tuple[Dimension, ...]) -> list[Element]:
    """The hidden auxiliaries as elements (dimensions and elements named as written)."""
    display = {canonical(d.name): (d.name, d.elements) for d in dims}
    out = []
    for vector in made.values():
        names = [display[d][0] for d in vector.dims]
        written = [{canonical(e): e for e in display[d][1]} for d in vector.dims]
        per = tuple(
            (",".join(w[e] for w, e in zip(written, cell, strict=True)), to_text(expr))
            for cell, expr in vector.equations
        )
        out.append(
            Element(
                name=vector.name,
                kind="aux",
                dims=tuple(names),
                element_equations=per,
                description="a lookup table of each element read at the same input (tab[d!](x))",
            )
        )
    return out
