"""Data derived from a Program once and reused by every run of it (the result's layout, the
parameter rows): a small cache keyed on the identity of the Program's immutable tuples.

A Program is a frozen dataclass holding NumPy arrays, so it can be neither hashed nor weakly
referenced; what these derivations read (``variables``, ``param_keys``, ``dims``) are tuples of
strings and frozen dataclasses, which nothing can change. An entry keeps those tuples (not the
Program and its arrays) alive, so their ids cannot be reused while the entry exists, and a hit
is checked by identity: a Program sharing the same tuples gets the same, still correct, data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from flywheel_sim.compile import Program

T = TypeVar("T")
Sources = tuple[object, object, object]

MAX_ENTRIES = 64  # the oldest entry goes first; each holds a few small tuples
_CACHE: dict[tuple[int, str], tuple[Sources, object]] = {}
_LOCK = threading.Lock()


def derived(program: Program, derive: Callable[[Program], T]) -> T:
    """``derive(program)``, computed once per Program (``derive`` must read nothing but
    ``program.variables``, ``program.param_keys`` and ``program.dims``, and its result must not
    be changed by its users)."""
    sources: Sources = (program.variables, program.param_keys, program.dims)
    key = (id(program.variables), derive.__qualname__)
    hit = _CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], sources, strict=True)):
        return hit[1]  # type: ignore[return-value]
    value = derive(program)
    with _LOCK:  # runs on several threads (the local executor) may fill the cache at once
        while len(_CACHE) >= MAX_ENTRIES:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = (sources, value)
    return value
