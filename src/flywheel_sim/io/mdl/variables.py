"""One Vensim variable (all the records that define it) as the parts of an Element.

A variable is defined by one record (``x = ...``, ``x[Dim] = ...``) or by several, one per
element or group of elements (``x[a1] = ...``, ``x[Sub] = ...``, ``x[Dim] :EXCEPT: [a1] =
...``). One apply-to-all record over whole dimensions gives one equation; anything else gives an
equation per element, with the record's dimensions in its right side replaced by the element.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import Table, parse_expression, strip_comments
from flywheel_sim.io.mdl.functions import Translator
from flywheel_sim.io.mdl.sinteg import sinteg
from flywheel_sim.io.mdl.vector_args import count_elements
from flywheel_sim.limits import DEFAULT
from flywheel_sim.spec.ast import (
    Binary,
    Call,
    Expr,
    If,
    Num,
    Subscript,
    Unary,
    Var,
    VarList,
    walk,
)
from flywheel_sim.spec.mappings import element_pairs, paired_element
from flywheel_sim.spec.model import Dimension
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.size import too_large

_TABBED = re.compile(r"TABBED\s+ARRAY\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_NUMBERS = re.compile(r"[\s\d.eE+\-,;]+\Z")


@dataclass
class Lhs:
    """The left side of a record: name, subscripts, :EXCEPT: lists, operator and right side."""

    name: str
    subs: list[str]
    excepts: list[list[str]]
    op: str
    rhs: str
    line: int
    tree: Expr | None = None  # the right side already parsed (a macro's copy)
    tables: list[Table] = field(default_factory=list)
    keyword: str = ""  # a data equation's :HOLD BACKWARD: ...


@dataclass
class Definition:
    """One record's meaning: a constant, an expression, a stock or a lookup-with-input."""

    kind: str  # const, aux, stock, withlookup
    cells: list[tuple[str, ...]]  # the elements (canonical, one per variable dimension)
    values: list[float] = field(default_factory=list)  # const: one per cell, or one for all
    expr: Expr | None = None  # aux: the equation; stock: the rate; withlookup: the input
    init: Expr | None = None  # stock: the initial value
    table: Table | None = None
    own: list[str] = field(default_factory=list)  # the record's dimension at each position


@dataclass
class Variable:
    name: str
    dims: tuple[str, ...]  # display names
    kind: str
    line: int
    whole: bool  # one record over all its dimensions: one equation
    definitions: list[tuple[Definition, dict[str, str] | None]]


def parse_values(rhs: str) -> list[float] | None:
    """``1, 2, 3`` or ``1, 2; 3, 4;`` (row by row), or ``TABBED ARRAY(1 2 3)`` (values
    separated by tabs and rows by line breaks) as numbers, or None. ``{...}`` between them
    is a comment (``0, {transport} 1, {power} 2``)."""
    rhs = strip_comments(rhs)
    tabbed = _TABBED.fullmatch(rhs.strip())
    if tabbed is not None:
        try:
            return [float(p) for p in tabbed.group(1).split()]
        except ValueError:
            raise ModelError("TABBED ARRAY holds something other than numbers") from None
    if not _NUMBERS.match(rhs) or not any(c.isdigit() for c in rhs):
        return None
    try:
        return [float(p) for p in re.split(r"[,;]", rhs) if p.strip()]
    except ValueError:
        return None


