"""Vensim's vector functions while scalarising (compile/scalarise.py), with the semantics of
Vensim's reference manual ("Arrays, Vectors, and Subscripts"):

- ``ELMCOUNT(dim)``: the number of elements of a dimension (a constant);
- ``ELEMENT_AT(x[*], k)``: the k-th element (1-based, row-major over the whole array) of x,
  the whole part of k; NaN (the run fails) outside the array. Vensim's
  ``VECTOR ELM MAP(x[start], offset)`` is ``ELEMENT_AT(x, (position of start) + offset)``;
- ``VECTOR_RANK(x[*], direction)``: in an equation over a dimension, the rank (1 = smallest
  if direction > 0, else largest) of x's element at the position of the equation's element
  of its last dimension; equal values take contiguous ranks in order of position;
- ``VECTOR_SORT_ORDER(x[*], direction)``: there, the 0-based index of the element of x that
  comes at that position once x is sorted (ascending if direction > 0, else descending);
- ``VECTOR_SELECT(selection[*], values[*], missing, action, error_action)``: an aggregate of
  the values whose selection is non-zero (``action`` 0-10, Vensim's numerical actions),
  ``missing`` where there is none; ``error_action`` 1-3 makes no selection (1), more than
  one (2) or either (3) an error: NaN, which fails the run naming the variable and time.

- ``ALLOCATE_BY_PRIORITY(request[*], priority[*], size, width, supply)``: Vensim's ALLOCATE
  BY PRIORITY; over a dimension, the allocation of the element at this position. Each
  request is a rectangular priority profile ``width`` wide ending at its priority: the
  supply clears the market at the priority level L where
  sum(request * clamp((priority - L) / width, 0, 1)) = supply (found by bisection), so a
  request more than ``width`` below one that is not filled gets nothing, as Vensim's manual
  says; every request is filled when the supply covers them all.

The ranks of a vector (and the allocations) are computed once per equation (hidden
auxiliaries shared by its elements): n^2 comparisons for n elements, so vectors are limited
as RANK's are (200 elements).
"""

from __future__ import annotations

import math

from flywheel_sim.compile.allocate import AvailableFunctions
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Var
from flywheel_sim.spec.names import canonical

VECTOR_CALLS = frozenset(
    {"ELMCOUNT", "ELEMENT_AT", "VECTOR_RANK", "VECTOR_SORT_ORDER", "VECTOR_SELECT"}
    | {"ALLOCATE_BY_PRIORITY", "ALLOCATE_AVAILABLE", "INVERT_MATRIX"}
)
BISECTIONS = 64  # halvings of the priority range (in the VMs): to the last bits of a double
_NAN = Num(math.nan)


