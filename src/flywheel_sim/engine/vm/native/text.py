"""A small writer of LLVM IR text, for the native kernel's code generator.

The kernel's IR is written as text rather than with ``llvmlite.ir``'s object builder: a model
of 10,000 variables gives hundreds of thousands of instructions, and formatting one line
each is several times faster than building and printing an object per instruction. Only
numbers and our own names reach the text (slot indices, constants as their exact 64-bit
patterns): nothing of the model's source text does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager

W = 8  # runs per lane group: the kernel's values are vectors of W doubles
VEC = f"<{W} x double>"
I64 = "i64"


def double(value: float) -> str:
    """``value`` as an IR double literal: its exact bit pattern (NaN and infinities too)."""
    return "0x{:016X}".format(struct.unpack("<Q", struct.pack("<d", float(value)))[0])


def splat_const(value: float) -> str:
    """A vector literal with ``value`` in every lane."""
    lit = double(value)
    return "<" + ", ".join(f"double {lit}" for _ in range(W)) + ">"


class Function:
    """The lines of one IR function, with fresh value and label names."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.allocas: list[str] = []
        self.lines: list[str] = []
        self.counter = 0

    def fresh(self, stem: str = "v") -> str:
        self.counter += 1
        return f"%{stem}{self.counter}"

    def label(self, stem: str = "L") -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def value(self, expression: str, stem: str = "v") -> str:
        """Emit ``%name = expression``; returns the name."""
        name = self.fresh(stem)
        self.lines.append(f"  {name} = {expression}")
        return name

    def start_block(self, label: str) -> None:
        self.lines.append(f"{label}:")

    def branch(self, label: str) -> None:
        self.emit(f"br label %{label}")

    def cond_branch(self, cond: str, yes: str, no: str) -> None:
        self.emit(f"br i1 {cond}, label %{yes}, label %{no}")

    @contextmanager
    def if_then(self, cond: str) -> Iterator[None]:
        """Lines emitted inside run only when ``cond`` (an i1) is true."""
        yes, done = self.label("then"), self.label("endif")
        self.cond_branch(cond, yes, done)
        self.start_block(yes)
        yield
        self.branch(done)
        self.start_block(done)

    @contextmanager
    def loop(self, lo: str, hi: str, stem: str = "i") -> Iterator[str]:
        """``for i in range(lo, hi)`` over i64 values; yields the induction variable. Values
        defined inside the body are not visible after it."""
        head, body, done = self.label("head"), self.label("body"), self.label("done")
        slot = self.alloca(I64, "ivar")
        self.emit(f"store {I64} {lo}, {I64}* {slot}")
        self.branch(head)
        self.start_block(head)
        index = self.value(f"load {I64}, {I64}* {slot}", stem)
        more = self.value(f"icmp slt {I64} {index}, {hi}", "more")
        self.cond_branch(more, body, done)
        self.start_block(body)
        yield index
        following = self.value(f"add {I64} {index}, 1", "next")
        self.emit(f"store {I64} {following}, {I64}* {slot}")
        self.branch(head)
        self.start_block(done)

    def alloca(self, type_: str, stem: str = "a") -> str:
        """A stack slot of ``type_``, allocated once at the function's entry (never in a
        loop, where each iteration would take more stack)."""
        name = self.fresh(stem)
        self.allocas.append(f"  {name} = alloca {type_}, align 32")
        return name

    def text(self) -> str:
        return "\n".join([self.header + " {", "entry:", *self.allocas, *self.lines, "}"])
