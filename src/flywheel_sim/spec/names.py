"""XMILE name rules: names are case-insensitive and spaces and underscores are equivalent."""

from __future__ import annotations

import re
from functools import lru_cache

_SEPARATORS = re.compile(r"[\s_]+")

RESERVED = frozenset({"run", "time", "seed", "status", "failed_variable", "failed_time"})
"""Names a simulation result uses for its own coordinates (the run index, the saved times, each
run's seed and its status, failed variable and failure time); a variable or dimension of the
same name would overwrite one of them or vanish from the result, so models may not use them."""


def canonical(name: str) -> str:
    """The canonical form of a variable name: lower case, runs of spaces/underscores -> '_'.

    >>> canonical("Total  Population")
    'total_population'

    Cached: the compiler and the model's checks ask for the same names many times. Numbers
    (the elements of a counted dimension, a million of them at most) are their own canonical
    form and are returned as they are, without filling the cache.
    """
    if name.isdecimal():
        return name
    return _canonical(name)


@lru_cache(maxsize=1 << 17)
def _canonical(name: str) -> str:
    text = name.strip().replace("\\n", " ")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return _SEPARATORS.sub("_", text.strip()).lower()
