"""Vensim's INVERT MATRIX while scalarising (compile/scalarise.py), with the semantics of
Vensim's reference manual ("INVERT MATRIX(mat, n)": the inverse of the n x n matrix ``mat``;
``mat`` and the left-hand side have their last two subscripts of n elements each):

- ``INVERT_MATRIX(mat[*, *], n)``: in an equation over (at least) two dimensions of n
  elements, the element of the inverse at the equation's element of its last two dimensions
  (row, column). ``mat[*, *]`` is read row-major, its last two dimensions the rows and
  columns; dimensions before them (``mat[c, *, *]``) pick one matrix per element.

The inverse is computed by Gauss-Jordan elimination with partial pivoting (each column's
pivot the largest in magnitude among the rows left), written out as hidden auxiliaries made
once per matrix and shared by the equation's elements: about 2 n^3 of them, so matrices are
limited to ``MAX_ORDER`` rows. A singular matrix (a pivot of 0) gives NaN, which fails the
run naming the variable and time, rather than a meaningless inverse.
"""

from __future__ import annotations

import math

from flywheel_sim.compile.arrays import ArrayFunctions
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num

MAX_ORDER = 12  # the largest matrix inverted (2 * 12^3 hidden auxiliaries)
_NAN = Num(math.nan)


class MatrixFunctions(ArrayFunctions):
    """INVERT_MATRIX expanded into scalar expressions."""

    def array_function(self, name: str, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        if name == "INVERT_MATRIX":
            return self.invert_matrix(args, where)
        return super().array_function(name, args, where)

    def invert_matrix(self, args: tuple[Expr, ...], where: dict[str, str]) -> Expr:
        items = self.array(args[0], where)
        order = self.scalar(self.resolve(args[1], where))
        if not isinstance(order, Num) or order.value != int(order.value) or order.value < 1:
            raise self.error("INVERT_MATRIX's size must be a whole number (n of an n x n matrix)")
        n = int(order.value)
        if len(items) != n * n:
            raise self.error(
                f"INVERT_MATRIX of a {n} x {n} matrix is given {len(items)} elements",
                "pass the matrix as mat[*, *] (or mat[d, *, *]) over two dimensions of n elements",
            )
        if n > MAX_ORDER:
            raise self.error(
                f"INVERT_MATRIX of a {n} x {n} matrix: at most {MAX_ORDER} x {MAX_ORDER} is "
                "supported",
                "invert a smaller matrix",
            )
        row, column = self.matrix_place(n)
        key = repr(("invert", items))
        inverse = self.vector_cache.get(key)
        if inverse is None:
            inverse = self.vector_cache[key] = self.gauss_jordan(items, n)
        return inverse[row * n + column]

    def matrix_place(self, n: int) -> tuple[int, int]:
        """The 0-based (row, column) of the equation's element along its last two
        dimensions, which must have n elements each."""
        current = self.current
        dims = self.dims_of(current) if current is not None else ()
        if len(dims) < 2 or any(len(self.dims[d]) != n for d in dims[-2:]):
            raise self.error(
                f"INVERT_MATRIX gives a {n} x {n} matrix: its equation must be over two "
                f"dimensions of {n} elements (its last two)",
                "give the variable the matrix's two dimensions last",
            )
        row_dim, column_dim = dims[-2:]
        row, column = self.current_index[-2:]
        return self.positions(row_dim)[row], self.positions(column_dim)[column]

    def gauss_jordan(self, items: list[Expr], n: int) -> list[Expr]:
        """The inverse, row-major, of the n x n matrix ``items`` (row-major)."""
        a: list[list[Expr]] = [
            [self.hide(items[i * n + j], "m") for j in range(n)] for i in range(n)
        ]
        b: list[list[Expr]] = [[Num(1.0 if i == j else 0.0) for j in range(n)] for i in range(n)]
        singular: Expr = Num(0.0)
        for k in range(n):
            pivot_row = self.pivot_row(a, k, n)
            a, b = self.swapped(a, pivot_row, k, n), self.swapped(b, pivot_row, k, n)
            pivot = a[k][k]
            singular = self.hide(Binary("OR", singular, Binary("=", pivot, Num(0.0))), "singular")
            scale = self.hide(
                If(Binary("=", pivot, Num(0.0)), Num(0.0), Binary("/", Num(1.0), pivot)), "scale"
            )
            a[k] = [self.hide(Binary("*", x, scale), "m") for x in a[k]]
            b[k] = [self.hide(Binary("*", x, scale), "inv") for x in b[k]]
            for i in range(n):
                if i == k:
                    continue
                factor = a[i][k]
                a[i] = [
                    Num(0.0)
                    if j == k
                    else self.hide(Binary("-", a[i][j], Binary("*", factor, a[k][j])), "m")
                    for j in range(n)
                ]
                b[i] = [
                    self.hide(Binary("-", b[i][j], Binary("*", factor, b[k][j])), "inv")
                    for j in range(n)
                ]
        return [If(singular, _NAN, b[i][j]) for i in range(n) for j in range(n)]

    def pivot_row(self, a: list[list[Expr]], k: int, n: int) -> Expr:
        """The row (0-based, from k on) whose entry in column k is largest in magnitude, the
        first of equals."""
        best: Expr = Num(float(k))
        size = self.hide(Call("ABS", (a[k][k],)), "size")
        for r in range(k + 1, n):
            here = self.hide(Call("ABS", (a[r][k],)), "size")
            larger = self.hide(Binary(">", here, size), "larger")
            best = self.hide(If(larger, Num(float(r)), best), "pivot")
            size = self.hide(If(larger, here, size), "size")
        return best

    def swapped(self, m: list[list[Expr]], pivot_row: Expr, k: int, n: int) -> list[list[Expr]]:
        """``m`` with row k and the pivot row exchanged (rows before k are kept)."""
        if isinstance(pivot_row, Num):
            return m
        out = [list(row) for row in m]
        for j in range(n):
            chosen: Expr = m[k][j]
            for r in range(k + 1, n):
                chosen = If(Binary("=", pivot_row, Num(float(r))), m[r][j], chosen)
            out[k][j] = self.hide(chosen, "m")
            for r in range(k + 1, n):
                out[r][j] = self.hide(
                    If(Binary("=", pivot_row, Num(float(r))), m[k][j], m[r][j]), "m"
                )
        return out
