"""Time-varying policies: a parameter that changes during a run.

A policy replaces a parameter's constant value by a path over time. The parameter keeps its
value (its default, or the value a run sets) as the *base*: the path starts from the base and
the base can still be varied run by run. Four kinds:

- :class:`Step` — the base until ``at``, then ``to``;
- :class:`Ramp` — the base until ``start``, then a straight line to ``to`` at ``end``;
- :class:`Table` — the base before the first point, then the table (linear between points, or
  each value held until the next point), held after the last point; a *data series* (a
  column of a CSV file) is a table read from a file (:func:`series_from_csv`).

Policies are attached with :meth:`flywheel_sim.Model.with_policies`; the compiler turns each
into a time-dependent equation for the parameter's slot (see docs/design.md).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flywheel_sim.errors import ModelError
from flywheel_sim.spec.ast import Binary, Call, Expr, If, Num


@dataclass(frozen=True, slots=True)
class Step:
    """The base value until ``at``, ``to`` from then on."""

    to: float
    at: float

    def __post_init__(self) -> None:
        _finite(self, ("to", "at"))

    def describe(self) -> str:
        return f"step to {self.to:g} at {self.at:g}"


@dataclass(frozen=True, slots=True)
class Ramp:
    """The base value until ``start``, a straight line to ``to`` at ``end``, then ``to``."""

    to: float
    start: float
    end: float

    def __post_init__(self) -> None:
        _finite(self, ("to", "start", "end"))
        if self.end <= self.start:
            raise ModelError(
                f"ramp ends ({self.end:g}) before it starts ({self.start:g})",
                hint="give the ramp an end after its start",
            )

    def describe(self) -> str:
        return f"ramp to {self.to:g} from {self.start:g} to {self.end:g}"


@dataclass(frozen=True, slots=True)
class Table:
    """Values at times: the base before the first time, then the table, held at the last value.

    ``hold`` keeps each value until the next time (a step path, as for annual data); otherwise
    values are interpolated linearly. ``source`` says where a data series came from.
    """

    times: tuple[float, ...]
    values: tuple[float, ...]
    hold: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        where = f" ({self.source})" if self.source else ""
        if not self.times:
            raise ModelError(f"a policy table needs at least one point{where}")
        if len(self.times) != len(self.values):
            raise ModelError(
                f"a policy table has {len(self.times)} times but {len(self.values)} values{where}"
            )
        if not all(math.isfinite(v) for v in (*self.times, *self.values)):
            raise ModelError(f"policy table points must be finite numbers{where}")
        if any(b <= a for a, b in zip(self.times, self.times[1:], strict=False)):
            raise ModelError(f"policy table times must increase{where}")

    def describe(self) -> str:
        how = "held" if self.hold else "linear"
        origin = f" from {self.source}" if self.source else ""
        return (
            f"table of {len(self.times)} points{origin} ({how}), "
            f"{self.times[0]:g}..{self.times[-1]:g}"
        )


Policy = Step | Ramp | Table


def _finite(policy: object, fields: tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(policy, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(f"policy field '{name}' must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ModelError(f"policy field '{name}' must be finite, not {value!r}")


def policy_expr(policy: Policy, base: Expr, table: int | None = None) -> Expr:
    """The policy as an expression of TIME and the base value (a resolved slot reference).

    A :class:`Table` is read through lookup table number ``table`` (registered by the
    compiler as a continuous or discrete graphical function over the same points).
    """
    time = Call("TIME", ())
    if isinstance(policy, Step):
        return If(Binary(">=", time, Num(policy.at)), Num(policy.to), base)
    if isinstance(policy, Ramp):
        share = Binary("/", Binary("-", time, Num(policy.start)), Num(policy.end - policy.start))
        line = Binary("+", base, Binary("*", Binary("-", Num(policy.to), base), share))
        return If(
            Binary("<", time, Num(policy.start)),
            base,
            If(Binary(">=", time, Num(policy.end)), Num(policy.to), line),
        )
    assert table is not None
    return If(
        Binary("<", time, Num(policy.times[0])),
        base,
        Call("LOOKUP", (Num(float(table)), time)),
    )


# -- reading policies from files and the command line -------------------------------------------
def policy_from_mapping(
    raw: Any, *, where: str, read: Callable[[str], str] | None = None
) -> Policy:
    """A policy from its YAML form, for example ``{step: {to: 0.2, at: 2005}}``,
    ``{ramp: {to: 0, start: 2000, end: 2005}}``, ``{table: [[2000, 1], [2010, 0.8]]}`` or
    ``{series: {file: prices.csv, time: year, column: price}}`` (with ``hold: true`` for a
    step path). ``where`` names the file and line for errors."""
    if not isinstance(raw, Mapping):
        raise ModelError(
            f"{where}: a policy must be a mapping such as {{step: {{to: 0.2, at: 2005}}}}"
        )
    kinds = [k for k in ("step", "ramp", "table", "series") if k in raw]
    extra = sorted(set(raw) - {"step", "ramp", "table", "series", "hold"})
    if len(kinds) != 1 or extra:
        raise ModelError(
            f"{where}: a policy needs exactly one of step, ramp, table or series"
            + (f" (unknown key '{extra[0]}')" if extra else "")
        )
    kind = kinds[0]
    body = raw[kind]
    hold = raw.get("hold", False)
    if not isinstance(hold, bool):
        raise ModelError(f"{where}: 'hold' must be true or false")
    try:
        if kind == "step":
            _keys(body, ("to", "at"), where, kind)
            return Step(to=body["to"], at=body["at"])
        if kind == "ramp":
            _keys(body, ("to", "start", "end"), where, kind)
            return Ramp(to=body["to"], start=body["start"], end=body["end"])
        if kind == "table":
            if not isinstance(body, list) or not all(
                isinstance(p, list | tuple) and len(p) == 2 for p in body
            ):
                raise ModelError("a table is a list of [time, value] pairs")
            times, values = _numbers([p[0] for p in body]), _numbers([p[1] for p in body])
            return Table(times, values, hold=hold)
        _keys(body, ("file", "time", "column"), where, kind)
        name = str(body["file"])
        if read is None:
            raise ModelError(
                f"data series '{name}' cannot be read: the scenarios were not read from a file"
            )
        return series_from_text(
            read(name), name, time=str(body["time"]), column=str(body["column"]), hold=hold
        )
    except ModelError as exc:
        if exc.message.startswith(where):
            raise
        raise ModelError(f"{where}: {exc.message}", hint=exc.hint) from None


def _keys(body: Any, keys: tuple[str, ...], where: str, kind: str) -> None:
    if not isinstance(body, Mapping) or set(body) != set(keys):
        raise ModelError(f"{where}: a {kind} policy has exactly the keys {', '.join(keys)}")


def _numbers(items: list[Any]) -> tuple[float, ...]:
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ModelError(f"table entries must be numbers, not {item!r}")
        out.append(float(item))
    return tuple(out)


def series_from_csv(path: Path, *, time: str, column: str, hold: bool = False) -> Table:
    """A data series: column ``column`` of a CSV file against its ``time`` column. Rows with an
    empty value are skipped (so a file may hold series of different lengths). The path is
    used as given: a file a model or scenario file names is read by its caller, confined to
    that file's folder (see ``policy_from_mapping``'s ``read``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ModelError(f"cannot read data series {path}: {reason}") from None
    return series_from_text(text, str(path), time=time, column=column, hold=hold)


