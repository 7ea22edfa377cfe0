"""Vensim expressions -> our AST (:mod:`flywheel_sim.spec.ast`), never through eval.

Vensim writes names with spaces (``birth rate``) or quoted (``"a-b"``), operators
``+ - * / ^``, comparisons ``= <> < <= > >=``, logic ``:AND: :OR: :NOT:``, ``:NA:``, calls with
names of several words (``IF THEN ELSE(c, a, b)``), a macro call's extra outputs after a
``:`` (``M(a : o1, o2)``, see :data:`OUTPUTS`), subscripts ``x[a, b]`` and ``x[d!]`` (all
of ``d``, inside an array function), and lookup tables ``([(x0,y0)-(x1,y1)], (x,y), ...)``.

The parse keeps Vensim's function names (upper case, one space between words) in
:class:`~flywheel_sim.spec.ast.Call` nodes; :mod:`flywheel_sim.io.mdl.functions` translates
them; ``tab[a](x)`` (a lookup of an array's element) is ``LOOKUP(tab[a], x)``. Names are
canonical; a ``d!`` subscript is kept as the string ``"d!"``; a string in single quotes (a file
or sheet of ``GET XLS ...``) is kept as a name with its quotes. The table of
``WITH LOOKUP(x, (...))`` is kept aside: the call becomes ``WITH LOOKUP(x, n)`` where ``n`` is
its position in :attr:`Parser.tables`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, Num, Subscript, Unary, Var
from flywheel_sim.spec.names import canonical

NA = -(2.0**109)  # Vensim's :NA: (Vensim help, ":NA:": "a special value (-2^109)")
OUTPUTS = ":"  # a macro call's extra outputs, ``M(a, b : o1, o2)``: Call(OUTPUTS, (Var(o1), ...))
MAX_DEPTH = 200
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\{[^}]*\})
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<qname>"(?:[^"\\]|\\.)*")
  | (?P<string>'[^'\n]*')
  | (?P<colon>:[A-Za-z][A-Za-z ]*:)
  | (?P<name>[^\W\d][\w$'&]*(?:[ \t]+[\w$'&]+)*)
  | (?P<op><=|>=|<>|[-+*/^()\[\],<>=!;:])
  | (?P<bad>.)
    """,
    re.VERBOSE,
)
_INFIX = {
    ":OR:": 10,
    ":AND:": 20,
    "=": 30,
    "<>": 30,
    "<": 30,
    "<=": 30,
    ">": 30,
    ">=": 30,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "^": 80,
}
_OURS = {":OR:": "OR", ":AND:": "AND"}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
}
_NOT_BP = 25  # :NOT: a = b is :NOT: (a = b)
_UNARY_BP = 70  # -a * b is (-a) * b; -a ^ b is -(a ^ b), as in our language


class Token(NamedTuple):
    kind: str
    text: str
    col: int


