"""XMILE name rules: names are case-insensitive and spaces and underscores are equivalent."""

from __future__ import annotations

import re
from functools import lru_cache

_SEPARATORS = re.compile(r"[\s_]+")


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
