"""Three-address form of the postfix code, for the numba VM's block kernel.

The postfix code (:mod:`flywheel_sim.compile.ops`) is simple to emit and to check, but run
over a block of runs every instruction is a pass over the block: ``LOAD a; LOAD b; MUL;
STORE c`` is four passes (two copies, the product, a copy back) where one would do. This pass
rewrites it once per program into instructions ``(op, out, left, right)`` whose operands say
where a value already is — a slot's row, a stack row, a constant or the clock — so that

- ``LOAD``, ``CONST`` and the clock ops emit nothing: their operand is read where it lies;
- a binary or unary op writes its result straight into the row it is stored to when the next
  instruction is its ``STORE`` (so most ``STORE``\\s emit nothing either);
- the ops with more operands (lookups, ``IF``, ``STEP``, random draws, delays ...) find their
  operands in the stack rows the stack machine would have used, and run unchanged;
- a pure operation on the same operands as one computed before is not computed again while
  that value still lies in a slot or in a stack row below it (``x ^ e / (x ^ e + 1)`` is one
  power): the same operation on the same values gives the same bits.

Every arithmetic operation is the same operation on the same values in the same order as in
the postfix code, so results are bit for bit the same; only copies disappear. A value still
waiting on the stack that reads a slot is copied to its stack row before an instruction
overwrites that slot (the stack machine copied it when it was loaded).

Each instruction is six integers ``op, out, a_kind, a, b_kind, b`` over one register array
whose rows are the slots and then the stack (see :func:`to_registers`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from flywheel_sim._types import I64
from flywheel_sim.compile import ops

SLOT, STACK = 4, 5  # where a value is, while translating
ROW, CONST, CLOCK = 0, 1, 2  # operand kinds in the output
MOVE = 99  # out = a (a row copy, or a scalar filled into a row)
WIDTH = 6

BINARY = frozenset(ops.FUSABLE)
UNARY = frozenset((ops.NEG, ops.NOT, *ops.UNARY_FUNCS.values()))
Operand = tuple[int, int]


class _Translator:
    def __init__(self) -> None:
        self.code: list[list[int]] = []
        self.stack: list[Operand] = []
        # pure operations already computed, and where their value still is
        self.known: dict[tuple[int, Operand, Operand], Operand] = {}

    def emit(self, op: int, out: Operand, a: Operand, b: Operand = (CONST, 0)) -> None:
        self.code.append([op, *out, *a, *b])
        self.wrote(out)

    def wrote(self, row: Operand) -> None:
        """Forget computations that read or live in ``row``, which has just changed."""
        self.known = {k: v for k, v in self.known.items() if row not in (k[1], k[2], v)}

    def home(self, position: int) -> None:
        """Make the value at stack position ``position`` live in its own stack row."""
        operand = self.stack[position]
        if operand != (STACK, position):
            self.emit(MOVE, (STACK, position), operand)
            self.stack[position] = (STACK, position)

    def before_write(self, slot: int) -> None:
        """Copy waiting reads of ``slot`` to their stack rows before the slot changes."""
        for position, operand in enumerate(self.stack):
            if operand == (SLOT, slot):
                self.home(position)

    def store(self, slot: int) -> None:
        value = self.stack.pop()
        self.before_write(slot)
        last = self.code[-1] if self.code else None
        if (
            value == (STACK, len(self.stack))  # in its own row (not a reused value)
            and last is not None
            and (last[0] in BINARY or last[0] in UNARY or last[0] == MOVE)
            and (last[1], last[2]) == value
        ):
            last[1], last[2] = SLOT, slot  # the producer writes the slot directly
            self.wrote((SLOT, slot))
            self.known = {k: ((SLOT, slot) if v == value else v) for k, v in self.known.items()}
        else:
            self.emit(MOVE, (SLOT, slot), value)

    def pure(self, op: int, a: Operand, b: Operand) -> None:
        """Push ``a <op> b`` (or ``op(a)``), reusing the value if it was computed before and
        still lies in a slot or in a stack row below this position (which cannot change
        before this value is popped)."""
        position = len(self.stack)
        key = (op, a, b)
        where = self.known.get(key)
        if where is not None and (
            where[0] == SLOT or (where[1] < position and self.stack[where[1]] == where)
        ):
            self.stack.append(where)
            return
        self.emit(op, (STACK, position), a, b)
        self.stack.append((STACK, position))
        if a != (STACK, position) and b != (STACK, position):
            self.known[key] = (STACK, position)

    def binary(self, op: int, right: Operand) -> None:
        left = self.stack.pop()
        self.pure(op, left, right)

    def special(self, op: int, arg: int) -> None:
        pops = ops.pops(op, arg)
        sp = len(self.stack)
        for position in range(sp - pops, sp):
            self.home(position)
        del self.stack[sp - pops :]
        self.emit(op, (STACK, sp), (CONST, arg))
        self.wrote((STACK, sp - pops))
        self.stack.append((STACK, sp - pops))

    def step(self, op: int, arg: int) -> None:
        if op == ops.LOAD:
            self.stack.append((SLOT, arg))
        elif op == ops.CONST:
            self.stack.append((CONST, arg))
        elif op in ops.CLOCK.values():
            self.stack.append((CLOCK, op))
        elif op == ops.STORE:
            self.store(arg)
        elif op >= ops.FUSE_SLOT:
            self.binary(op - ops.FUSE_SLOT, (SLOT, arg))
        elif op >= ops.FUSE_CONST:
            self.binary(op - ops.FUSE_CONST, (CONST, arg))
        elif op in BINARY:
            right = self.stack.pop()
            self.binary(op, right)
        elif op in UNARY:
            self.pure(op, self.stack.pop(), (CONST, 0))
        else:
            self.special(op, arg)


@lru_cache(maxsize=128)
def _translate(raw: bytes, n_slots: int) -> I64:
    code = np.frombuffer(raw, dtype=np.int64)
    translator = _Translator()
    for pc in range(0, len(code), 2):
        translator.step(int(code[pc]), int(code[pc + 1]))
    out = np.zeros((len(translator.code), WIDTH), dtype=np.int64)
    for k, (op, out_kind, o, a_kind, a, b_kind, b) in enumerate(translator.code):
        if op in BINARY or op in UNARY or op == MOVE:
            row = _row(out_kind, o, n_slots)
            out[k] = (op, row, *_operand(a_kind, a, n_slots), *_operand(b_kind, b, n_slots))
        else:  # a stack-machine op: its stack pointer and argument
            out[k, :4] = (op, o, CONST, a)
    out.flags.writeable = False
    return out


def _row(kind: int, index: int, n_slots: int) -> int:
    return index if kind == SLOT else n_slots + index


def _operand(kind: int, index: int, n_slots: int) -> tuple[int, int]:
    if kind in (SLOT, STACK):
        return ROW, _row(kind, index, n_slots)
    return kind, index


def to_registers(code: I64, n_slots: int) -> I64:
    """The three-address form of postfix ``code`` for a program with ``n_slots`` slots: an
    (instructions, 6) int64 array ``op, out, a_kind, a, b_kind, b``. Rows number the slots
    first, then the stack (stack position p is row ``n_slots + p``); an operand is a row
    (``ROW``), a constant-pool index (``CONST``) or a clock op (``CLOCK``). Stack-machine ops
    carry their stack pointer in ``out`` and their argument in ``a``."""
    raw = np.ascontiguousarray(code, dtype=np.int64).tobytes()
    return _translate(raw, int(n_slots))
