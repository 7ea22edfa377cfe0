"""Stateful builtins with Vensim's documented semantics (part of step 2 of compiling, with
compile/stateful.py, whose Expander calls these handlers by name).

- DELAY_FIXED(input, time, initial): Vensim's DELAY FIXED, a pipeline delay whose delay time
  is taken at the start and rounded to a whole number of DTs, at least one ("the minimum
  delay time is TIME STEP"); it is the DELAY buffer read exactly that many steps back;
- DELAY_MATERIAL(input, time, initial, missing): Vensim's DELAY MATERIAL, DELAY_FIXED when the
  delay time is an expression of constants (see ``_delay_material``);
- DELAY_N(input, delay, initial, n): Vensim's DELAY N (see ``_delay_n``);
- NPVE(stream, rate, initial, factor): Vensim's NPVE, NPV with end-of-period valuation;
- SAMPLE_IF_TRUE(condition, input, initial): Vensim's SAMPLE IF TRUE, the input while the
  condition holds, else the value held one DT ago (a previous-value slot starting at the
  initial value);
- SAFE_TREND(input, time, initial trend) and SAFE_FORECAST(input, time, horizon): Vensim's
  TREND and FORECAST, whose documented equations divide with ZIDZ (0 when the average is 0)
  and, for TREND, by the absolute value of the average (XMILE's TREND and FORCST do neither);
- TIME_BASE(start, slope): Vensim's TIME BASE, start + TIME * slope;
- PULSE_WINDOW(start, width) and PULSE_TRAIN(start, width, interval, end): Vensim's PULSE
  and PULSE TRAIN, 1 while TIME + DT/2 (Vensim's "time plus", against rounding) lies in
  (start, start + width), width at least DT, repeated every interval up to end (a pulse
  may start at end);
- ACTIVE_INITIAL(equation, initial): Vensim's ACTIVE INITIAL, a hidden auxiliary whose
  initial-value equation is ``initial`` (so initial values may depend on it without a cycle)
  and whose equation is ``equation`` from the first step on, the start time included.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flywheel_sim.compile.instances import Inst
from flywheel_sim.compile.orders import constant_expression, guess
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num, Unary, Var, VarList
from flywheel_sim.spec.model import TimeSpec

VENSIM_CLOCK = frozenset({"TIME_BASE", "PULSE_WINDOW", "PULSE_TRAIN"})


class VensimStateful:
    """Handlers for the Expander (compile/stateful.py); ``new``, ``as_var`` and ``_delay``
    are the Expander's."""

    owner: Inst | None
    instances: list[Inst]
    hidden: list[Inst]
    time: TimeSpec
    known: dict[str, Inst]

    def error(self, message: str) -> ModelError:
        raise NotImplementedError  # compile/stateful.py

    def new(self, kind: str, expr: Expr, part: str) -> Inst:
        raise NotImplementedError  # compile/stateful.py

    def as_var(self, expr: Expr, part: str) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def _delay(self, args: tuple[Expr, ...]) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def _init(self, args: tuple[Expr, ...]) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def _previous(self, args: tuple[Expr, ...]) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def order(self, expr: Expr, name: str) -> int:
        raise NotImplementedError  # compile/stateful.py

    def _delay_fixed(self, args: tuple[Expr, ...]) -> Expr:
        source, lag, initial = args
        dt = Call("DT", ())
        # round half up to whole steps (Vensim: shorter delays act as one TIME STEP)
        steps = Call("INT", (Binary("+", Binary("/", lag, dt), Num(0.5)),))
        return self._delay((source, Binary("*", Call("MAX", (Num(1.0), steps)), dt), initial))

    def _npv(self, args: tuple[Expr, ...], first: Expr | None = None) -> Expr:
        raise NotImplementedError  # compile/stateful.py

    def _npve(self, args: tuple[Expr, ...]) -> Expr:
        """Vensim's NPVE: NPV valued at the end of each period, its discount factor starting
        at 1 / (1 + rate * TIME STEP) instead of 1 (the reference's equations)."""
        rate = self.as_var(args[1], "rate")
        first = Binary("/", Num(1.0), Binary("+", Num(1.0), Binary("*", rate, Call("DT", ()))))
        return self._npv((args[0], rate, *args[2:]), first)

    def _delay_material(self, args: tuple[Expr, ...]) -> Expr:
        """Vensim's DELAY MATERIAL: "the same as DELAY FIXED except that delay time can be a
        variable". With a delay time of constants it is DELAY FIXED (the missing value is
        used only when the delay time grows). How a varying delay time moves arrivals between
        steps is not documented exactly: refused."""
        if len(self.known) != len(self.instances) + len(self.hidden):
            self.known = {i.key: i for i in (*self.instances, *self.hidden)}
        if not constant_expression(args[1], self.known):
            raise self.error(
                "DELAY MATERIAL with a delay time that varies is not supported: Vensim's "
                "reference does not say exactly how arrivals then fall between time steps "
                "(a delay time of constants is supported)"
            )
        return self._delay_fixed(args[:3])

    def _delay_n(self, args: tuple[Expr, ...]) -> Expr:
        """Vensim's DELAY N(input, delay, initial, n): n stages whose stage times travel with
        the material (stage k uses the delay time of k - 1 steps before: "the output depends
        only on the values delay time had in previous Time Steps"), the order lowered at the
        start to the whole number of steps in the delay when that is fewer (Vensim warns and
        reduces it "so that delay time >= order * TIME STEP")."""
        source, delay = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        n, order, check = self.vensim_order(args[3], delay, "DELAY_N")
        stage_time = self.as_var(Binary("/", delay, order), "stage")
        upstream: Expr = source
        outputs: list[Expr] = []
        for _ in range(n):
            stock = self.new("hstock", Binary("*", args[2], stage_time), "stage")
            outflow = self.new("haux", Binary("/", Var(stock.key), stage_time), "out")
            if not outputs:  # the first stage's inflow: a flow of its own, as DELAYN's
                upstream = Var(self.new("haux", upstream, "in").key)
            assert isinstance(upstream, Var)
            stock.inflows += (upstream.name,)
            stock.outflows += (outflow.key,)
            upstream = Var(outflow.key)
            outputs.append(upstream)
            stage_time = self._previous((stage_time,))
        return check(_chosen(outputs, order))

    def _smooth_n(self, args: tuple[Expr, ...]) -> Expr:
        """Vensim's SMOOTH N(input, time, initial, n): n first-order smooths in series (stage
        time time/n), the order lowered at the start as DELAY N's."""
        source, smooth = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        n, order, check = self.vensim_order(args[3], smooth, "SMOOTH_N")
        stage_time = self.as_var(Binary("/", smooth, order), "stage")
        upstream: Expr = source
        outputs: list[Expr] = []
        for _ in range(n):
            stock = self.new("hstock", args[2], "stage")
            change = Binary("/", Binary("-", upstream, Var(stock.key)), stage_time)
            stock.inflows += (self.new("haux", change, "adjust").key,)
            upstream = Var(stock.key)
            outputs.append(upstream)
        return check(_chosen(outputs, order))

    def vensim_order(
        self, expr: Expr, time: Expr, name: str
    ) -> tuple[int, Expr, Callable[[Expr], Expr]]:
        """The stages to build for Vensim's order ``expr`` (a number, or an expression
        evaluated at the start: compile/orders.py), the order used (lowered at the start to
        the whole DTs in ``time`` when fewer), and what checks a run's order."""
        if isinstance(expr, Num):
            n, same = self.order(expr, name), None
        else:
            if len(self.known) != len(self.instances) + len(self.hidden):
                self.known = {i.key: i for i in (*self.instances, *self.hidden)}
            value = guess(expr, self.known, self.time.start, self.time.dt)
            if value is None:
                raise self.error(
                    f"the order of {name} must be a number, or an expression of constants "
                    "known at the start"
                )
            n = self.order(Num(value), name)
            same = self._init((expr,))
        dt = Call("DT", ())
        steps = Call("INT", (Binary("+", Binary("/", time, dt), Num(1e-9)),))
        order = self._init((Call("MIN", (Num(float(n)), Call("MAX", (Num(1.0), steps)))),))

        def check(output: Expr) -> Expr:
            # a run whose order is not the one built fails (NaN) rather than mislead
            return output if same is None else If(Binary("=", same, Num(float(n))), output, _NAN)

        return n, order, check

    def _sample_if_true(self, args: tuple[Expr, ...]) -> Expr:
        condition, source, initial = args
        held = self.new("prev", initial, "held")
        owner = self.owner
        if (
            owner is not None
            and isinstance(owner.expr, Call)
            and owner.expr.func == "SAMPLE_IF_TRUE"
        ):
            # the whole equation: the variable itself on the right is its previous value
            # (Vensim: "the same variable on the left and right side of an equation")
            condition = _renamed(condition, owner.key, held.key)
            source = _renamed(source, owner.key, held.key)
        sample = self.new("haux", If(condition, source, Var(held.key)), "sample")
        held.src = sample.key
        return Var(sample.key)

    def average(self, source: Expr, avg: Expr, start: Expr) -> Expr:
        """A first-order smooth of ``source`` over ``avg`` starting at ``start``."""
        stock = self.new("hstock", start, "average")
        change = self.new("haux", Binary("/", Binary("-", source, Var(stock.key)), avg), "adjust")
        stock.inflows += (change.key,)
        return Var(stock.key)

    def _safe_trend(self, args: tuple[Expr, ...]) -> Expr:
        source, avg = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        start = Binary("/", source, Binary("+", Num(1.0), Binary("*", args[2], avg)))
        average = self.average(source, avg, start)
        scale = Binary("*", avg, Call("ABS", (average,)))
        return Call("SAFEDIV", (Binary("-", source, average), scale))

    def _safe_forecast(self, args: tuple[Expr, ...]) -> Expr:
        source, avg = self.as_var(args[0], "input"), self.as_var(args[1], "time")
        average = self.average(source, avg, source)
        trend = Call("SAFEDIV", (Binary("-", source, average), Binary("*", avg, average)))
        return Binary("*", source, Binary("+", Num(1.0), Binary("*", trend, args[2])))

    def _time_base(self, args: tuple[Expr, ...]) -> Expr:
        return Binary("+", args[0], Binary("*", Call("TIME", ()), args[1]))

    def _pulse_window(self, args: tuple[Expr, ...]) -> Expr:
        start = self.as_var(args[0], "start")
        plus, width = _time_plus(), _at_least_dt(args[1])
        after = Binary(">", plus, start)
        return If(
            Binary("AND", after, Binary("<", plus, Binary("+", start, width))), Num(1.0), Num(0.0)
        )

    def _pulse_train(self, args: tuple[Expr, ...]) -> Expr:
        start, interval = self.as_var(args[0], "start"), self.as_var(args[2], "interval")
        plus, width = _time_plus(), _at_least_dt(args[1])
        # a pulse may start at end itself (Vensim's output of SDEverywhere's pulsetrain model:
        # 1 at TIME = end, 0 one DT later), so the train runs while TIME + DT/2 < end + DT
        last = Binary("+", args[3], Call("DT", ()))
        within = Binary("AND", Binary(">", plus, start), Binary("<", plus, last))
        phase = Call("MODULO", (Binary("-", plus, start), interval))
        return If(Binary("AND", within, Binary("<", phase, width)), Num(1.0), Num(0.0))

    def _active_initial(self, args: tuple[Expr, ...]) -> Expr:
        active = self.new("haux", args[0], "active")
        active.initial = args[1]
        return Var(active.key)


