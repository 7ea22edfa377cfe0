"""Vensim macros: ``:MACRO: NAME(a, b : out1, out2)`` ... ``:END OF MACRO:``, expanded at each call.

Each call ``NAME(x, y)`` gets its own copy of the macro's variables, named
``name.<n>.<variable>`` (``n`` counts the calls in the file), with the parameters replaced by
the call's arguments (an argument other than a name or a number is first given a variable of
its own, ``name.<n>.<parameter>``, so it is computed once); the call becomes the copy of the
variable named like the macro. A stock inside a macro is so a stock of each call. The extra
outputs of a call ``NAME(x, y : o1, o2)`` are the macro's variables ``out1``, ``out2`` named
``o1``, ``o2`` by the caller. Macros may call macros (up to :data:`MAX_DEPTH` deep).

Vensim's reference: the macro's names are its own (a model variable is reached as ``name$``,
unsubscripted); macros are written without subscripts; called in an equation over subscripts,
the variables a call makes take the subscripts of the equation's left side, one copy per
element.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.expr import OUTPUTS, Table, parse_expression
from flywheel_sim.io.mdl.text import Record
from flywheel_sim.io.mdl.variables import Lhs, parse_values
from flywheel_sim.spec.ast import Call, Expr, Num, Var, rebuilt, walk
from flywheel_sim.spec.names import canonical

MAX_DEPTH = 20
MAX_CALLS = 10_000
_HEADER = re.compile(r"(?P<name>[^()]+)\((?P<params>[^()]*)\)\s*\Z")
# names a macro's equations may use without defining them: the simulation's time
_GLOBAL = frozenset({"time"})


@dataclass
class Body:
    """One equation of a macro, parsed once."""

    record: Record
    lhs: Lhs
    tree: Expr
    tables: list[Table]


@dataclass
class Macro:
    name: str  # canonical
    params: tuple[str, ...]  # canonical
    line: int
    outputs: tuple[str, ...] = ()  # canonical names of the extra outputs
    body: list[tuple[Record, Lhs]] = field(default_factory=list)
    _parsed: list[Body] | None = None

    def parsed(self) -> list[Body]:
        """The equations parsed and checked (once): the names they define and use."""
        if self._parsed is None:
            self._parsed = [_parse(self, record, lhs) for record, lhs in self.body]
            self.check()
        return self._parsed

    @property
    def internal(self) -> set[str]:
        """The macro's own names: its variables and the outputs of the calls it makes."""
        names = {canonical(b.lhs.name) for b in self.parsed()}
        for b in self.parsed():
            for node in walk(b.tree):
                if isinstance(node, Call) and node.func == OUTPUTS:
                    names.update(v.name for v in node.args if isinstance(v, Var))
        return names

    def check(self) -> None:
        assert self._parsed is not None
        defined = [canonical(b.lhs.name) for b in self._parsed]
        for name in (self.name, *self.outputs):
            if defined.count(name) != 1:
                what = "its own name" if name == self.name else f"its output '{name}'"
                raise ModelError(
                    f"macro '{self.name}' must define {what} by one equation",
                    line=self.line,
                    variable=self.name,
                )
        for b in self._parsed:
            if canonical(b.lhs.name) in self.params:
                raise ModelError(
                    f"macro '{self.name}' defines its parameter '{b.lhs.name}'",
                    line=b.record.line,
                    variable=b.lhs.name,
                )


def read_macro(header: str, line: int) -> Macro:
    """``NAME(a, b)`` or ``NAME(a, b : out1, out2)``."""
    match = _HEADER.match(header.strip())
    if match is None:
        raise ModelError(f"cannot read the macro header ':MACRO: {header}'", line=line)
    inputs, _, outputs = match.group("params").partition(":")
    if "[" in inputs + outputs:
        raise ModelError(
            f"macro '{match.group('name').strip()}' has subscripted parameters",
            line=line,
            hint="Vensim: a macro's parameters cannot be subscripted; pass subscripted "
            "values when calling it",
        )
    return Macro(
        canonical(match.group("name")),
        tuple(canonical(p) for p in inputs.split(",") if p.strip()),
        line,
        tuple(canonical(p) for p in outputs.split(",") if p.strip()),
    )


def _parse(macro: Macro, record: Record, lhs: Lhs) -> Body:
    if lhs.subs or lhs.excepts:
        raise ModelError(
            f"a subscripted variable inside macro '{macro.name}'",
            hint="Vensim: macros are written without subscripts; a call in an equation over "
            "subscripts gives each element its own copy",
            line=record.line,
            variable=lhs.name,
        )
    tables: list[Table] = []
    tree: Expr = Num(0)
    if parse_values(lhs.rhs) is None and lhs.op in ("=", "==", ":="):
        try:
            tree, tables = parse_expression(lhs.rhs)
        except ModelError as exc:
            raise exc.located(line=record.line, variable=lhs.name) from None
    return Body(record, lhs, tree, tables)


@dataclass(frozen=True)
class Frame:
    """The left side of the equation a call is in, as the variables it makes take it: the
    subscripts that are ranges (each element's call its own copy), or all of them and the
    :EXCEPT: lists when there are some."""

    subs: tuple[str, ...] = ()  # as written
    excepts: tuple[tuple[str, ...], ...] = ()
    line: int = 0

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(canonical(s) for s in self.subs)