class Builder:
    """Turns the records of one variable into a :class:`Variable`."""

    def __init__(
        self,
        dims: tuple[Dimension, ...],
        translator: Translator,
        expand: Callable[[Expr, Lhs], Expr] | None = None,
        method: str = "euler",
    ) -> None:
        self.expand = expand
        self.method = method  # the integration method (SINTEG needs Euler)
        self.dims = {canonical(d.name): d for d in dims}
        self.elements = {k: tuple(canonical(e) for e in d.elements) for k, d in self.dims.items()}
        self.translator = translator
        self.new_dims: list[Dimension] = []  # ranges of variables defined for some elements
        self.maps: dict[str, set[str]] = {}
        for dim in dims:
            for target in dim.maps_to:
                self.maps.setdefault(canonical(dim.name), set()).add(canonical(target))
                self.maps.setdefault(canonical(target), set()).add(canonical(dim.name))
        self.pairings = element_pairs(dims)

    def variable(self, name: str, lhss: list[Lhs]) -> Variable:
        first = lhss[0]
        whole = (
            len(lhss) == 1
            and not first.excepts
            and all(canonical(s) in self.dims for s in first.subs)
        )
        dims = tuple(canonical(s) for s in first.subs) if whole else self.variable_dims(name, lhss)
        defs = []
        for lhs in lhss:
            try:
                defs.append(self.definition(lhs, dims, whole))
            except ModelError as exc:
                raise exc.located(line=lhs.line, variable=name) from None
        if whole and dims and any(self.uses_dimension(d) for d in defs):
            whole = False  # each element's own position, or own lookup table
        kinds = {d.kind for d in defs}
        if len(kinds) == 1:
            kind = kinds.pop()
        elif kinds <= {"const", "aux"}:
            kind = "aux"
        else:
            raise ModelError(
                f"'{name}' is defined as {' and as '.join(sorted(kinds))} for different "
                "elements: not supported yet",
                line=first.line,
                variable=name,
            )
        if not whole:
            dims = self.narrow(name, dims, defs, first.line)
            self.check_cover(name, dims, defs, first.line)
        display = tuple(self.dims[d].name for d in dims)
        return Variable(name, display, kind, first.line, whole, [(d, None) for d in defs])

    def variable_dims(self, name: str, lhss: list[Lhs]) -> tuple[str, ...]:
        """The dimension at each position: the one named there that holds every element
        defined there, else the smallest dimension that does."""
        count = len(lhss[0].subs)
        out = []
        for pos in range(count):
            named: list[str] = []
            covered: set[str] = set()
            for lhs in lhss:
                if len(lhs.subs) != count:
                    raise ModelError(
                        f"'{name}' is defined with {len(lhs.subs)} and {count} subscripts",
                        line=lhs.line,
                        variable=name,
                    )
                sub = canonical(lhs.subs[pos])
                if sub in self.dims:
                    named.append(sub)
                    covered.update(self.elements[sub])
                else:
                    covered.add(sub)
            holding = [k for k, els in self.elements.items() if covered <= set(els)]
            if not holding:
                raise ModelError(
                    f"no subscript range holds all the elements '{name}' is defined for "
                    f"at position {pos + 1}",
                    line=lhss[0].line,
                    variable=name,
                )
            chosen = [k for k in named if k in holding]
            if chosen:
                out.append(max(chosen, key=lambda k: len(self.elements[k])))
            else:
                out.append(min(holding, key=lambda k: len(self.elements[k])))
        return tuple(out)

    def cells(self, lhs: Lhs, dims: tuple[str, ...]) -> tuple[list[tuple[str, ...]], list[str]]:
        """The elements a record defines, and its dimension at each position ("" for one
        element)."""
        lists, own = [], []
        for sub, dim in zip(lhs.subs, dims, strict=True):
            key = canonical(sub)
            if key in self.dims:
                lists.append(self.elements[key])
                own.append(key)
            elif key in self.elements[dim]:
                lists.append((key,))
                own.append("")
            else:
                raise ModelError(f"'{sub}' is not an element of '{self.dims[dim].name}'")
        _check_count(lhs.name, math.prod(len(x) for x in lists), lhs.line)
        cells = list(itertools.product(*lists))
        for listed in lhs.excepts:
            skip = self.cells(Lhs(lhs.name, listed, [], "", "", lhs.line), dims)[0]
            cells = [c for c in cells if c not in set(skip)]
        return cells, own

    def definition(self, lhs: Lhs, dims: tuple[str, ...], whole: bool) -> Definition:
        cells, own = self.cells(lhs, dims) if dims else ([()], [])
        values = parse_values(lhs.rhs)
        if values is not None:
            if len(values) not in (1, len(cells)):
                raise ModelError(
                    f"{len(values)} values are given for {len(cells)} elements",
                    hint="give one value, or one per element (rows separated by ;)",
                )
            return Definition("const", cells, values=values, own=own)
        if lhs.tree is not None:
            tree, tables = lhs.tree, lhs.tables
        else:
            tree, tables = parse_expression(lhs.rhs)
            if self.expand is not None:
                tree = self.expand(tree, lhs)
            tree = count_elements(tree, self.elements)  # before d is replaced per element
        definition = Definition("aux", cells, own=own)
        if isinstance(tree, Call) and tree.func == "SINTEG":
            itself = Var(canonical(lhs.name), tuple(canonical(s) for s in lhs.subs))
            definition.kind = "stock"
            definition.expr, definition.init = sinteg(tree.args, itself, self.method)
        elif isinstance(tree, Call) and tree.func == "INTEG":
            if len(tree.args) != 2:
                raise ModelError("INTEG takes 2 arguments (rate, initial value)")
            definition.kind = "stock"
            definition.expr, definition.init = tree.args
        elif isinstance(tree, Call) and tree.func == "WITH LOOKUP":
            definition.kind = "withlookup"
            definition.expr = tree.args[0]
            definition.table = tables[0]
        else:
            definition.expr = tree
        return definition

    def narrow(
        self, name: str, dims: tuple[str, ...], defs: list[Definition], line: int
    ) -> tuple[str, ...]:
        """A variable defined for some elements of a range only (``x[a] = ...``, ``x[c] =
        ...``) is over those elements, as Vensim computes and saves only them: a range of its
        own, ``<name> elements``, when the elements defined form a full grid."""
        cells = {cell for d in defs for cell in d.cells}
        used = [{cell[i] for cell in cells} for i in range(len(dims))]
        if len(cells) != math.prod(len(u) for u in used):
            return dims  # not a grid: refused by check_cover
        out = list(dims)
        for i, dim in enumerate(dims):
            if used[i] == set(self.elements[dim]):
                continue
            label = f"{name} elements" + (f" {i + 1}" if len(dims) > 1 else "")
            while canonical(label) in self.dims or canonical(label) in self.translator.names:
                label += " range"
            display = {canonical(e): e for e in self.dims[dim].elements}
            members = tuple(display[e] for e in self.elements[dim] if e in used[i])
            new = Dimension(label, members, line)
            self.new_dims.append(new)
            self.dims[canonical(label)] = new
            self.elements[canonical(label)] = tuple(canonical(e) for e in members)
            out[i] = canonical(label)
        return tuple(out)

    def check_cover(
        self, name: str, dims: tuple[str, ...], defs: list[Definition], line: int
    ) -> None:
        seen: set[tuple[str, ...]] = set()
        for definition in defs:
            for cell in definition.cells:
                if cell in seen:
                    raise ModelError(
                        f"element [{', '.join(cell)}] of '{name}' is defined twice"
                        if cell
                        else f"'{name}' is defined twice",
                        line=line,
                        variable=name,
                    )
                seen.add(cell)
        lists = [self.elements[d] for d in dims]
        _check_count(name, math.prod(len(x) for x in lists), line)
        for cell in itertools.product(*lists):
            if cell not in seen:
                raise ModelError(
                    f"element [{', '.join(cell)}] of '{name}' has no equation: not supported yet",
                    line=line,
                    variable=name,
                    hint="give every element an equation",
                )

    def uses_dimension(self, definition: Definition) -> bool:
        """Whether an expression of the record uses a dimension's name as a value, or calls
        the lookup tables of an array's elements over a range (``tab[D](x)``, GET DATA BETWEEN
        TIMES(x[D], ...), which reads the lookups of x's series)."""
        for tree in (definition.expr, definition.init):
            for node in walk(tree) if tree is not None else ():
                if isinstance(node, Var) and not node.subscripts and node.name in self.dims:
                    return True
                if isinstance(node, Call) and node.func in PER_ELEMENT and node.args:
                    table = node.args[0]
                    if isinstance(table, Var) and any(s in self.dims for s in table.subscripts):
                        return True
        return False

    # -- per element ----------------------------------------------------------------------
    def for_cell(
        self, expr: Expr, definition: Definition, dims: tuple[str, ...], cell: tuple[str, ...]
    ) -> Expr:
        """The expression for one element: the record's dimensions (and those mapped to
        them) in subscripts replaced by the element."""
        table: dict[str, str] = {}
        positions: dict[str, float] = {}
        owns = definition.own or [""] * len(dims)
        for dim, own, element in zip(dims, owns, cell, strict=True):
            for named in (own, dim):
                if not named:
                    continue
                table.setdefault(named, element)
                position = self.elements[named].index(element)
                # Vensim: the position in the element's largest range (a subrange B, A
                # gives A the value 1)
                positions.setdefault(named, self.translator.positions.get(element, position + 1.0))
                for mapped in self.maps.get(named, ()):
                    paired = paired_element(self.pairings, named, element, mapped)
                    if len(paired) == 1:  # else the compiler says which is ambiguous
                        table.setdefault(mapped, paired[0])
                        at = self.elements[mapped].index(paired[0]) + 1.0
                        positions.setdefault(mapped, self.translator.positions.get(paired[0], at))
        return substitute(expr, table, positions)

    def translate(self, expr: Expr) -> Expr:
        return self.translator.rewrite(expr)


