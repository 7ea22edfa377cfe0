"""Taking turns at the run store file: DuckDB lets one process write a file at a time.

:func:`open_store` opens a connection, waiting with back-off while another process holds the
file's lock (two sweeps writing at once take turns instead of failing or corrupting the file).
:class:`HeldWriter` is the connection consecutive chunk writes share, given up every ``HOLD``
seconds so that other processes get their turn.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # Windows: no flock, no queue
    fcntl = None  # type: ignore[assignment]

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


class Queue:
    """The waiting line for one store file: a process that wants the file and finds it
    locked holds this (an ``flock`` on a small file in the temporary folder, named after the
    store's path, never beside the store) while it waits; a writer that keeps the file open
    between chunks sees that someone :meth:`waits` and gives the file up before its next
    chunk. So a reader waits for one chunk write, not for a writer's whole turn, and two
    sweeps writing at once alternate. Where ``flock`` is missing (Windows) nobody queues
    and the writers' turns (``HOLD``) still bound the wait."""

    def __init__(self, path: Path) -> None:
        self.fd: int | None = None
        if fcntl is None:
            return
        key = hashlib.sha256(str(path.expanduser().resolve()).encode()).hexdigest()[:24]
        name = Path(tempfile.gettempdir()) / f"flywheel-store-{key}.queue"
        with contextlib.suppress(OSError):  # no queue then: the turns still apply
            self.fd = os.open(name, os.O_RDONLY | os.O_CREAT, 0o644)

    def join(self, deadline: float) -> bool:
        """Take a place in the line (True), or give up at ``deadline`` (False)."""
        pause = 0.01
        while self.fd is not None and fcntl is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 1.5, POLL)
        return False

    def leave(self) -> None:
        if self.fd is not None and fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def waits(self) -> bool:
        """Whether another process is waiting for the file."""
        if self.fd is None or fcntl is None:
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the store file ``path``, waiting (up to ``LOCK_TIMEOUT`` seconds)
    while another process holds its lock, in line with the other waiting processes
    (:class:`Queue`); OutputError for anything else."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    queue = Queue(path)
    try:
        queue.join(deadline)
        return _open(path, deadline)
    finally:
        queue.leave()
        queue.close()


def _open(path: Path, deadline: float) -> duckdb.DuckDBPyConnection:
    import duckdb

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
    not committed). The file is released at the end of the batch, as soon as another
    process waits for it (a watcher thread checks the :class:`Queue` every ``POLL``
    seconds, and gives the file up between two chunk writes), and every ``HOLD`` seconds
    (then left free for ``TURN`` seconds) for processes that do not queue: another sweep,
    a reader or ``flywheel runs list`` waits for the chunk being written, the fold of the
    log into the file, and the processes ahead of it in the line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held: duckdb.DuckDBPyConnection | None = None
        self.since = 0.0
        self.queue: Queue | None = None
        self.lock = threading.RLock()  # the connection is used by one thread at a time
        self.pending: StoreFailure | None = None  # a close that failed in the watcher

    @contextlib.contextmanager
    def using(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The shared connection, kept from the watcher while the caller uses it."""
        with self.lock:
            yield self.connection()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The shared connection, opened (or reopened after a turn) as needed; given up
        after ``HOLD`` seconds, and at once (by a watcher thread) when another process
        waits for the file (:class:`Queue`)."""
        with self.lock:
            if self.pending is not None:
                failure, self.pending = self.pending, None
                raise failure
            if self.held is not None and time.monotonic() - self.since > HOLD:
                self.release(busy=True)
                time.sleep(TURN)  # the next chunk is computing meanwhile (see executors)
            if self.held is None:
                self.held = open_store(self.path)
                self.held.execute("SET threads = 1")
                self.held.execute("SET checkpoint_threshold = '1GB'")
                self.since = time.monotonic()
                if self.queue is None:
                    self.queue = Queue(self.path)
                if self.queue.fd is not None:
                    watcher = threading.Thread(
                        target=self._watch, args=(self.held,), name="flywheel-store", daemon=True
                    )
                    watcher.start()
            return self.held

    def _watch(self, held: duckdb.DuckDBPyConnection) -> None:
        """Give ``held`` up as soon as another process waits for the file (between two
        chunk writes: never inside one)."""
        while True:
            time.sleep(POLL)
            with self.lock:
                if self.held is not held:
                    return
                if self.queue is not None and self.queue.waits():
                    try:
                        self.release(busy=True)
                    except StoreFailure as failure:  # raised by the next write
                        self.pending = failure
                    return

    def release(self, *, busy: bool = False) -> None:
        """Close the shared connection, if any (idempotent). Closing folds the log into the
        file; unless the next chunks are computing meanwhile (``busy``), DuckDB may use every
        core for it."""
        with self.lock:
            held, self.held = self.held, None
            if held is None:
                return
            if not busy:
                with contextlib.suppress(Exception):  # the close below still folds
                    held.execute("RESET threads")
            import duckdb

            try:
                held.close()
            except (duckdb.Error, OSError) as exc:  # folding the log in needs disk space
                raise store_failure(self.path, exc) from None
