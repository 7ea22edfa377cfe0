"""Writing results to files, atomically: a failed write leaves any old file untouched."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import OutputError

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

TABLE_FORMATS = (".csv", ".parquet", ".nc")


def _temporary(target: Path) -> str:
    """A new empty file beside ``target`` (its path); OutputError if the folder is missing or
    takes no new files (read-only, full)."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write '{target}': folder '{folder}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=folder)
    except OSError as exc:  # a read-only folder, a full disk, too many open files
        raise OutputError(
            f"cannot write '{target}': {exc.strerror or exc} in folder '{folder}' — "
            "choose a folder you can write to"
        ) from None
    os.close(fd)
    return tmp


def _mode_for(target: Path) -> int:
    """The permissions the written file gets: the old file's when it is replaced, else those
    of a new file under the process's umask (0644 under the usual 022), not the 0600 of the
    temporary file it is written to."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def check_writable(path: str | Path) -> None:
    """OutputError now if ``path`` could not be written (its folder is missing or read-only),
    so that a long command fails before its work rather than after it."""
    os.unlink(_temporary(Path(path)))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    tmp = _temporary(target)
    try:
        yield Path(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OutputError:
        raise
    except Exception as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        text = str(reason).strip().splitlines()
        raise OutputError(
            f"could not write '{target}': {text[0] if text else type(exc).__name__}"
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: the old file stays intact on failure."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def to_frame(result: xr.Dataset) -> pd.DataFrame:
    """A tidy table: one row per (run, time[, element]), one column per variable."""
    frame = result.drop_vars([c for c in result.coords if c not in result.dims]).to_dataframe()
    return frame.reset_index()


def write_result(result: xr.Dataset, path: str | Path) -> Path:
    """Write ``result`` as CSV, Parquet or netCDF (by extension)."""
    target = Path(path)
    suffix = target.suffix.lower()
    writers: dict[str, Callable[[Path], None]] = {
        ".csv": lambda p: to_frame(result).to_csv(p, index=False),
        ".parquet": lambda p: _parquet(result, p),
        ".nc": lambda p: _netcdf(result, p),
    }
    if suffix not in writers:
        raise OutputError(
            f"cannot write '{target}': unknown format '{suffix}' (use {', '.join(TABLE_FORMATS)})"
        )
    with atomic_path(target) as tmp:
        writers[suffix](tmp)
    return target


def _parquet(result: xr.Dataset, path: Path) -> None:
    to_frame(result).to_parquet(path, index=False)


def _netcdf(result: xr.Dataset, path: Path) -> None:
    engine = None
    for name in ("h5netcdf", "netCDF4", "scipy"):
        try:
            __import__(name)
        except ImportError:
            continue
        engine = name.lower() if name != "netCDF4" else "netcdf4"
        break
    if engine is None:
        raise OutputError("writing netCDF needs h5netcdf: pip install 'flywheel-sim[io]'")
    clean = result.copy()
    for name in ("status", "failed_variable"):
        if name in clean.coords:
            clean.coords[name] = clean.coords[name].astype(str)
    clean.to_netcdf(path, engine=engine)  # type: ignore[call-overload]
