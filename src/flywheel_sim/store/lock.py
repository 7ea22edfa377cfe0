"""Taking turns at the run store file: DuckDB lets one process write a file at a time.

:func:`open_store` opens a connection, waiting with back-off while another process holds the
file's lock (two sweeps writing at once take turns instead of failing or corrupting the file).
:class:`HeldWriter` is the connection consecutive chunk writes share, given up every ``HOLD``
seconds so that other processes get their turn.
"""

from __future__ import annotations

import contextlib
import errno
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import OutputError

if TYPE_CHECKING:
    import duckdb

LOCK_TIMEOUT = 120.0  # seconds to wait for another process's write
MEMORY_LIMIT = "512MB"  # DuckDB's buffer (it spills to disk beyond this)
HOLD = 4.0  # seconds chunk writes may keep the file open between chunks
TURN = 0.1  # seconds the file is then left free, for other processes waiting for it
POLL = 0.05  # the longest wait between two attempts to open a locked file


class StoreFailure(OutputError):
    """The store file failed while in use: full (``full``), damaged or unreadable. ``what``
    is the one-line reason and ``hint`` what to do; the message is both."""

    def __init__(self, what: str, hint: str, *, full: bool = False) -> None:
        self.what, self.hint, self.full = what, hint, full
        super().__init__(f"{what} — {hint}")


FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
FULL_WORDS = ("no space left", "disk quota", "file too large", "could not write", "failed to write")
DAMAGED_WORDS = ("could not read", "corrupt", "checksum", "not a valid duckdb")


def store_failure(path: Path, exc: BaseException) -> StoreFailure:
    """A DuckDB or operating-system error met while using the store file ``path``, as one
    line that says what it means: the disk is full, the file is damaged, or (else) the
    error's first line."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    low = first.lower()
    if (isinstance(exc, OSError) and exc.errno in FULL) or any(w in low for w in FULL_WORDS):
        return StoreFailure(
            f"the run store {path} could not be written ({first})",
            "free some disk space",
            full=True,
        )
    if any(w in low for w in DAMAGED_WORDS):
        return StoreFailure(
            f"the run store {path} is damaged ({first})",
            "it is truncated or corrupt: restore it from a copy, or use another file (--store)",
        )
    return StoreFailure(f"the run store {path} failed ({first})", "check the file and the disk")


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the store file ``path``, waiting (up to ``LOCK_TIMEOUT`` seconds)
    while another process holds its lock; OutputError for anything else."""
    import duckdb

    deadline = time.monotonic() + LOCK_TIMEOUT
    pause = 0.01
    while True:
        try:
            # a bounded buffer: the store's memory must not grow with the sweep's size
            return duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise OutputError(
                    f"cannot open the run store {path}: {str(exc).splitlines()[0]} — "
                    f"{store_failure(path, exc).hint}"
                ) from None
            time.sleep(pause)
            pause = min(pause * 1.5, POLL)
        except duckdb.Error as exc:
            raise OutputError(
                f"{path} is not a flywheel run store ({str(exc).splitlines()[0]})",
            ) from None


class HeldWriter:
    """The connection that chunk writes share for up to ``HOLD`` seconds.

    Opening the file and closing it (which folds the write-ahead log into the file) cost
    more than writing a chunk of 1,000 runs, so consecutive chunks share a connection.
    That connection folds the log into the file only when it is closed (not every 16 MB,
    DuckDB's default: each fold rewrites the last, partly filled row group again, and a
    sweep's chunks reach 16 MB every ten chunks), and it does DuckDB's work in the
    writing thread alone: the cores are busy simulating the next chunks.
    Each chunk is still its own committed transaction (a killed sweep loses only what was
    not committed). The file is released at the end of the batch and every ``HOLD``
    seconds, and then left free for ``TURN`` seconds, which is several times the interval
    at which a waiting process tries again (``POLL``): another sweep, a reader or
    ``flywheel runs list`` gets its turn within about a second.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held: duckdb.DuckDBPyConnection | None = None
        self.since = 0.0

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The shared connection, opened (or reopened after a turn) as needed."""
        if self.held is not None and time.monotonic() - self.since > HOLD:
            self.release(busy=True)
            time.sleep(TURN)  # the next chunk is computing meanwhile (see executors)
        if self.held is None:
            self.held = open_store(self.path)
            self.held.execute("SET threads = 1")
            self.held.execute("SET checkpoint_threshold = '1GB'")
            self.since = time.monotonic()
        return self.held

    def release(self, *, busy: bool = False) -> None:
        """Close the shared connection, if any (idempotent). Closing folds the log into the
        file; unless the next chunks are computing meanwhile (``busy``), DuckDB may use every
        core for it."""
        held, self.held = self.held, None
        if held is not None:
            if not busy:
                with contextlib.suppress(Exception):  # the close below still folds
                    held.execute("RESET threads")
            import duckdb

            try:
                held.close()
            except (duckdb.Error, OSError) as exc:  # folding the log in needs disk space
                raise store_failure(self.path, exc) from None
