"""Resolving references while scalarising: a variable reference becomes one instance key
(or several, for ``*`` and ranges inside array functions), a subscript computed while the
model runs becomes a choice among the elements (0 outside the dimension, XMILE 1.0 §3.7.1),
``dim.element`` outside a subscript is the element's position, and ``@k`` is the element of
the equation's own k-th dimension."""

from __future__ import annotations

import itertools

from flywheel_sim.compile.instances import instance_key
from flywheel_sim.compile.scalar_base import ScalarBase
from flywheel_sim.errors import did_you_mean
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Range,
    Subscript,
    Unary,
    Var,
    VarList,
)
from flywheel_sim.spec.builtins import CONSTANT_NAMES
from flywheel_sim.spec.mappings import paired_element
from flywheel_sim.spec.model import Element


class References(ScalarBase):
    """Names and subscripts resolved to instance keys."""

    def resolve(self, node: Expr, where: dict[str, str]) -> Expr:
        if isinstance(node, Num):
            return node
        if isinstance(node, Var):
            return self.reference(node, where)
        if isinstance(node, Unary):
            return Unary(node.op, self.scalar(self.resolve(node.operand, where)))
        if isinstance(node, Binary):
            return Binary(
                node.op,
                self.scalar(self.resolve(node.left, where)),
                self.scalar(self.resolve(node.right, where)),
            )
        if isinstance(node, If):
            return If(
                *(self.scalar(self.resolve(n, where)) for n in (node.cond, node.then, node.orelse))
            )
        if isinstance(node, Call):
            return self.call(node, where)
        raise self.error("unexpected expression")

    def scalar(self, node: Expr) -> Expr:
        if isinstance(node, VarList):
            raise self.error(
                "a subscript naming several elements (x[*], x[dim.*], x[1:3]) can only be used "
                "inside SUM, MEAN, PROD, STDDEV, SIZE, RANK, MIN or MAX"
            )
        return node

    def reference(self, node: Var, where: dict[str, str]) -> Expr:
        """A variable reference as one instance, or a VarList (``*``, ranges, and inside an
        array function an arrayed variable without subscripts over dimensions the equation
        is not over)."""
        element = self.elements.get(node.name)
        if element is None:
            if node.name in CONSTANT_NAMES and not node.subscripts:
                return Call(CONSTANT_NAMES[node.name], ())
            position = self.element_position(node.name)
            if position is not None and not node.subscripts:
                return Num(float(position))
            if node.name in where and node.name in self.dims and not node.subscripts:
                # a dimension of the equation: its element's position (Vensim's sub - 1)
                return Num(float(self.positions(node.name)[where[node.name]] + 1))
            hint = did_you_mean(node.name, list(self.elements))
            raise self.error(f"unknown name '{node.name}'", hint)
        if element.kind == "lookup":
            raise self.error(
                f"lookup '{element.name}' must be called like a function",
                f"write {element.key}(input)",
            )
        dims = self.dims_of(element)
        if not dims:
            if node.subscripts:
                raise self.error(f"'{element.name}' is not arrayed but is subscripted")
            return Var(element.key)
        if not node.subscripts:
            if not (self.reducing and any(d not in where for d in dims)):
                return self.own_element(element, where)
            self.unmapped(element, where)
            node = Var(node.name, tuple(d if d in where else "*" for d in dims))
        if len(node.subscripts) != len(dims):
            raise self.error(
                f"'{element.name}' has {len(dims)} dimension(s) but "
                f"{len(node.subscripts)} subscript(s)"
            )
        for position, (sub, dim) in enumerate(zip(node.subscripts, dims, strict=True)):
            if self.computed(sub, dim, where):
                return self.select(element, node, position, where)
        picks: list[tuple[str, ...]] = []
        for j, (sub, dim) in enumerate(zip(node.subscripts, dims, strict=True)):
            nth = node.subscripts[:j].count(sub)
            if isinstance(sub, str) and (sub, nth) in self.repeated and (sub, 1) in self.repeated:
                picks.append((self.repeated[(sub, nth)],))  # X by X: the k-th X is the k-th
            else:
                picks.append(self.subscript(sub, dim, where))
        keys = [instance_key(element.key, combo) for combo in itertools.product(*picks)]
        many = any(
            sub == "*" or isinstance(sub, Range) or (isinstance(sub, str) and sub.endswith(".*"))
            for sub in node.subscripts
        )
        if many:
            return VarList(tuple(Var(k) for k in keys))
        return Var(keys[0])

    def own_element(self, element: Element, where: dict[str, str]) -> Var:
        """An arrayed variable without subscripts: its element at the equation's own
        element of each of its dimensions (the k-th use of a repeated dimension, X by X)."""
        dims = self.dims_of(element)
        picks: list[str] = []
        for dim in dims:
            mapped = self.mapped(dim, where) if dim not in where else None
            if mapped is not None:
                picks.append(mapped)
                continue
            if dim not in where:
                raise self.error(
                    f"dimension mismatch: '{element.name}' is over "
                    f"[{', '.join(element.dims)}] but this equation is not over '{dim}'",
                    f"subscript it ({element.key}[<element>]) or reduce it (SUM({element.key}[*]))",
                )
            nth = dims[: len(picks)].count(dim)
            picks.append(self.repeated.get((dim, nth), where[dim]))
        return Var(instance_key(element.key, tuple(picks)))

    def mapped(self, dim: str, where: dict[str, str]) -> str | None:
        """The element of ``dim`` that a dimension mapping pairs with the equation's own
        element (``<isee:maps_to>``: the k-th element of one dimension is the k-th of the
        other, unless the mapping lists its pairs: spec/mappings.py); None when no dimension
        of the equation maps to or from ``dim``."""
        pairs = sorted(d for d in self.maps.get(dim, ()) if d in where)
        if not pairs:
            return None
        if len(pairs) > 1:
            raise self.error(
                f"dimension '{dim}' is mapped to several dimensions of this equation "
                f"({', '.join(pairs)}): which one to follow is ambiguous",
                f"subscript with the dimension to follow ({pairs[0]})",
            )
        found = paired_element(self.pairings, pairs[0], where[pairs[0]], dim)
        if len(found) != 1:
            raise self.error(
                f"element '{where[pairs[0]]}' of '{pairs[0]}' is mapped to "
                + (f"several elements of '{dim}' ({', '.join(found)})" if found else "no element")
                + f" of '{dim}': which one this equation reads is ambiguous",
                f"subscript it with an element of '{dim}'",
            )
        return found[0]

    def unmapped(self, element: Element, where: dict[str, str]) -> None:
        """Refuses an array without subscripts inside an array function when one of its
        dimensions is only mapped to the equation's: whether it is the mapped element or the
        whole array is not documented."""
        for dim in self.dims_of(element):
            if dim not in where and any(d in where for d in self.maps.get(dim, ())):
                raise self.error(
                    f"'{element.name}' without subscripts inside an array function, over "
                    f"dimension '{dim}' which is mapped to this equation's: whether it is the "
                    "mapped element or the whole array is ambiguous",
                    f"write {element.key}[*] for all of it",
                )

    @staticmethod
    def occurrences(dims: tuple[str, ...], index: tuple[str, ...]) -> dict[tuple[str, int], str]:
        """For a dimension the equation uses more than once (XMILE 1.0's X by X), the
        element of its k-th use; empty when every dimension is used once."""
        if len(set(dims)) == len(dims):
            return {}
        out: dict[tuple[str, int], str] = {}
        for j, (dim, element) in enumerate(zip(dims, index, strict=True)):
            out[(dim, dims[:j].count(dim))] = element
        return out

    def element_position(self, name: str) -> int | None:
        """``dim.element`` (outside a subscript): the element's 1-based position."""
        dim, dot, elem = name.partition(".")
        if not dot or dim not in self.dims:
            return None
        position = self.positions(dim).get(elem)
        return None if position is None else position + 1

    def computed(self, sub: Subscript, dim: str, where: dict[str, str]) -> bool:
        """Whether a subscript is known only while the model runs: an expression, or a
        name that is neither an element nor a dimension but a variable (XMILE 1.0 §3.7.1:
        an element name prevails over a variable of the same name)."""
        if isinstance(sub, Range | int):
            return False
        if isinstance(sub, str):
            if sub == "*" or sub.endswith(".*") or sub in self.positions(dim) or sub in self.dims:
                return False
            if sub[:1] == "@":
                return False
            if self.element_position(sub) is not None:
                return False
            return sub in self.elements or sub in CONSTANT_NAMES
        return True

    def select(self, element: Element, node: Var, position: int, where: dict[str, str]) -> Expr:
        """``x[..., e, ...]`` with ``e`` computed while the model runs: the element at
        position INT(e) of that dimension, 0 outside it (XMILE 1.0 §3.7.1), chosen by a
        balanced tree of comparisons on ``e``, computed once per DT."""
        sub = node.subscripts[position]
        assert not isinstance(sub, int | Range)
        index_expr: Expr = Var(sub) if isinstance(sub, str) else sub
        index = self.hide(self.scalar(self.resolve(index_expr, where)), "index")
        members = self.dims[self.dims_of(element)[position]]
        leaves = []
        for member in members:
            subs = list(node.subscripts)
            subs[position] = member
            leaf = self.reference(Var(node.name, tuple(subs)), where)
            if isinstance(leaf, VarList):
                raise self.error(
                    f"a computed subscript of '{element.name}' cannot go with * or a range",
                    "compute the position in an auxiliary over the dimension instead",
                )
            leaves.append(leaf)

        def tree(lo: int, hi: int) -> Expr:  # elements lo+1 .. hi (positions)
            if hi - lo == 1:
                return leaves[lo]
            mid = (lo + hi) // 2
            return If(Binary("<", index, Num(float(mid + 1))), tree(lo, mid), tree(mid, hi))

        inside = Binary(
            "AND",
            Binary(">=", index, Num(1.0)),
            Binary("<", index, Num(float(len(members) + 1))),
        )
        return If(inside, tree(0, len(members)), Num(0.0))

    def subscript(self, sub: Subscript, dim: str, where: dict[str, str]) -> tuple[str, ...]:
        members = self.dims[dim]
        if sub == "*":
            return members
        if isinstance(sub, Range):
            lo, hi = self.position(sub.lo, dim), self.position(sub.hi, dim)
            if lo > hi:
                raise self.error(f"the range {sub.lo}:{sub.hi} of dimension '{dim}' is empty")
            return members[lo - 1 : hi]
        if isinstance(sub, int):
            return (members[self.position(sub, dim) - 1],)
        assert isinstance(sub, str)
        if sub[:1] == "@":
            return (self.own_dimension(int(sub[1:]), dim),)
        if sub.endswith(".*"):
            named = sub[:-2]
            if named == dim or (named in self.dims and set(self.dims[named]) <= set(members)):
                return self.dims[named] if named != dim else members
            raise self.error(f"'{named}.*' does not name the elements of dimension '{dim}'")
        positions = self.positions(dim)
        if sub in positions:
            return (sub,)
        qualified, dot, elem = sub.partition(".")
        if dot and qualified in self.dims and elem in positions:
            return (elem,)  # Dim.element, the element qualified by its dimension
        if sub == dim or sub in self.dims:
            if sub in where and sub == dim:
                return (where[sub],)
            if sub in where and (where[sub] in positions or self.dims[sub] == members):
                return (where[sub],)  # the same element, by name (a subrange of ``dim``)
            if sub in where:
                raise self.error(
                    f"subscript '{sub}' is a dimension, but the variable is over '{dim}' there "
                    f"and '{where[sub]}' is not an element of '{dim}'",
                    f"subscript it with an element of '{dim}' or a position",
                )
            mapped = self.mapped(sub, where)
            if mapped is not None and mapped in positions:
                return (mapped,)
            if mapped is not None:
                raise self.error(
                    f"subscript '{sub}' maps element '{mapped}' there, which is not an element "
                    f"of '{dim}'"
                )
            raise self.error(f"subscript '{sub}' refers to a dimension this equation is not over")
        hint = did_you_mean(sub, members)
        raise self.error(f"'{sub}' is not an element of dimension '{dim}'", hint)

    def own_dimension(self, k: int, dim: str) -> str:
        """``@k`` (XMILE 1.0 §3.7.1.1): the element of the equation's own k-th dimension,
        as an element of ``dim`` (by name, or by position when the dimensions differ)."""
        current = self.current
        own_dims = self.dims_of(current) if current is not None else ()
        if not 1 <= k <= len(own_dims):
            raise self.error(f"@{k}: this equation has {len(own_dims)} dimension(s)")
        element, own = self.current_index[k - 1], self.dims[own_dims[k - 1]]
        members = self.dims[dim]
        if element in self.positions(dim):
            return element
        if len(members) == len(own):
            return members[self.positions(own_dims[k - 1])[element]]
        raise self.error(
            f"@{k} is dimension '{own_dims[k - 1]}' ({len(own)} elements), which does not "
            f"match dimension '{dim}' ({len(members)} elements)"
        )

    def position(self, sub: str | int, dim: str) -> int:
        """A range end: a 1-based position or an element name, as its position."""
        members = self.dims[dim]
        if isinstance(sub, int):
            if not 1 <= sub <= len(members):
                raise self.error(f"position {sub} is outside dimension '{dim}' (1..{len(members)})")
            return sub
        qualified, dot, elem = sub.partition(".")
        name = elem if dot and qualified in self.dims else sub
        if name in self.positions(dim):
            return self.positions(dim)[name] + 1
        hint = did_you_mean(sub, members)
        raise self.error(f"'{sub}' is not an element of dimension '{dim}'", hint)
