"""Datasets a user gives for a Vensim model's data variables (``x ~ units ~ comment |``).

Vensim takes the values of a data variable without an equation (or with only a keyword,
``x :HOLD BACKWARD:``) from the datasets named at simulation time (Vensim help, "Data
Variables": "Variables for which no equations have been written will also be treated as
Data variables"). Its own datasets are binary .vdf files, which we do not read; the text
files Vensim imports and exports are read here:

- ``.dat`` (Vensim help, ".dat format"): a variable's name on a line of its own (``x`` or
  ``x[a1, b2]``; a comment may follow after ``/``), then one line per point, ``time value``,
  separated by spaces or tabs (a comment may follow). A name may repeat: the points are
  combined into one series. ``:NA:`` is a missing value.
- ``.tab`` (tabs) and ``.csv`` (commas), Vensim's tabular export: a first row ``Time, t1,
  t2 ...`` and one row per series ``x[a1], v1, v2 ...``; or the same turned on its side (a
  first column ``Time, t1, t2 ...`` under a header naming each column's series). An empty
  cell (or ``:NA:``) is a missing value.

Several files may be given; a series in more than one is taken from the last (as Vensim takes
it from the last dataset). Files are the user's own: read by the path given, a regular file of
at most :data:`~flywheel_sim.io.paths.MAX_DATA_BYTES`, UTF-8 text.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from flywheel_sim.errors import ModelError
from flywheel_sim.io.paths import read_bytes
from flywheel_sim.spec.names import canonical

FloatArray = npt.NDArray[np.float64]
Key = tuple[str, tuple[str, ...]]
SUFFIXES = (".dat", ".tab", ".csv")
MAX_POINTS = 5_000_000
"""The most values all the data files given together may hold."""
_NAME = re.compile(r'\s*("(?:[^"]|"")*"|[^\[\]"/<]+?)\s*(?:\[([^\]]*)\])?\s*(?:<([^>]*)>)?\s*\Z')
_MISSING = ("", ":na:", "na", "nan")


@dataclass(frozen=True, slots=True)
class Series:
    """One series: its times (increasing), its values (NaN where missing) and its file."""

    times: FloatArray
    values: FloatArray
    file: str


@dataclass(slots=True)
class DataSet:
    """The series of the data files given, by (canonical name, canonical subscripts)."""

    files: tuple[str, ...] = ()
    series: dict[Key, Series] = field(default_factory=dict)

    def get(self, name: str, cell: tuple[str, ...]) -> Series | None:
        """The series of variable ``name`` (canonical) at element ``cell`` (canonical)."""
        return self.series.get((name, cell))

    def names(self) -> set[str]:
        """The (canonical) names of the variables with at least one series."""
        return {name for name, _ in self.series}


def read_datasets(paths: Iterable[str | Path]) -> DataSet:
    """Read the data files ``paths`` (see the module's description); ModelError (one line
    naming the file, and the line where it can) for anything it cannot read."""
    out = DataSet()
    count = 0
    for path in paths:
        file = str(path)
        points = _read_one(Path(path), file)
        for key, (times, values) in points.items():
            count += len(times)
            if count > MAX_POINTS:
                raise ModelError(
                    f"the data files hold more than {MAX_POINTS:,} values",
                    file=file,
                    hint="give only the series the model needs",
                )
            out.series[key] = _series(times, values, file, key)
        out.files += (file,)
    return out


def _read_one(path: Path, file: str) -> dict[Key, tuple[list[float], list[float]]]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ModelError(
            f"cannot tell the format of data file '{file}' from its extension",
            file=file,
            hint="give a .dat, .tab or .csv file (Vensim: Datasets > Export as .dat or .tab)",
        )
    try:
        resolved = path.expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        raise ModelError(f"data file '{file}' does not exist", file=file) from None
    try:
        data = read_bytes(resolved.name, resolved.parent, what="data file")
    except ModelError as exc:
        raise ModelError(
            exc.message.replace(f"'{resolved.name}'", f"'{file}'").replace(
                "is not a file in the model's folder", "is not a file"
            ),
            file=file,
            hint="check the data file's path",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise ModelError(
            f"data file '{file}' is not UTF-8 text", file=file, hint="save it as UTF-8 text"
        )
    if suffix == ".dat":
        return parse_dat(text, file)
    return parse_table(text, file, "," if suffix == ".csv" else "\t")


def parse_dat(text: str, file: str) -> dict[Key, tuple[list[float], list[float]]]:
    """The series of a Vensim .dat text: names on their own lines, then ``time value``."""
    out: dict[Key, tuple[list[float], list[float]]] = {}
    current: tuple[list[float], list[float]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        time = _number(parts[0])
        if time is not None and len(parts) > 1:
            if current is None:
                raise ModelError(
                    "a data point comes before any variable's name",
                    file=file,
                    line=number,
                    hint="put the variable's name on the line before its points",
                )
            value = _value(parts[1], file, number)
            current[0].append(time)
            current[1].append(value)
            continue
        key = series_key(raw.split("/", 1)[0], file, number)
        current = out.setdefault(key, ([], []))
    return out


def parse_table(text: str, file: str, delimiter: str) -> dict[Key, tuple[list[float], list[float]]]:
    """The series of a tabular text: times across the first row, or down the first column."""
    rows = [
        [cell.strip() for cell in row] for row in csv.reader(text.splitlines(), delimiter=delimiter)
    ]
    rows = [row for row in rows if any(row)]
    if not rows or rows[0][0].lower() != "time":
        raise ModelError(
            f"data file '{file}' does not start with 'Time'",
            file=file,
            line=1,
            hint="put the times in a first row (or column) headed 'Time', one series a row "
            "(or column) headed by its name",
        )
    header = _trim(rows[0])
    across = all(_number(cell) is not None for cell in header[1:])
    grid = rows if across else [list(col) for col in zip(*_padded(rows), strict=True)]
    times = [_number(cell) for cell in _trim(grid[0])[1:]]
    if any(t is None for t in times):
        raise ModelError(f"data file '{file}' has a time that is not a number", file=file)
    out: dict[Key, tuple[list[float], list[float]]] = {}
    for index, row in enumerate(grid[1:], start=2):
        line = index if across else 1
        cells = (row[1:] + [""] * len(times))[: len(times)]
        if len(_trim(row)) - 1 > len(times):
            raise ModelError(
                f"series '{row[0]}' has more values than there are times",
                file=file,
                line=line,
            )
        key = series_key(row[0], file, line)
        values = [_value(cell, file, line) for cell in cells]
        out[key] = ([t for t in times if t is not None], values)
    return out


def series_key(text: str, file: str, line: int) -> Key:
    """``x[a1, b2]`` as ("x", ("a1", "b2")), canonical; ModelError for what is no name."""
    match = _NAME.match(text)
    name = match.group(1).strip() if match else ""
    if match is None or not name or _number(name) is not None:
        raise ModelError(
            f"cannot read '{text.strip()[:60]}' as a variable's name",
            file=file,
            line=line,
            hint="a series starts with a line holding its name, as x or x[a1, b1]",
        )
    if match.group(3) is not None:
        raise ModelError(
            f"series '{name}' has a time base <{match.group(3)}>: not supported yet",
            file=file,
            line=line,
            hint="give its times in the model's time units",
        )
    if name.startswith('"'):
        name = name[1:-1].replace('""', '"')
    subs = [s.strip().strip('"') for s in (match.group(2) or "").split(",")]
    if match.group(2) is not None and not all(subs):
        raise ModelError(f"series '{text.strip()}' has an empty subscript", file=file, line=line)
    return canonical(name), tuple(canonical(s) for s in subs if s)


def _series(times: Sequence[float], values: Sequence[float], file: str, key: Key) -> Series:
    """One series sorted by time; a time given twice keeps its last value."""
    merged = dict(zip(times, values, strict=True))
    order = sorted(merged)
    return Series(
        np.asarray(order, dtype=np.float64),
        np.asarray([merged[t] for t in order], dtype=np.float64),
        file,
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _value(text: str, file: str, line: int) -> float:
    if text.lower() in _MISSING:
        return math.nan
    value = _number(text)
    if value is None:
        raise ModelError(
            f"'{text[:40]}' is not a number",
            file=file,
            line=line,
            hint="give finite numbers; leave a missing value empty or write :NA:",
        )
    return value


def _trim(row: list[str]) -> list[str]:
    end = len(row)
    while end > 1 and not row[end - 1]:
        end -= 1
    return row[:end]


def _padded(rows: list[list[str]]) -> list[list[str]]:
    width = max(len(row) for row in rows)
    return [row + [""] * (width - len(row)) for row in rows]


__all__ = ["SUFFIXES", "DataSet", "Series", "parse_dat", "parse_table", "read_datasets"]
