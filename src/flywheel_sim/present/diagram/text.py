"""The diagram's text and colours: the palette, a :class:`Line` and :class:`Block` of text,
measuring and wrapping text in matplotlib's default font, and the words the diagram shows —
labels, causal chains, each chip's content, the centre label, the dominance note with the shares
of loop activity behind its numbers, and the legend's rows."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError

if TYPE_CHECKING:
    import networkx as nx
    import xarray as xr

    from flywheel_sim.loops.find import Loop

R_COLOUR, B_COLOUR, NEUTRAL, INK, CORE_COLOUR = (
    "#1b7837",
    "#b2182b",
    "#777777",
    "#222222",
    "#2f4b7c",
)
Links = frozenset[tuple[str, str]]
Activity = list[tuple[frozenset[str], Links, float]]  # each loop's variables, links, share
SUPER = {"+": "⁺", "-": "⁻"}


@dataclass(frozen=True)
class Line:
    """One line of text; ``badge`` (R, B or ?) draws a loop marker before it."""

    text: str
    size: float
    bold: bool = False
    colour: str = INK
    badge: str = ""
    badge_colour: str = NEUTRAL


@dataclass(frozen=True)
class Block:
    """Lines of text centred on ``x``, the first one's top at ``top``."""

    x: float
    top: float
    lines: tuple[Line, ...]


# --- words and labels --------------------------------------------------------------------


def words(name: str) -> str:
    return name.replace("_", " ")


def wrapped_label(name: str) -> str:
    words = name.replace("_", " ").split()
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) > 12:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def node_lines(name: str) -> tuple[Line, ...]:
    return tuple(Line(part, 10.5, True) for part in wrapped_label(name).split("\n"))


def _percent(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def polarity_colour(loop: Loop) -> str:
    return {"R": R_COLOUR, "B": B_COLOUR}.get(loop.polarity, NEUTRAL)


def tint(colour: str, strength: float) -> str:
    """``colour`` mixed with white: strength 1 is the colour itself, 0 is white."""
    strength = max(0.0, min(1.0, strength))
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * strength):02x}" for c in rgb)


# --- measuring text ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float, bold: bool) -> float:
    """Width in inches of ``text`` in matplotlib's default font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / 72


def line_width(line: Line) -> float:
    return _text_width(line.text, line.size, line.bold) + (
        1.6 * line.size / 72 if line.badge else 0
    )


def line_height(line: Line) -> float:
    return (1.75 if line.badge else 1.3) * line.size / 72


def block_size(lines: tuple[Line, ...], pad_x: float, pad_y: float) -> tuple[float, float]:
    """Half width and half height of lines of text with padding, in inches."""
    width = max(line_width(line) for line in lines)
    return width / 2 + pad_x, sum(line_height(line) for line in lines) / 2 + pad_y


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` at spaces into lines at most ``width`` inches wide."""
    lines, line = [], ""
    for word in text.split(" "):
        trial = f"{line} {word}".strip()
        if line and _text_width(trial, size, False) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line]


# --- causal chains -----------------------------------------------------------------------


def chain_links(chain: tuple[str, ...] | list[str]) -> Links:
    return frozenset(zip(chain, [*chain[1:], *chain[:1]], strict=True))


def path_sign(graph: nx.DiGraph, path: list[str] | tuple[str, ...]) -> str:
    """The sign of a causal path: the product of its links' polarities ('' if one is unknown)."""
    negative = 0
    for a, b in itertools.pairwise(path):
        sign = graph.edges[a, b].get("polarity", "") if graph.has_edge(a, b) else ""
        if sign not in ("+", "-"):
            return ""
        negative += sign == "-"
    return "-" if negative % 2 else "+"


def _chain(graph: nx.DiGraph, chain: list[str] | tuple[str, ...]) -> str:
    """'a →⁺ b →⁻ c', shortened to its first two and last two variables."""
    parts = [words(chain[0])]
    for a, b in itertools.pairwise(chain):
        parts.append(f"→{SUPER.get(path_sign(graph, [a, b]), '')} {words(b)}")
    if len(parts) > 5:
        parts = [*parts[:2], "→ …", *parts[-2:]]
    return " ".join(parts)