class Expander:
    """Replaces macro calls in parsed expressions, handing each call's variables to ``sink``."""

    def __init__(
        self, macros: dict[str, Macro], sink: Callable[[Record, Lhs], None], dims: set[str]
    ) -> None:
        self.macros = macros
        self.sink = sink
        self.dims = dims  # canonical names of the subscript ranges
        self.calls = 0

    def __call__(self, tree: Expr, lhs: Lhs) -> Expr:
        if lhs.excepts:
            frame = Frame(tuple(lhs.subs), tuple(tuple(e) for e in lhs.excepts), lhs.line)
        else:
            ranges = tuple(s for s in lhs.subs if canonical(s) in self.dims)
            frame = Frame(ranges, (), lhs.line)
        return self.expand(tree, frame, 0)

    def expand(self, node: Expr, frame: Frame, depth: int) -> Expr:
        if not isinstance(node, Call):
            return rebuilt(node, lambda n: self.expand(n, frame, depth))
        args = tuple(self.expand(a, frame, depth) for a in node.args)
        outputs: tuple[Expr, ...] = ()
        if args and isinstance(args[-1], Call) and args[-1].func == OUTPUTS:
            outputs, args = args[-1].args, args[:-1]
        macro = self.macros.get(canonical(node.func))
        if macro is None:
            if outputs:
                raise ModelError(f"'{node.func}' is not a macro: it has no outputs after ':'")
            return Call(node.func, args)
        names = tuple(v.name for v in outputs if isinstance(v, Var))
        return self.instance(macro, args, names, frame, depth)

    def instance(
        self,
        macro: Macro,
        args: tuple[Expr, ...],
        outputs: tuple[str, ...],
        frame: Frame,
        depth: int,
    ) -> Expr:
        self.check_call(macro, args, outputs, depth)
        prefix = f"{macro.name}.{self.calls}"
        rename = {name: f"{prefix}.{name}" for name in macro.internal}
        rename.update(zip(macro.outputs, outputs, strict=False))
        given: dict[str, Expr] = {}
        for param, arg in zip(macro.params, args, strict=True):
            if isinstance(arg, Num | Var):
                given[param] = arg
                continue
            name = f"{prefix}.{param}"  # computed once, as a variable of the call
            self.define(name, arg, frame, Record("", "", f"argument of {macro.name}", frame.line))
            given[param] = Var(name, frame.refs)
        local = _Renamer(macro, given, rename, frame.refs)
        for b in macro.parsed():
            tree = b.tree
            if parse_values(b.lhs.rhs) is None and b.lhs.op in ("=", "==", ":="):
                try:
                    tree = local(b.tree)
                except ModelError as exc:
                    raise exc.located(line=b.record.line, variable=b.lhs.name) from None
                tree = self.expand(tree, frame, depth + 1)
            name = rename[canonical(b.lhs.name)]
            lhs = replace(b.lhs, name=name.replace("_", " "), tree=tree, tables=b.tables)
            self.sink(b.record, _framed(lhs, frame))
        return Var(rename[macro.name], frame.refs)

    def check_call(
        self, macro: Macro, args: tuple[Expr, ...], outputs: tuple[str, ...], depth: int
    ) -> None:
        if len(args) != len(macro.params):
            raise ModelError(
                f"macro '{macro.name}' takes {len(macro.params)} arguments, not {len(args)}"
            )
        if outputs and len(outputs) != len(macro.outputs):
            raise ModelError(
                f"macro '{macro.name}' has {len(macro.outputs)} outputs after ':', "
                f"the call names {len(outputs)}"
            )
        if depth >= MAX_DEPTH:
            raise ModelError(f"macros call each other more than {MAX_DEPTH} deep")
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise ModelError(f"more than {MAX_CALLS} macro calls")

    def define(self, name: str, tree: Expr, frame: Frame, record: Record) -> None:
        lhs = Lhs(name.replace("_", " "), [], [], "=", "", frame.line, tree=tree)
        self.sink(record, _framed(lhs, frame))


def _framed(lhs: Lhs, frame: Frame) -> Lhs:
    return replace(lhs, subs=list(frame.subs), excepts=[list(e) for e in frame.excepts])


class _Renamer:
    """A macro's equation for one call: the parameters replaced by the arguments, the macro's
    names by the call's copies (over the frame's subscripts), ``name$`` by the model's
    variable; any other name is refused (Vensim: a macro's names are its own)."""

    def __init__(
        self, macro: Macro, given: dict[str, Expr], rename: dict[str, str], refs: tuple[str, ...]
    ) -> None:
        self.macro = macro
        self.given = given
        self.rename = rename
        self.refs = refs

    def __call__(self, node: Expr) -> Expr:
        if isinstance(node, Var):
            return self.var(node)
        if isinstance(node, Call):
            return Call(node.func, tuple(self(a) for a in node.args))
        return rebuilt(node, self)

    def var(self, node: Var) -> Expr:
        name = node.name
        if name.startswith("'"):  # a quoted string (a file name)
            return node
        if node.subscripts:
            raise ModelError(
                f"subscripts inside macro '{self.macro.name}' ('{name}[...]')",
                hint="Vensim: macros are written without subscripts, and only unsubscripted "
                "model variables may be referred to with $",
            )
        if name in self.given:
            return self.given[name]
        if name in self.rename:
            return Var(self.rename[name], self.refs)
        if name.endswith("$"):
            return Var(canonical(name[:-1]))
        if name in _GLOBAL:
            return node
        raise ModelError(
            f"'{name}' in macro '{self.macro.name}' is neither a parameter nor a variable of "
            "the macro",
            hint=f"Vensim: a macro's names are its own; write '{name}$' for the model's variable",
        )
