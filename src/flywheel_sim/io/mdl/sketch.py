"""The sketch of a Vensim ``.mdl`` file: where the modeller drew each variable.

The sketch follows the equations (from the ``\\\\\\---///`` line). Each view starts with such
a line, a version line (``V300`` or ``V364``), its title (``*View 1``) and a font line
(``$...``); then one object a line, its fields separated by commas (Vensim's reference,
"Sketch format"):

- ``10,id,name,x,y,width,height,shape,bits,...`` a variable (``x``, ``y`` its centre); bit 0 of
  ``bits`` clear marks a ghost (a copy of a variable drawn elsewhere);
- ``11,id,0,x,y,...`` a flow's valve; the flow's name is the next ``10`` record, attached to it;
- ``12,id,text,...`` a cloud or a comment (with bit 2 of its bits, its text is on the next line);
- ``1,id,from,to,...,n|(x,y)|...`` an arrow between two objects, through its control points
  (one from a valve is a flow's pipe, not a causal link).

Names may be written in double quotes (``"a, b"``, with ``\\"`` inside). The sketch only
decorates the model: a record that cannot be read, or that names no variable of the model,
is skipped, and a name is matched to a variable only when its canonical name is the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flywheel_sim.spec.layout import Curve, Layout, Place
from flywheel_sim.spec.names import canonical

_POINT = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_RECORD = re.compile(r"\d+,")
_MAX_QUOTED_LINES = 4  # a quoted name continued over a few lines at most


@dataclass(frozen=True, slots=True)
class _Drawn:
    """A ``10`` (variable) or ``11`` (valve) record as read."""

    code: str
    view: int
    name: str
    x: float
    y: float
    width: float | None
    height: float | None
    ghost: bool = False
    valve: _Drawn | None = None  # a flow's name: the valve it is attached to


def read_sketch(text: str, names: dict[str, str]) -> Layout | None:
    """The layout of the variables ``names`` (canonical name -> the model's name) drawn in the
    sketch ``text``, or None when it places none of them."""
    views: list[str] = []
    drawn: dict[tuple[int, int], _Drawn] = {}  # (view, id) -> the record
    arrows: list[tuple[int, int, int, tuple[tuple[float, float], ...]]] = []
    lines = text.splitlines()
    k, view = 0, -1
    previous: _Drawn | None = None
    while k < len(lines):
        line = lines[k].strip()
        k += 1
        if line.startswith("*"):
            views.append(line[1:].strip() or f"View {len(views) + 1}")
            view, previous = len(views) - 1, None
            continue
        head = line.split(",", 2)
        if len(head) < 3 or head[0] not in ("1", "10", "11", "12"):
            continue  # the \\\---/// and V300 lines, $ fonts, a comment's text, others
        if view < 0:
            views.append("View 1")
            view = 0
        code, rest = head[0], head[2]
        if code != "1" and rest.startswith('"') and _quoted_end(rest) < 0:
            rest, k = _continued(rest, lines, k)
        fields = _fields(rest)
        number = _int(head[1])
        if number is None or fields is None:
            continue
        if code == "1":
            arrow = _arrow(fields, rest)
            if arrow is not None:
                arrows.append((view, *arrow))
            continue
        if code == "12" and len(fields) > 6 and (_int(fields[6]) or 0) & 4:
            k += 1  # the comment's text is the next line
        one = _drawn(code, view, fields, previous)
        previous = one
        if one is not None:
            drawn[(view, number)] = one
    return _layout(views, drawn, arrows, names)


def _continued(rest: str, lines: list[str], k: int) -> tuple[str, int]:
    """A quoted name that goes on over the next lines (none of them a record), joined by
    spaces; unchanged when the quote does not close within a few lines."""
    joined, at = rest, k
    for _ in range(_MAX_QUOTED_LINES):
        if at >= len(lines) or _RECORD.match(lines[at].strip()):
            break
        joined += " " + lines[at].strip()
        at += 1
        if _quoted_end(joined) >= 0:
            return joined, at
    return rest, k


def _quoted_end(text: str) -> int:
    """The index of the quote closing the quoted field at the start of ``text``, or -1."""
    pos = 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
            continue
        if text[pos] == '"':
            return pos
        pos += 1
    return -1


def _fields(rest: str) -> list[str] | None:
    """The fields after the id: the first (a name) may be quoted; None when its quote is not
    closed."""
    if rest.startswith('"'):
        end = _quoted_end(rest)
        if end < 0:
            return None
        name = rest[: end + 1]
        tail = rest[end + 1 :]
        if tail and not tail.startswith(","):
            return None
        return [name, *tail[1:].split(",")] if tail else [name]
    return rest.split(",")


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e9 else None


def _drawn(code: str, view: int, fields: list[str], previous: _Drawn | None) -> _Drawn | None:
    """``name,x,y,width,height,shape,bits,...`` as read (its name unquoted), or None."""
    if len(fields) < 5 or code == "12":
        return None
    x, y, w, h = (_number(f) for f in fields[1:5])
    if x is None or y is None:
        return None
    name = fields[0].strip()
    if name.startswith('"') and name.endswith('"') and len(name) >= 2:
        name = name[1:-1].replace('\\"', '"')
    name = " ".join(name.replace("\\n", " ").split())
    shape = (_int(fields[5]) if len(fields) > 5 else None) or 0
    bits = _int(fields[6]) if len(fields) > 6 else None
    attached = code == "10" and shape & 32 and previous is not None and previous.code == "11"
    return _Drawn(
        code,
        view,
        name,
        x,
        y,
        w or None,
        h or None,
        ghost=bits is not None and not bits & 1,
        valve=previous if attached else None,
    )


def _arrow(fields: list[str], rest: str) -> tuple[int, int, tuple[tuple[float, float], ...]] | None:
    """``from,to,...,n|(x,y)|...``: the two objects' ids and the control points."""
    source, target = (_int(f) for f in fields[:2]) if len(fields) >= 2 else (None, None)
    if source is None or target is None:
        return None
    bar = rest.find("|")
    points = tuple(
        (float(m.group(1)), float(m.group(2)))
        for m in _POINT.finditer(rest[bar:] if bar >= 0 else "")
    )
    return source, target, tuple(p for p in points if p != (0.0, 0.0))


def _layout(
    views: list[str],
    drawn: dict[tuple[int, int], _Drawn],
    arrows: list[tuple[int, int, int, tuple[tuple[float, float], ...]]],
    names: dict[str, str],
) -> Layout | None:
    """Places of the model's variables (the first drawing that is not a ghost, else the first
    ghost), valves of its flows and the curves of arrows between two of its variables."""
    title = ["" if len(views) == 1 else v for v in views]
    chosen: dict[str, _Drawn] = {}
    of_object: dict[tuple[int, int], str] = {}  # (view, id) -> canonical name
    for where, one in drawn.items():
        key = canonical(one.name)
        if one.code != "10" or key not in names:
            continue
        of_object[where] = key
        if key not in chosen or (chosen[key].ghost and not one.ghost):
            chosen[key] = one
    if not chosen:
        return None
    valves: dict[str, Place] = {}
    where_of = {id(d): w for w, d in drawn.items()}
    for where, one in drawn.items():
        flow = of_object.get(where)
        if flow is not None and one.valve is not None and flow not in valves:
            valves[flow] = Place(names[flow], one.valve.x, one.valve.y, view=title[one.view])
            of_object[where_of[id(one.valve)]] = flow
    places = tuple(
        Place(names[key], d.x, d.y, d.width, d.height, title[d.view]) for key, d in chosen.items()
    )
    curves = []
    for view, source, target, points in arrows:
        start = drawn.get((view, source))
        if start is None or start.code == "11":
            continue  # a flow's pipe, from its valve: not a causal link
        a, b = of_object.get((view, source)), of_object.get((view, target))
        if a is not None and b is not None and a != b:
            curves.append(Curve(names[a], names[b], points, title[view]))
    return Layout(
        places, tuple(valves.values()), tuple(curves), () if len(views) == 1 else tuple(views)
    )


__all__ = ["read_sketch"]
