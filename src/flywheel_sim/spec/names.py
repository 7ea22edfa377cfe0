"""XMILE name rules: names are case-insensitive and spaces and underscores are equivalent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_SEPARATORS = re.compile(r"[\s_]+")

RESERVED = frozenset({"run", "time", "seed", "status", "failed_variable", "failed_time"})
"""Names a simulation result uses for its own coordinates (the run index, the saved times, each
run's seed and its status, failed variable and failure time); a variable or dimension of the
same name would overwrite one of them or vanish from the result, so models may not use them."""


@lru_cache(maxsize=1 << 17)
def canonical(name: str) -> str:
    """The canonical form of a variable name: lower case, runs of spaces/underscores -> '_'.

    >>> canonical("Total  Population")
    'total_population'

    Cached: the compiler and the model's checks ask for the same names many times.
    """
    text = name.strip().replace("\\n", " ")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return _SEPARATORS.sub("_", text.strip()).lower()


def canonical_elements(elements: Iterable[str]) -> tuple[str, ...]:
    """The canonical names of a dimension's elements. Numbers (a counted dimension's
    elements, up to a million of them) are their own canonical form and stay out of
    :func:`canonical`'s cache, which would otherwise keep about 200 bytes for each."""
    return tuple(e if e.isdecimal() else canonical(e) for e in elements)
