"""Exceptions raised by flywheel-sim.

Every error a user can cause is a :class:`FlywheelError`; the few subclasses say whose input
was wrong::

    FlywheelError            base: catch this to catch everything we raise on purpose
    ├── ModelError           a model file or Model is invalid (syntax, names, structure)
    ├── ParameterError       parameter values given to a run are unknown, mis-shaped or
    │                        outside their declared range
    ├── OutputError          a result could not be written (the old file is left intact)
    ├── LimitError           a model or run exceeds a size limit (:mod:`flywheel_sim.limits`)
    └── Cancelled            a long run was cancelled (Ctrl-C, a dashboard time budget)

Messages are one line and say where and what to do, e.g.
``unknown name 'custmers' in flow 'churn' (amazon.yaml:41) — did you mean 'customers'?``
"""

from __future__ import annotations

from collections.abc import Iterable


class FlywheelError(Exception):
    """Base class of every error flywheel-sim raises on purpose."""


class ModelError(FlywheelError):
    """A model (file or in-memory) is invalid.

    ``file``, ``line`` and ``variable`` locate the problem when known; they are also part of
    the one-line message.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        variable: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.variable = variable
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if where:
            text = f"{text} ({where})"
        if self.hint:
            text = f"{text} — {self.hint}"
        return text

    def located(
        self, *, file: str | None = None, line: int | None = None, variable: str | None = None
    ) -> ModelError:
        """Return a copy with missing location fields filled in."""
        return ModelError(
            self.message,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            variable=self.variable or variable,
            hint=self.hint,
        )


class ParameterError(FlywheelError):
    """Parameter values passed to a run are unknown, mis-shaped or out of range."""


class OutputError(FlywheelError):
    """A result file could not be written; any previous file at that path is untouched."""


class LimitError(FlywheelError):
    """A model or run is larger than a limit of :mod:`flywheel_sim.limits` allows; the message
    names the limit, the size asked for and how to raise it."""


class Cancelled(FlywheelError):
    """A run was cancelled between chunks of steps (its ``cancel`` check returned True)."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean 'x'?" hint for a misspelt name, or None if nothing is close."""
    import difflib  # only when a name is misspelt: loading a model does not need it

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
