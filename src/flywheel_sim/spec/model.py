"""The model as plain, frozen data.

A :class:`Model` holds stocks, flows, auxiliaries, parameters and lookups (all
:class:`Element`), named dimensions, declared feedback loops and the time settings. It is built
by :func:`flywheel_sim.load_model` (from YAML or XMILE) or directly in code, and changed with
:func:`dataclasses.replace`. Structural checks run when it is built; equations are checked by
:func:`flywheel_sim.compile_model`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.ast import KEYWORDS
from flywheel_sim.spec.names import RESERVED, canonical, canonical_elements

if TYPE_CHECKING:  # annotations only: a model without policies does not import the module
    from flywheel_sim.spec.analyses import AGGREGATES as AGGREGATES
    from flywheel_sim.spec.analyses import Aggregate as Aggregate
    from flywheel_sim.spec.analyses import DiagnosticsSpec as DiagnosticsSpec
    from flywheel_sim.spec.analyses import History as History
    from flywheel_sim.spec.analyses import HistorySeries as HistorySeries
    from flywheel_sim.spec.analyses import Report as Report
    from flywheel_sim.spec.layout import Layout
    from flywheel_sim.spec.policy import Policy
else:
    _ANALYSES = frozenset(
        {"AGGREGATES", "Aggregate", "DiagnosticsSpec", "History", "HistorySeries", "Report"}
    )

    def __getattr__(name: str) -> Any:
        """The analyses' settings, defined in :mod:`.analyses` (imported on first use: a model
        without history, report or diagnostics does not build them), still importable here."""
        if name in _ANALYSES:
            from flywheel_sim.spec import analyses

            return getattr(analyses, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Kind = Literal["stock", "flow", "aux", "parameter", "lookup"]
KINDS: tuple[Kind, ...] = ("stock", "flow", "aux", "parameter", "lookup")
METHODS = ("euler", "heun", "rk4")


@dataclass(frozen=True, slots=True)
class GraphicalFunction:
    """A lookup table: y as a piecewise function of x.

    ``kind`` follows XMILE: ``continuous`` (linear interpolation, clamped at both ends),
    ``extrapolate`` (linear interpolation and linear extrapolation beyond the ends) and
    ``discrete`` (each y holds from its x up to the next x; clamped).
    """

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    kind: Literal["continuous", "extrapolate", "discrete"] = "continuous"
    x_unit: str = ""  # the units of the input (the output's are the element's), for checking

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.ys):
            raise ModelError(f"lookup has {len(self.xs)} x values but {len(self.ys)} y values")
        if len(self.xs) < 1:
            raise ModelError("lookup needs at least one point")
        if any(b < a for a, b in zip(self.xs, self.xs[1:], strict=False)):
            raise ModelError("lookup x values must be in increasing order")
        if not all(math.isfinite(v) for v in (*self.xs, *self.ys)):
            raise ModelError("lookup points must be finite numbers")
        if self.kind not in ("continuous", "extrapolate", "discrete"):
            raise ModelError(f"unknown lookup type '{self.kind}'")


@dataclass(frozen=True, slots=True)
class Link:
    """A declared causal link into an element: where it comes from, its sign, its citation."""

    source: str
    polarity: Literal["+", "-", "?"] = "?"
    citation: str = ""


@dataclass(frozen=True, slots=True)
class Element:
    """One named variable of a model.

    - stock: ``equation`` is the initial value; ``inflows``/``outflows`` name flows.
    - flow, aux: ``equation`` is the value; an aux with ``lookup`` is ``lookup(equation)``.
    - parameter: ``default`` (a number, or per-element numbers), ``minimum``, ``maximum``.
    - lookup: a graphical function called like a function, ``name(x)``.

    A parameter may carry a ``policy`` (:mod:`flywheel_sim.spec.policy`): a path over time
    that starts from its value.

    ``dims`` makes the element an array; ``element_equations`` gives single elements (key
    ``"amazon"``, or ``"a,b"`` for several dimensions) their own equation.
    """

    name: str
    kind: Kind
    equation: str = ""
    dims: tuple[str, ...] = ()
    element_equations: tuple[tuple[str, str], ...] = ()
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    non_negative: bool = False
    default: float | tuple[tuple[str, float], ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    lookup: GraphicalFunction | None = None
    unit: str = ""
    description: str = ""
    source: str = ""
    links: tuple[Link, ...] = ()
    line: int | None = None
    policy: Policy | None = None  # a parameter's path over time (its value is then the base)
    # what the value must stay within (checked by the model tests): a number or a variable's
    # name at each end, None for no bound ("a share in [0, 1]", "prime members <= customers")
    bounds: tuple[float | str | None, float | str | None] | None = None
    # the canonical name (XMILE matching rules), made once: the compiler asks for it often
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", canonical(self.name))


@dataclass(frozen=True, slots=True)
class Dimension:
    """A named dimension: its elements and the dimensions it maps onto."""

    name: str
    elements: tuple[str, ...]
    line: int | None = None
    # dimensions this one maps onto, element by element in order (XMILE's <isee:maps_to>,
    # Vensim's ``DimA: a1, a2 -> DimB``): an equation over either reads the other's arrays
    maps_to: tuple[str, ...] = ()
    # mappings that pair elements otherwise than in order (Vensim's ``DimB: b1, b2 -> (DimA:
    # SubA, a3)``): per target in maps_to, the target's elements each of ours pairs with
    # (one, or several when a subrange is listed); a target not here pairs by position
    pairs: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """A feedback loop the modeller names: its variables in order and its expected polarity."""

    name: str
    variables: tuple[str, ...]
    polarity: Literal["R", "B", "?"] = "?"
    description: str = ""
    source: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """The simulated time: start, stop, step (dt), saving step, units and integration method."""

    start: float = 0.0
    stop: float = 100.0
    dt: float = 1.0
    save_step: float | None = None
    units: str = "time"
    method: str = "euler"

    def __post_init__(self) -> None:
        for label, value in (("start", self.start), ("stop", self.stop), ("dt", self.dt)):
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ModelError(f"time {label} must be a finite number, not {value!r}")
        if self.stop <= self.start:
            raise ModelError(
                f"time stop ({self.stop}) must be after start ({self.start})",
                hint="set time.stop greater than time.start",
            )
        if self.dt <= 0:
            raise ModelError(f"time dt must be positive, not {self.dt}")
        if self.save_step is not None and not (
            isinstance(self.save_step, int | float) and math.isfinite(self.save_step)
        ):
            raise ModelError(f"time save_step must be a finite number, not {self.save_step!r}")
        if self.save_step is not None and self.save_step <= 0:
            raise ModelError(f"time save_step must be positive, not {self.save_step}")
        if self.method.lower() not in METHODS:
            hint = did_you_mean(self.method.lower(), METHODS) or f"use one of {', '.join(METHODS)}"
            raise ModelError(f"unknown integration method '{self.method}'", hint=hint)


@dataclass(frozen=True, slots=True)
class Model:
    """A complete model: plain data, immutable, validated when built."""

    name: str
    elements: tuple[Element, ...]
    time: TimeSpec = field(default_factory=TimeSpec)
    description: str = ""
    dimensions: tuple[Dimension, ...] = ()
    loops: tuple[LoopSpec, ...] = ()
    history: History | None = None
    report: Report | None = None
    diagnostics: DiagnosticsSpec | None = None
    file: str | None = None
    text: str | None = None
    units: tuple[tuple[str, str], ...] = ()  # the model's own unit words: name, definition
    # what a reader ignored or chose for the file (shown by `flywheel check`); not compared
    notes: tuple[str, ...] = field(default=(), compare=False)
    # the diagram as the modeller drew it (spec/layout.py); presentation only: not compared
    layout: Layout | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _validate(self)
        _validate_references(self)
        if self.layout is not None:
            self.layout.check((e.key for e in self.elements), self.file)

    def __iter__(self) -> Iterator[Element]:
        return iter(self.elements)

    def element(self, name: str) -> Element:
        """The element called ``name`` (XMILE matching); ModelError with a hint if absent."""
        key = canonical(name)
        for element in self.elements:
            if element.key == key:
                return element
        hint = did_you_mean(key, [e.key for e in self.elements])
        raise ModelError(f"model '{self.name}' has no variable '{name}'", file=self.file, hint=hint)

    def with_policies(self, policies: Mapping[str, Policy | None]) -> Model:
        """A copy in which the named parameters follow time-varying policies (None removes
        one). The parameters stay parameters: their value is the base the policy starts from.
        """
        wanted = {}
        for name, policy in policies.items():
            element = self.element(name)
            if element.kind != "parameter":
                raise ModelError(
                    f"a policy can only change a parameter, and '{element.name}' is a "
                    f"{element.kind}",
                    file=self.file,
                    line=element.line,
                    variable=element.name,
                    hint="give the policy to one of the parameters its equation uses",
                )
            wanted[element.key] = policy
        if not wanted:
            return self
        elements = tuple(
            replace(e, policy=wanted[e.key]) if e.key in wanted else e for e in self.elements
        )
        return replace(self, elements=elements)

    @property
    def policies(self) -> dict[str, Policy]:
        """The parameters that follow a policy, and their policies."""
        return {e.key: e.policy for e in self.elements if e.policy is not None}

    def of_kind(self, kind: Kind) -> tuple[Element, ...]:
        return tuple(e for e in self.elements if e.kind == kind)

    def dimension(self, name: str) -> Dimension:
        key = canonical(name)
        for dim in self.dimensions:
            if canonical(dim.name) == key:
                return dim
        hint = did_you_mean(key, [canonical(d.name) for d in self.dimensions])
        raise ModelError(f"unknown dimension '{name}'", file=self.file, hint=hint)


def _mapping_problem(dim: Dimension, dims: dict[str, Dimension]) -> str:
    """What is wrong with ``dim``'s mappings (maps_to, pairs), or ""."""
    listed = {canonical(t): p for t, p in dim.pairs}
    if not set(listed) <= {canonical(t) for t in dim.maps_to}:
        return "lists pairs for a dimension it does not map to"
    for target in dim.maps_to:
        other = dims.get(canonical(target))
        if other is None or other is dim:
            return f"maps to '{target}', which is not another dimension"
        pairs = listed.get(canonical(target))
        if pairs is None and len(other.elements) != len(dim.elements):
            return (
                f"({len(dim.elements)} elements) maps to '{target}' ({len(other.elements)}) "
                "by position: list the pairs"
            )
        members = set(canonical_elements(other.elements))
        if pairs is not None and (
            len(pairs) != len(dim.elements)
            or not all(p and set(canonical_elements(p)) <= members for p in pairs)
        ):
            return f"lists pairs with '{target}' that are not one set of its elements per element"
    return ""


