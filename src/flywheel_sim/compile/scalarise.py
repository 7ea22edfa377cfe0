"""Step 1 of compiling: resolve names and expand dimensions into scalar instances.

Every arrayed variable becomes one scalar instance per element (``x[amazon]``); references
inside equations are resolved to instance keys, starred references (``x[*]``, ``x[dim.*]``) and
ranges (``x[1:3]``) are expanded inside array functions, a subscript computed while the model
runs (``x[INT(TIME) + 1]``) becomes a choice among the elements (0 outside the dimension, as
XMILE 1.0 §3.7.1 says), ``dim.element`` outside a subscript is the element's position,
graphical functions become ``LOOKUP`` calls, and reserved names (TIME, DT, ...) become clock
calls. Errors name the file, line and variable.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

from flywheel_sim.errors import ModelError, did_you_mean
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
from flywheel_sim.spec.builtins import ALIASES, BUILTINS, CONSTANT_NAMES, lookup_builtin
from flywheel_sim.spec.model import Element, GraphicalFunction, Model
from flywheel_sim.spec.names import canonical, canonical_elements
from flywheel_sim.spec.parser import parse
from flywheel_sim.spec.policy import Table, policy_expr


@dataclass(slots=True)
class Inst:
    """One scalar slot of the compiled model (slotted, with tuples for the flows: a large
    array makes one per element)."""

    key: str
    kind: str  # stock flow aux parameter | hstock haux prev init
    expr: Expr
    owner: str  # display name of the model element it belongs to
    line: int | None
    element: str | None = None  # element key (None for hidden instances)
    index: tuple[str, ...] = ()
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    non_negative: bool = False
    src: str | None = None  # prev/init: the instance whose value they hold


# functions whose array arguments count whole: a star inside them is theirs, not the
# enclosing expression's
ARRAY_CALLS = frozenset(
    {"SUM", "MEAN", "PROD", "STDDEV", "SIZE", "RANK", "MIN", "MAX", "TRANSPOSE"}
)


def instance_key(element: str, index: tuple[str, ...]) -> str:
    return f"{element}[{','.join(index)}]" if index else element


class Scalariser:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.elements = {e.key: e for e in model.elements}
        self.dims = {canonical(d.name): canonical_elements(d.elements) for d in model.dimensions}
        self.tables: list[GraphicalFunction] = []
        self.table_ids: dict[str, int] = {}
        self.current: Element | None = None
        self.dims_cache: dict[str, tuple[str, ...]] = {}
        self.own_cache: dict[str, dict[tuple[str, ...], str]] = {}
        self.default_cache: dict[str, dict[tuple[str, ...], float]] = {}
        self.hidden: list[Inst] = []  # hidden auxiliaries of the instance being made
        self.current_key = ""
        self.current_index: tuple[str, ...] = ()
        # a dimension used twice (X by X): its k-th use in the equation's own dimensions
        self.repeated: dict[tuple[str, int], str] = {}
        # the array functions' limits: RANK compares every pair of elements
        self.max_rank = 200
        self.reducing = False  # resolving the arguments of MIN/MAX with several arguments
        self.element_tables = {
            e.key.partition("[")[0] for e in model.elements if e.kind == "lookup" and "[" in e.key
        }

    def error(self, message: str, hint: str | None = None) -> ModelError:
        element = self.current
        if element is not None:
            kind = {"aux": "auxiliary"}.get(element.kind, element.kind)
            message = f"{message} in {kind} '{element.name}'"
        return ModelError(
            message,
            file=self.model.file,
            line=element.line if element else None,
            variable=element.name if element else None,
            hint=hint,
        )

    def dims_of(self, element: Element) -> tuple[str, ...]:
        dims = self.dims_cache.get(element.key)
        if dims is None:
            dims = self.dims_cache[element.key] = tuple(canonical(d) for d in element.dims)
        return dims

    def indices(self, element: Element) -> list[tuple[str, ...]]:
        return list(itertools.product(*(self.dims[d] for d in self.dims_of(element))))

    def run(self) -> list[Inst]:
        out: list[Inst] = []
        for element in self.model.elements:
            if element.kind == "lookup":
                continue
            self.current = element
            for index in self.indices(element):
                if element.kind == "parameter" and element.policy is not None:
                    out += self.policy_instances(element, index)
                else:
                    out.append(self.instance(element, index))
                if self.hidden:
                    out += self.hidden
                    self.hidden = []
        self.current = None
        return out

    def hide(self, expr: Expr, part: str) -> Expr:
        """``expr`` as a hidden auxiliary of the current instance (computed once per DT),
        or as is when it is a number or a name."""
        if isinstance(expr, Num | Var):
            return expr
        key = f"{self.current_key}#{part}{len(self.hidden) + 1}"
        owner = self.current
        assert owner is not None
        self.hidden.append(Inst(key, "haux", expr, owner.name, owner.line))
        return Var(key)

    def own_equations(self, element: Element) -> dict[tuple[str, ...], str]:
        """The element's per-element equations by index, indexed once per element (an
        array of n elements with its own equations costs n look-ups, not n^2 scans)."""
        cached = self.own_cache.get(element.key)
        if cached is not None:
            return cached
        own: dict[tuple[str, ...], str] = {}
        members = set(self.indices(element)) if element.element_equations else set()
        for key, text in element.element_equations:
            parts = tuple(canonical(p) for p in key.split(","))
            if parts not in members:
                raise self.error(
                    f"'{','.join(parts)}' is not an element of [{', '.join(element.dims)}]"
                )
            own.setdefault(parts, text)
        self.own_cache[element.key] = own
        return own

    def equation_for(self, element: Element, index: tuple[str, ...]) -> str:
        text = self.own_equations(element).get(index)
        if text is not None:
            return text
        if not element.equation.strip():
            raise self.error(
                f"element [{','.join(index)}] of '{element.name}' has no equation",
                "give an equation for all elements or for each one",
            )
        return element.equation

    def instance(self, element: Element, index: tuple[str, ...]) -> Inst:
        key = instance_key(element.key, index)
        where = dict(zip(self.dims_of(element), index, strict=True))
        if element.kind == "parameter":
            return Inst(
                key,
                "parameter",
                Num(self.default(element, index)),
                element.name,
                element.line,
                element.key,
                index,
            )
        text = self.equation_for(element, index)
        self.current_key = key
        self.current_index = index
        self.repeated = self.occurrences(self.dims_of(element), index)
        try:
            expr = self.scalar(self.resolve(parse(text), where))
        except ModelError as exc:
            if exc.file is None:
                raise self.error(exc.message, exc.hint) from None
            raise
        if element.lookup is not None:
            expr = Call("LOOKUP", (Num(float(self.table(element))), expr))
        inst = Inst(
            key,
            element.kind,
            expr,
            element.name,
            element.line,
            element.key,
            index,
            non_negative=element.non_negative,
        )
        if element.kind == "stock":
            inst.inflows = tuple(self.flow_instance(canonical(f), where) for f in element.inflows)
            inst.outflows = tuple(self.flow_instance(canonical(f), where) for f in element.outflows)
        return inst

    def policy_instances(self, element: Element, index: tuple[str, ...]) -> list[Inst]:
        """A parameter with a policy: its value becomes a hidden base slot (still set per run)
        and the parameter itself an auxiliary that follows the policy from that base."""
        policy = element.policy
        assert policy is not None
        key = instance_key(element.key, index)
        base = replace(self.instance(element, index), key=f"{key}#base")
        table = None
        if isinstance(policy, Table):
            name = f"{element.key}#policy"
            if name not in self.table_ids:
                self.table_ids[name] = len(self.tables)
                self.tables.append(
                    GraphicalFunction(
                        policy.times, policy.values, "discrete" if policy.hold else "continuous"
                    )
                )
            table = self.table_ids[name]
        expr = policy_expr(policy, Var(base.key), table)
        return [base, Inst(key, "aux", expr, element.name, element.line, element.key, index)]

    def default(self, element: Element, index: tuple[str, ...]) -> float:
        if isinstance(element.default, int | float):
            return float(element.default)
        assert element.default is not None
        values = self.default_cache.get(element.key)
        if values is None:
            values = {}
            for key, value in element.default:
                values.setdefault(tuple(canonical(p) for p in key.split(",")), value)
            self.default_cache[element.key] = values
        if index in values:
            return values[index]
        raise self.error(
            f"parameter '{element.name}' has no default for [{','.join(index)}]",
            "give a default for every element",
        )

    def flow_instance(self, flow: str, where: dict[str, str]) -> str:
        target = self.elements[flow]
        dims = self.dims_of(target)
        missing = [d for d in dims if d not in where]
        if missing:
            raise self.error(
                f"flow '{target.name}' is over [{', '.join(target.dims)}] but the stock is not",
                "give the stock the same dimensions",
            )
        return instance_key(flow, tuple(where[d] for d in dims))

    def table(self, element: Element) -> int:
        if element.key not in self.table_ids:
            assert element.lookup is not None
            self.table_ids[element.key] = len(self.tables)
            self.tables.append(element.lookup)
        return self.table_ids[element.key]

    # -- expressions ---------------------------------------------------------------------------
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
            if self.reducing and any(d not in where for d in dims):
                node = Var(node.name, tuple(d if d in where else "*" for d in dims))
            else:
                picks: list[tuple[str, ...]] = []
                for dim in dims:
                    if dim not in where:
                        raise self.error(
                            f"dimension mismatch: '{element.name}' is over "
                            f"[{', '.join(element.dims)}] but this equation is not over '{dim}'",
                            f"subscript it ({element.key}[<element>]) or reduce it "
                            f"(SUM({element.key}[*]))",
                        )
                    nth = dims[: len(picks)].count(dim)
                    picks.append((self.repeated.get((dim, nth), where[dim]),))
                return Var(instance_key(element.key, tuple(p[0] for p in picks)))
        if len(node.subscripts) != len(dims):
            raise self.error(
                f"'{element.name}' has {len(dims)} dimension(s) but "
                f"{len(node.subscripts)} subscript(s)"
            )
        for position, (sub, dim) in enumerate(zip(node.subscripts, dims, strict=True)):
            if self.computed(sub, dim, where):
                return self.select(element, node, position, where)
        picks = []
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
        members = self.dims.get(dim) if dot else None
        if members is not None and elem in members:
            return members.index(elem) + 1
        return None

    def computed(self, sub: Subscript, dim: str, where: dict[str, str]) -> bool:
        """Whether a subscript is known only while the model runs: an expression, or a
        name that is neither an element nor a dimension but a variable (XMILE 1.0 §3.7.1:
        an element name prevails over a variable of the same name)."""
        if isinstance(sub, Range | int):
            return False
        if isinstance(sub, str):
            if sub == "*" or sub.endswith(".*") or sub in self.dims[dim] or sub in self.dims:
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
        if sub in members:
            return (sub,)
        qualified, dot, elem = sub.partition(".")
        if dot and qualified in self.dims and elem in members:
            return (elem,)  # Dim.element, the element qualified by its dimension
        if sub == dim or sub in self.dims:
            if sub in where and sub == dim:
                return (where[sub],)
            if sub in where and (self.dims[sub] == members or where[sub] in members):
                return (where[sub],)  # the same element, by name (a subrange of ``dim``)
            if sub in where:
                raise self.error(
                    f"subscript '{sub}' is a dimension, but the variable is over '{dim}' there "
                    f"and '{where[sub]}' is not an element of '{dim}'",
                    f"subscript it with an element of '{dim}' or a position",
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
        if element in members:
            return element
        if len(members) == len(own):
            return members[own.index(element)]
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
        if name in members:
            return members.index(name) + 1
        hint = did_you_mean(sub, members)
        raise self.error(f"'{sub}' is not an element of dimension '{dim}'", hint)

    def call(self, node: Call, where: dict[str, str]) -> Expr:
        if node.func == "LOOKUP":
            return self.lookup_call(node, where)
        if node.func == "TRANSPOSE":
            return self.transpose(node)
        lower = node.func.lower()
        target = self.elements.get(lower)
        if target is not None and target.lookup is not None:
            if len(node.args) != 1:
                raise self.error(f"lookup '{target.name}' takes one argument")
            arg = self.scalar(self.resolve(node.args[0], where))
            return Call("LOOKUP", (Num(float(self.table(target))), arg))
        if target is not None and target.key in self.element_tables and len(node.args) == 1:
            return self.lookup_call(Call("LOOKUP", (Var(target.key), node.args[0])), where)
        if node.func not in BUILTINS and node.func not in ALIASES and target is not None:
            raise self.error(f"'{target.name}' is not a function or lookup")
        try:
            builtin = lookup_builtin(node.func, len(node.args))
        except ModelError as exc:
            hint = exc.hint
            if exc.message.startswith("unknown function"):
                lookups = [k for k, e in self.elements.items() if e.lookup is not None]
                hint = did_you_mean(node.func, [*BUILTINS, *[k.upper() for k in lookups]])
            raise self.error(exc.message, hint) from None
        if builtin.kind == "reduce" or (builtin.name in ("MIN", "MAX") and len(node.args) == 1):
            return self.array_function(builtin.name, node.args, where)
        if builtin.name in ("MIN", "MAX"):  # an array among the arguments counts whole
            self.reducing, reducing = True, self.reducing
            try:
                args = [self.resolve(a, where) for a in node.args]
            finally:
                self.reducing = reducing
            return self.reduce(builtin.name, args)
        args = [self.resolve(a, where) for a in node.args]
        if (
            builtin.kind == "random"
            and len(args) == builtin.max_args
            and not isinstance(args[-1], Num)
        ):
            raise self.error(f"the seed of {builtin.name} must be a number")
        if builtin.kind == "random" and len(args) == builtin.max_args:
            seed = args[-1]
            assert isinstance(seed, Num)
            if not (math.isfinite(seed.value) and abs(seed.value) < 2.0**63):
                raise self.error(
                    f"the seed {seed.value:g} of {builtin.name} is out of range",
                    "a random function's seed is a whole number below 2^63 (9223372036854775807)",
                )
        return Call(builtin.name, tuple(self.scalar(a) for a in args))

    def transpose(self, node: Call) -> Expr:
        """``x'`` (XMILE 1.0 §3.7.1.1): x with its dimensions reversed, so element
        ``[i, j]`` of the equation is ``x[j, i]``; elements are matched by name, or by
        position between dimensions of the same size."""
        arg = node.args[0] if len(node.args) == 1 else None
        if not isinstance(arg, Var) or arg.subscripts:
            raise self.error(
                "only a variable without subscripts can be transposed (x')",
                "compute the slice in an auxiliary first",
            )
        target = self.elements.get(arg.name)
        if target is None:
            raise self.error(f"unknown name '{arg.name}'")
        dims = self.dims_of(target)
        current = self.current
        here = self.dims_of(current) if current is not None else ()
        if len(dims) != len(here) or not dims:
            raise self.error(
                f"'{target.name}'' has {len(dims)} dimension(s) but this equation has "
                f"{len(here)}: a transposed array must have as many as the equation"
            )
        subs: list[str] = []
        for dim, own_dim, element in zip(
            dims, reversed(here), reversed(self.current_index), strict=True
        ):
            members, own = self.dims[dim], self.dims[own_dim]
            if element in members:
                subs.append(element)
            elif len(members) == len(own):
                subs.append(members[own.index(element)])
            else:
                raise self.error(
                    f"'{target.name}'' cannot be transposed into this equation: dimension "
                    f"'{dim}' has {len(members)} elements and '{own_dim}' {len(own)}"
                )
        return Var(instance_key(target.key, tuple(subs)))

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

    def lookup_call(self, node: Call, where: dict[str, str]) -> Expr:
        """LOOKUP(table, x) with ``table`` a graphical function, a variable with one, or an
        element of an array with a graphical function per element (``LOOKUP(g[a], x)``, or
        ``g[dim]`` / ``g`` over the equation's dimension, or a computed subscript)."""
        if len(node.args) != 2 or not isinstance(node.args[0], Var):
            raise self.error(
                "LOOKUP takes a graphical function and an input", "write LOOKUP(table, x)"
            )
        var = node.args[0]
        target = self.elements.get(var.name)
        if target is None:
            raise self.error(f"unknown graphical function '{var.name}'")
        x = self.scalar(self.resolve(node.args[1], where))
        if target.lookup is not None:
            return Call("LOOKUP", (Num(float(self.table(target))), x))
        if target.key not in self.element_tables:
            raise self.error(f"'{target.name}' has no graphical function")
        x = self.hide(x, "input")
        chosen = self.reference(var, where)

        def each(node: Expr) -> Expr:
            if isinstance(node, If):
                return If(node.cond, each(node.then), each(node.orelse))
            if isinstance(node, Var):
                table = self.elements.get(node.name)
                if table is None or table.lookup is None:
                    raise self.error(f"element '{node.name}' has no graphical function of its own")
                return Call("LOOKUP", (Num(float(self.table(table))), x))
            if isinstance(node, Num):
                return node
            raise self.error(f"LOOKUP needs one element of '{target.name}', not several")

        return each(chosen)

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
