"""Size limits that keep a small model file from exhausting the machine.

A 100-byte model can ask for a billion-element dimension or a billion time steps; these limits
are checked *before* anything is allocated, and refusing gives a one-line error that names the
limit and how to raise it (``--max-cells`` on the CLI, or the ``limits`` argument/field in the
API). The defaults fit a 24 GB machine with room to spare and are far above every published
model we test on (the largest, World3 and C-ROADS, use under 1 % of each).

- ``max_dimension_size``: elements of one dimension.
- ``max_instances``: scalar variables of a model with every array expanded (compile time and
  memory grow with it).
- ``max_cells``: time steps × state/stored slots × runs of one simulation call; the result
  arrays hold about 8 bytes per cell.
- ``max_expansion``: hidden variables made by expanding XMILE modules, macros and delay/smooth
  chains (``DELAYN(x, 1000)``) before expansion starts.
"""

from __future__ import annotations

from dataclasses import dataclass

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


DEFAULT = Limits()
