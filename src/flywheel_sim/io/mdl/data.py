"""Vensim's GET XLS/DIRECT functions: the numbers and names they read from files beside the model.

One function per kind of GET call; the reader (:mod:`flywheel_sim.io.mdl`) turns what they
return into the Model's elements (:mod:`flywheel_sim.io.mdl.data_series` makes a data series a
lookup over time with Vensim's interpolation keyword). The XLS and DIRECT forms read alike.

- :func:`read_constants` — ``GET XLS/DIRECT CONSTANTS('file', 'tab', 'cell')``: across on the
  last subscript range, down on the one before; ``'cell*'`` transposes.
- :func:`read_data` — ``GET XLS/DIRECT DATA('file', 'tab', 'time row or col', 'cell')``: a row
  number means times run across that row (elements down), a column letter means times run down
  that column (elements across).
- :func:`read_lookups` — ``GET XLS/DIRECT LOOKUPS(...)``: the same layout, x instead of time.
- :func:`read_subscript` — ``GET XLS/DIRECT SUBSCRIPT('file', 'tab', 'first', 'last',
  'prefix')``: element names read across then down, empty cells skipped.

``shape`` is the sizes of the subscript *ranges* on the equation's left-hand side, in order
(a single element, like ``A`` in ``x[A, Rows]``, is not a range and is left out). Cells follow
the spreadsheet convention (column letters from A, rows from 1) for every kind of file. Files
are read through :mod:`flywheel_sim.io.mdl.data_files` (inside the model's folder, bounded).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import numpy.typing as npt

from flywheel_sim.io.mdl.data_files import Cell, Grid, Where, load_grid, named_cell

FloatArray = npt.NDArray[np.float64]

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_COLUMN = re.compile(r"\$?([A-Za-z]{1,3})")
_ROW = re.compile(r"\$?([0-9]{1,7})")
_EXCEL_ROWS, _EXCEL_COLUMNS = 1_048_576, 16_384


def column_number(letters: str) -> int:
    """The 0-based column of spreadsheet column ``letters`` (``A`` → 0, ``AA`` → 26)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - ord("A") + 1)
    return number - 1


