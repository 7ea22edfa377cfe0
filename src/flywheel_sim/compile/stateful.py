"""Step 2 of compiling: turn stateful builtins into plain structure.

- SMTH1/SMTH3/SMTHN and DELAY1/DELAY3/DELAYN become chains of hidden stocks and flows (the
  textbook stock-and-flow equivalents, so every integrator treats them alike);
- TREND and FORCST become a hidden smoothing stock and their formula;
- NPV becomes a discount-factor stock and an accumulating stock (Vensim's documented
  equations; Stella's NPV takes the same four arguments);
- INIT(x) becomes a slot set once at the start; PREVIOUS(x) a slot updated after each step;
- DELAY (pipeline) becomes a history buffer of its input read at TIME - delay, the delay time
  and the initial value being taken at the start (XMILE: "for the requested fixed time";
  Stella: a variable delay time is used at its initial value); HISTORY(x, t) reads such a
  buffer at time t.

Vensim's DELAY FIXED, SAMPLE IF TRUE, TREND, FORECAST and ACTIVE INITIAL are expanded by
compile/stateful_vensim.py, and Vensim's RANDOM functions rewritten by compile/random_vensim.py.

Every hidden instance is owned by the model element whose equation created it, so error and
NaN reports name that element.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flywheel_sim.compile.random_shapes import VensimRandomShapes
from flywheel_sim.compile.scalarise import Inst
from flywheel_sim.compile.stateful_vensim import VENSIM_CLOCK, VensimStateful
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import (
    OPERATORS,
    Binary,
    Call,
    Expr,
    Num,
    Var,
    rebuilt,
)
from flywheel_sim.spec.builtins import BUILTINS
from flywheel_sim.spec.model import TimeSpec
from flywheel_sim.spec.size import MAX_ORDER


class Expander(VensimStateful, VensimRandomShapes):
    def __init__(
        self, instances: list[Inst], file: str | None, time: TimeSpec | None = None
    ) -> None:
        self.instances = instances
        self.file = file
        self.time = time or TimeSpec()
        self.hidden: list[Inst] = []
        self.delays: list[str] = []  # input instance key of each DELAY buffer
        self.counter = 0
        self.owner: Inst | None = None
        self.streams: dict[int, int] = {}  # Vensim's stream IDs: calls drawing from each
        self.stream_ids: dict[Expr, tuple[Num, Expr]] = {}  # folded (random_vensim.py)
        self.known: dict[str, Inst] = {}  # instances by key, for Vensim's orders (orders.py)

    def run(self) -> tuple[list[Inst], list[str]]:
        for inst in self.instances:
            self.owner = inst
            inst.expr = self.expand(inst.expr)
        return self.instances + self.hidden, self.delays

    def error(self, message: str) -> ModelError:
        owner = self.owner
        if owner is not None:
            message = f"{message} in '{owner.owner}'"
        return ModelError(
            message,
            file=self.file,
            line=owner.line if owner else None,
            variable=owner.owner if owner else None,
        )

    def new(self, kind: str, expr: Expr, part: str) -> Inst:
        owner = self.owner
        assert owner is not None
        self.counter += 1
        inst = Inst(f"{owner.key}#{part}{self.counter}", kind, expr, owner.owner, owner.line)
        self.hidden.append(inst)
        return inst

    def as_var(self, expr: Expr, part: str) -> Expr:
        """A Num or Var as is; anything else becomes a hidden auxiliary."""
        if isinstance(expr, Num | Var):
            return expr
        return Var(self.new("haux", expr, part).key)

    def expand(self, node: Expr) -> Expr:
        if isinstance(node, Num | Var):
            return node
        if isinstance(node, OPERATORS):
            return rebuilt(node, self.expand)
        args = tuple(self.expand(a) for a in node.args)
        builtin = BUILTINS.get(node.func)
        # Vensim's functions written with the language's own (compile/stateful_vensim.py)
        rewritten = node.func.startswith("RANDOM_") or node.func in VENSIM_CLOCK
        if builtin is None or (builtin.kind != "stateful" and not rewritten):
            return Call(node.func, args)
        handler: Callable[[tuple[Expr, ...]], Expr] = getattr(self, f"_{node.func.lower()}")
        return handler(args)

    def order(self, expr: Expr, name: str) -> int:
        if (
            not isinstance(expr, Num)
            or not math.isfinite(expr.value)
            or expr.value != int(expr.value)
            or expr.value < 1
        ):
            raise self.error(
                f"the order n of {name} must be a whole number from 1 to {MAX_ORDER} written "
                "as a number"
            )
        if expr.value > MAX_ORDER:
            raise self.error(
                f"the order n of {name} (a chain of n hidden stocks) must be at most "
                f"{MAX_ORDER}, not {expr.value:g},"
            )
        return int(expr.value)

    # -- smooths and delays --------------------------------------------------------------------
    def chain(self, args: tuple[Expr, ...], n: int, delay: bool) -> Expr:
        source = self.as_var(args[0], "input")
        total = self.as_var(args[1], "time")
        stage_time = total if n == 1 else Binary("/", total, Num(float(n)))
        initial = args[2] if len(args) > 2 else source
        if delay:
            init_expr: Expr = Binary("*", initial, stage_time)
        else:
            init_expr = initial
        upstream: Expr = source
        output: Expr = source
        previous: Inst | None = None
        for _ in range(n):
            stock = self.new("hstock", init_expr, "stage")
            if delay:
                outflow = self.new("haux", Binary("/", Var(stock.key), stage_time), "out")
                if previous is None:
                    inflow = self.new("haux", upstream, "in")
                    stock.inflows += (inflow.key,)
                else:
                    stock.inflows += (previous.key,)
                stock.outflows += (outflow.key,)
                previous = outflow
                output = Var(outflow.key)
            else:
                change = self.new(
                    "haux", Binary("/", Binary("-", upstream, Var(stock.key)), stage_time), "adjust"
                )
                stock.inflows += (change.key,)
                upstream = Var(stock.key)
                output = upstream
        return output

    def _smth1(self, args: tuple[Expr, ...]) -> Expr:
        return self.chain(args, 1, delay=False)

    def _smth3(self, args: tuple[Expr, ...]) -> Expr:
        return self.chain(args, 3, delay=False)

    def _smthn(self, args: tuple[Expr, ...]) -> Expr:
        n = self.order(args[2], "SMTHN")
        return self.chain((args[0], args[1], *args[3:]), n, delay=False)

    def _delay1(self, args: tuple[Expr, ...]) -> Expr:
        return self.chain(args, 1, delay=True)

    def _delay3(self, args: tuple[Expr, ...]) -> Expr:
        return self.chain(args, 3, delay=True)

    def _delayn(self, args: tuple[Expr, ...]) -> Expr:
        n = self.order(args[2], "DELAYN")
        return self.chain((args[0], args[1], *args[3:]), n, delay=True)

    # -- trend and forecast --------------------------------------------------------------------
    def trend_parts(self, source: Expr, avg: Expr, initial: Expr) -> tuple[Expr, Expr]:
        start = Binary("/", source, Binary("+", Num(1.0), Binary("*", initial, avg)))
        average = self.new("hstock", start, "average")
        change = self.new("haux", Binary("/", Binary("-", source, Var(average.key)), avg), "adjust")
        average.inflows += (change.key,)
        trend = Binary(
            "/", Binary("-", source, Var(average.key)), Binary("*", Var(average.key), avg)
        )
        return Var(average.key), trend

    def _trend(self, args: tuple[Expr, ...]) -> Expr:
        source, avg = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        initial = args[2] if len(args) > 2 else Num(0.0)
        return self.trend_parts(source, avg, initial)[1]

    def _forcst(self, args: tuple[Expr, ...]) -> Expr:
        source, avg = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        initial = args[3] if len(args) > 3 else Num(0.0)
        trend = self.trend_parts(source, avg, initial)[1]
        return Binary("*", source, Binary("+", Num(1.0), Binary("*", trend, args[2])))

    # -- memory --------------------------------------------------------------------------------
    def _init(self, args: tuple[Expr, ...]) -> Expr:
        source = self.as_var(args[0], "of")
        if isinstance(source, Num):
            return source
        inst = self.new("init", source, "init")
        inst.src = source.name if isinstance(source, Var) else None
        return Var(inst.key)

    def _previous(self, args: tuple[Expr, ...]) -> Expr:
        source = self.as_var(args[0], "of")
        if isinstance(source, Num):
            return source
        assert isinstance(source, Var)
        inst = self.new("prev", args[1] if len(args) > 1 else source, "previous")
        inst.src = source.name
        return Var(inst.key)

    def _delay(self, args: tuple[Expr, ...]) -> Expr:
        source = self.as_var(args[0], "input")
        if isinstance(source, Num) and len(args) < 3:
            return source  # a constant delayed is itself
        if isinstance(source, Num):  # but the initial value comes first
            source = Var(self.new("haux", source, "input").key)
        assert isinstance(source, Var)
        # the initial value, like the delay time, is taken at the start (a varying one is
        # used at its initial value, as Vensim's DELAY FIXED does)
        initial = self._init((args[2] if len(args) > 2 else source,))
        lag = self._init((args[1],))
        self.delays.append(source.name)
        return Call("DELAY", (Num(float(len(self.delays) - 1)), lag, initial))

    def _history(self, args: tuple[Expr, ...]) -> Expr:
        source = self.as_var(args[0], "of")
        if isinstance(source, Num):
            return source
        assert isinstance(source, Var)
        initial = self._init((source,))
        self.delays.append(source.name)
        return Call("HISTORY", (Num(float(len(self.delays) - 1)), args[1], initial))

    # -- finance -------------------------------------------------------------------------------
    def _npv(self, args: tuple[Expr, ...], first: Expr | None = None) -> Expr:
        """NPV(stream, rate[, initial[, factor]]): (ACCUM + stream*DT*df) * factor, with
        ACCUM = INTEG(stream*df, initial) and df = INTEG(-df*rate/(1 + rate*DT), 1) (NPVE:
        df starting at ``first``)."""
        stream, rate = self.as_var(args[0], "stream"), self.as_var(args[1], "rate")
        initial = args[2] if len(args) > 2 else Num(0.0)
        factor = args[3] if len(args) > 3 else Num(1.0)
        dt = Call("DT", ())
        discount = self.new("hstock", first or Num(1.0), "discount")
        df = Var(discount.key)
        shrink = Binary("/", Binary("*", df, rate), Binary("+", Num(1.0), Binary("*", rate, dt)))
        discount.outflows += (self.new("haux", shrink, "discounting").key,)
        accum = self.new("hstock", initial, "accumulated")
        accum.inflows += (self.new("haux", Binary("*", stream, df), "discounted").key,)
        now = Binary("*", Binary("*", stream, dt), df)
        return Binary("*", Binary("+", Var(accum.key), now), factor)
