"""Vensim subscript ranges as :class:`~flywheel_sim.spec.model.Dimension`.

- ``Dim: a, b, c`` lists the elements; ``(a1-a10)`` is a numbered run of them; a name of
  another range among them stands for its elements (a range made of subranges);
- ``-> Other`` maps the range onto another of the same size, element by element in order;
  ``-> (Other: x, SubO, y)`` pairs each element with the listed element of Other, or with
  every element of a listed subrange of Other (spec/mappings.py);
- ``Dim <-> Other`` makes Dim an equivalent of Other (the same elements).

A subrange (a range whose elements all belong to a larger one) is a dimension of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.mappings import listed_pairs
from flywheel_sim.spec.model import Dimension
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.size import check_dimension_size

MAX_RUN = 1_000_000  # the most elements a numbered run makes (the limits then apply)
_RUN = re.compile(r"\(\s*(?P<a>[^()\-]*?)(?P<i>\d+)\s*-\s*(?P<b>[^()\-]*?)(?P<j>\d+)\s*\)\Z")


@dataclass
class RangeDef:
    name: str
    parts: list[str]  # elements, runs or other ranges' names, as written
    maps: list[tuple[str, list[str]]]  # (target, its elements as listed, or [])
    line: int
    equivalent: str = ""


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses."""
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def _unquote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def read_range(name: str, rhs: str, line: int) -> RangeDef:
    """``a, b, (c1-c3) -> Other`` (the text after ``Dim:``)."""
    if "GET " in rhs.upper():
        raise ModelError("subscript ranges read from a data file are not supported yet")
    body, _, mapping = rhs.partition("->")
    parts = [_unquote(p) for p in split_top(body)]
    maps: list[tuple[str, list[str]]] = []
    for target in split_top(mapping):
        if target.startswith("("):
            inner = target.strip("() ")
            head, _, listed = inner.partition(":")
            maps.append((_unquote(head), [_unquote(p) for p in split_top(listed)]))
        else:
            maps.append((_unquote(target), []))
    if not parts:
        raise ModelError(f"subscript range '{name}' lists no elements")
    return RangeDef(_unquote(name), parts, maps, line)


def _run(part: str) -> list[str] | None:
    match = _RUN.match(part)
    if match is None:
        return None
    prefix = match.group("a")
    if match.group("b") and match.group("b") != prefix:
        raise ModelError(f"the run '{part}' has two prefixes")
    first, last = int(match.group("i")), int(match.group("j"))
    if last < first or last - first >= MAX_RUN:
        raise ModelError(f"the run '{part}' is not a valid numbered range")
    width = len(match.group("i")) if match.group("i").startswith("0") else 0
    return [f"{prefix}{str(k).zfill(width)}" for k in range(first, last + 1)]


def build_dimensions(defs: list[RangeDef], file: str | None = None) -> tuple[Dimension, ...]:
    """The dimensions in the order written, ranges made of ranges expanded, mappings and
    equivalences resolved."""
    by_key = {canonical(d.name): d for d in defs}
    done: dict[str, tuple[str, ...]] = {}

    def elements(key: str, seen: tuple[str, ...]) -> tuple[str, ...]:
        if key in done:
            return done[key]
        if key in seen:
            raise ModelError(f"subscript range '{by_key[key].name}' is defined through itself")
        rdef = by_key[key]
        if rdef.equivalent:
            target = canonical(rdef.equivalent)
            if target not in by_key:
                raise ModelError(f"'{rdef.name} <-> {rdef.equivalent}': no such range")
            out = elements(target, (*seen, key))
        else:
            items: list[str] = []
            for part in rdef.parts:
                run = _run(part)
                if run is not None:
                    items += run
                elif canonical(part) in by_key and canonical(part) != key:
                    items += elements(canonical(part), (*seen, key))
                else:
                    items.append(part)
            out = tuple(items)
        done[key] = out
        return out

    dims = []
    for rdef in defs:
        try:
            members = elements(canonical(rdef.name), ())
        except ModelError as exc:
            raise exc.located(line=rdef.line) from None
        check_dimension_size(rdef.name, len(members), file=file, line=rdef.line)
        dims.append(Dimension(rdef.name, members, rdef.line))
    return tuple(_mappings(dims, defs))


def _mappings(dims: list[Dimension], defs: list[RangeDef]) -> list[Dimension]:
    sizes = {canonical(d.name): d for d in dims}
    ranges = {key: d.elements for key, d in sizes.items()}
    out = []
    for dim, rdef in zip(dims, defs, strict=True):
        targets: list[str] = []
        pairs: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
        for target, listed in rdef.maps:
            other = sizes.get(canonical(target))
            if other is None:
                raise ModelError(
                    f"subscript range '{dim.name}' maps to '{target}', which is not a range",
                    line=rdef.line,
                )
            targets.append(other.name)
            order = [canonical(e) for e in other.elements]
            if listed and [canonical(e) for e in listed] != order:
                try:  # element by element as listed (a subrange pairs with each of its own)
                    pairs.append((other.name, listed_pairs(dim, other, listed, ranges)))
                except ModelError as exc:
                    raise exc.located(line=rdef.line) from None
            elif len(other.elements) != len(dim.elements):
                raise ModelError(
                    f"subscript range '{dim.name}' ({len(dim.elements)} elements) maps to "
                    f"'{target}' ({len(other.elements)}) without listing the pairs",
                    line=rdef.line,
                    hint=f"list them: -> ({target}: <one element or subrange per element>)",
                )
        if targets:
            dim = replace(dim, maps_to=tuple(targets), pairs=tuple(pairs))
        out.append(dim)
    return out


def element_positions(dims: tuple[Dimension, ...]) -> dict[str, float]:
    """Each element's (canonical) position, from 1, in the largest range holding it: its
    value when an equation uses the element's name as a number (``IF THEN ELSE(d = b, ...)``)."""
    out: dict[str, float] = {}
    for dim in sorted(dims, key=lambda d: -len(d.elements)):
        for i, element in enumerate(dim.elements):
            out.setdefault(canonical(element), i + 1.0)
    return out
