"""Vensim ``.mdl`` models: :func:`load_mdl` and :func:`loads_mdl` (see docs/vensim.md)."""

from flywheel_sim.io.mdl.reader import load_mdl, loads_mdl

__all__ = ["load_mdl", "loads_mdl"]
