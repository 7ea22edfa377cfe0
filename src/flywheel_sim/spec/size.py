"""How large a model becomes when compiled, counted before anything is expanded.

A model file of a few hundred bytes can ask for a billion-element dimension, a product of
dimensions with more scalar variables than memory holds, a reduction ``SUM(x[*])`` inside
every element of a large array (n² terms), or delay chains of a thousand stages repeated
thousands of times. These are counted from the model's declarations and equations alone (no
array is expanded) and checked against :mod:`flywheel_sim.limits`; going over gives a
:class:`~flywheel_sim.errors.LimitError` naming the file, the line, the variable and the
count.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flywheel_sim.errors import LimitError, ModelError
from flywheel_sim.limits import DEFAULT, ENVIRONMENT, Limits, check_environment
from flywheel_sim.spec.ast import Call, Expr, Num, Var, walk
from flywheel_sim.spec.builtins import ALIASES
from flywheel_sim.spec.model import Element, Model
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

# the largest order n of DELAYN and SMTHN: a chain of n hidden stocks (and as many flows)
MAX_ORDER = 1000


def too_large(
    what: str,
    limit_name: str,
    limit: int,
    *,
    file: str | None = None,
    line: int | None = None,
    hint: str | None = None,
) -> LimitError:
    """A one-line LimitError: what is too large, where, the limit and how to stay under it."""
    where = file or ""
    if line is not None:
        where = f"{where}:{line}" if where else f"line {line}"
    text = f"{what}, more than the limit of {limit:,} ({limit_name})"
    if where:
        text = f"{text} ({where})"
    fix = hint or "make the model smaller"
    variable = ENVIRONMENT[limit_name]
    return LimitError(
        f"{text} — {fix}, or raise the limit with {variable}=N in the environment "
        f"(API: Limits({limit_name}=N), flywheel_sim.limits)"
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large model is built or compiled.

    Building a model makes hundreds of thousands of small objects that all stay alive, and the
    collector would walk them again and again (a third of the time of loading and compiling a
    50,000-variable model); nothing built here needs it, reference counting frees what is
    dropped. It runs again afterwards, and is left alone if someone had already paused it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_dimension_size(
    name: str, size: int, *, file: str | None, line: int | None, limits: Limits = DEFAULT
) -> None:
    """Refuse a dimension of more than ``limits.max_dimension_size`` elements (before its
    elements are made)."""
    if size > limits.max_dimension_size:
        raise too_large(
            f"dimension '{name}' has {size:,} elements",
            "max_dimension_size",
            limits.max_dimension_size,
            file=file,
            line=line,
            hint="use fewer elements",
        )


def order_of(node: Call) -> int | None:
    """The order n of a DELAYN/SMTHN call when it is a valid one (a whole number from 1 to
    MAX_ORDER written as a number), else None (the compiler then says what is wrong)."""
    if len(node.args) < 3 or not isinstance(node.args[2], Num):
        return None
    value = node.args[2].value
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_ORDER:
        return None
    return int(value)


def hidden_count(node: Call) -> int:
    """At most how many hidden variables the stateful builtin ``node`` expands into."""
    func = ALIASES.get(node.func, node.func)
    if func in ("DELAYN", "SMTHN"):
        n = order_of(node)
        return 0 if n is None else 2 * n + 3
    if func in ("DELAY_N", "SMOOTH_N"):  # Vensim's: the order is the 4th argument
        n = order_of(Call(func, (*node.args[:2], *node.args[3:4])))
        return 0 if n is None else 3 * n + 6
    return {
        "DELAY1": 5,
        "DELAY3": 9,
        "SMTH1": 4,
        "SMTH3": 8,
        "TREND": 4,
        "FORCST": 4,
        "INIT": 2,
        "PREVIOUS": 2,
        "DELAY": 5,
        "HISTORY": 3,
        "NPV": 6,
        "NPVE": 7,
        "DELAY_FIXED": 5,
        "DELAY_MATERIAL": 5,
        "SAMPLE_IF_TRUE": 2,
        "SAFE_TREND": 4,
        "SAFE_FORECAST": 4,
        "ACTIVE_INITIAL": 1,
        "RANDOM_NORMAL": 17,  # compile/random_vensim.py: its arguments and 12 draws (and
        "RANDOM_POISSON": 18,  # a stream ID's check)
        "RANDOM_EXPONENTIAL": 7,
        "RANDOM_TRIANGULAR": 12,
        "RANDOM_BETA": 1080,  # compile/random_shapes.py: 12 redraws of 2 gammas of 12 tries
        "RANDOM_BINOMIAL": 1230,  # 12 redraws of up to 100 trials
        "RANDOM_NEGATIVE_BINOMIAL": 560,
        "RANDOM_WEIBULL": 12,
    }.get(func, 0)


@dataclass(frozen=True, slots=True)
class Size:
    """What one element costs: scalar instances, reduction terms, hidden variables."""

    instances: int
    terms: int
    hidden: int


ARRAY_FUNCTIONS = frozenset(
    {"SUM", "MEAN", "PROD", "STDDEV", "MIN", "MAX", "RANK"}
    | {"ELEMENT_AT", "VECTOR_RANK", "VECTOR_SORT_ORDER", "VECTOR_SELECT", "ALLOCATE_BY_PRIORITY"}
    | {"ALLOCATE_AVAILABLE", "INVERT_MATRIX"}
)
_SQUARED = frozenset({"RANK", "VECTOR_RANK", "VECTOR_SORT_ORDER"})  # compare every pair


class Counter:
    """Counts a model's compiled size from its declarations and equations."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.dims = {canonical(d.name): len(d.elements) for d in model.dimensions}
        self.elements = {e.key: e for e in model.elements}

    def instances(self, element: Element) -> int:
        n = 1
        for dim in element.dims:
            n *= self.dims.get(canonical(dim), 1)
        return n

    def whole(self, target: Element | None, own: frozenset[str]) -> int:
        """The elements an array without subscripts stands for inside an array function: all
        of them, or its one element when the equation is over all its dimensions."""
        if target is None or all(canonical(d) in own for d in target.dims):
            return 1
        return self.instances(target)

    def equation_cost(self, text: str, own: frozenset[str] = frozenset()) -> tuple[int, int]:
        """Reduction terms and hidden variables of one scalar instance of ``text``, in an
        equation over the dimensions ``own`` (canonical names)."""
        try:
            tree: Expr = parse(text)
        except ModelError:  # the compiler reports a bad equation with its place
            return 0, 0
        terms = hidden = 0
        for node in walk(tree):
            if isinstance(node, Var) and node.subscripts:
                target = self.elements.get(node.name)
                if target is None or len(target.dims) != len(node.subscripts):
                    continue
                width, many = 1, False
                for sub, dim in zip(node.subscripts, target.dims, strict=True):
                    # *, dim.*, a range, or a subscript computed while running (one choice
                    # per element): at most the whole dimension
                    if not isinstance(sub, int) and not (
                        isinstance(sub, str)
                        and sub != "*"
                        and not sub.endswith(".*")
                        and sub not in self.elements
                    ):
                        width *= self.dims.get(canonical(dim), 1)
                        many = True
                if many:
                    terms += width
            elif isinstance(node, Call):
                hidden += hidden_count(node)
                if node.func in ARRAY_FUNCTIONS:  # SUM(x): all of x
                    for arg in node.args:
                        if isinstance(arg, Var) and not arg.subscripts:
                            width = self.whole(self.elements.get(arg.name), own)
                            terms += width * width if node.func in _SQUARED else width
                        elif not isinstance(arg, Var):
                            # SUM(x * 2): an array without subscripts in an expression is
                            # evaluated element by element over all of it (a starred
                            # reference there is counted where the walk meets it)
                            for inner in walk(arg):
                                if isinstance(inner, Var) and not inner.subscripts:
                                    target = self.elements.get(inner.name)
                                    if target is not None and target.dims:
                                        terms += self.whole(target, own)
        return terms, hidden

    def size(self, element: Element) -> Size:
        n = self.instances(element)
        if element.kind == "lookup":
            return Size(0, 0, 0)
        if element.kind == "parameter":
            return Size(2 * n if element.policy is not None else n, 0, 0)
        own = frozenset(canonical(d) for d in element.dims)
        terms, hidden = self.equation_cost(element.equation, own) if element.equation else (0, 0)
        terms, hidden = terms * n, hidden * n
        for _, text in element.element_equations:
            more_terms, more_hidden = self.equation_cost(text, own)
            terms += more_terms
            hidden += more_hidden
        return Size(n, terms, hidden)


