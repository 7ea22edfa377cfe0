"""Files a model names (history data, data series, XMILE module resources), read safely.

A model file is untrusted: it may come from an upload. Every file it names goes through
:func:`confined`, which accepts only a relative path to a regular file inside the model's
folder (or below it):

- absolute paths, ``..`` that climbs out, and symlinks that point out are refused;
- directories, devices and pipes are refused, and so are files larger than a limit;
- a data file must be UTF-8 text without NUL bytes (:func:`read_text`).

Errors are one line and read the same whether the named file exists or not, so that a model
cannot probe the machine's files through the error text: a path outside the folder is
"outside the model's folder" before anything is looked up, and a missing file, a directory
and a pipe inside the folder are all "not a file in the model's folder".
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd

MAX_DATA_BYTES = 50_000_000
"""The largest data file (CSV) a model may name, in bytes."""


def confined(
    path: str | Path,
    root: str | Path | None,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    limit: int | None = MAX_DATA_BYTES,
) -> Path:
    """The resolved path of the file ``path`` names, relative to folder ``root``.

    ``what`` says what the file is for in errors ("history data", "module resource"); ``file``
    and ``line`` locate the reference. ModelError unless ``path`` is relative, resolves (after
    symlinks) to a regular file inside ``root`` and is at most ``limit`` bytes.
    """
    name = str(path)
    if root is None:
        raise ModelError(
            f"{what} '{name}' cannot be found: the model was not read from a file",
            file=file,
            line=line,
            hint="load the model from a file and keep the data beside it",
        )
    outside = ModelError(
        f"{what} '{name}' is outside the model's folder",
        file=file,
        line=line,
        hint="keep the file in the model's folder and name it by a relative path",
    )
    not_file = _not_a_file(what, name, file, line)
    try:
        base = Path(root).resolve()
        relative = Path(name)
        if not name or relative.is_absolute() or relative.drive or relative.anchor:
            raise outside
        target = (base / relative).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL, a name too long
        raise not_file from None
    if not target.is_relative_to(base):
        raise outside
    try:
        info = target.stat()
    except (OSError, ValueError):
        raise not_file from None
    if not stat.S_ISREG(info.st_mode):
        raise not_file
    if limit is not None and info.st_size > limit:
        raise _too_large(what, name, limit, file, line)
    return target


def _not_a_file(what: str, name: str, file: str | None, line: int | None) -> ModelError:
    """The one refusal for a path inside the folder that is missing, a folder or a pipe (the
    same text whichever, so that errors do not tell whether a path exists)."""
    return ModelError(
        f"{what} '{name}' is not a file in the model's folder",
        file=file,
        line=line,
        hint="check the name; it is relative to the model's folder",
    )


def _too_large(what: str, name: str, limit: int, file: str | None, line: int | None) -> ModelError:
    return ModelError(
        f"{what} '{name}' is larger than {limit:,} bytes", file=file, line=line,
        hint="use a smaller file",
    )  # fmt: skip


def read_bytes(
    path: str | Path,
    root: str | Path | None,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    limit: int | None = MAX_DATA_BYTES,
) -> bytes:
    """The bytes of the file ``path`` names inside folder ``root`` (see :func:`confined`).

    The file is opened without following a symlink and without blocking on a pipe, and
    checked again once open, so that swapping it after the check gains nothing."""
    target = confined(path, root, what=what, file=file, line=line, limit=limit)
    not_file = _not_a_file(what, str(path), file, line)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags)
    except OSError:
        raise not_file from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_file
        cap = info.st_size if limit is None else limit
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(cap + 1)
    except OSError:
        raise not_file from None
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:
        raise _too_large(what, str(path), limit, file, line)
    return data


def read_text(
    path: str | Path,
    root: str | Path | None,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    limit: int | None = MAX_DATA_BYTES,
) -> str:
    """The text of a CSV data file ``path`` names inside folder ``root``: ModelError unless
    it is UTF-8 text (a byte-order mark is dropped) without NUL bytes."""
    data = read_bytes(path, root, what=what, file=file, line=line, limit=limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ModelError(
            f"{what} '{path}' is not a CSV file (not UTF-8 text)",
            file=file,
            line=line,
            hint="save the data as UTF-8 CSV",
        )
    return text


def read_csv(
    path: str | Path,
    root: str | Path | None,
    *,
    what: str,
    file: str | None = None,
    line: int | None = None,
    limit: int | None = MAX_DATA_BYTES,
) -> pd.DataFrame:
    """A CSV data file ``path`` names inside folder ``root`` as a DataFrame; ModelError (one
    line) for anything :func:`read_text` refuses or pandas cannot read as CSV."""
    import pandas as pd

    text = read_text(path, root, what=what, file=file, line=line, limit=limit)
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{what} '{path}' is not a CSV file ({reason})",
            file=file,
            line=line,
            hint="give a CSV file with a header row",
        ) from None
    return frame


__all__ = ["MAX_DATA_BYTES", "confined", "read_bytes", "read_csv", "read_text"]
