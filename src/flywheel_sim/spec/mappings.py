"""Dimension mappings as element pairs: which element of one dimension an equation over the
other reads (XMILE's ``<isee:maps_to>``, Vensim's ``->``).

A mapping pairs the k-th element of one dimension with the k-th of the other, unless the
dimension lists the pairs (:attr:`Dimension.pairs`: Vensim's ``DimB: b1, b2 -> (DimA: SubA,
a3)`` pairs ``b1`` with ``a1`` and ``a2`` and ``b2`` with ``a3``). Both directions are kept:
an equation over ``DimA`` reads ``b[DimB]`` at the ``DimB`` element paired with its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.model import Dimension
from flywheel_sim.spec.names import canonical

# (from dimension, to dimension) -> from's element -> the to-elements it pairs with
Pairings = dict[tuple[str, str], dict[str, tuple[str, ...]]]


def element_pairs(dimensions: Iterable[Dimension]) -> Pairings:
    """Every mapping's element pairs, both ways, by canonical names."""
    dims = {canonical(d.name): d for d in dimensions}
    out: Pairings = {}
    for key, dim in dims.items():
        listed = {canonical(target): pairs for target, pairs in dim.pairs}
        for target in dim.maps_to:
            to = canonical(target)
            other = dims.get(to)
            if other is None:
                continue
            own = [canonical(e) for e in dim.elements]
            if to in listed:
                forward = {
                    e: tuple(canonical(t) for t in ts)
                    for e, ts in zip(own, listed[to], strict=True)
                }
            else:
                forward = {e: (canonical(t),) for e, t in zip(own, other.elements, strict=True)}
            backward: dict[str, tuple[str, ...]] = {}
            for element, targets in forward.items():
                for t in targets:
                    backward[t] = (*backward.get(t, ()), element)
            out[(key, to)] = forward
            out[(to, key)] = backward
    return out


def listed_pairs(
    dim: Dimension, target: Dimension, listed: list[str], ranges: dict[str, tuple[str, ...]]
) -> tuple[tuple[str, ...], ...]:
    """The pairs a mapping lists (``-> (Target: x, SubT, y)``): one item per element of
    ``dim``, each an element of ``target`` or a range all of whose elements are in it."""
    if len(listed) != len(dim.elements):
        raise ModelError(
            f"subscript range '{dim.name}' ({len(dim.elements)} elements) lists "
            f"{len(listed)} items of '{target.name}' in its mapping",
            hint="list one element (or subrange) of the target for each element",
        )
    members = {canonical(e): e for e in target.elements}
    out: list[tuple[str, ...]] = []
    for item in listed:
        key = canonical(item)
        if key in members:
            out.append((members[key],))
        elif key in ranges and ranges[key] and all(canonical(e) in members for e in ranges[key]):
            out.append(tuple(members[canonical(e)] for e in ranges[key]))
        else:
            raise ModelError(
                f"subscript range '{dim.name}' maps to '{item}', which is neither an element "
                f"of '{target.name}' nor a range within it"
            )
    return tuple(out)


def paired_element(pairings: Pairings, own_dim: str, own_element: str, dim: str) -> tuple[str, ...]:
    """The elements of ``dim`` the mapping pairs with ``own_element`` of ``own_dim`` (empty
    when the two are not mapped)."""
    return pairings.get((own_dim, dim), {}).get(own_element, ())