def _validate(model: Model) -> None:
    seen: dict[str, Element] = {}
    dims = {canonical(d.name): d for d in model.dimensions}
    for dim in model.dimensions:
        if not dim.elements:
            raise ModelError(
                f"dimension '{dim.name}' has no elements", file=model.file, line=dim.line
            )
        if canonical(dim.name) in RESERVED:
            raise ModelError(
                f"dimension '{dim.name}' has a name the results use for their own coordinates",
                file=model.file,
                line=dim.line,
                hint=f"rename it: {', '.join(sorted(RESERVED))} are reserved",
            )
        keys = canonical_elements(dim.elements)
        if len(set(keys)) != len(keys):
            raise ModelError(
                f"dimension '{dim.name}' lists an element twice", file=model.file, line=dim.line
            )
        problem = _mapping_problem(dim, dims)
        if problem:
            raise ModelError(f"dimension '{dim.name}' {problem}", file=model.file, line=dim.line)
    for element in model.elements:
        where: dict[str, Any] = {"file": model.file, "line": element.line, "variable": element.name}
        if element.kind not in KINDS:
            raise ModelError(f"'{element.name}' has unknown kind '{element.kind}'", **where)
        if not element.key:
            raise ModelError("a variable has an empty name", **where)
        if element.key in seen:
            raise ModelError(
                f"'{element.name}' is defined twice",
                **where,
                hint="rename one of them (names ignore case, spaces and _)",
            )
        seen[element.key] = element
        _validate_name(element, dims, where, model.elements)
        for dim_name in element.dims:
            if canonical(dim_name) not in dims:
                hint = did_you_mean(canonical(dim_name), dims)
                raise ModelError(
                    f"'{element.name}' uses unknown dimension '{dim_name}'",
                    **where,
                    hint=hint or "declare it under dimensions:",
                )
        _validate_parameter(element, where)
        if element.kind == "lookup" and element.lookup is None:
            raise ModelError(f"lookup '{element.name}' has no points", **where)
        if (
            element.kind in ("stock", "flow", "aux")
            and not element.equation.strip()
            and not (element.element_equations)
        ):
            raise ModelError(
                f"{element.kind} '{element.name}' has no equation",
                **where,
                hint="give it an equation (a stock's is its initial value)",
            )
    for element in model.of_kind("stock"):
        where = {"file": model.file, "line": element.line, "variable": element.name}
        _validate_stock_flows(element, seen, where)
        for flow in (*element.inflows, *element.outflows):
            target = seen.get(canonical(flow))
            if target is not None and target.kind != "flow":
                raise ModelError(
                    f"stock '{element.name}' names '{flow}' as a flow, but '{flow}' is "
                    f"{'an' if target.kind == 'aux' else 'a'} "
                    f"{ {'aux': 'auxiliary'}.get(target.kind, target.kind) }",
                    **where,
                    hint=f"declare '{flow}' under flows:",
                )
            if target is None:
                hint = did_you_mean(
                    canonical(flow), [k for k, e in seen.items() if e.kind == "flow"]
                )
                raise ModelError(
                    f"stock '{element.name}' names '{flow}' as a flow but there is no such flow",
                    **where,
                    hint=hint,
                )