def series_from_text(text: str, path: str, *, time: str, column: str, hold: bool = False) -> Table:
    """A data series from the text of a CSV file (``path`` names it in errors)."""
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ModelError(f"{path}: not a CSV file ({exc})") from None
    if not rows:
        raise ModelError(f"{path}: the data series file has no rows")
    for name in (time, column):
        if name not in rows[0]:
            raise ModelError(
                f"{path}: no column '{name}'",
                hint=f"columns are {', '.join(str(c) for c in rows[0])}",
            )
    times: list[float] = []
    values: list[float] = []
    for number, row in enumerate(rows, start=2):
        cell = (row[column] or "").strip()
        if not cell:
            continue
        try:
            times.append(float(row[time]))
            values.append(float(cell))
        except (TypeError, ValueError):
            raise ModelError(
                f"{path}:{number}: '{row[time]}', '{cell}' is not a number pair",
                hint=f"give numbers in columns '{time}' and '{column}'",
            ) from None
    if not times:
        raise ModelError(f"{path}: column '{column}' has no values")
    return Table(tuple(times), tuple(values), hold=hold, source=f"{Path(path).name}:{column}")


def parse_policy(text: str) -> Policy:
    """A policy from the command line: ``step:TO@AT``, ``ramp:TO@START-END`` or
    ``table:T1=V1,T2=V2,...`` (append ``!`` to a table to hold values)."""
    kind, _, body = text.partition(":")
    fix = "write step:0.2@2005, ramp:0@2000-2005 or table:2000=1,2010=0.8"
    try:
        if kind == "step":
            to, at = body.split("@")
            return Step(float(to), float(at))
        if kind == "ramp":
            to, span = body.split("@")
            start, end = span.split("-", 1) if not span.startswith("-") else ("", "")
            return Ramp(float(to), float(start), float(end))
        if kind == "table":
            hold = body.endswith("!")
            pairs = [p.split("=") for p in body.rstrip("!").split(",")]
            return Table(tuple(float(t) for t, _ in pairs), tuple(float(v) for _, v in pairs), hold)
    except ValueError:
        pass
    raise ModelError(f"cannot read policy '{text}'", hint=fix)
