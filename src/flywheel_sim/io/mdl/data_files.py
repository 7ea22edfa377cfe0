"""The cells of a spreadsheet tab or delimited text file that a Vensim GET function names.

A model file is untrusted, and so are the files it names. Every file is read through
:func:`flywheel_sim.io.paths.read_bytes` (relative to the model's folder, no ``..`` out, no
symlink out, at most :data:`MAX_SHEET_BYTES`), then parsed from memory:

- ``.xlsx``/``.xlsm``: openpyxl, read-only and values only (``data_only``: a formula cell gives
  the value Excel saved with it), its XML parsed by defusedxml; the zip's unpacked size is
  checked before anything is unpacked (:data:`MAX_UNPACKED_BYTES`);
- ``.xls`` (Excel 97-2003): xlrd;
- any other name: delimited UTF-8 text (comma for ``.csv``, tab otherwise, or the delimiter the
  GET function's 'tab' argument gives, as Vensim's DIRECT functions do).

A :class:`Grid` is the rectangle of cells a function can reach, at most :data:`MAX_GRID_CELLS`
cells read (empty ones too): a tab as wide as Excel allows cannot exhaust memory or time. A tab
of at most :data:`MAX_CACHED_CELLS` is parsed once and kept (by the file's content and the tab's
name) for the model's other GET calls on it; parsing is the slow part.
Cells are ``None`` (empty), ``float`` or ``str``; booleans, dates and Excel error values come
back as text so that the caller refuses them as "not a number".
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from flywheel_sim.errors import ModelError
from flywheel_sim.io.paths import read_bytes

Cell = float | str | None
Rows = tuple[tuple[Cell, ...], ...]

MAX_SHEET_BYTES = 50_000_000
"""The largest data file (spreadsheet or text) a GET function may name, in bytes."""
MAX_UNPACKED_BYTES = 250_000_000
"""The largest total unpacked size of an .xlsx file's parts (a zip bomb is refused)."""
MAX_GRID_CELLS = 2_000_000
"""The most cells one GET function may read from a tab (rows × columns of its rectangle)."""
MAX_CACHED_CELLS = 1_000_000
"""A tab of at most this many cells is parsed once and kept for the next GET call on it."""
CACHED_TABS = 8
"""How many such tabs are kept (the least recently used goes first)."""
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
"""Excel's own sheet size: row 1..1048576, column A..XFD."""