# --- chip content ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChipSpec:
    """A chip before placement: what it shows, where it wants to be, what it joins."""

    loop: Loop
    lines: tuple[Line, ...]
    size: tuple[float, float]
    angle: float
    outside: frozenset[str]
    path: Links
    share: float | None
    ends: tuple[tuple[str, str, bool, bool], ...]  # core variable, sign, into chip?, dashed?


def chip_spec(
    graph: nx.DiGraph,
    main: Loop,
    loop: Loop,
    angle: dict[str, float],
    activity: Activity | None,
    own: float | None,
) -> ChipSpec:
    core_links = chain_links(main.variables)
    runs = _runs(loop.variables, angle, core_links)
    path = chain_links(loop.variables) - core_links
    if runs:
        run = max(runs, key=len)
        first = path_sign(graph, run[:2]) if len(run) > 2 else ""  # a shortcut: one sign
        ends = ((run[0], first, True, False), (run[-1], path_sign(graph, run[-2:]), False, False))
        text = [_chain(graph, run[1:-1] or run)]
        text += [f"also {_chain(graph, r)}" for r in runs if r is not run]
    else:
        into, out = _bridges(graph, main.variables, loop.variables)
        ends = (
            (into[0], path_sign(graph, into), True, True),
            (out[-1], path_sign(graph, out), False, True),
        )
        start = loop.variables.index(into[-1])
        text = [_chain(graph, [*loop.variables[start:], *loop.variables[:start]])]
        via = [v for v in (*into[1:-1], *out[1:-1])]
        text += [f"linked via {', '.join(words(v) for v in via)}"] if via else []
    lines = [Line(words(str(loop.name)), 11, True, INK, loop.polarity, polarity_colour(loop))]
    lines += [Line(t, 9.5, False, "#444444") for part in text for t in wrap_text(part, 9.5, 2.7)]
    outside = frozenset(loop.variables) - frozenset(angle)
    share = activity_share(outside, path, activity)
    if share is not None:
        lines.append(
            Line(
                f"{_percent(share)} of loop activity passes here", 9.5, True, polarity_colour(loop)
            )
        )
        lines.append(Line(f"this loop alone: {own or 0.0:+.1%}", 8.5, False, NEUTRAL))
    anchors = [angle[e[0]] for e in ends]
    x, y = sum(math.cos(a) for a in anchors), sum(math.sin(a) for a in anchors)
    wish = math.atan2(y, x) if math.hypot(x, y) > 1e-6 else anchors[0] - math.pi / 2
    size = block_size(tuple(lines), 0.14, 0.1)
    return ChipSpec(loop, tuple(lines), size, wish, outside, path, share, ends)


def _runs(chain: tuple[str, ...], angle: dict[str, float], core_links: Links) -> list[list[str]]:
    """The loop's detours from the core: core variable, outside variables, core variable."""
    at = [i for i, v in enumerate(chain) if v in angle]
    runs = []
    for k, i in enumerate(at):
        j = at[(k + 1) % len(at)]
        run = [chain[(i + s) % len(chain)] for s in range((j - i) % len(chain) or len(chain))]
        run.append(chain[j])
        if len(run) > 2 or (run[0], run[1]) not in core_links:
            runs.append(run)
    return runs