def _validate_name(
    element: Element,
    dims: Mapping[str, Dimension],
    where: dict[str, Any],
    elements: tuple[Element, ...] = (),
) -> None:
    """A name may not be a result coordinate or a dimension; a name that is a keyword of the
    equations (Vensim models have a ``mod``) must be written in double quotes wherever an
    equation uses it, as the readers and writers do (``"mod" * 2``): written bare, it would be
    read as the operator."""
    kind = {"aux": "auxiliary"}.get(element.kind, element.kind)
    if element.key in RESERVED:
        raise ModelError(
            f"{kind} '{element.name}' has a name the results use for their own coordinates",
            **where,
            hint=f"rename it: {', '.join(sorted(RESERVED))} are reserved",
        )
    if element.key in dims:
        raise ModelError(
            f"{kind} '{element.name}' has the name of a dimension",
            **where,
            hint="rename the variable or the dimension",
        )
    if element.key in KEYWORDS:
        bare = _bare_keyword_user(element.key, elements)
        if bare is not None or not elements:
            used = f" and '{bare}' writes it bare" if bare is not None else ""
            raise ModelError(
                f"{kind} '{element.name}' is named like a keyword of the equations{used}, "
                "which would read it as the operator",
                **where,
                hint=f'write it in double quotes ("{element.key}") or rename it: '
                f"{', '.join(sorted(KEYWORDS))} are keywords",
            )


