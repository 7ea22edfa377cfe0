"""NumPy's summation order, in numba: ``ndarray.sum``, ``mean`` and ``std`` bit for bit.

NumPy sums floating-point arrays pairwise (``pairwise_sum`` in its umath loops): sequentially
below 8 terms, with eight interleaved partial sums up to 128 terms, and above that as the sum
of two halves, the first a multiple of 8. The market's numba kernels take every sum that its
NumPy reference takes with ``sum``/``mean``/``std`` this way, so the two backends give the same
bits. This is NumPy's implementation, not its documented contract; tests compare these sums
with NumPy's on many sizes and offsets.
"""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 128  # NumPy's pairwise-summation block (PW_BLOCKSIZE)


@numba.njit(cache=True, nogil=True)
def _block(a, lo, n):  # type: ignore[no-untyped-def]
    """NumPy's sum of 8 <= n <= 128 terms: eight interleaved partial sums, then the rest."""
    b = a[lo : lo + n]  # a view indexed from 0 by range(): no negative-index checks
    r0, r1, r2, r3 = b[0], b[1], b[2], b[3]
    r4, r5, r6, r7 = b[4], b[5], b[6], b[7]
    whole = n - n % 8
    for i in range(8, whole, 8):
        r0 += b[i]
        r1 += b[i + 1]
        r2 += b[i + 2]
        r3 += b[i + 3]
        r4 += b[i + 4]
        r5 += b[i + 5]
        r6 += b[i + 6]
        r7 += b[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(whole, n):
        res += b[i]
    return res


@numba.njit(cache=True, nogil=True)
def _blocks(a, lo, n):  # type: ignore[no-untyped-def]
    """NumPy's ``pairwise_sum`` of ``a[lo:lo+n]`` for n >= 8, in ``a``'s own precision: a
    block up to 128 terms, else the sum of the two halves (the first a multiple of 8). NumPy
    recurses; this walks the same tree with a stack (numba's disk cache mishandles recursion)."""
    starts = np.empty(64, np.int64)
    sizes = np.empty(64, np.int64)
    right = np.zeros(64, np.bool_)  # working on the right half of this node
    left = np.empty(64, a.dtype)  # the sum of its left half, once known
    top = 0
    starts[0], sizes[0] = lo, n
    while True:
        # descend along left halves to a block
        while sizes[top] > BLOCK:
            half = sizes[top] // 2
            half -= half % 8
            right[top + 1] = False
            starts[top + 1], sizes[top + 1] = starts[top], half
            top += 1
        value = _block(a, starts[top], sizes[top])
        # climb: a finished left half sends us to its sibling, a right half completes its parent
        while True:
            if top == 0:
                return value
            top -= 1
            half = sizes[top] // 2
            half -= half % 8
            if not right[top + 1]:
                left[top] = value
                right[top + 1] = True
                starts[top + 1], sizes[top + 1] = starts[top] + half, sizes[top] - half
                top += 1
                break
            value = left[top] + value


@numba.njit(cache=True, nogil=True)
def total(a, lo, n):  # type: ignore[no-untyped-def]
    """``float(a[lo:lo+n].sum())`` for float64 ``a``, bit for bit: the reduction starts from
    0.0 and adds NumPy's pairwise sum (sequential below 8 terms)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return 0.0 + res
    return 0.0 + _blocks(a, lo, n)


@numba.njit(cache=True, nogil=True)
def total32(a, lo, n):  # type: ignore[no-untyped-def]
    """``a[lo:lo+n].sum()`` for float32 ``a``: NumPy sums float32 in float32."""
    if n < 8:
        res = np.float32(0.0)
        for i in range(lo, lo + n):
            res += a[i]
        return np.float32(0.0) + res
    return np.float32(0.0) + _blocks(a, lo, n)


@numba.njit(cache=True, nogil=True)
def spread(x):  # type: ignore[no-untyped-def]
    """``x.std()`` bit for bit: the mean, then the mean square deviation, NumPy's sums."""
    n = x.size
    mean = total(x, 0, n) / n
    square = np.empty(n)
    for i in range(n):
        d = x[i] - mean
        square[i] = d * d
    return np.sqrt(total(square, 0, n) / n)