def check_model_size(model: Model, limits: Limits = DEFAULT) -> None:
    """Refuse a model whose dimensions, scalar instances (with the terms of its reductions)
    or hidden variables of delays and smooths exceed ``limits``, before expanding it."""
    check_environment()
    for dim in model.dimensions:
        check_dimension_size(
            dim.name, len(dim.elements), file=model.file, line=dim.line, limits=limits
        )
    counter = Counter(model)
    total = hidden = 0
    largest: tuple[int, Element | None] = (-1, None)
    largest_hidden: tuple[int, Element | None] = (-1, None)
    for element in model.elements:
        size = counter.size(element)
        cost = size.instances + size.terms
        total += cost
        hidden += size.hidden
        if cost > largest[0]:
            largest = (cost, element)
        if size.hidden > largest_hidden[0]:
            largest_hidden = (size.hidden, element)
    if total > limits.max_instances:
        cost, worst = largest
        assert worst is not None
        n = counter.instances(worst)
        detail = f"'{worst.name}' alone {cost:,}" + (f" ({n:,} elements)" if worst.dims else "")
        raise too_large(
            f"model '{model.name}' expands to {total:,} scalar variables and reduction terms; "
            f"{detail}",
            "max_instances",
            limits.max_instances,
            file=model.file,
            line=worst.line,
            hint="use smaller dimensions, or compute a reduction once in a scalar variable",
        )
    if hidden > limits.max_expansion:
        cost, worst = largest_hidden
        assert worst is not None
        raise too_large(
            f"the delays and smooths of model '{model.name}' expand to {hidden:,} hidden "
            f"variables; '{worst.name}' alone {cost:,}",
            "max_expansion",
            limits.max_expansion,
            file=model.file,
            line=worst.line,
            hint="use lower orders (DELAY3 for DELAYN(x, t, 1000)) or fewer delays",
        )


__all__ = [
    "MAX_ORDER",
    "Counter",
    "Size",
    "check_dimension_size",
    "check_model_size",
    "collector_paused",
    "hidden_count",
    "order_of",
    "too_large",
]