def _bare_keyword_user(keyword: str, elements: tuple[Element, ...]) -> str | None:
    """The first element whose equations write ``keyword`` bare (outside double quotes)."""
    word = re.compile(rf"(?<![\w.]){keyword}(?![\w.])", re.IGNORECASE)
    for other in elements:
        for text in (other.equation, *(t for _, t in other.element_equations)):
            if text and word.search(_QUOTED.sub("", text)):
                return other.name
    return None


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _validate_stock_flows(
    stock: Element, elements: Mapping[str, Element], where: dict[str, Any]
) -> None:
    """Each flow is listed once, and a flow is over the stock's dimensions (docs:
    model-format.md, Dimensions): a flow listed twice would count twice (or cancel out), and a
    scalar flow into an arrayed stock would reach every element in full."""
    listed: dict[str, str] = {}
    for side, flows in (("inflows", stock.inflows), ("outflows", stock.outflows)):
        for flow in flows:
            key = canonical(flow)
            if key in listed:
                both = (
                    f"twice in {side}; it would count twice"
                    if listed[key] == side
                    else "in both inflows and outflows; it would cancel out"
                )
                raise ModelError(
                    f"stock '{stock.name}' lists flow '{flow}' {both}",
                    **where,
                    hint="list each flow once",
                )
            listed[key] = side
            target = elements.get(key)
            if target is None or target.kind != "flow":
                continue  # reported below with a hint
            mine = sorted(canonical(d) for d in stock.dims)
            theirs = sorted(canonical(d) for d in target.dims)
            if mine != theirs:
                over = f"over [{', '.join(target.dims)}]" if target.dims else "not arrayed"
                mine_text = f"over [{', '.join(stock.dims)}]" if stock.dims else "not arrayed"
                raise ModelError(
                    f"flow '{flow}' of stock '{stock.name}' is {over}, but the stock is "
                    f"{mine_text}",
                    **where,
                    hint="a stock's flows must be over the stock's dimensions "
                    "(docs/model-format.md, Dimensions)",
                )


