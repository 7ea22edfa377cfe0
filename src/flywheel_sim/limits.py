"""Size limits that keep a small model file from exhausting the machine.

A 100-byte model can ask for a billion-element dimension or a billion time steps; these limits
are checked *before* anything is allocated, and refusing gives a one-line error that names the
limit and how to raise it: ``--max-cells`` on the commands that simulate, an environment
variable for any of them (``FLYWHEEL_MAX_INSTANCES=5000000 flywheel run big.xmile``; see
:data:`ENVIRONMENT`), or the ``limits`` argument/field in the API. The defaults fit a 24 GB
machine with room to spare and are far above every published model we test on (the largest,
World3 and C-ROADS, use under 1 % of each).

- ``max_dimension_size``: elements of one dimension.
- ``max_instances``: scalar variables of a model with every array expanded (compile time and
  memory grow with it).
- ``max_cells``: time steps × state/stored slots × runs of one simulation call; the result
  arrays hold about 8 bytes per cell.
- ``max_expansion``: hidden variables made by expanding XMILE modules, macros and delay/smooth
  chains (``DELAYN(x, 1000)``) before expansion starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from flywheel_sim.errors import ParameterError

MAX_DIMENSION_SIZE = 1_000_000
MAX_INSTANCES = 2_000_000
MAX_CELLS = 500_000_000
MAX_EXPANSION = 200_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one load/compile/simulate call enforces (defaults above)."""

    max_dimension_size: int = MAX_DIMENSION_SIZE
    max_instances: int = MAX_INSTANCES
    max_cells: int = MAX_CELLS
    max_expansion: int = MAX_EXPANSION


ENVIRONMENT = {f.name: f"FLYWHEEL_{f.name.upper()}" for f in fields(Limits)}
"""The environment variable that sets each default (``FLYWHEEL_MAX_CELLS`` ...): a whole
number of at least 1, read once when flywheel_sim is imported."""


def from_environment(environ: Mapping[str, str] | None = None) -> Limits:
    """The default limits with any ``FLYWHEEL_MAX_*`` variables of ``environ`` applied;
    ParameterError naming the variable when one is not a whole number of at least 1."""
    environ = os.environ if environ is None else environ
    changes: dict[str, int] = {}
    for name, variable in ENVIRONMENT.items():
        text = environ.get(variable)
        if text is None or not text.strip():
            continue
        try:
            value = int(text.strip().replace("_", "").replace(",", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise ParameterError(
                f"environment variable {variable}={text!r} is not a whole number of at least 1 "
                f"— set it like {variable}=5000000, or unset it for the default"
            )
        changes[name] = value
    return replace(Limits(), **changes)


try:
    DEFAULT = from_environment()
    _ENVIRONMENT_ERROR: ParameterError | None = None
except ParameterError as exc:  # said by check_environment(), where a one-line error can be
    DEFAULT = Limits()
    _ENVIRONMENT_ERROR = exc


def check_environment() -> None:
    """ParameterError if a ``FLYWHEEL_MAX_*`` variable was not understood (the built-in
    defaults would otherwise apply without a word)."""
    if _ENVIRONMENT_ERROR is not None:
        raise _ENVIRONMENT_ERROR