def _bridges(
    graph: nx.DiGraph, core: tuple[str, ...], loop: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Shortest causal paths from the core into a loop and from the loop back to the core."""
    import networkx as nx

    paths = nx.multi_source_dijkstra_path(graph, list(core))
    into = min((paths[v] for v in loop if v in paths), key=len, default=None)
    paths = nx.multi_source_dijkstra_path(graph, list(loop))
    out = min((paths[v] for v in core if v in paths), key=len, default=None)
    if into is None or out is None:
        raise ModelError(
            f"named loop '{loop[0]}…' has no causal path to or from the core loop",
            hint="choose another core with --core",
        )
    return list(into), list(out)


# --- centre label ------------------------------------------------------------------------


def centre_lines(main: Loop, activity: Activity | None, own: dict[str, float]) -> tuple[Line, ...]:
    lines = [
        Line(
            words(str(main.name)),
            15,
            True,
            polarity_colour(main),
            main.polarity,
            polarity_colour(main),
        )
    ]
    if activity is not None:
        core_links = chain_links(main.variables)
        through = sum(s for _, links, s in activity if links & core_links)
        lines.append(Line(f"{_percent(through)} of loop activity", 11, True, CORE_COLOUR))
        lines.append(Line("uses one of its links", 11, False, CORE_COLOUR))
        lines.append(Line(f"this loop alone: {own.get(main.id, 0.0):+.1%}", 9.5, False, NEUTRAL))
    return tuple(lines)


def centre_height(main: Loop, activity: Activity | None, own: dict[str, float]) -> float:
    return block_size(centre_lines(main, activity, own), 0, 0)[1] * 2


# --- dominance ---------------------------------------------------------------------------


def activity_at(dominance: xr.Dataset, at: float) -> Activity:
    """Each analysed loop's variables and links (subscripts dropped), and its share of
    |relative score| at ``at``."""
    row = dominance.sel(time=at, method="nearest").isel(run=0)
    out = []
    for chain, score in zip(
        row["loop_variables"].values, row["relative_score"].values, strict=True
    ):
        value = abs(float(score))
        if math.isfinite(value) and value > 0:
            names = tuple(v.split("[")[0] for v in str(chain).split(" -> "))
            out.append((frozenset(names), chain_links(names), value))
    total = sum(s for *_, s in out) or 1.0
    return [(names, links, s / total) for names, links, s in out]


def activity_share(outside: frozenset[str], path: Links, activity: Activity | None) -> float | None:
    """Share of loop activity in loops through every variable of ``outside`` or, when that is
    empty (a shortcut between core variables), through every link of ``path``."""
    if activity is None:
        return None
    if outside:
        return sum(s for names, _, s in activity if outside <= names)
    return sum(s for _, links, s in activity if path <= links)


def loop_weights(dominance: xr.Dataset | None, at: float | None) -> dict[str, float]:
    if dominance is None or at is None:
        return {}
    row = dominance["relative_score"].isel(run=0).sel(time=at, method="nearest")
    weights: dict[str, float] = {}
    for key, value in zip(row["loop"].values, row.values, strict=True):
        # an arrayed model's loops are scored element by element (R2[a], R2[b]): the model
        # loop R2 carries their sum
        loop_id = str(key).split("[")[0]
        weights[loop_id] = weights.get(loop_id, 0.0) + float(value)
    return weights


def dominant_note(dominance: xr.Dataset, at: float) -> str:
    """Which loops dominate at ``at`` (named or not), with their shares."""
    row = dominance.sel(time=at, method="nearest").isel(run=0)
    label = str(row["dominant"].item())
    if not label:
        return f"no loop is active at {float(row['time']):g}"
    parts = []
    for loop_id in label.split("+"):
        loop = row.sel(loop=loop_id)
        name = str(loop["loop_name"].item())
        if not name:
            chain = [words(v) for v in str(loop["loop_variables"].item()).split(" -> ")]
            name = " → ".join(chain[:3]) + (" → …" if len(chain) > 3 else "")
        parts.append(f"{loop_id} {name} ({float(loop['relative_score']):+.0%})")
    return f"dominant at {float(row['time']):g}: " + "; ".join(parts)


# --- legend ------------------------------------------------------------------------------


def legend_items(
    x: float, top: float, width: float, weighted: bool
) -> tuple[tuple[tuple[str, float, float, str], ...], float]:
    """Legend items laid out in rows centred on ``x``; returns them and the bottom edge."""
    items = [
        ("R", "reinforcing loop"),
        ("B", "balancing loop"),
        ("sign", "link polarity: same (+) or opposite (−) direction"),
        ("dashed", "linked through other variables"),
    ]
    if weighted:
        items.append(("width", "width and shade: share of loop activity"))
    sized = [(kind, label, 0.5 + _text_width(label, 9.5, False)) for kind, label in items]
    rows: list[list[tuple[str, str, float]]] = [[]]
    for item in sized:
        if rows[-1] and sum(i[2] + 0.3 for i in rows[-1]) + item[2] > width:
            rows.append([])
        rows[-1].append(item)
    out = []
    y = top - 0.13
    for row in rows:
        cursor = x - (sum(i[2] for i in row) + 0.3 * (len(row) - 1)) / 2
        for kind, label, w in row:
            out.append((kind, cursor, y, label))
            cursor += w + 0.3
        y -= 0.3
    return tuple(out), y + 0.13
