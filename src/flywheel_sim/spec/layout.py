"""Where the modeller put each variable on the diagram: plain, frozen data.

A :class:`Layout` is read from a Vensim sketch, from XMILE ``<views>`` or from a YAML model's
``layout:`` section, and written back by the YAML and XMILE writers. Coordinates are the
modeller's own (Vensim's and XMILE's: the centre of the object, x to the right, y downwards);
the diagrams scale them to fit. A layout only names variables of its model
(:meth:`Layout.check` is called when a :class:`~flywheel_sim.spec.model.Model` is built).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from flywheel_sim.errors import ModelError, did_you_mean
from flywheel_sim.spec.names import canonical


@dataclass(frozen=True, slots=True)
class Place:
    """One variable on the diagram: its centre, its size when known and its view (page)."""

    name: str
    x: float
    y: float
    width: float | None = None
    height: float | None = None
    view: str = ""


@dataclass(frozen=True, slots=True)
class Curve:
    """A drawn link from ``source`` to ``target`` through the modeller's points (a Vensim arrow
    has one control point; a straight arrow none)."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...] = ()
    view: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """The diagram of a model as its modeller drew it.

    ``places`` has one entry per placed variable; ``valves`` gives a flow's valve (the flow's
    name is often drawn beside it, in ``places``); ``curves`` the links' bends; ``views`` the
    pages in their order (a variable's ``view`` is one of them, "" for a single page).
    """

    places: tuple[Place, ...] = ()
    valves: tuple[Place, ...] = ()
    curves: tuple[Curve, ...] = ()
    views: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for place in (*self.places, *self.valves):
            values = [place.x, place.y, place.width or 0.0, place.height or 0.0]
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
                raise ModelError(
                    f"the layout of '{place.name}' must be finite numbers", variable=place.name
                )

    def __bool__(self) -> bool:
        return bool(self.places)

    def position(self, name: str) -> Place | None:
        """Where the variable ``name`` is (XMILE name matching), or None."""
        key = canonical(name)
        for place in self.places:
            if canonical(place.name) == key:
                return place
        return None

    def positions(self, gap: float = 0.25) -> dict[str, tuple[float, float]]:
        """Every placed variable's centre (by canonical name) on one plane: the views one below
        the other, ``gap`` (a share of the tallest view's height) apart, y still downwards."""
        order = {view: k for k, view in enumerate(self.views)}
        pages: dict[str, list[Place]] = {}
        for place in self.places:
            pages.setdefault(place.view, []).append(place)
        tall = max((_extent(p)[3] - _extent(p)[1] for p in pages.values()), default=0.0)
        out: dict[str, tuple[float, float]] = {}
        offset = 0.0
        for view in sorted(pages, key=lambda v: order.get(v, len(order))):
            _, top, _, bottom = _extent(pages[view])
            for place in pages[view]:
                out.setdefault(canonical(place.name), (place.x, place.y - top + offset))
            offset += bottom - top + gap * max(tall, 1.0)
        return out

    def check(self, keys: Iterable[str], file: str | None = None) -> None:
        """Refuse a layout naming a variable the model does not have, or naming one twice."""
        known = set(keys)
        seen: set[tuple[str, str]] = set()
        for what, items in (("places", self.places), ("valves", self.valves)):
            for place in items:
                key = canonical(place.name)
                if key not in known:
                    raise ModelError(
                        f"the layout places '{place.name}', which is not a variable of the model",
                        file=file,
                        hint=did_you_mean(key, known),
                    )
                if (what, key) in seen:
                    raise ModelError(f"the layout places '{place.name}' twice", file=file)
                seen.add((what, key))
        for curve in self.curves:
            for end in (curve.source, curve.target):
                if canonical(end) not in known:
                    raise ModelError(
                        f"a curve of the layout joins '{end}', which is not a variable of the "
                        "model",
                        file=file,
                        hint=did_you_mean(canonical(end), known),
                    )

    def restricted(self, keys: Iterable[str]) -> Layout:
        """The layout of the variables ``keys`` only (a copy of a model without some)."""
        known = set(keys)
        return Layout(
            tuple(p for p in self.places if canonical(p.name) in known),
            tuple(p for p in self.valves if canonical(p.name) in known),
            tuple(
                c
                for c in self.curves
                if canonical(c.source) in known and canonical(c.target) in known
            ),
            self.views,
        )


def _extent(places: list[Place]) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of the places' centres."""
    xs = [p.x for p in places]
    ys = [p.y for p in places]
    return min(xs), min(ys), max(xs), max(ys)


__all__ = ["Curve", "Layout", "Place"]
