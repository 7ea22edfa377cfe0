"""Array functions while scalarising: ``SUM``, ``MEAN``, ``PROD``, ``STDDEV``, ``MIN``,
``MAX``, ``SIZE`` and ``RANK`` over starred references, ranges and expressions of them
(element by element over the starred dimensions, then reduced), and transposition (``x'``)."""

from __future__ import annotations

import itertools

from flywheel_sim.compile.instances import instance_key
from flywheel_sim.compile.references import References
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
from flywheel_sim.spec.builtins import ALIASES
from flywheel_sim.spec.model import Element

# functions whose array arguments count whole: a star inside them is theirs, not the
# enclosing expression's
ARRAY_CALLS = frozenset(
    {"SUM", "MEAN", "PROD", "STDDEV", "SIZE", "RANK", "MIN", "MAX", "TRANSPOSE"}
    | {"ELMCOUNT", "ELEMENT_AT", "VECTOR_RANK", "VECTOR_SORT_ORDER", "VECTOR_SELECT"}
    | {"ALLOCATE_BY_PRIORITY", "ALLOCATE_AVAILABLE", "INVERT_MATRIX"}
)


class ArrayFunctions(References):
    """Array functions expanded into scalar expressions."""

    def transpose(self, node: Call, where: dict[str, str]) -> Expr:
        """``x'`` (XMILE 1.0 §3.7.1.1): x with its dimensions reversed, so element
        ``[i, j]`` of the equation is ``x[j, i]``; elements are matched by name, or by
        position between dimensions of the same size. A slice (``A[M, 1, N]'``) is
        transposed the same way: the subscripts that are fixed elements stay, and the
        dimensions left (``[M, N]``) are reversed into the equation's (``[N, M]``)."""
        arg = node.args[0] if len(node.args) == 1 else None
        if not isinstance(arg, Var):
            raise self.error(
                "only a variable or a slice of one can be transposed (x', x[D, 1]')",
                "compute the expression in an auxiliary first",
            )
        target = self.elements.get(arg.name)
        if target is None:
            raise self.error(f"unknown name '{arg.name}'")
        dims = self.dims_of(target)
        fixed = self.slice_elements(target, arg.subscripts, where)
        free = [dim for dim, element in zip(dims, fixed, strict=True) if element is None]
        current = self.current
        here = self.dims_of(current) if current is not None else ()
        if len(free) != len(here) or not free:
            raise self.error(
                f"'{target.name}'' has {len(free)} dimension(s) but this equation has "
                f"{len(here)}: a transposed array or slice must have as many as the equation"
            )
        chosen = iter(
            self.transposed_element(target, dim, own_dim, element)
            for dim, own_dim, element in zip(
                free, reversed(here), reversed(self.current_index), strict=True
            )
        )
        subs = tuple(element if element is not None else next(chosen) for element in fixed)
        return Var(instance_key(target.key, subs))

    def slice_elements(
        self, target: Element, subscripts: tuple[Subscript, ...], where: dict[str, str]
    ) -> list[str | None]:
        """The subscripts of a transposed slice: None where the variable's own dimension
        (or ``*``) keeps it whole, else the one element named or at that position."""
        dims = self.dims_of(target)
        if not subscripts:
            return [None] * len(dims)
        if len(subscripts) != len(dims):
            raise self.error(
                f"'{target.name}' has {len(dims)} dimension(s) but {len(subscripts)} subscript(s)"
            )
        out: list[str | None] = []
        for sub, dim in zip(subscripts, dims, strict=True):
            if sub == "*" or sub == dim:
                out.append(None)
                continue
            single = (
                isinstance(sub, int)
                or (isinstance(sub, str) and sub not in self.dims and not sub.endswith(".*"))
            ) and not self.computed(sub, dim, where)
            if not single or (isinstance(sub, str) and sub[:1] == "@"):
                raise self.error(
                    f"a transposed slice of '{target.name}' can keep a dimension whole (its "
                    "own name or *) or fix one element, not a range, another dimension, @k "
                    "or a computed subscript",
                    "compute the slice in an auxiliary first",
                )
            out.append(self.subscript(sub, dim, where)[0])
        return out

    def transposed_element(self, target: Element, dim: str, own_dim: str, element: str) -> str:
        """The element of ``dim`` that goes with the equation's ``element`` of ``own_dim``:
        the same name, or the same position between dimensions of the same size."""
        members, own = self.dims[dim], self.dims[own_dim]
        if element in self.positions(dim):
            return element
        if len(members) == len(own):
            return members[self.positions(own_dim)[element]]
        raise self.error(
            f"'{target.name}'' cannot be transposed into this equation: dimension "
            f"'{dim}' has {len(members)} elements and '{own_dim}' {len(own)}"
        )

    def array(self, arg: Expr, where: dict[str, str]) -> list[Expr]:
        """An array function's argument as its elements: an arrayed variable without
        subscripts counts all its elements over the dimensions the equation is not over
        (Stella: SUM(A) sums all of A; in an equation over A's dimensions it is the element,
        as pysimlin computes), ``*`` and ranges the elements they name; else one value."""
        if not isinstance(arg, Var):
            items = self.elementwise(arg, where)
            if items is not None:
                return items
        self.reducing, reducing = True, self.reducing
        try:
            resolved = self.resolve(arg, where) if not isinstance(arg, Var) else None
            if isinstance(arg, Var):
                resolved = self.reference(arg, where)
        finally:
            self.reducing = reducing
        assert resolved is not None
        return list(resolved.items) if isinstance(resolved, VarList) else [resolved]

    def starred(self, node: Expr, where: dict[str, str]) -> Expr:
        """``node`` with each arrayed variable written without subscripts, over dimensions
        the equation is not over, written with ``*`` there (Stella: "the * is normally not
        needed" inside an array function); array functions inside keep their own stars."""
        if isinstance(node, Var):
            element = self.elements.get(node.name)
            if node.subscripts or element is None or element.kind == "lookup":
                return node
            dims = self.dims_of(element)
            if not dims or all(d in where for d in dims):
                return node
            self.unmapped(element, where)
            return Var(node.name, tuple(d if d in where else "*" for d in dims))
        if isinstance(node, Unary):
            return Unary(node.op, self.starred(node.operand, where))
        if isinstance(node, Binary):
            return Binary(node.op, self.starred(node.left, where), self.starred(node.right, where))
        if isinstance(node, If):
            return If(*(self.starred(n, where) for n in (node.cond, node.then, node.orelse)))
        if isinstance(node, Call) and not self.whole_array_call(node):
            skip = 1 if node.func == "LOOKUP" else 0  # the table is named, not starred
            args = node.args[:skip] + tuple(self.starred(a, where) for a in node.args[skip:])
            return Call(node.func, args)
        return node

    @staticmethod
    def whole_array_call(node: Call) -> bool:
        """An array function (or MIN/MAX, TRANSPOSE): its arguments count whole."""
        func = ALIASES.get(node.func, node.func)
        return func in ARRAY_CALLS

    def stars(self, node: Expr, found: list[tuple[Var, tuple[str, ...]]]) -> None:
        """The starred references of an expression inside an array function, each with the
        dimensions its stars run over (not inside nested array functions or subscripts)."""
        if isinstance(node, Var):
            element = self.elements.get(node.name)
            if element is None or not node.subscripts:
                return
            dims = self.dims_of(element)
            if len(dims) != len(node.subscripts):
                return  # the reference itself reports it
            free: list[str] = []
            for sub, dim in zip(node.subscripts, dims, strict=True):
                if isinstance(sub, Range):
                    raise self.error(
                        f"a range ({element.key}[{sub.lo}:{sub.hi}]) inside an expression in "
                        "an array function: only whole dimensions (x[*], x[Dim.*]) are "
                        "matched element by element",
                        "compute the expression in an auxiliary over the dimension and "
                        "reduce its range",
                    )
                if sub == "*":
                    free.append(dim)
                elif isinstance(sub, str) and sub.endswith(".*"):
                    free.append(sub[:-2] if sub[:-2] in self.dims else dim)
            if free:
                found.append((node, tuple(free)))
            return
        if isinstance(node, Call) and self.whole_array_call(node):
            return
        for child in (node.operand,) if isinstance(node, Unary) else ():
            self.stars(child, found)
        if isinstance(node, Binary):
            self.stars(node.left, found)
            self.stars(node.right, found)
        elif isinstance(node, If):
            for child in (node.cond, node.then, node.orelse):
                self.stars(child, found)
        elif isinstance(node, Call):
            for child in node.args[1:] if node.func == "LOOKUP" else node.args:
                self.stars(child, found)

    def elementwise(self, arg: Expr, where: dict[str, str]) -> list[Expr] | None:
        """An expression of starred references inside an array function (``SUM(a[*] +
        b[*])``, ``SUM(sales[*, *] * price[*])``): evaluated element by element over the
        starred dimensions, then reduced. References are matched by dimension name (as
        Stella's apply-to-all equations: a dimension used by several references is the same
        element in each); one reference must run over all the dimensions used (the others
        are repeated along the dimensions they lack), and scalars are the same for every
        element. None when the expression has no starred reference."""
        arg = self.starred(arg, where)
        found: list[tuple[Var, tuple[str, ...]]] = []
        self.stars(arg, found)
        if not found:
            return None
        for var, free in found:
            if len(set(free)) != len(free):
                raise self.error(
                    f"'{var.name}' is starred twice over dimension '{free[0]}' inside an "
                    "expression: which elements go together is ambiguous",
                    "compute the expression in an auxiliary over the dimensions and reduce it",
                )
        widest = max((free for _, free in found), key=len)
        for var, free in found:
            extra = [d for d in free if d not in widest]
            if extra:
                raise self.error(
                    f"'{var.name}' runs over dimension '{extra[0]}' and another starred "
                    f"reference over [{', '.join(widest)}]: only references over the same "
                    "dimensions, or over some of the dimensions of one of them, are matched "
                    "element by element (by dimension name)",
                    "compute the expression in an auxiliary over the dimensions and reduce it",
                )
        items: list[Expr] = []
        for combo in itertools.product(*(self.dims[d] for d in widest)):
            chosen = dict(zip(widest, combo, strict=True))
            items.append(self.scalar(self.resolve(self.pick(arg, chosen), where)))
        return items

    def pick(self, node: Expr, chosen: dict[str, str]) -> Expr:
        """``node`` with each star replaced by the chosen element of its dimension."""
        if isinstance(node, Var):
            element = self.elements.get(node.name)
            if element is None or not node.subscripts:
                return node
            dims = self.dims_of(element)
            if len(dims) != len(node.subscripts):
                return node
            subs: list[Subscript] = []
            for sub, dim in zip(node.subscripts, dims, strict=True):
                if sub == "*":
                    subs.append(chosen[dim])
                elif isinstance(sub, str) and sub.endswith(".*"):
                    subs.append(chosen[sub[:-2] if sub[:-2] in self.dims else dim])
                else:
                    subs.append(sub)
            return Var(node.name, tuple(subs))
        if isinstance(node, Unary):
            return Unary(node.op, self.pick(node.operand, chosen))
        if isinstance(node, Binary):
            return Binary(node.op, self.pick(node.left, chosen), self.pick(node.right, chosen))
        if isinstance(node, If):
            return If(*(self.pick(n, chosen) for n in (node.cond, node.then, node.orelse)))
        if isinstance(node, Call) and not self.whole_array_call(node):
            skip = 1 if node.func == "LOOKUP" else 0
            args = node.args[:skip] + tuple(self.pick(a, chosen) for a in node.args[skip:])
            return Call(node.func, args)
        return node

    def array_function(self, name: str, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        if name == "SIZE":  # of the whole array, whatever the equation is over
            arg = args[0]
            target = self.elements.get(arg.name) if isinstance(arg, Var) else None
            if isinstance(arg, Var) and not arg.subscripts and target is not None:
                return Num(float(len(self.indices(target))))
            return Num(float(len(self.array(arg, where))))
        if name == "RANK":
            return self.rank(args, where)
        items = [item for arg in args for item in self.array(arg, where)]
        if name == "STDDEV":  # of the population, as Stella and pysimlin compute it
            if len(items) == 1:
                return Num(0.0)
            mean = self.hide(self.reduce("MEAN", items), "mean")
            squares: list[Expr] = [Binary("^", Binary("-", item, mean), Num(2.0)) for item in items]
            return Call("SQRT", (self.reduce("MEAN", squares),))
        return self.reduce(name, items)

    def rank(self, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        """RANK(A, k[, B]) (XMILE 1.0 §3.7.1.3): the position (flat, 1-based) of the element
        of rank k when A is sorted ascending, ties broken by B and then by position; 0 when
        no element has rank k (k outside 1..SIZE(A) or not whole)."""
        values = self.array(args[0], where)
        n = len(values)
        if n > self.max_rank:
            raise self.error(
                f"RANK over {n} elements: at most {self.max_rank} are supported",
                "rank a smaller array",
            )
        ties = self.array(args[2], where) if len(args) == 3 else None
        if ties is not None and len(ties) != n:
            raise self.error(f"RANK's tie-breaking array has {len(ties)} elements, not {n}")
        wanted = self.hide(self.scalar(self.resolve(args[1], where)), "rank")
        values = [self.hide(v, "value") for v in values]
        total: list[Expr] = []
        for i, a in enumerate(values):
            before: list[Expr] = [Num(1.0)]
            for j, b in enumerate(values):
                if i == j:
                    continue
                first: Expr = Binary("<", b, a)
                tie: Expr = Num(1.0 if j < i else 0.0)
                if ties is not None:
                    tb, ta = ties[j], ties[i]
                    tie = Binary("OR", Binary("<", tb, ta), Binary("AND", Binary("=", tb, ta), tie))
                before.append(Binary("OR", first, Binary("AND", Binary("=", b, a), tie)))
            position = self.hide(self.reduce("SUM", before), "position")
            total.append(Binary("*", Num(float(i + 1)), Binary("=", position, wanted)))
        return self.reduce("SUM", total)

    def reduce(self, name: str, args: list[Expr]) -> Expr:
        items: list[Expr] = []
        for arg in args:
            items.extend(arg.items if isinstance(arg, VarList) else (arg,))
        if name in ("MIN", "MAX"):
            return items[0] if len(items) == 1 else Call(name, tuple(items))
        op = "*" if name == "PROD" else "+"
        level = list(items)
        while len(level) > 1:  # a balanced tree: large dimensions stay shallow
            paired: list[Expr] = [
                Binary(op, a, b) for a, b in zip(level[::2], level[1::2], strict=False)
            ]
            level = paired + ([level[-1]] if len(level) % 2 else [])
        total = level[0]
        if name == "MEAN":
            return Binary("/", total, Num(float(len(items))))
        return total
