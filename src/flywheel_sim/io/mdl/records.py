"""A record's parts: its left side (name, subscripts, :EXCEPT:), operator and right side, and
its units with their range (``Widgets/Month [0, 100, 5]``)."""

from __future__ import annotations

import math
import re

from flywheel_sim.errors import ModelError
from flywheel_sim.io.mdl.data_calls import KEYWORDS, data_keyword
from flywheel_sim.io.mdl.variables import Lhs

REALITY_CHECKS = (":THE CONDITION:", ":TEST INPUT:")  # Vensim's reality checks: skipped
_OPS = (":=", "==", "<->", "=", ":", "(")
_RANGE = re.compile(r"\[([^\[\]]*)\]\s*\Z")


def split_equation(text: str, line: int) -> Lhs:
    """A record's left side (name, subscripts, :EXCEPT:), its operator and its right side."""
    if text.startswith('"'):
        close = text.find('"', 1)
        if close < 0:
            raise ModelError("a quoted name is not closed", line=line)
        name, rest = text[1:close], text[close + 1 :]
    else:
        match = re.match(r"[^\[=:(<]*", text)
        assert match is not None
        name, rest = match.group(), text[match.end() :]
    name = " ".join(name.split())
    subs, excepts = [], []
    rest = rest.lstrip()
    if rest.startswith("["):
        listed, rest = _bracket(rest, line)
        subs = listed
    if rest.upper().startswith(":EXCEPT:"):
        rest = rest[len(":EXCEPT:") :].lstrip()
        while rest.startswith("["):
            listed, rest = _bracket(rest, line)
            excepts.append(listed)
            rest = rest[1:].lstrip() if rest.startswith(",") else rest
    for op in _OPS:
        if rest.startswith(op):
            if op == ":" and re.match(r":[A-Za-z ]+:", rest):
                keyword = " ".join(rest[: rest.index(":", 1) + 1].upper().split())
                if keyword in REALITY_CHECKS:
                    return Lhs(name, subs, excepts, keyword, rest, line)
                if keyword in KEYWORDS:
                    return data_keyword(Lhs(name, subs, excepts, keyword, rest, line))
                raise ModelError(f"'{keyword}' is not supported yet", line=line, variable=name)
            body = rest if op == "(" else rest[len(op) :]
            return Lhs(name, subs, excepts, op, body.strip(), line)
    if rest.strip():
        raise ModelError(f"cannot read the equation of '{name}'", line=line, variable=name)
    return Lhs(name, subs, excepts, "", "", line)


def _bracket(text: str, line: int) -> tuple[list[str], str]:
    close = text.find("]")
    if close < 0:
        raise ModelError("a '[' is not closed", line=line)
    parts = [" ".join(p.split()).strip('"') for p in text[1:close].split(",")]
    return [p for p in parts if p], text[close + 1 :].lstrip()


def split_units(units: str) -> tuple[str, float | None, float | None]:
    """``Widgets/Month [0, 100, 5]``: the unit, and the range's minimum and maximum."""
    match = _RANGE.search(units)
    if match is None:
        return units.strip(), None, None
    bounds: list[float | None] = []
    for part in match.group(1).split(",")[:2]:
        try:
            value = float(part)
            bounds.append(value if math.isfinite(value) else None)
        except ValueError:
            bounds.append(None)
    bounds += [None] * (2 - len(bounds))
    return units[: match.start()].strip(), bounds[0], bounds[1]
