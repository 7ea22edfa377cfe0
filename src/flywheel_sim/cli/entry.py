"""The ``flywheel`` command's entry point. Ctrl-C is handled from the first moment: the
SIGINT handler is installed before the command's libraries are imported, so an interrupt at
any time ends the command with one line and exit 130 (never a traceback), and it is recorded
(:func:`flywheel_sim.engine.cancel.note_sigint`) so that a Ctrl-C which a library swallowed or
turned into another error still ends the command as a Ctrl-C."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from flywheel_sim.engine.cancel import note_sigint


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    note_sigint()
    raise KeyboardInterrupt


def main() -> None:
    """Run the ``flywheel`` command (:func:`flywheel_sim.cli.app.main`) under our handler."""
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        try:
            from flywheel_sim.cli.app import main as run
        except KeyboardInterrupt:
            sys.stderr.write("interrupted (Ctrl-C)\n")
            sys.exit(130)
        run()
    finally:
        signal.signal(signal.SIGINT, previous)