def _validate_parameter(element: Element, where: dict[str, Any]) -> None:
    if element.kind != "parameter":
        return
    file, line = where["file"], where["line"]
    assert file is None or isinstance(file, str)
    assert line is None or isinstance(line, int)
    if element.default is None:
        raise ModelError(
            f"parameter '{element.name}' has no default",
            file=file,
            line=line,
            variable=element.name,
        )
    values = (
        [element.default]
        if isinstance(element.default, int | float)
        else [v for _, v in element.default]
    )
    lo, hi = element.minimum, element.maximum
    for label, bound in (("min", lo), ("max", hi)):
        if bound is not None and not math.isfinite(bound):
            raise ModelError(
                f"parameter '{element.name}' {label} must be a finite number, not {bound}",
                file=file,
                line=line,
                variable=element.name,
                hint="leave it out for no bound",
            )
    if lo is not None and hi is not None and lo > hi:
        raise ModelError(
            f"parameter '{element.name}' has min {lo} above max {hi}",
            file=file,
            line=line,
            variable=element.name,
        )
    for value in values:
        if not math.isfinite(value):
            raise ModelError(
                f"parameter '{element.name}' default must be finite",
                file=file,
                line=line,
                variable=element.name,
            )
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ModelError(
                f"parameter '{element.name}' default {value} is outside its range [{lo}, {hi}]",
                file=file,
                line=line,
                variable=element.name,
            )


def _validate_references(model: Model) -> None:
    """Names used by loops, history and report must be variables of the model."""
    keys = {e.key: e for e in model.elements}
    uses: list[tuple[str, str, int | None]] = []
    for loop in model.loops:
        uses += [(v, f"loop '{loop.name}'", loop.line) for v in loop.variables]
    if model.history is not None:
        uses += [(s.variable, "history", model.history.line) for s in model.history.series]
    if model.report is not None:
        uses += [
            (v, "report", model.report.line) for v in (*model.report.variables, *model.report.chart)
        ]
    if model.diagnostics is not None:
        spec = model.diagnostics
        uses += [(n, "diagnostics", spec.line) for n in (spec.push, spec.stock, spec.outcome) if n]
        for name, _ in spec.stop:
            element = keys.get(canonical(name))
            if element is not None and element.kind != "parameter":
                raise ModelError(
                    f"diagnostics coast stops '{name}', which is a {element.kind}, not a parameter",
                    file=model.file,
                    line=spec.line,
                    hint="list the parameters that push or invest",
                )
            uses.append((name, "diagnostics coast", spec.line))
    for e in model.elements:
        for end in e.bounds or ():
            if isinstance(end, str):
                uses.append((end, f"the bounds of '{e.name}'", e.line))
    for name, where, line in uses:
        element = keys.get(canonical(name))
        if element is None or element.kind == "lookup":
            hint = did_you_mean(canonical(name), list(keys))
            raise ModelError(
                f"{where} names '{name}', which is not a variable of the model",
                file=model.file,
                line=line,
                hint=hint,
            )