PER_ELEMENT = ("LOOKUP", "GET DATA BETWEEN TIMES")


def _check_count(name: str, count: int, line: int | None) -> None:
    """Refuse a variable of more elements than a model may have, before making them."""
    if count > DEFAULT.max_instances:
        raise too_large(
            f"'{name}' has {count:,} elements", "max_instances", DEFAULT.max_instances, line=line
        )


def substitute(
    node: Expr, table: Mapping[str, str], positions: Mapping[str, float] | None = None
) -> Expr:
    """``node`` with every subscript naming a dimension of ``table`` replaced by its element,
    and each dimension's name used as a value by the element's position (Vensim: 1 for the
    first element)."""
    if not table:
        return node
    positions = positions or {}
    if isinstance(node, Var) and not node.subscripts and node.name in positions:
        return Num(positions[node.name])
    if isinstance(node, Var):
        subs: tuple[Subscript, ...] = tuple(
            table.get(s, s) if isinstance(s, str) else s for s in node.subscripts
        )
        return Var(node.name, subs)
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, table, positions))
    if isinstance(node, Binary):
        return Binary(
            node.op,
            substitute(node.left, table, positions),
            substitute(node.right, table, positions),
        )
    if isinstance(node, If):
        return If(*(substitute(n, table, positions) for n in (node.cond, node.then, node.orelse)))
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, table, positions) for a in node.args))
    if isinstance(node, VarList):
        return VarList(tuple(substitute(i, table, positions) for i in node.items))
    assert isinstance(node, Num)
    return node
