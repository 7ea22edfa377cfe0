"""Step 1 of compiling: resolve names and expand dimensions into scalar instances.

Every arrayed variable becomes one scalar instance per element (``x[amazon]``); references
inside equations are resolved to instance keys, starred references (``x[*]``, ``x[dim.*]``) and
ranges (``x[1:3]``) are expanded inside array functions, a subscript computed while the model
runs (``x[INT(TIME) + 1]``) becomes a choice among the elements (0 outside the dimension, as
XMILE 1.0 §3.7.1 says), ``dim.element`` outside a subscript is the element's position,
graphical functions become ``LOOKUP`` calls, and reserved names (TIME, DT, ...) become clock
calls. Errors name the file, line and variable.

The steps live in compile/scalar_base.py (shared state), compile/references.py (names and
subscripts) and compile/arrays.py (array functions); this module makes the instances.
"""

from __future__ import annotations

import math
from dataclasses import replace

from flywheel_sim.compile.arrays import ARRAY_CALLS
from flywheel_sim.compile.instances import Inst, instance_key
from flywheel_sim.compile.vectors import VectorFunctions
from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.ast import Call, Expr, If, Num, Var
from flywheel_sim.spec.builtins import ALIASES, BUILTINS, lookup_builtin
from flywheel_sim.spec.model import Element, GraphicalFunction
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

__all__ = ["ARRAY_CALLS", "Inst", "Scalariser", "instance_key"]


class Scalariser(VectorFunctions):
    """A model's variables as scalar instances (``run``)."""

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
        from flywheel_sim.spec.policy import Table, policy_expr  # only for a model with policies

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

    def call(self, node: Call, where: dict[str, str]) -> Expr:
        if node.func == "LOOKUP":
            return self.lookup_call(node, where)
        if node.func == "TRANSPOSE":
            return self.transpose(node, where)
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
        if builtin.kind == "reduce" or builtin.name in ("MIN", "MAX"):
            # MIN/MAX with several arguments: the smallest of all their elements together,
            # each argument read as in an array function (Stella: "MAX(A, B)" is the maximum
            # across two arrays, "MAX(A, 0)" the maximum of A or zero)
            return self.array_function(builtin.name, node.args, where)
        args = [self.resolve(a, where) for a in node.args]
        # Vensim's stream IDs may be constant expressions (compile/random_vensim.py folds them)
        folded = builtin.name.startswith("RANDOM_")
        if (
            builtin.kind == "random"
            and len(args) == builtin.max_args
            and not isinstance(args[-1], Num)
            and not folded
        ):
            raise self.error(f"the seed of {builtin.name} must be a number")
        if builtin.kind == "random" and len(args) == builtin.max_args and not folded:
            seed = args[-1]
            assert isinstance(seed, Num)
            if not (math.isfinite(seed.value) and abs(seed.value) < 2.0**63):
                raise self.error(
                    f"the seed {seed.value:g} of {builtin.name} is out of range",
                    "a random function's seed is a whole number below 2^63 (9223372036854775807)",
                )
        return Call(builtin.name, tuple(self.scalar(a) for a in args))

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
