"""XMILE equation text -> our equation text, through our parser and AST (never eval).

XMILE's expression syntax is ours (see docs/model-format.md) except for a few things handled
here:

- names qualified by a module (``hares.hare_density``) and the leading-dot form for the
  root model (``.area``) are resolved to the flattened element names;
- function names written with spaces (``EXPRESSION MACRO(a, b)``, as Vensim exports macro
  calls, or a graphical function ``effect table(x)``) are joined when they name a macro or a
  variable;
- ``LOOKUP(table, x)`` becomes the call ``table(x)``, and ``LOOKUP(g[a], x)`` (an element of
  an array with a graphical function per element) stays a LOOKUP for the compiler;
- inside array functions (SUM, MEAN, PROD, STDDEV, SIZE, RANK, MIN, MAX), a dimension name as
  a subscript (``SUM(x[dim])``) means the whole dimension when the equation is not itself over it;
- names inside computed subscripts (``x[k + 1]``) are resolved like any other name;
- ``SIZE(x[dim])`` is the number of elements;
- ``SELF`` inside ``PREVIOUS`` is the variable the equation defines;
- ``PULSE(volume)`` (no first time) is refused as ambiguous;
- a function named in isee's namespace (``isee.HISTORY(x, t)``, XMILE 1.0 §3.6) is the builtin;
- macro calls are expanded (see :mod:`flywheel_sim.io.xmile.macros`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import (
    KEYWORDS,
    OPERATORS,
    Binary,
    Call,
    Expr,
    Num,
    Range,
    Subscript,
    Var,
    rebuilt,
    to_text,
)
from flywheel_sim.spec.builtins import CONSTANT_NAMES
from flywheel_sim.spec.model import Dimension
from flywheel_sim.spec.names import canonical
from flywheel_sim.spec.parser import parse

ROOT = "_root_"  # stands for the leading dot of a root-model name (".area") while parsing
REDUCTIONS = frozenset({"SUM", "MEAN", "PROD", "MIN", "MAX", "STDDEV", "SIZE", "RANK"})
VENDOR = "ISEE."
_SCAN = re.compile(
    r'(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<comment>\{[^}]*\})|(?P<other>[^"{]+)|(?P<rest>.)', re.S
)
_LEADING_DOT = re.compile(r"(?<![\w.$])\.(?=[^\W\d])")
_MULTIWORD_CALL = re.compile(r"[^\W\d][\w$]*(?:[ \t]+[^\W\d][\w$]*)+(?=\s*\()")
_NAME_PART = r'(?:"(?:[^"\\]|\\.)*"|[^\W\d][\w$]*)'
# a name qualified by a module where some part is quoted: "My Module".x, m."a b", ."a b"
_QUOTED_QUALIFIED = re.compile(
    rf'(?<![\w$."])(?:\.\s*)?{_NAME_PART}(?:\s*\.\s*{_NAME_PART})+'
    rf'|(?<![\w$."])\.\s*"(?:[^"\\]|\\.)*"'
)
_PART = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^".]*)\s*(?:\.|$)')


def split_qualified(raw: str) -> tuple[bool, list[str]]:
    """A name qualified by modules (``m.x``, ``"My Module".x``, ``."a b"``): whether it starts
    with a dot (the root model), and its parts without quotes."""
    text = raw.strip()
    dot = text.startswith(".")
    if dot:
        text = text[1:]
    parts = []
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None or match.end() == pos:
            raise ModelError(f"cannot read the name '{raw}'")
        piece = match.group(1)
        if piece.startswith('"') and len(piece) >= 2:
            piece = piece[1:-1].replace('\\"', '"')
        parts.append(piece.strip())
        pos = match.end()
    return dot, parts


def _one_quoted_name(match: re.Match[str]) -> str:
    """``"My Module".x`` as the one quoted name ``"My Module.x"`` (``."a b"``: the root's)."""
    text = match.group()
    if '"' not in text:
        return text
    dot, parts = split_qualified(text)
    joined = ".".join(([ROOT] if dot else []) + parts)
    return '"' + joined.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Scope:
    """Where an equation lives: the flattened prefix of its module (``"hares."``, or ``""``
    for the root model) and every flattened name of the file.

    A name is looked up in the module first, then (unless ``isolated``, as inside a macro) as a
    qualified name from the root. ``subst`` replaces names by expressions (macro parameters).
    """

    prefix: str
    names: set[str]
    dims: dict[str, tuple[str, ...]]
    macros: frozenset[str] = frozenset()
    subst: dict[str, Expr] = field(default_factory=dict)
    isolated: bool = False
    nan_index: bool = False  # <uses_arrays invalid_index_value="NaN">: not supported
    maps: dict[str, set[str]] = field(default_factory=dict)  # <isee:maps_to>, both ways


@dataclass
class Context:
    """The element whose equation is translated: its dims and how to expand a macro call."""

    variable: str
    dims: tuple[str, ...] = ()
    expand_macro: Callable[[str, tuple[Expr, ...], Context], Expr] | None = None
    calls: list[int] = field(default_factory=lambda: [0])


def dimension_maps(dims: Iterable[Dimension]) -> dict[str, set[str]]:
    """The dimension mappings (``<isee:maps_to>``) by canonical name, both ways."""
    maps: dict[str, set[str]] = {}
    for dim in dims:
        for target in dim.maps_to:
            maps.setdefault(canonical(dim.name), set()).add(canonical(target))
            maps.setdefault(canonical(target), set()).add(canonical(dim.name))
    return maps


def prepare(text: str, known: Callable[[str], bool]) -> str:
    """Rewrite the spots our tokenizer cannot read, outside quotes and comments.

    ``known`` says whether a canonical name is a macro or a variable (a graphical function
    called by a name with spaces)."""
    if '"' in text:
        text = _QUOTED_QUALIFIED.sub(_one_quoted_name, text)
    out = []
    for match in _SCAN.finditer(text):
        piece = match.group()
        if match.lastgroup == "other":
            piece = _LEADING_DOT.sub(ROOT + ".", piece)
            piece = _MULTIWORD_CALL.sub(lambda m: _join_words(m.group(), known), piece)
        out.append(piece)
    return "".join(out)


def _join_words(words: str, known: Callable[[str], bool]) -> str:
    parts = words.split()
    for start in range(len(parts) - 1):  # the longest tail of words that names a function
        if known(canonical(" ".join(parts[start:]))):
            return " ".join([*parts[:start], "_".join(parts[start:])])
    if any(p.lower() in KEYWORDS for p in parts):
        return words  # e.g. "THEN MAX(": an operator before a call
    raise ModelError(
        f"unknown function '{words}': not an XMILE builtin and the file defines no <macro> "
        "of that name",
        hint="add its <macro> definition (Vensim's XMILE export leaves macros out)",
    )


def is_placeholder(text: str) -> bool:
    """Vensim's '???' (no equation yet)."""
    return "???" in text


def translate_expr(text: str, scope: Scope, ctx: Context) -> Expr:
    """Parse one XMILE equation and rewrite it into our AST (names flattened)."""

    def known(name: str) -> bool:
        return name in scope.macros or scope.prefix + name in scope.names or name in scope.names

    tree = parse(prepare(text, known))
    return Rewriter(scope, ctx).rewrite(tree)


def translate(text: str, scope: Scope, ctx: Context) -> str:
    """One XMILE equation as our equation text."""
    return to_text(translate_expr(text, scope, ctx))


class Rewriter:
    def __init__(self, scope: Scope, ctx: Context) -> None:
        self.scope = scope
        self.ctx = ctx
        self.self_allowed = False  # inside PREVIOUS's first argument

    def own(self, node: Var) -> Var:
        """SELF: the variable the equation defines (XMILE 1.0 §3.5.6), valid only as what
        PREVIOUS looks back at."""
        if not self.self_allowed:
            raise ModelError(
                "SELF is only valid inside PREVIOUS (XMILE 1.0 §3.5.6)",
                hint="write PREVIOUS(SELF, initial value) to use the variable's last value",
            )
        return Var(self.ctx.variable, tuple(self.element_ref(s) for s in node.subscripts))

    def whole(self, name: str, sub: Subscript) -> Subscript:
        """Inside an array function, a dimension the equation is not over means all of it
        (``SUM(x[D])``); refused when ``D`` is mapped to one the equation is over, where the
        mapped element would be meant outside an array function."""
        if not isinstance(sub, str) or sub not in self.scope.dims or sub in self.ctx.dims:
            return sub
        if any(d in self.ctx.dims for d in self.scope.maps.get(sub, ())):
            raise ModelError(
                f"{name}[{sub}] inside an array function, in an equation over a dimension "
                f"that '{sub}' is mapped to: whether it is the mapped element or all of "
                f"'{sub}' is ambiguous",
                hint=f"write {name}[*] for all of it",
            )
        return "*"

    def known(self, name: str) -> bool:
        scope = self.scope
        return name in scope.macros or scope.prefix + name in scope.names or name in scope.names

    def name(self, name: str) -> str:
        scope = self.scope
        if name.startswith(ROOT + "."):
            return name[len(ROOT) + 1 :]
        if scope.prefix + name in scope.names:
            return scope.prefix + name
        if not scope.isolated and name in scope.names:
            return name
        return name

    def rewrite(self, node: Expr, reducing: bool = False) -> Expr:
        if isinstance(node, Num):
            return node
        if isinstance(node, Var):
            if node.name in self.scope.subst and not node.subscripts:
                return self.scope.subst[node.name]
            if node.name == "self":
                return self.own(node)
            subs = tuple(self.element_ref(s) for s in node.subscripts)
            if reducing:
                subs = tuple(self.whole(node.name, s) for s in subs)
            return Var(self.name(node.name), subs)
        if isinstance(node, Call) and node.func == "LOOKUP":
            return self.lookup(node)
        if isinstance(node, OPERATORS):
            return rebuilt(node, self.rewrite)
        return self.call(node)

    def call(self, node: Call) -> Expr:
        func = node.func
        if canonical(func) in self.scope.macros:
            if self.ctx.expand_macro is None:
                raise ModelError(f"macro '{func}' cannot be used here")
            args = tuple(self.rewrite(a) for a in node.args)
            return self.ctx.expand_macro(canonical(func), args, self.ctx)
        if func == "SIZE":
            size = self.size(node)
            if size is not None:
                return Num(float(size))
        if func.startswith(VENDOR) and not self.known(canonical(func)):
            func = func[len(VENDOR) :]  # XMILE 1.0 §3.6: vendor functions as isee.HISTORY
            node = Call(func, node.args)
        if func == "PREVIOUS" and len(node.args) == 1 and node.args[0] == Var("self"):
            raise ModelError(
                "PREVIOUS(SELF) needs an initial value (XMILE 1.0 §3.5.6)",
                hint="write PREVIOUS(SELF, initial value)",
            )
        if func == "PREVIOUS" and node.args:
            outer, self.self_allowed = self.self_allowed, True
            try:
                first = self.rewrite(node.args[0])
            finally:
                self.self_allowed = outer
            return Call(func, (first, *(self.rewrite(a) for a in node.args[1:])))
        reducing = func in REDUCTIONS
        args = tuple(self.rewrite(a, reducing) for a in node.args)
        if func == "PULSE" and len(args) == 1:
            # XMILE requires a first time; Stella's help says both "subsequent pulses each
            # DT ... (that is to say always)" and that the form puts "a quantity of material"
            # into a stock (once): ambiguous, so refused
            raise ModelError(
                "PULSE with only a volume is ambiguous (XMILE 1.0 §3.5.4 requires a first "
                "time; Stella's help reads as both one pulse and a pulse every DT)",
                hint="write PULSE(volume, STARTTIME, 0) for one pulse or "
                "PULSE(volume, STARTTIME, DT) for one every DT",
            )
        if func == "LOG" and len(args) == 2:  # LOG(x, base), as Stella and Vensim write it
            return Binary("/", Call("LN", (args[0],)), Call("LN", (args[1],)))
        resolved = self.name(canonical(func))  # a graphical function of this module
        return Call(resolved.upper() if resolved != canonical(func) else func, args)

    def lookup(self, node: Call) -> Expr:
        if len(node.args) != 2 or not isinstance(node.args[0], Var):
            raise ModelError(
                "LOOKUP takes a graphical function's name and an input",
                hint="write LOOKUP(table_name, x)",
            )
        table = self.rewrite(node.args[0])
        assert isinstance(table, Var)
        if table.subscripts:  # one element of an array of graphical functions
            return Call("LOOKUP", (table, self.rewrite(node.args[1])))
        return Call(table.name, (self.rewrite(node.args[1]),))

    def element_ref(self, sub: Subscript) -> Subscript:
        """``Dim.element`` (an element qualified by its dimension) as the element; the
        names inside a computed subscript resolved like any name."""
        if isinstance(sub, str) and "." in sub and not sub.endswith(".*"):
            dim, _, elem = sub.partition(".")
            if elem in self.scope.dims.get(dim, ()):
                return elem
        if isinstance(sub, str) and sub != "*" and not sub.endswith(".*") and sub[:1] != "@":
            if sub in self.scope.dims or any(sub in e for e in self.scope.dims.values()):
                return sub  # an element name prevails over a variable's (XMILE 1.0 §3.7.1)
            name = self.name(sub)
            if name in self.scope.names or name in CONSTANT_NAMES:
                self.computed_subscript()
            return name
        if isinstance(sub, int | str | Range):
            return sub
        self.computed_subscript()
        return self.rewrite(sub)

    def computed_subscript(self) -> None:
        if self.scope.nan_index:
            raise ModelError(
                "a subscript computed while the model runs, in a file that asks for NaN when "
                'such an index is outside its dimension (<uses_arrays invalid_index_value="NaN">)'
                ": flywheel-sim gives 0, the XMILE default",
                hint="remove invalid_index_value from <uses_arrays> to accept 0",
            )

    def size(self, node: Call) -> int | None:
        """``SIZE(x[dim, ...])`` as a number (so the variable is a constant); None for the
        other forms, which the compiler counts."""
        if len(node.args) != 1 or not isinstance(node.args[0], Var):
            return None
        subs = node.args[0].subscripts
        if not subs or not all(isinstance(s, str) and s in self.scope.dims for s in subs):
            return None
        count = 1
        for sub in subs:
            assert isinstance(sub, str)
            count *= len(self.scope.dims[sub])
        return count


def number_list(text: str) -> list[float] | None:
    """``1, 2, 3`` (an array's values in element order), or None if the text is not a list."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2:
        return None
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            return None
    return values


__all__ = ["ROOT", "Context", "Scope", "is_placeholder", "number_list", "prepare", "translate"]
