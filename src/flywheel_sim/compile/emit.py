"""Step 3 of compiling: order the equations and emit postfix code into a Program."""

from __future__ import annotations

import graphlib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from flywheel_sim import rng
from flywheel_sim._types import I64
from flywheel_sim.compile import ops
from flywheel_sim.compile.passes import fuse, names_read, stack_depth, static_order
from flywheel_sim.compile.program import Program, Variable
from flywheel_sim.compile.scalarise import Inst, instance_key
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, walk
from flywheel_sim.spec.builtins import BUILTINS
from flywheel_sim.spec.model import GraphicalFunction, Model
from flywheel_sim.spec.names import canonical, canonical_elements

STATE = {"stock", "hstock", "prev"}
ALGEBRAIC_LOOP = ("algebraic loop", "break the loop with a stock, a delay or PREVIOUS()")
INITIAL_CYCLE = ("initial values depend on each other", "give one of them a numeric initial value")
_TIME_VARYING = {"TIME", "STEP", "PULSE", "RAMP", "DELAY", "HISTORY"}


def _dynamic_call(expr: Expr) -> bool:
    for node in walk(expr):
        if isinstance(node, Call) and (
            node.func in _TIME_VARYING or BUILTINS.get(node.func, BUILTINS["ABS"]).kind == "random"
        ):
            return True
    return False


def _init_deps(inst: Inst, names: tuple[str, ...]) -> tuple[str, ...]:
    if inst.kind == "parameter":
        return ()
    if inst.kind == "init":
        return (inst.src,) if inst.src else names
    return names


def _cycle_error(
    exc: graphlib.CycleError, by_key: dict[str, Inst], model: Model, what: str, hint: str
) -> ModelError:
    cycle = list(exc.args[1])
    names: list[str] = []
    for key in cycle:
        label = by_key[key].owner if "#" in key else key
        if not names or names[-1] != label:
            names.append(label)
    first = by_key[cycle[0]]
    return ModelError(
        f"{what}: {' -> '.join(names)}",
        file=model.file,
        line=first.line,
        variable=first.owner,
        hint=hint,
    )