def _renamed(node: Expr, old: str, new: str) -> Expr:
    """``node`` with every reference to instance ``old`` made one to ``new``."""
    if isinstance(node, Var):
        return Var(new) if node.name == old else node
    if isinstance(node, Unary):
        return Unary(node.op, _renamed(node.operand, old, new))
    if isinstance(node, Binary):
        return Binary(node.op, _renamed(node.left, old, new), _renamed(node.right, old, new))
    if isinstance(node, If):
        return If(*(_renamed(part, old, new) for part in (node.cond, node.then, node.orelse)))
    if isinstance(node, Call):
        return Call(node.func, tuple(_renamed(a, old, new) for a in node.args))
    if isinstance(node, VarList):
        return VarList(tuple(_renamed(i, old, new) for i in node.items))
    return node


def _time_plus() -> Expr:
    """Vensim's "time plus": TIME + DT/2, against rounding in comparisons with TIME."""
    return Binary("+", Call("TIME", ()), Binary("/", Call("DT", ()), Num(2.0)))


def _at_least_dt(width: Expr) -> Expr:
    return Call("MAX", (width, Call("DT", ())))


def _chosen(items: list[Expr], position: Expr) -> Expr:
    """items[position - 1], by a balanced tree of choices (``position`` a whole number)."""

    def tree(lo: int, hi: int) -> Expr:
        if hi - lo == 1:
            return items[lo]
        mid = (lo + hi) // 2
        return If(Binary("<=", position, Num(float(mid))), tree(lo, mid), tree(mid, hi))

    return tree(0, len(items))


_NAN = Num(math.nan)
