"""XMILE 1.0 (OASIS) import and export.

- :func:`load_xmile` / :func:`loads_xmile` read a ``.xmile``/``.stmx`` file into a Model
  (also reached through :func:`flywheel_sim.load_model`);
- :func:`save_xmile` / :func:`dumps_xmile` write a Model as XMILE;
- :func:`save_yaml` / :func:`dumps_yaml` write a Model in our YAML format.

See docs/xmile.md for what is supported and how XMILE constructs map onto ours.
"""

from __future__ import annotations

from flywheel_sim.xmile.reader import load_xmile, loads_xmile
from flywheel_sim.xmile.writer import dumps_xmile, save_xmile
from flywheel_sim.xmile.yaml_writer import dumps_yaml, save_yaml

__all__ = ["dumps_xmile", "dumps_yaml", "load_xmile", "loads_xmile", "save_xmile", "save_yaml"]