class VectorFunctions(AvailableFunctions):
    """Vensim's vector functions expanded into scalar expressions."""

    def array_function(self, name: str, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        if name == "ELMCOUNT":
            return self.elmcount(args[0])
        if name == "ELEMENT_AT":
            items = self.array(args[0], where)
            return self.element_at(items, self.scalar(self.resolve(args[1], where)))
        if name in ("VECTOR_RANK", "VECTOR_SORT_ORDER"):
            return self.vector_order(name, args, where)
        if name == "VECTOR_SELECT":
            return self.vector_select(args, where)
        if name in ("ALLOCATE_BY_PRIORITY", "ALLOCATE_AVAILABLE"):
            if name == "ALLOCATE_BY_PRIORITY":
                allocations = self.allocations(args, where)
            else:
                allocations = self.available(args, where)
            position = self.own_position(name)
            return allocations[position - 1] if position <= len(allocations) else _NAN
        return super().array_function(name, args, where)

    def elmcount(self, arg: Expr) -> Expr:
        name = canonical(arg.name) if isinstance(arg, Var) and not arg.subscripts else None
        if name is None or name not in self.dims:
            raise self.error("ELMCOUNT takes the name of a dimension", "write ELMCOUNT(Dim)")
        return Num(float(len(self.dims[name])))

    def element_at(self, items: list[Expr], position: Expr) -> Expr:
        k = self.hide(Call("INT", (position,)), "position")

        def tree(lo: int, hi: int) -> Expr:  # the elements at positions lo+1 .. hi
            if hi - lo == 1:
                return items[lo]
            mid = (lo + hi) // 2
            return If(Binary("<=", k, Num(float(mid))), tree(lo, mid), tree(mid, hi))

        inside = Binary("AND", Binary(">=", k, Num(1.0)), Binary("<=", k, Num(float(len(items)))))
        return If(inside, tree(0, len(items)), _NAN)

    def own_position(self, name: str) -> int:
        """The 1-based position of the equation's element along its last dimension."""
        current = self.current
        dims = self.dims_of(current) if current is not None else ()
        if not dims:
            raise self.error(
                f"{name} gives a vector: its equation must be over a dimension",
                "give the variable the dimension of the vector",
            )
        return self.positions(dims[-1])[self.current_index[-1]] + 1

    def ranks(self, args: tuple[Expr, ...], where: dict[str, str]) -> list[Expr]:
        """The rank of each element of the vector (hidden auxiliaries, made once per
        equation and shared by its elements)."""
        values = self.array(args[0], where)
        n = len(values)
        if n > self.max_rank:
            raise self.error(
                f"a vector of {n} elements: at most {self.max_rank} can be ranked or sorted",
                "use a smaller array",
            )
        direction = self.scalar(self.resolve(args[1], where))
        key = repr((values, direction))
        cached = self.vector_cache.get(key)
        if cached is not None:
            return cached
        sign = self.hide(If(Binary(">", direction, Num(0.0)), Num(1.0), Num(-1.0)), "sign")
        signed = [self.hide(Binary("*", sign, v), "value") for v in values]
        ranks: list[Expr] = []
        for i, a in enumerate(signed):
            before: list[Expr] = [Num(1.0)]
            for j, b in enumerate(signed):
                if i != j:
                    tie = Binary("=", b, a) if j < i else Num(0.0)
                    before.append(Binary("OR", Binary("<", b, a), tie))
            ranks.append(self.hide(self.reduce("SUM", before), "rank"))
        self.vector_cache[key] = ranks
        return ranks

    def vector_order(self, name: str, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        ranks = self.ranks(args, where)
        position = self.own_position(name)
        if name == "VECTOR_RANK":
            if position > len(ranks):
                return _NAN
            return ranks[position - 1]
        terms: list[Expr] = [
            Binary("*", Num(float(i)), Binary("=", rank, Num(float(position))))
            for i, rank in enumerate(ranks)
        ]
        found = self.reduce("SUM", [Binary("=", rank, Num(float(position))) for rank in ranks])
        return If(found, self.reduce("SUM", terms), _NAN)

    def vector_select(self, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        selection, values = self.array(args[0], where), self.array(args[1], where)
        if len(selection) != len(values):
            raise self.error(
                f"VECTOR_SELECT's selection has {len(selection)} elements and its values "
                f"{len(values)}"
            )
        action, error = (self.scalar(self.resolve(a, where)) for a in args[3:5])
        if not (isinstance(action, Num) and action.value in range(11)):
            raise self.error("VECTOR_SELECT's action must be a number from 0 to 10")
        if not (isinstance(error, Num) and error.value in range(4)):
            raise self.error("VECTOR_SELECT's error action must be a number from 0 to 3")
        missing = self.scalar(self.resolve(args[2], where))
        chosen = [self.hide(Binary("<>", s, Num(0.0)), "chosen") for s in selection]
        act = int(action.value)
        if act <= 5:  # weighted: selection * value (5: selection ^ value)
            op = "^" if act == 5 else "*"
            items: list[Expr] = [Binary(op, s, v) for s, v in zip(selection, values, strict=True)]
        else:
            items = list(values)
        kind = ("SUM", "PROD", "MIN", "MAX", "MEAN", "PROD", "SUM", "PROD", "MIN", "MAX", "MEAN")
        reduce_as = kind[act]
        neutral = {"SUM": 0.0, "MEAN": 0.0, "PROD": 1.0, "MIN": math.inf, "MAX": -math.inf}
        kept: list[Expr] = [
            If(c, item, Num(neutral[reduce_as])) for c, item in zip(chosen, items, strict=True)
        ]
        count = self.hide(self.reduce("SUM", chosen), "count")
        total: Expr
        if reduce_as == "MEAN":
            total = Call("SAFEDIV", (self.reduce("SUM", kept), count))
        else:
            total = self.reduce(reduce_as, kept)
        result: Expr = If(Binary("=", count, Num(0.0)), missing, total)
        bad: Expr = Num(0.0)
        if int(error.value) in (1, 3):
            bad = Binary("=", count, Num(0.0))
        if int(error.value) in (2, 3):
            bad = Binary("OR", bad, Binary(">", count, Num(1.0)))
        return result if int(error.value) == 0 else If(bad, _NAN, result)

    def allocations(self, args: tuple[Expr, ...], where: dict[str, str]) -> list[Expr]:
        """Each request's allocation (hidden auxiliaries shared by the equation's elements)."""
        requests, priorities = self.array(args[0], where), self.array(args[1], where)
        n = len(requests)
        size = self.scalar(self.resolve(args[2], where))
        if len(priorities) != n or (isinstance(size, Num) and size.value != n):
            raise self.error(
                f"ALLOCATE_BY_PRIORITY's requests ({n}), priorities ({len(priorities)}) and "
                "size must have the same number of elements"
            )
        width, supply = (self.scalar(self.resolve(a, where)) for a in args[3:5])
        key = repr(("allocate", requests, priorities, width, supply))
        cached = self.vector_cache.get(key)
        if cached is not None:
            return cached
        r = [self.hide(x, "request") for x in requests]
        p = [self.hide(x, "priority") for x in priorities]
        w, s = self.hide(width, "width"), self.hide(supply, "supply")

        def share(i: int, level: Expr) -> Expr:
            fraction = Binary("/", Binary("-", p[i], level), w)
            return Call("MIN", (Call("MAX", (fraction, Num(0.0))), Num(1.0)))

        lo = self.hide(Binary("-", self.reduce("MIN", list(p)), w), "low")
        hi = self.hide(self.reduce("MAX", list(p)), "high")
        # the bisection runs in one op of the VMs (ops.PRIORITY: engine/vm/levels.py)
        level = self.hide(Call("PRIORITY_LEVEL", (*r, *p, w, lo, hi, s)), "level")
        filled = self.hide(Binary(">=", s, self.reduce("SUM", list(r))), "filled")
        allocations = [
            self.hide(If(filled, r[i], Binary("*", r[i], share(i, level))), "allocation")
            for i in range(n)
        ]
        self.vector_cache[key] = allocations
        return allocations