EXCEL = (".xlsx", ".xlsm")
OLD_EXCEL = (".xls",)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a GET function call is, for errors: the model file, its line, the variable and
    the function (``GET XLS DATA`` ...)."""

    file: str | None = None
    line: int | None = None
    variable: str | None = None
    function: str = "GET DIRECT DATA"

    def error(self, message: str, hint: str) -> ModelError:
        """One ModelError naming the function, the variable, the file and line, and the fix."""
        subject = self.function
        if self.variable:
            subject = f"{subject} in '{self.variable}'"
        return ModelError(
            f"{subject}: {message}",
            file=self.file,
            line=self.line,
            variable=self.variable,
            hint=hint,
        )


@dataclass(frozen=True, slots=True)
class Grid:
    """Cells ``rows[i][j]`` of a tab, row ``top + i`` and column ``left + j`` (0-based).

    Rows may be shorter than others: a cell past a row's end is empty. Row and column indices
    beyond the loaded rectangle are empty too."""

    name: str  # 'file.xlsx' tab 'Sheet1', for errors
    top: int
    left: int
    rows: tuple[tuple[Cell, ...], ...]

    def cell(self, row: int, col: int) -> Cell:
        """The cell at 0-based ``row``, ``col`` (``None`` when empty or not loaded)."""
        i, j = row - self.top, col - self.left
        if 0 <= i < len(self.rows) and 0 <= j < len(self.rows[i]):
            return self.rows[i][j]
        return None

    @property
    def bottom(self) -> int:
        """One past the last loaded row (0-based)."""
        return self.top + len(self.rows)

    @property
    def right(self) -> int:
        """One past the last loaded column (0-based)."""
        return self.left + max((len(r) for r in self.rows), default=0)


def load_grid(
    root: Any,
    file: str,
    tab: str,
    rows: tuple[int, int | None],
    cols: tuple[int, int | None],
    *,
    until: int | None = None,
    where: Where,
) -> Grid:
    """The cells of ``file`` (relative to folder ``root``), tab ``tab``, in the 0-based
    half-open rectangle ``rows`` × ``cols`` (``None``: to the end of the tab). With ``until``
    (a column), reading stops before the first row, after the first, whose cell in that
    column is empty (the end of a time column)."""
    data = _file_bytes(root, file, where)
    r0, r1 = rows[0], min(rows[1] if rows[1] is not None else MAX_ROWS, MAX_ROWS)
    c0, c1 = cols[0], min(cols[1] if cols[1] is not None else MAX_COLUMNS, MAX_COLUMNS)
    window = _Window(r0, r1, c0, c1, until, MAX_GRID_CELLS)
    suffix = PurePath(file).suffix.lower()
    name = f"'{file}'" if suffix not in EXCEL + OLD_EXCEL else f"'{file}' tab '{tab}'"
    try:
        whole = _whole_tab(data, file, tab, where)
        if whole is not None:  # cut the window out of the tab read before
            return Grid(name, r0, c0, _bounded(iter(whole[r0:r1]), window))
        return Grid(name, r0, c0, _read(data, file, tab, window, where))
    except _TooMany:
        raise where.error(
            f"{name} has more than {MAX_GRID_CELLS:,} cells in the range the function reads",
            "end the time row or column with an empty cell, give a last cell, or use a smaller tab",
        ) from None


def _file_bytes(root: Any, file: str, where: Where) -> bytes:
    """The bytes of data file ``file`` in folder ``root`` (io/paths.py: nothing outside it)."""
    if file.startswith("?"):
        raise where.error(
            f"the file '{file}' is an indirect reference (Vensim's Model>Settings>XLS Files), "
            "which the .mdl file does not hold",
            "write the data file's name, relative to the model's folder, in the equation",
        )
    # Vensim runs on Windows: 'data\\input.xlsx' names a file in a subfolder, and 'C:...' is
    # a drive, outside the model's folder like '/...'
    path = file.replace("\\", "/")
    if len(path) > 1 and path[1] == ":" and path[0].isalpha():
        path = "/" + path
    try:
        data = read_bytes(path, root, what="data file", limit=MAX_SHEET_BYTES)
    except ModelError as exc:  # the same refusal, naming the function and variable too
        message = exc.message.replace(f"'{path}'", f"'{file}'")
        raise where.error(message, exc.hint or "check the file's name") from None
    return data


def named_cell(root: Any, file: str, tab: str, name: str, *, where: Where) -> str | None:
    """The first (top-left) cell of the range named ``name`` on tab ``tab`` of the .xlsx
    ``file`` (a name of the tab or of the workbook pointing into the tab), or None."""
    if PurePath(file).suffix.lower() not in EXCEL or not name.strip():
        return None
    data = _file_bytes(root, file, where)
    book = _open_book(data, file, where)
    try:
        sheet = _sheet(book.sheetnames, tab, file, where)
        found = book[sheet].defined_names.get(name) or book.defined_names.get(name)
        for title, ref in found.destinations if found is not None else ():
            if title == sheet:
                return str(ref).split(":")[0].replace("$", "")
        return None
    except ModelError:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged name
        return None
    finally:
        book.close()


def _read(data: bytes, file: str, tab: str, window: _Window, where: Where) -> Rows:
    suffix = PurePath(file).suffix.lower()
    if suffix in EXCEL:
        return _xlsx_rows(data, file, tab, window, where)
    if suffix in OLD_EXCEL:
        return _xls_rows(data, file, tab, window, where)
    return _text_rows(data, file, tab, window, where)


_TABS: OrderedDict[tuple[bytes, str, str], Rows | None] = OrderedDict()
_TABS_LOCK = threading.Lock()


def _whole_tab(data: bytes, file: str, tab: str, where: Where) -> Rows | None:
    """Every cell of the tab (from A1) when it has at most :data:`MAX_CACHED_CELLS`, kept for
    the next GET call on the same file content and tab (a model's GET calls often share one
    workbook, and parsing it is the slow part); None for a larger tab (remembered too)."""
    key = (hashlib.blake2b(data, digest_size=16).digest(), file.lower(), tab)
    with _TABS_LOCK:
        if key in _TABS:
            _TABS.move_to_end(key)
            return _TABS[key]
    whole: Rows | None
    try:
        everything = _Window(0, MAX_ROWS, 0, MAX_COLUMNS, None, MAX_CACHED_CELLS)
        whole = _read(data, file, tab, everything, where)
    except _TooMany:
        whole = None
    with _TABS_LOCK:
        _TABS[key] = whole
        while len(_TABS) > CACHED_TABS:
            _TABS.popitem(last=False)
    return whole


@dataclass(frozen=True, slots=True)
class _Window:
    """The 0-based half-open rows [top, bottom) and columns [left, right) to read; stop
    before a row (after the first) whose cell in column ``until`` is empty."""

    top: int
    bottom: int
    left: int
    right: int
    until: int | None
    cap: int  # the most cells to read (empty ones too)


class _TooMany(Exception):
    """More cells than the window's cap."""


