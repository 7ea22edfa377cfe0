"""Package data: the built-in models, their scenario files, the historical data and the
agent-based market's defaults, read through :func:`files`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def files() -> Traversable:
    """This folder: a plain :class:`~pathlib.Path` when the package is installed as files (what
    ``importlib.resources.files`` returns then too, without importing it: ~10 ms of a fresh
    process, with zipfile, tempfile and shutil), else the Traversable that
    ``importlib.resources`` gives (a package inside a zip file)."""
    here = Path(__file__).parent
    if (here / "models").is_dir():
        return here
    from importlib import resources

    return resources.files(__name__)
