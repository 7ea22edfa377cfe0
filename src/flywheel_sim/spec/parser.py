"""Equation text -> AST: a small Pratt parser for the flywheel-sim expression language.

The language is XMILE's: numbers, names (bare, or double-quoted when they hold spaces),
``+ - * / // ^ MOD``, comparisons ``= <> != == < <= > >=``, ``AND OR NOT``, ``IF c THEN a ELSE b``,
parentheses, function calls, subscripts ``x[dim]``, ``x[elem]``, ``x[*]``, ``x[dim.*]``,
ranges ``x[1:3]``, dimension positions ``x[@2, @1]``, computed positions ``x[INT(TIME) + 1]``,
the transposition ``x'`` (read as
``TRANSPOSE(x)``), and ``{comments}``.

Precedence, tightest first: ``^``, unary ``+ - NOT``, ``* / MOD``, ``+ -``, ``< <= > >=``,
``= <>``, ``AND``, ``OR``, then ``IF``. ``^`` groups right to left, as XMILE 1.0 specifies
(``2^3^2`` is ``2^(3^2)`` = 512); every other binary operator groups left to right. So
``-2^2`` is ``-4`` and ``2^-1^2`` is ``2^(-(1^2))`` (as XMILE, Stella and pysimlin evaluate
them).

Text never reaches ``eval``/``exec``; anything the grammar does not accept raises
:class:`~flywheel_sim.errors.ModelError` naming the column.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import (
    BINDING_POWER,
    KEYWORDS,
    UNARY_BINDING_POWER,
    Binary,
    Call,
    Expr,
    If,
    Num,
    Range,
    Subscript,
    Unary,
    Var,
    depth,
)
from flywheel_sim.spec.names import canonical

MAX_DEPTH = 200
MAX_TREE_DEPTH = 400
MAX_LENGTH = 100_000

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\{[^}]*\})
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<qname>"(?:[^"\\]|\\.)*")
  | (?P<name>[^\W\d][\w$]*(?:\.[^\W\d][\w$]*)*(?:\.\*)?)
  | (?P<op><=|>=|<>|!=|==|//|[-+*/^()\[\],<>=:'@])
  | (?P<bad>.)
    """,
    re.VERBOSE,
)

_KEYWORDS = KEYWORDS
# ``a // b`` (Stella's integer division) binds like ``/`` and is read as INT(a / b): the floor,
# so that a = (a // b)*b + a MOD b with XMILE's floored MOD (XMILE 1.0 §3.3.1, note 7)
_INFIX = {**BINDING_POWER, "//": BINDING_POWER["/"]}
_PREFIX_BP = UNARY_BINDING_POWER


class Token(NamedTuple):  # a tuple: made 30,000 times when a large model loads
    kind: str  # number, name, op, kw, end
    text: str
    col: int  # 1-based column