def _bounded(source: Any, window: _Window) -> Rows:
    """Rows of ``source`` (an iterable of row iterables of cell values, from column A) cut
    to the window's columns, trailing empties dropped; _TooMany once more than the window's
    cap of cells (empty ones too) have been read."""
    out: list[tuple[Cell, ...]] = []
    count = 0
    for row in source:
        cells: list[Cell] = []
        stop = False
        for j, value in enumerate(row):
            if j >= window.right:
                break
            count += 1
            cell = _cell(value) if j >= window.left else None
            if j == window.until and out and cell is None:
                stop = True
            if j >= window.left:
                cells.append(cell)
        count += 1
        if count > window.cap:
            raise _TooMany
        if stop or (window.until is not None and out and len(cells) <= window.until - window.left):
            break
        while cells and cells[-1] is None:
            cells.pop()
        out.append(tuple(cells))
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def _cell(value: Any) -> Cell:
    """A spreadsheet value as a cell: numbers as float, blanks as None, anything else text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    return text if text.strip() else None


def _open_book(data: bytes, file: str, where: Where) -> Any:
    """The .xlsx workbook in ``data``, read-only and values only, after the size checks."""
    not_excel = where.error(
        f"'{file}' is not an Excel .xlsx file", "save the data from Excel as .xlsx, or as CSV"
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise not_excel from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise where.error(
            f"'{file}' unpacks to more than {MAX_UNPACKED_BYTES:,} bytes",
            "keep only the data the model reads in the workbook",
        )
    try:
        import openpyxl
    except ImportError:
        raise where.error(
            f"reading '{file}' needs the openpyxl package",
            "pip install flywheel-sim[vensim] (or openpyxl)",
        ) from None
    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise where.error(
            f"openpyxl would read '{file}' without defusedxml",
            "install defusedxml and unset OPENPYXL_DEFUSEDXML",
        )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise not_excel from None


def _xlsx_rows(data: bytes, file: str, tab: str, window: _Window, where: Where) -> Rows:
    not_excel = where.error(
        f"'{file}' is not an Excel .xlsx file", "save the data from Excel as .xlsx, or as CSV"
    )
    book = _open_book(data, file, where)
    try:
        sheet = _sheet(book.sheetnames, tab, file, where)
        ws = book[sheet]
        # max_col None: rows as wide as the sheet says it is, not padded to Excel's width
        right = window.right if window.right < MAX_COLUMNS else None
        source = ws.iter_rows(
            min_row=window.top + 1, max_row=window.bottom, max_col=right, values_only=True
        )
        return _bounded(source, window)
    except (ModelError, _TooMany):
        raise
    except Exception:
        raise not_excel from None
    finally:
        book.close()


def _xls_rows(data: bytes, file: str, tab: str, window: _Window, where: Where) -> Rows:
    try:
        import xlrd
    except ImportError:
        raise where.error(
            f"reading '{file}' (Excel 97-2003) needs the xlrd package",
            "pip install xlrd, or save the data as .xlsx or CSV",
        ) from None
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception:  # xlrd raises XLRDError, struct.error, ... on a damaged file
        raise where.error(
            f"'{file}' is not an Excel 97-2003 .xls file",
            "save the data from Excel as .xlsx, or as CSV",
        ) from None
    try:
        sheet = book.sheet_by_name(_sheet(book.sheet_names(), tab, file, where))
        last = min(window.bottom, sheet.nrows)
        right = min(window.right, sheet.ncols)
        source = (
            (_xls_value(sheet, r, c, xlrd) for c in range(right)) for r in range(window.top, last)
        )
        return _bounded(source, window)
    finally:
        book.release_resources()


def _xls_value(sheet: Any, r: int, c: int, xlrd: Any) -> Any:
    kind = sheet.cell_type(r, c)
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_NUMBER:
        return float(sheet.cell_value(r, c))
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(sheet.cell_value(r, c))
    if kind == xlrd.XL_CELL_ERROR:
        return "#ERROR"
    if kind == xlrd.XL_CELL_DATE:
        return f"date {sheet.cell_value(r, c)}"
    return str(sheet.cell_value(r, c))


def _sheet(names: list[str], tab: str, file: str, where: Where) -> str:
    """The tab of ``names`` that ``tab`` names (Vensim ignores case)."""
    for name in names:
        if name == tab:
            return name
    for name in names:
        if name.casefold() == tab.strip().casefold():
            return name
    shown = ", ".join(f"'{n}'" for n in names[:8])
    raise where.error(
        f"'{file}' has no tab '{tab}' (it has {shown})", "name one of the file's tabs"
    )


def delimiter(file: str, tab: str) -> str:
    """The delimiter of a text data file: the 'tab' argument when it is one character that is
    not a letter or digit, else comma for ``.csv`` and tab for anything else (Vensim's rule)."""
    if len(tab) == 1 and not tab.isalnum():
        return tab
    if tab in ("\\t", "TAB", "tab"):
        return "\t"
    return "," if PurePath(file).suffix.lower() == ".csv" else "\t"


def _text_rows(data: bytes, file: str, tab: str, window: _Window, where: Where) -> Rows:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise where.error(
            f"'{file}' is not a delimited text file (not UTF-8 text)",
            "save the data as UTF-8 CSV, or as .xlsx",
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter(file, tab))
    source = (_text_row(row) for i, row in enumerate(reader) if i >= window.top)
    try:
        limited = (row for _, row in zip(range(window.bottom - window.top), source, strict=False))
        return _bounded(limited, window)
    except csv.Error as exc:
        raise where.error(
            f"'{file}' is not a delimited text file ({exc})", "fix the file"
        ) from None


def _text_row(row: list[str]) -> list[Cell]:
    out: list[Cell] = []
    for text in row:
        value = text.strip()
        if not value:
            out.append(None)
            continue
        try:
            number = float(value)
        except ValueError:
            out.append(value)
            continue
        out.append(number if math.isfinite(number) else value)
    return out


__all__ = ["MAX_GRID_CELLS", "MAX_SHEET_BYTES", "Cell", "Grid", "Where", "delimiter", "load_grid"]
