"""Stopping a long run: the checks made between chunks of steps.

Both VMs compute a run in chunks of steps (the NumPy VM one step at a time, the numba VM in
chunks of about a tenth of a second) and, between chunks, ask whether to stop: the
``cancel`` callable of :class:`flywheel_sim.engine.simulate.Options` (a dashboard's time
budget, a GUI's stop button) and the one a caller set for everything run inside
:func:`cancelling` (an executor's helper threads stop their runs when the batch is
interrupted). A True answer raises :class:`flywheel_sim.errors.Cancelled`. Between chunks
Python also runs, so Ctrl-C (``KeyboardInterrupt``) stops a compiled run too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from flywheel_sim.errors import Cancelled

Check = Callable[[], bool]

_AMBIENT: ContextVar[Check | None] = ContextVar("flywheel_cancel", default=None)


@contextlib.contextmanager
def cancelling(check: Check) -> Iterator[None]:
    """Every run started inside this block (in this thread or task) also stops when
    ``check()`` returns True."""
    token = _AMBIENT.set(check)
    try:
        yield
    finally:
        _AMBIENT.reset(token)


def combined(check: Check | None) -> Check | None:
    """``check`` together with the one :func:`cancelling` set, or None when neither is set."""
    ambient = _AMBIENT.get()
    if ambient is None or check is None:
        return check or ambient
    first, second = check, ambient
    return lambda: bool(first()) or bool(second())


def stop_if_cancelled(check: Check | None, t: float, stop: float) -> None:
    """Raise Cancelled, saying how far the run got, when ``check`` says to stop."""
    if check is not None and check():
        raise Cancelled(f"run cancelled at time {t:g} of {stop:g}")


# Ctrl-C as the ``flywheel`` command sees it: its SIGINT handler (flywheel_sim.cli.entry) sets
# this before raising KeyboardInterrupt, so code that waits (an executor collecting results)
# and the command's last error handler still know about a Ctrl-C that a library swallowed or
# turned into another error on its way (DuckDB stops a query with "Query interrupted").
_SIGINT = threading.Event()


def note_sigint() -> None:
    """Record that the user pressed Ctrl-C (called by the command's SIGINT handler)."""
    _SIGINT.set()


def sigint_seen() -> bool:
    """Whether Ctrl-C was pressed since the command started."""
    return _SIGINT.is_set()


def forget_sigint() -> None:
    """Start afresh (a command run again in the same process, as the tests do)."""
    _SIGINT.clear()