def tokenize(text: str) -> list[Token]:
    """Split equation text into tokens; unknown characters raise ModelError."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN.finditer(text):  # every character matches some group, ``bad`` last
        kind = match.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        value = match.group()
        col = match.start() + 1
        if kind == "name":
            if value.lower() in _KEYWORDS:
                append(Token("kw", value.upper(), col))
            else:
                append(Token("name", value, col))
        elif kind == "op":
            append(Token("op", _OP_ALIASES.get(value, value), col))
        elif kind == "bad":
            raise ModelError(f"unexpected character {value!r} at column {col}")
        else:
            append(Token("name" if kind == "qname" else "number", value, col))
    append(Token("end", "", len(text) + 1))
    return tokens


_OP_ALIASES = {"!=": "<>", "==": "="}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.in_subscript = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str, text: str) -> Token:
        token = self.advance()
        if token.kind != kind or token.text != text:
            found = token.text or "end of equation"
            raise ModelError(f"expected '{text}' but found '{found}' at column {token.col}")
        return token

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise ModelError("empty equation")
        expr = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise ModelError(f"unexpected '{token.text}' at column {token.col}")
        return expr

    def expression(self, min_bp: int) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ModelError(f"equation nested more than {MAX_DEPTH} levels deep")
        left = self.prefix()
        while True:
            token = self.peek()
            op = token.text if token.kind in ("op", "kw") else ""
            bp = _INFIX.get(op)
            if bp is None or bp <= min_bp:
                break
            self.advance()
            # right to left for ^: its right operand may itself hold a ^
            right = self.expression(bp - 1 if op == "^" else bp)
            if op == "//":
                left = Call("INT", (Binary("/", left, right),))
            else:
                left = Binary(op, left, right)
        self.depth -= 1
        return left

    def prefix(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if value == float("inf"):
                shown = token.text if len(token.text) <= 24 else f"{token.text[:12]}… "
                raise ModelError(
                    f"number {shown}({len(token.text)} characters) at column {token.col} is "
                    "too large",
                    hint="numbers must be below 1.8e308",
                )
            return Num(value)
        if token.kind == "name":
            if not canonical(token.text):
                raise ModelError(f"empty name at column {token.col}")
            if token.text.endswith(".*") and not self.in_subscript:
                raise ModelError(
                    f"'{token.text}' (all elements) can only be a subscript, at column {token.col}"
                )
            return self.name_or_call(token)
        if token.kind == "op" and token.text in ("-", "+"):
            return Unary(token.text, self.expression(_PREFIX_BP))
        if token.kind == "kw" and token.text == "MOD" and self.peek().text == "(":
            return self.name_or_call(Token("name", "MOD", token.col))
        if token.kind == "kw" and token.text == "NOT":
            return Unary("NOT", self.expression(_PREFIX_BP))
        if token.kind == "kw" and token.text == "IF":
            cond = self.expression(0)
            self.expect("kw", "THEN")
            then = self.expression(0)
            self.expect("kw", "ELSE")
            return If(cond, then, self.expression(0))
        if token.kind == "op" and token.text == "(":
            inner = self.expression(0)
            self.expect("op", ")")
            return inner
        found = token.text or "end of equation"
        raise ModelError(f"unexpected '{found}' at column {token.col}")

    def name_or_call(self, token: Token) -> Expr:
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text == "(":
            self.advance()
            args: list[Expr] = []
            if not (self.peek().kind == "op" and self.peek().text == ")"):
                args.append(self.expression(0))
                while self.peek().kind == "op" and self.peek().text == ",":
                    self.advance()
                    args.append(self.expression(0))
            self.expect("op", ")")
            return Call(_function_name(token.text), tuple(args))
        if nxt.kind == "op" and nxt.text == "[":
            self.advance()
            self.in_subscript += 1
            subs = [self.subscript()]
            while self.peek().kind == "op" and self.peek().text == ",":
                self.advance()
                subs.append(self.subscript())
            self.expect("op", "]")
            self.in_subscript -= 1
            return self.transposed(Var(canonical(token.text), tuple(subs)))
        return self.transposed(Var(canonical(token.text)))

    def transposed(self, var: Var) -> Expr:
        """``x'`` (XMILE 1.0 §3.7.1.1: the dimensions reversed) as ``TRANSPOSE(x)``."""
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text == "'":
            self.advance()
            after = self.peek()
            if after.kind == "op" and after.text == "'":
                raise ModelError(f'unexpected "\'" at column {after.col}')
            return Call("TRANSPOSE", (var,))
        return var

    def subscript(self) -> Subscript:
        token = self.peek()
        if token.kind == "op" and token.text == "*":
            self.advance()
            return "*"
        if token.kind == "op" and token.text == "@":  # @2: the equation's 2nd dimension
            self.advance()
            number = self.advance()
            if number.kind != "number" or not number.text.isdigit() or int(number.text) < 1:
                raise ModelError(
                    f"'@' must be followed by a dimension position (@1, @2, ...) at column "
                    f"{number.col}"
                )
            return f"@{int(number.text)}"
        if token.kind == "end" or (token.kind == "op" and token.text in ",]:"):
            raise ModelError(
                f"unexpected '{token.text or 'end of equation'}' in subscript at column "
                f"{token.col}",
                hint="subscripts are element names, dimension names, 1-based positions or *",
            )
        first = self.subscript_part(self.expression(0), token)
        nxt = self.peek()
        if not (nxt.kind == "op" and nxt.text == ":"):
            return first
        self.advance()
        end = self.peek()
        last = self.subscript_part(self.expression(0), end)
        for part, at in ((first, token), (last, end)):
            if not isinstance(part, str | int) or (isinstance(part, str) and part.endswith("*")):
                raise ModelError(
                    f"a range's ends must be elements or positions (column {at.col})",
                    hint="write x[1:3] or x[first:last]",
                )
        assert isinstance(first, str | int) and isinstance(last, str | int)
        return Range(first, last)

    @staticmethod
    def subscript_part(expr: Expr, token: Token) -> Subscript:
        """A name stays a name (an element or dimension, or else a variable), a whole
        number a position, anything else an expression computed while the model runs."""
        if isinstance(expr, Var) and not expr.subscripts:
            return expr.name
        if isinstance(expr, Num) and expr.value.is_integer() and token.kind == "number":
            return int(expr.value)
        if isinstance(expr, Var) and expr.name.endswith(".*"):
            raise ModelError(f"'{expr.name}' cannot be subscripted (column {token.col})")
        return expr


def _function_name(text: str) -> str:
    return canonical(text).upper()


def parse(text: str) -> Expr:
    """Parse equation text into an AST. Raises ModelError (without location) on bad input.

    Equations may nest (parentheses, calls) at most MAX_DEPTH levels, and the resulting tree
    may be at most MAX_TREE_DEPTH deep (a chain of operators counts one level per operator).
    """
    if not isinstance(text, str):
        raise ModelError(f"equation must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ModelError(f"equation longer than {MAX_LENGTH} characters")
    return _parse(text)


# large enough that a model of 50,000 equations is parsed once when loaded and not again
# when compiled
@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> Expr:
    parser = _Parser(text)
    tree = parser.parse()
    # a tree has at most as many levels as the equation has tokens: count only when it may
    if len(parser.tokens) > MAX_TREE_DEPTH and depth(tree) > MAX_TREE_DEPTH:
        raise ModelError(
            f"equation chains more than {MAX_TREE_DEPTH} operations",
            hint="split it into several auxiliaries",
        )
    return tree