@dataclass(frozen=True, slots=True)
class Table:
    """A lookup table as written: its points and the optional ``[(xmin,ymin)-(xmax,ymax)]``."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        if kind in ("ws", "comment"):
            continue
        value = match.group()
        if kind == "bad":
            raise ModelError(f"unexpected character {value!r} at column {match.start() + 1}")
        if kind == "colon":
            value = " ".join(value.upper().split())
        if kind == "name":
            value = " ".join(value.split())
        out.append(Token(kind, value, match.start() + 1))
    out.append(Token("end", "", len(text) + 1))
    return out


def name_of(token: Token) -> str:
    """A name token's canonical name (quotes removed)."""
    if token.kind == "qname":
        return canonical(token.text[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
    return canonical(token.text)


class Parser:
    """A Pratt parser over the tokens of one expression."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.tables: list[Table] = []

    # -- tokens ---------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":  # the last token: taking it again gives it again
            self.pos += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.take()
        if token.text != text:
            got = token.text or "the end"
            raise ModelError(f"expected '{text}' at column {token.col}, found '{got}'")
        return token

    def at(self, text: str) -> bool:
        token = self.tokens[self.pos]
        return token.text == text and token.kind in ("op", "colon")

    def done(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise ModelError(f"unexpected '{token.text}' at column {token.col}")

    # -- expressions ----------------------------------------------------------------------
    def expression(self, bp: int = 0) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ModelError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        try:
            left = self.prefix()
            while True:
                token = self.peek()
                op = token.text if token.kind in ("op", "colon") else ""
                power = _INFIX.get(op)
                if power is None or power <= bp:
                    break
                self.take()
                right = self.expression(power - 1 if op == "^" else power)
                left = Binary(_OURS.get(op, op), left, right)
            return left
        finally:
            self.depth -= 1

    def prefix(self) -> Expr:
        token = self.take()
        if token.kind == "number":
            return Num(float(token.text))
        if token.kind == "op" and token.text in "-+":
            operand = self.expression(_UNARY_BP)
            if token.text == "-" and isinstance(operand, Num):
                return Num(-operand.value)
            return Unary(token.text, operand)
        if token.kind == "colon" and token.text == ":NOT:":
            return Unary("NOT", self.expression(_NOT_BP))
        if token.kind == "colon" and token.text == ":NA:":
            return Num(NA)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind in ("name", "qname"):
            return self.named(token)
        if token.kind == "string":  # 'file.xlsx' in GET XLS ...: kept as a name in quotes
            return Var(token.text)
        got = token.text or "the end of the equation"
        raise ModelError(f"unexpected '{got}' at column {token.col}")

    def named(self, token: Token) -> Expr:
        if self.at("("):
            if token.kind == "qname":
                return self.call(name_of(token), token)
            return self.call(token.text.upper(), token)
        subs: tuple[Subscript, ...] = ()
        if self.at("["):
            subs = self.subscripts()
            if self.at("("):  # an element's own lookup table: tab[a](x)
                call = self.call("LOOKUP", token)
                assert isinstance(call, Call)
                return Call("LOOKUP", (Var(name_of(token), subs), *call.args))
        return Var(name_of(token), subs)

    def subscripts(self) -> tuple[Subscript, ...]:
        self.expect("[")
        out: list[Subscript] = []
        while True:
            token = self.take()
            if token.kind not in ("name", "qname", "number"):
                raise ModelError(f"expected a subscript at column {token.col}")
            name = token.text if token.kind == "number" else name_of(token)
            if self.at("!"):
                self.take()
                name += "!"
            out.append(name)
            if self.at(","):
                self.take()
                continue
            self.expect("]")
            return tuple(out)

    def call(self, func: str, token: Token) -> Expr:
        self.expect("(")
        if func == "WITH LOOKUP":
            argument = self.expression()
            self.expect(",")
            self.tables.append(self.table())
            self.expect(")")
            return Call(func, (argument, Num(float(len(self.tables) - 1))))
        args: list[Expr] = []
        if not self.at(")"):
            while True:
                args.append(self.expression())
                if not self.at(","):
                    break
                self.take()
        if self.at(":"):  # a macro call's extra outputs: names the call defines
            self.take()
            args.append(Call(OUTPUTS, self.output_names()))
        self.expect(")")
        return Call(func, tuple(args))

    def output_names(self) -> tuple[Expr, ...]:
        """``o1, o2`` after the ``:`` of a macro call: names without subscripts."""
        names: list[Expr] = []
        while True:
            token = self.take()
            if token.kind not in ("name", "qname") or self.at("[") or self.at("("):
                raise ModelError(
                    f"expected the name of a macro's output at column {token.col} "
                    "(a name without subscripts)"
                )
            names.append(Var(name_of(token)))
            if not self.at(","):
                return tuple(names)
            self.take()

    # -- lookup tables --------------------------------------------------------------------
    def table(self) -> Table:
        """``( [(x0,y0)-(x1,y1)], (x,y), (x,y) ... )``; the range is optional (and unused)."""
        self.expect("(")
        if self.at("["):
            self.take()
            self.pair()
            self.expect("-")
            self.pair()
            while self.at(","):  # Vensim may list reference lines after the range
                self.take()
                self.pair()
            self.expect("]")
            if self.at(","):
                self.take()
        xs: list[float] = []
        ys: list[float] = []
        if self.peek().kind == "number" or self.at("-") or self.at("+"):
            return self.flat_table()
        while True:
            x, y = self.pair()
            xs.append(x)
            ys.append(y)
            if not self.at(","):
                break
            self.take()
        self.expect(")")
        return Table(tuple(xs), tuple(ys))

    def flat_table(self) -> Table:
        """The old form: all x values, then all y values, in one list."""
        values = [self.number()]
        while self.at(","):
            self.take()
            values.append(self.number())
        self.expect(")")
        if len(values) % 2:
            raise ModelError("a lookup table lists an odd number of values")
        half = len(values) // 2
        return Table(tuple(values[:half]), tuple(values[half:]))

    def pair(self) -> tuple[float, float]:
        self.expect("(")
        x = self.number()
        self.expect(",")
        y = self.number()
        self.expect(")")
        return x, y

    def number(self) -> float:
        sign = 1.0
        while self.at("-") or self.at("+"):
            sign *= -1.0 if self.take().text == "-" else 1.0
        token = self.take()
        if token.kind != "number":
            raise ModelError(f"expected a number at column {token.col}, found '{token.text}'")
        return sign * float(token.text)


def strip_comments(text: str) -> str:
    """``text`` with its ``{...}`` comments blanked, nested ones too (``{ ... 8784 {leap
    year} ... }``, as SDEverywhere's comments test writes one), outside quoted names; an
    unclosed ``{`` is left for the parser to report."""
    if "{" not in text:
        return text
    out, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == '"' and depth == 0:
            quoted = not quoted
        elif char == "{" and not quoted:
            if depth == 0:
                out.append(text[start:i])
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                out.append(" ")
                start = i + 1
    if depth:
        return text
    out.append(text[start:])
    return "".join(out)


def parse_expression(text: str) -> tuple[Expr, list[Table]]:
    """One Vensim expression as our AST, and the tables of its WITH LOOKUP calls."""
    parser = Parser(strip_comments(text))
    tree = parser.expression()
    parser.done()
    return tree, parser.tables


def parse_table(text: str) -> Table:
    """A standalone lookup's table, ``( [(..)-(..)], (x,y), ... )``."""
    parser = Parser(text)
    table = parser.table()
    parser.done()
    return table


def constant(node: Expr, value_of: Callable[[str], float | None]) -> float | None:
    """The value of an expression of numbers, ``+ - * / ^`` and names whose value
    ``value_of`` knows (a FINAL TIME written ``start year + 30``); None for anything else."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var) and not node.subscripts:
        return value_of(node.name)
    if isinstance(node, Unary) and node.op in "+-":
        inner = constant(node.operand, value_of)
        return None if inner is None else (-inner if node.op == "-" else inner)
    if not isinstance(node, Binary) or node.op not in _ARITHMETIC:
        return None
    left, right = constant(node.left, value_of), constant(node.right, value_of)
    if left is None or right is None:
        return None
    try:
        value = float(_ARITHMETIC[node.op](left, right))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return value if math.isfinite(value) else None