def column_letters(col: int) -> str:
    """The spreadsheet letters of 0-based column ``col`` (0 → ``A``)."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """``C5`` for 0-based ``row`` 4, ``col`` 2."""
    return f"{column_letters(col)}{row + 1}"


def parse_cell(text: str, *, where: Where, what: str = "cell") -> tuple[int, int]:
    """The 0-based (row, column) of a cell reference like ``C5`` or ``$C$5``."""
    match = _CELL.fullmatch(text.strip())
    if match is not None:
        row, col = int(match.group(2)) - 1, column_number(match.group(1))
        if 0 <= row < _EXCEL_ROWS and 0 <= col < _EXCEL_COLUMNS:
            return row, col
    raise where.error(
        f"'{text}' is not a {what} reference like 'B2'",
        "give a cell as column letters and row number (named ranges are not read)",
    )


def _axis(text: str, where: Where, what: str) -> tuple[str, int]:
    """('row', n) for a row number, ('column', n) for column letters (0-based)."""
    value = text.strip()
    if _ROW.fullmatch(value) and 1 <= int(value.lstrip("$")) <= _EXCEL_ROWS:
        return "row", int(value.lstrip("$")) - 1
    if _COLUMN.fullmatch(value) and column_number(value.lstrip("$")) < _EXCEL_COLUMNS:
        return "column", column_number(value.lstrip("$"))
    raise where.error(
        f"'{text}' is not a {what} row number or column letter",
        f"give the row number ('4': {what} across) or the column letter ('B': {what} down)",
    )


def _number(grid: Grid, row: int, col: int, where: Where, *, empty_ok: bool) -> float:
    """The number in a cell; NaN for an empty one when ``empty_ok``; else ModelError."""
    value: Cell = grid.cell(row, col)
    if isinstance(value, float):
        return value
    if value is None:
        if empty_ok:
            return math.nan
        raise where.error(
            f"cell {cell_name(row, col)} of {grid.name} is empty",
            "fill the cell with a number, or check the first cell and the subscript ranges",
        )
    raise where.error(
        f"cell {cell_name(row, col)} of {grid.name} holds {value[:40]!r}, not a number",
        "put a number in the cell, or check the first cell and the subscript ranges",
    )


def _check_shape(shape: tuple[int, ...], most: int, where: Where) -> tuple[int, ...]:
    sizes = tuple(int(n) for n in shape)
    if any(n < 1 for n in sizes):
        raise where.error(f"subscript ranges of sizes {sizes} are empty", "check the ranges")
    if len(sizes) > most:
        kind = "a number or a vector" if most == 1 else "at most a 2-dimensional table"
        raise where.error(
            f"Vensim reads {kind} per equation, and this one has {len(sizes)} subscript ranges",
            "write one equation per element of the leading subscript range, as Vensim requires",
        )
    return sizes


def read_constants(
    root: Any, file: str, tab: str, first_cell: str, shape: tuple[int, ...] = (), *, where: Where
) -> FloatArray:
    """The constants of ``GET XLS/DIRECT CONSTANTS``, an array of ``shape``.

    ``shape`` () reads one cell; (n,) reads n cells across; (m, n) reads m rows down and n
    columns across. ``first_cell`` ending in ``*`` transposes: (n,) down, (m, n) with the
    first range across and the second down. Every cell must hold a number."""
    sizes = _check_shape(shape, 2, where)
    text = first_cell.strip()
    transpose = text.endswith("*")
    text = text.rstrip("*")
    if _CELL.fullmatch(text) is None:  # a named range of an .xlsx: its first cell
        text = named_cell(root, file, tab, text, where=where) or text
    row, col = parse_cell(text, where=where)
    down, across = (1, 1) if not sizes else (1, sizes[0]) if len(sizes) == 1 else sizes
    if transpose:
        down, across = across, down
    grid = load_grid(root, file, tab, (row, row + down), (col, col + across), where=where)
    table = np.array(
        [
            [_number(grid, row + i, col + j, where, empty_ok=False) for j in range(across)]
            for i in range(down)
        ],
        dtype=np.float64,
    )
    if transpose:
        table = table.T
    return table.reshape(sizes)


def _series(
    root: Any,
    file: str,
    tab: str,
    axis_text: str,
    first_cell: str,
    shape: tuple[int, ...],
    where: Where,
    *,
    what: str,
    empty_ok: bool,
) -> tuple[FloatArray, FloatArray]:
    """The x values (times) and the values, shape (*shape, n), of a DATA or LOOKUPS call."""
    sizes = _check_shape(shape, 1, where)
    count = sizes[0] if sizes else 1
    kind, at = _axis(axis_text, where, what)
    if _CELL.fullmatch(first_cell.strip()) is None:  # a named range of an .xlsx
        first_cell = named_cell(root, file, tab, first_cell.strip(), where=where) or first_cell
    row, col = parse_cell(first_cell, where=where)
    if kind == "row":  # x across row `at`, element i in row `row + i`
        top, bottom = min(at, row), max(at, row + count - 1) + 1
        grid = load_grid(root, file, tab, (top, bottom), (col, None), where=where)
        spots = [(at, c) for c in range(col, max(grid.right, col + 1))]
    else:  # x down column `at`, element i in column `col + i`
        left, right = min(at, col), max(at, col + count - 1) + 1
        grid = load_grid(root, file, tab, (row, None), (left, right), until=at, where=where)
        spots = [(r, at) for r in range(row, max(grid.bottom, row + 1))]
    xs: list[float] = []
    for r, c in spots:
        if grid.cell(r, c) is None:
            break
        x = _number(grid, r, c, where, empty_ok=False)
        if xs and not x > xs[-1]:
            raise where.error(
                f"the {what} values of {grid.name} do not increase at cell {cell_name(r, c)} "
                f"({x:g} after {xs[-1]:g})",
                f"sort the {what} values in increasing order",
            )
        xs.append(x)
    if not xs:
        r, c = spots[0]
        raise where.error(
            f"cell {cell_name(r, c)} of {grid.name}, where the {what} values start, is empty",
            f"check the {what} row or column and the first cell",
        )
    values = np.empty((count, len(xs)), dtype=np.float64)
    for i in range(count):
        for k, (r, c) in enumerate(spots[: len(xs)]):
            spot = (row + i, c) if kind == "row" else (r, col + i)
            values[i, k] = _number(grid, *spot, where, empty_ok=empty_ok)
    return np.array(xs, dtype=np.float64), values.reshape((*sizes, len(xs)))


def read_data(
    root: Any,
    file: str,
    tab: str,
    time_axis: str,
    first_cell: str,
    shape: tuple[int, ...] = (),
    *,
    where: Where,
) -> tuple[FloatArray, FloatArray]:
    """The times (n,) and values (*shape, n) of ``GET XLS/DIRECT DATA``.

    ``time_axis`` is the row number of the times (times across, elements down from
    ``first_cell``) or their column letter (times down, elements across). The times start in
    ``first_cell``'s column (or row) and end at the first empty cell; they must increase. An
    empty data cell is a missing value, NaN (Vensim interpolates over it, or reports :NA: for
    :RAW: data); see :func:`flywheel_sim.io.mdl.data_series.data_table`."""
    return _series(root, file, tab, time_axis, first_cell, shape, where, what="time", empty_ok=True)


def read_lookups(
    root: Any,
    file: str,
    tab: str,
    x_axis: str,
    first_cell: str,
    shape: tuple[int, ...] = (),
    *,
    where: Where,
) -> tuple[FloatArray, FloatArray]:
    """The x values (n,) and y values (*shape, n) of ``GET XLS/DIRECT LOOKUPS``: the layout of
    :func:`read_data` with x in place of time; every y cell must hold a number."""
    return _series(root, file, tab, x_axis, first_cell, shape, where, what="x", empty_ok=False)


def _last(text: str, where: Where) -> tuple[int | None, int | None]:
    """The 0-based (last row, last column) of a SUBSCRIPT call's 'lastcell': a cell, a row
    number, a column letter or empty (``None``: to the end of the tab)."""
    value = text.strip()
    if not value:
        return None, None
    if _CELL.fullmatch(value):
        return parse_cell(value, where=where, what="last cell")
    kind, at = _axis(value, where, "last cell")
    return (at, None) if kind == "row" else (None, at)


def subscript_name(value: Cell, prefix: str) -> str | None:
    """The element name a cell gives (``prefix`` + its text; 1.0 reads ``1``), None if empty."""
    if value is None:
        return None
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    else:
        text = " ".join(value.split())
    return f"{prefix}{text}" if text else None


def read_subscript(
    root: Any, file: str, tab: str, first_cell: str, last_cell: str, prefix: str, *, where: Where
) -> list[str]:
    """The element names of ``GET XLS/DIRECT SUBSCRIPT``: the cells from ``first_cell`` to
    ``last_cell`` read across then down, empty cells skipped, each with ``prefix`` before it.
    ``last_cell`` may be a cell, a row number, a column letter or empty (to the tab's end)."""
    row, col = parse_cell(first_cell, where=where, what="first cell")
    last_row, last_col = _last(last_cell, where)
    if (last_row is not None and last_row < row) or (last_col is not None and last_col < col):
        raise where.error(
            f"the last cell '{last_cell}' is above or left of the first cell '{first_cell}'",
            "give the first cell, then the last cell below or right of it",
        )
    bottom = None if last_row is None else last_row + 1
    right = None if last_col is None else last_col + 1
    grid = load_grid(root, file, tab, (row, bottom), (col, right), where=where)
    names: list[str] = []
    seen: dict[str, str] = {}
    for r in range(row, grid.bottom):
        for c in range(col, grid.right):
            name = subscript_name(grid.cell(r, c), prefix)
            if name is None:
                continue
            key = name.casefold().replace("_", " ")
            if key in seen:
                raise where.error(
                    f"cell {cell_name(r, c)} of {grid.name} repeats the element '{name}'",
                    "give each subscript element once",
                )
            seen[key] = name
            names.append(name)
    if not names:
        raise where.error(
            f"the cells from '{first_cell}' to '{last_cell or 'the end'}' of {grid.name} are empty",
            "check the first and last cells",
        )
    return names


__all__ = [
    "Where",
    "cell_name",
    "column_letters",
    "column_number",
    "parse_cell",
    "read_constants",
    "read_data",
    "read_lookups",
    "read_subscript",
    "subscript_name",
]
