"""Step 1 of compiling: resolve names and expand dimensions into scalar instances.

Every arrayed variable becomes one scalar instance per element (``x[amazon]``); references
inside equations are resolved to instance keys, starred references (``x[*]``) are expanded
inside reductions, graphical functions become ``LOOKUP`` calls, and reserved names (TIME, DT,
...) become clock calls. Errors name the file, line and variable.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, VarList
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
        self.current = None
        return out

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
                "a starred subscript x[*] can only be used inside SUM, MEAN, PROD, MIN or MAX"
            )
        return node

    def reference(self, node: Var, where: dict[str, str]) -> Expr:
        element = self.elements.get(node.name)
        if element is None:
            if node.name in CONSTANT_NAMES and not node.subscripts:
                return Call(CONSTANT_NAMES[node.name], ())
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
            picks: list[tuple[str, ...]] = []
            for dim in dims:
                if dim not in where:
                    raise self.error(
                        f"dimension mismatch: '{element.name}' is over "
                        f"[{', '.join(element.dims)}] but this equation is not over '{dim}'",
                        f"subscript it ({element.key}[<element>]) or reduce it "
                        f"(SUM({element.key}[*]))",
                    )
                picks.append((where[dim],))
        else:
            if len(node.subscripts) != len(dims):
                raise self.error(
                    f"'{element.name}' has {len(dims)} dimension(s) but "
                    f"{len(node.subscripts)} subscript(s)"
                )
            picks = [
                self.subscript(sub, dim, where)
                for sub, dim in zip(node.subscripts, dims, strict=True)
            ]
        keys = [instance_key(element.key, combo) for combo in itertools.product(*picks)]
        if any(sub == "*" for sub in node.subscripts):
            return VarList(tuple(Var(k) for k in keys))
        return Var(keys[0])

    def subscript(self, sub: str | int, dim: str, where: dict[str, str]) -> tuple[str, ...]:
        members = self.dims[dim]
        if sub == "*":
            return members
        if isinstance(sub, int):
            if not 1 <= sub <= len(members):
                raise self.error(f"position {sub} is outside dimension '{dim}' (1..{len(members)})")
            return (members[sub - 1],)
        if sub in members:
            return (sub,)
        if sub == dim or sub in self.dims:
            if sub in where and sub == dim:
                return (where[sub],)
            if sub in where and (self.dims[sub] == members or where[sub] in members):
                return (where[sub],)  # the same element, by name (a subrange of ``dim``)
            raise self.error(f"subscript '{sub}' refers to a dimension this equation is not over")
        hint = did_you_mean(sub, members)
        raise self.error(f"'{sub}' is not an element of dimension '{dim}'", hint)

    def call(self, node: Call, where: dict[str, str]) -> Expr:
        lower = node.func.lower()
        target = self.elements.get(lower)
        if target is not None and target.lookup is not None:
            if len(node.args) != 1:
                raise self.error(f"lookup '{target.name}' takes one argument")
            arg = self.scalar(self.resolve(node.args[0], where))
            return Call("LOOKUP", (Num(float(self.table(target))), arg))
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
        args = [self.resolve(a, where) for a in node.args]
        if builtin.kind == "reduce" or (builtin.name in ("MIN", "MAX")):
            return self.reduce(builtin.name, args)
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
