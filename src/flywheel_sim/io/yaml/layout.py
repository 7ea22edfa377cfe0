"""The ``layout:`` section of a YAML model (docs/model-format.md, Layout): the diagram as the
modeller drew it, read into and written from :class:`~flywheel_sim.spec.layout.Layout`."""

from __future__ import annotations

from typing import Any, Protocol

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.layout import Curve, Layout, Place


class Reader(Protocol):
    """What this module uses of the YAML reader (io/yaml/reader.py)."""

    def error(
        self, message: str, line: int | None, variable: str | None = None, hint: str | None = None
    ) -> ModelError: ...

    def check_keys(self, node: Any, allowed: set[str] | frozenset[str], what: str) -> None: ...

    def number(self, value: Any, what: str, line: int | None) -> float: ...


_PLACE_KEYS = frozenset({"x", "y", "width", "height", "view"})
_CURVE_KEYS = frozenset({"from", "to", "points", "view"})


def layout_dict(layout: Layout | None) -> dict[str, Any]:
    """The layout as the plain data of the ``layout:`` section ({} for none)."""
    if not layout:
        return {}
    out: dict[str, Any] = {}
    if layout.views:
        out["views"] = list(layout.views)
    out["variables"] = {p.name: _place(p) for p in layout.places}
    if layout.valves:
        out["valves"] = {p.name: _place(p) for p in layout.valves}
    if layout.curves:
        out["curves"] = [
            {
                "from": c.source,
                "to": c.target,
                **({"points": [[_n(x), _n(y)] for x, y in c.points]} if c.points else {}),
                **({"view": c.view} if c.view else {}),
            }
            for c in layout.curves
        ]
    return out


def _place(place: Place) -> dict[str, Any]:
    out: dict[str, Any] = {"x": _n(place.x), "y": _n(place.y)}
    if place.width is not None:
        out["width"] = _n(place.width)
    if place.height is not None:
        out["height"] = _n(place.height)
    if place.view:
        out["view"] = place.view
    return out


def _n(value: float) -> float | int:
    """A whole number as an int (``307``, not ``307.0``); read back as the same float."""
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


def read_layout(reader: Reader, doc: Any) -> Layout | None:
    """The ``layout:`` section, checked key by key (its names are checked by the Model)."""
    node = doc.get("layout")
    if node is None:
        return None
    line = doc.key_lines.get("layout")
    if not isinstance(node, dict):
        raise reader.error("layout must be a mapping with variables:", line)
    reader.check_keys(node, {"views", "variables", "valves", "curves"}, "layout")
    views = node.get("views", [])
    if not isinstance(views, list):
        raise reader.error("layout views must be a list of view names", line)
    places = _places(reader, node, "variables", line)
    valves = _places(reader, node, "valves", line)
    curves = node.get("curves", [])
    if not isinstance(curves, list):
        raise reader.error("layout curves must be a list", line, hint="- {from: a, to: b}")
    return Layout(
        places,
        valves,
        tuple(_curve(reader, c, line) for c in curves),
        tuple(str(v) for v in views),
    )


def _places(reader: Reader, node: Any, key: str, line: int | None) -> tuple[Place, ...]:
    section = node.get(key, {})
    if not isinstance(section, dict):
        raise reader.error(f"layout {key} must map names to {{x: , y: }}", line)
    out = []
    for name, spec in section.items():
        where = section.key_lines.get(name, line) if hasattr(section, "key_lines") else line
        if not isinstance(spec, dict) or "x" not in spec or "y" not in spec:
            raise reader.error(
                f"the layout of '{name}' needs x and y", where, str(name), "{x: 120, y: 80}"
            )
        reader.check_keys(spec, _PLACE_KEYS, f"the layout of '{name}'")

        def num(k: str, name: Any = name, spec: Any = spec, where: Any = where) -> float | None:
            if spec.get(k) is None:
                return None
            return reader.number(spec[k], f"layout {k} of '{name}'", where)

        x, y = num("x"), num("y")
        assert x is not None and y is not None
        out.append(Place(str(name), x, y, num("width"), num("height"), str(spec.get("view", ""))))
    return tuple(out)


def _curve(reader: Reader, spec: Any, line: int | None) -> Curve:
    if not isinstance(spec, dict) or "from" not in spec or "to" not in spec:
        raise reader.error("a layout curve needs from: and to:", line, hint="{from: a, to: b}")
    reader.check_keys(spec, _CURVE_KEYS, "a layout curve")
    points = spec.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise reader.error("layout curve points must be [x, y] pairs", line)
    return Curve(
        str(spec["from"]),
        str(spec["to"]),
        tuple(
            (reader.number(x, "a curve point", line), reader.number(y, "a curve point", line))
            for x, y in points
        ),
        str(spec.get("view", "")),
    )


__all__ = ["layout_dict", "read_layout"]