class Emitter:
    def __init__(
        self,
        model: Model,
        instances: list[Inst],
        tables: list[GraphicalFunction],
        delays: list[str],
    ) -> None:
        self.model = model
        self.instances = instances
        self.by_key = {i.key: i for i in instances}
        self.slot = {i.key: n for n, i in enumerate(instances)}
        # the names each equation reads, found once (the orderings all need them)
        # (as tuples: a set per instance costs four times the memory)
        self.reads = {i.key: names_read(i.expr) for i in instances}
        # ACTIVE_INITIAL: what an auxiliary's own initial equation reads
        self.init_reads = {i.key: names_read(i.initial) for i in instances if i.initial is not None}
        self.tables = tables
        self.delays = delays
        self.consts: list[float] = []
        self.const_ids: dict[float, int] = {}
        self.sites: list[int] = []
        self.site_ids: dict[int, int] = {}  # id(Call node) -> site

    # -- ordering -----------------------------------------------------------------------------
    def sort(self, graph: Mapping[str, Iterable[str]], initial: bool) -> list[Inst]:
        """Topological order; a cycle is an algebraic loop (among flows and auxiliaries) or,
        at initialisation, initial values that depend on each other."""
        try:
            return [self.by_key[k] for k in static_order(graph)]
        except graphlib.CycleError as exc:
            kinds = {self.by_key[k].kind for k in exc.args[1]}
            if not initial or kinds <= {"aux", "flow", "haux"}:
                what, hint = ALGEBRAIC_LOOP
            else:
                what, hint = INITIAL_CYCLE
            raise _cycle_error(exc, self.by_key, self.model, what, hint) from None

    def init_order(self) -> list[Inst]:
        return self.sort(
            {
                i.key: _init_deps(i, self.init_reads.get(i.key, self.reads[i.key]))
                for i in self.instances
            },
            initial=True,
        )

    def dynamic_set(self, init_order: list[Inst]) -> set[str]:
        # a flow of a non-negative stock may be cut after an evaluation, overwriting its slot,
        # so even a constant one is computed again at every evaluation (not hoisted)
        limited = {
            flow
            for inst in self.instances
            if inst.kind in ("stock", "hstock") and inst.non_negative
            for flow in (*inst.inflows, *inst.outflows)
        }
        dynamic: set[str] = set()
        for inst in init_order:
            if inst.kind in STATE or inst.initial is not None:
                dynamic.add(inst.key)
            elif inst.kind in ("parameter", "init"):
                continue
            elif (
                inst.key in limited
                or not dynamic.isdisjoint(self.reads[inst.key])
                or _dynamic_call(inst.expr)
            ):
                dynamic.add(inst.key)
        return dynamic

    def step_order(self, dynamic: set[str]) -> list[Inst]:
        # in model order, each equation's reads in the order read (never a set's hash order)
        graph = {
            inst.key: tuple(
                d for d in self.reads[inst.key] if d in dynamic and self.by_key[d].kind not in STATE
            )
            for inst in self.instances
            if inst.key in dynamic and inst.kind not in STATE
        }
        return self.sort(graph, initial=False)

    # -- code -----------------------------------------------------------------------------------
    def const(self, value: float) -> int:
        key = value if not math.isnan(value) else float("nan")
        if key not in self.const_ids or math.isnan(value):
            self.const_ids[key] = len(self.consts)
            self.consts.append(value)
        return self.const_ids[key]

    def expr(self, node: Expr, code: list[int]) -> None:
        if isinstance(node, Num):
            code += [ops.CONST, self.const(node.value)]
        elif isinstance(node, Var):
            code += [ops.LOAD, self.slot[node.name]]
        elif isinstance(node, Unary):
            self.expr(node.operand, code)
            if node.op == "-":
                code += [ops.NEG, 0]
            elif node.op == "NOT":
                code += [ops.NOT, 0]
        elif isinstance(node, Binary):
            self.expr(node.left, code)
            self.expr(node.right, code)
            code += [ops.BINARY[node.op], 0]
        elif isinstance(node, If):
            for part in (node.cond, node.then, node.orelse):
                self.expr(part, code)
            code += [ops.SELECT, 0]
        elif isinstance(node, Call):
            self.call(node, code)
        else:
            raise ModelError("a starred subscript x[*] can only be used inside a reduction")

    def call(self, node: Call, code: list[int]) -> None:
        func, args = node.func, list(node.args)
        if func == "LOOKUP":
            assert isinstance(args[0], Num)
            self.expr(args[1], code)
            code += [ops.LOOKUP, int(args[0].value)]
        elif func in ("DELAY", "HISTORY"):
            assert isinstance(args[0], Num)
            self.expr(args[1], code)
            self.expr(args[2], code)
            code += [ops.DELAY if func == "DELAY" else ops.HISTORY, int(args[0].value)]
        elif func in ops.CLOCK:
            code += [ops.CLOCK[func], 0]
        elif func == "PI":
            code += [ops.CONST, self.const(math.pi)]
        elif func == "INF":
            code += [ops.CONST, self.const(math.inf)]
        elif func == "MODULO":  # Vensim's: a - b*trunc(a/b), the sign of a
            a, b = args
            self.expr(Binary("-", a, Binary("*", b, _trunc(Binary("/", a, b)))), code)
        elif func in ops.UNARY_FUNCS:
            self.expr(args[0], code)
            code += [ops.UNARY_FUNCS[func], 0]
        elif func in ("MIN", "MAX"):
            self.expr(args[0], code)
            for arg in args[1:]:
                self.expr(arg, code)
                code += [ops.MIN if func == "MIN" else ops.MAX, 0]
        elif func == "MOD":
            self.expr(args[0], code)
            self.expr(args[1], code)
            code += [ops.MOD, 0]
        elif func == "TRUNC":  # Vensim's INTEGER
            self.expr(_trunc(args[0]), code)
        elif func == "GAME":  # Vensim's gaming input: outside a game, its argument
            self.expr(args[0], code)
        elif func == "IF_THEN_ELSE":
            self.expr(If(args[0], args[1], args[2]), code)
        elif func in ops.LEVELS:  # compile/allocate.py: the requesters' values, then 3 more
            for arg in args:
                self.expr(arg, code)
            n = (len(args) - 3) // 4 if func == "AVAILABLE_LEVEL" else (len(args) - 4) // 2
            code += [ops.LEVELS[func], n]
        elif func in ops.RANDOMS:
            self.random(node, code)
        else:
            self.timed(func, args, code)

    def timed(self, func: str, args: list[Expr], code: list[int]) -> None:
        table: dict[str, list[Expr]] = {
            "SAFEDIV": [Num(0.0)],
            "RAMP": [Call("STARTTIME", ()), Num(math.inf)],
            "PULSE": [Call("STARTTIME", ()), Num(0.0)],
            "STEP": [],
        }
        if func in ("ZIDZ", "XIDZ"):  # Vensim's names: XMILE's SAFEDIV
            func = "SAFEDIV"
        defaults = table[func]
        width = {"SAFEDIV": 3, "RAMP": 3, "PULSE": 3, "STEP": 2}[func]
        full = args + defaults[len(args) - (width - len(defaults)) :]
        for arg in full:
            self.expr(arg, code)
        code += [
            {"SAFEDIV": ops.SAFEDIV, "RAMP": ops.RAMP, "PULSE": ops.PULSE, "STEP": ops.STEP}[func],
            0,
        ]

    def random(self, node: Call, code: list[int]) -> None:
        func, args = node.func, list(node.args)
        arity = {"RANDOM": 2, "NORMAL": 2, "LOGNORMAL": 2, "EXPRND": 1, "POISSON": 1}[func]
        seed = -1
        if len(args) > arity:
            last = args[-1]
            assert isinstance(last, Num)
            seed = abs(int(last.value))
        for arg in args[:arity]:
            self.expr(arg, code)
        # one stream per call site, whether the call is emitted in the initial or step code
        site = self.site_ids.setdefault(id(node), len(self.site_ids))
        if site == len(self.sites):
            self.sites.append(seed)
        code += [ops.RANDOMS[func], site]

    def assign(self, inst: Inst, code: list[int], expr: Expr | None = None) -> None:
        value = inst.expr if expr is None else expr
        if inst.kind == "flow" and inst.non_negative:
            value = Call("MAX", (Num(0.0), value))
        self.expr(value, code)
        code += [ops.STORE, self.slot[inst.key]]

    # -- program --------------------------------------------------------------------------------
    def program(self) -> Program:
        init_order = self.init_order()
        dynamic = self.dynamic_set(init_order)
        step_order = self.step_order(dynamic)
        init_code: list[int] = []
        for inst in init_order:
            if inst.kind == "parameter":
                continue
            if inst.kind == "init" and inst.src:
                self.assign(inst, init_code, Var(inst.src))
            elif inst.initial is not None:
                self.assign(inst, init_code, inst.initial)
            else:
                self.assign(inst, init_code)
        step_code: list[int] = []
        for inst in step_order:
            self.assign(inst, step_code)
        return self.build(fuse(init_code), fuse(step_code), init_order, step_order)

    def build(
        self,
        init_code: I64,
        step_code: I64,
        init_order: list[Inst],
        step_order: list[Inst],
    ) -> Program:
        insts = self.instances
        stocks = [i for i in insts if i.kind in ("stock", "hstock")]
        stock_index = {s.key: n for n, s in enumerate(stocks)}
        edges = [
            (stock_index[s.key], self.slot[f], sign)
            for s in stocks
            for flows, sign in ((s.inflows, 1.0), (s.outflows, -1.0))
            for f in flows
        ]
        nonneg = [s for s in stocks if s.non_negative]
        ptr = [0]
        limited: list[tuple[int, float]] = []  # (slot, +1 inflow / -1 outflow) in priority
        for s in nonneg:
            limited += [(self.slot[f], 1.0) for f in s.inflows]
            limited += [(self.slot[f], -1.0) for f in s.outflows]
            ptr.append(len(limited))
        params = [i for i in insts if i.kind == "parameter"]
        elements = {e.key: e for e in self.model.elements}
        bounds = [
            (elements[p.element or ""].minimum, elements[p.element or ""].maximum) for p in params
        ]
        prevs = [i for i in insts if i.kind == "prev"]
        check = [self.slot[s.key] for s in stocks] + [self.slot[i.key] for i in step_order]
        xs: list[float] = []
        ys: list[float] = []
        kinds: list[int] = []
        lptr = [0]
        for table in self.tables:
            xs += table.xs
            ys += table.ys
            kinds.append(
                {
                    "continuous": ops.LK_CONTINUOUS,
                    "extrapolate": ops.LK_EXTRAPOLATE,
                    "discrete": ops.LK_DISCRETE,
                }[table.kind]
            )
            lptr.append(len(xs))
        i64, f64 = np.int64, np.float64
        return Program(
            name=self.model.name,
            time=self.model.time,
            slot_keys=tuple(i.key for i in insts),
            slot_owner=tuple(i.owner for i in insts),
            init_code=init_code,
            step_code=step_code,
            consts=np.array(self.consts, f64),
            max_stack=max(stack_depth(init_code), stack_depth(step_code), 1),
            stock_slots=np.array([self.slot[s.key] for s in stocks], i64),
            edge_stock=np.array([e[0] for e in edges], i64),
            edge_slot=np.array([e[1] for e in edges], i64),
            edge_sign=np.array([e[2] for e in edges], f64),
            nonneg_stock=np.array([stock_index[s.key] for s in nonneg], i64),
            nonneg_ptr=np.array(ptr, i64),
            nonneg_slot=np.array([slot for slot, _ in limited], i64),
            nonneg_sign=np.array([sign for _, sign in limited], f64),
            nonneg_passes=_passes(limited, len(nonneg)),
            # the instance's own key string where it is the same text (every parameter but a
            # policy's hidden base): one string per element, not two
            param_keys=tuple(
                p.key if not p.key.endswith("#base") else instance_key(p.element or "", p.index)
                for p in params
            ),
            param_slots=np.array([self.slot[p.key] for p in params], i64),
            param_default=np.array(
                [p.expr.value if isinstance(p.expr, Num) else 0.0 for p in params], f64
            ),
            param_min=np.array([math.nan if b[0] is None else b[0] for b in bounds], f64),
            param_max=np.array([math.nan if b[1] is None else b[1] for b in bounds], f64),
            prev_src=np.array([self.slot[p.src or ""] for p in prevs], i64),
            prev_dst=np.array([self.slot[p.key] for p in prevs], i64),
            delay_src=np.array([self.slot[k] for k in self.delays], i64),
            lookup_ptr=np.array(lptr, i64),
            lookup_x=np.array(xs, f64),
            lookup_y=np.array(ys, f64),
            lookup_kind=np.array(kinds, i64),
            n_sites=len(self.sites),
            site_seed=np.array(self.sites, i64),
            site_keys=np.array([rng.site_key(i, s) for i, s in enumerate(self.sites)], np.uint64),
            check_order=np.array(check, i64),
            init_check=np.array(check + list(range(len(insts))), i64),
            variables=self.variables(),
            dims=tuple(
                (canonical(d.name), canonical_elements(d.elements)) for d in self.model.dimensions
            ),
        )

    def variables(self) -> tuple[Variable, ...]:
        out = []
        dims = {canonical(d.name): canonical_elements(d.elements) for d in self.model.dimensions}
        # each element's own instances (not the hidden base of a policy), in one pass
        members_of: dict[str, list[Inst]] = {}
        for inst in self.instances:
            owner = inst.element
            if owner is not None and (
                inst.key is owner or inst.key == instance_key(owner, inst.index)
            ):
                members_of.setdefault(owner, []).append(inst)
        for element in self.model.elements:
            if element.kind == "lookup":
                continue
            names = tuple(canonical(d) for d in element.dims)
            members = members_of.get(element.key, [])
            out.append(
                Variable(
                    element.key,
                    element.name,
                    "policy" if element.policy is not None else element.kind,
                    names,
                    tuple(dims[d] for d in names),
                    _compact([self.slot[i.key] for i in members]),
                    element.unit,
                    element.description,
                )
            )
        return tuple(out)


def _trunc(x: Expr) -> Expr:
    """``x`` rounded toward zero, from INT (the floor)."""
    return If(
        Binary("<", x, Num(0.0)), Unary("-", Call("INT", (Unary("-", x),))), Call("INT", (x,))
    )


def _compact(slots: list[int]) -> Sequence[int]:
    """An element's slots, as a ``range`` when consecutive (an array's instances are: 8 bytes
    per element less than a tuple of ints, which a million-element array notices)."""
    if slots and all(b - a == 1 for a, b in itertools.pairwise(slots)):
        return range(slots[0], slots[-1] + 1)
    return tuple(slots)


def _passes(limited: list[tuple[int, float]], stocks: int) -> int:
    """How many passes the non-negative limits may need: one, unless a flow is on the lists
    of two non-negative stocks; then one per stock, enough for a chain of them declared
    against the direction of flow (each pass settles at least one more stock)."""
    slots = [slot for slot, _ in limited]
    return stocks if len(set(slots)) < len(slots) else 1
