"""XMILE 1.0 (OASIS) import and export.

- :func:`load_xmile` / :func:`loads_xmile` read a ``.xmile``/``.stmx`` file into a Model
  (also reached through :func:`flywheel_sim.load_model`);
- :func:`save_xmile` / :func:`dumps_xmile` write a Model as XMILE;
- :func:`save_yaml` / :func:`dumps_yaml` write a Model in our YAML format.

See docs/xmile.md for what is supported and how XMILE constructs map onto ours. Each name is
imported from its module on first use (PEP 562), so reading a file loads neither writer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flywheel_sim.io.xmile.reader import load_xmile, loads_xmile
    from flywheel_sim.io.xmile.writer import dumps_xmile, save_xmile

_LAZY = {
    "load_xmile": "reader",
    "loads_xmile": "reader",
    "dumps_xmile": "writer",
    "save_xmile": "writer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = ["dumps_xmile", "load_xmile", "loads_xmile", "save_xmile"]
