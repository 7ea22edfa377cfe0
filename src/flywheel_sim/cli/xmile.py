"""``flywheel convert A B``: XMILE <-> YAML, chosen by the files' extensions.

Registered on the app by :mod:`flywheel_sim.cli.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flywheel_sim.cli.common import DataOpt, console
from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import MODEL_SUFFIXES, load_model, save_model


def convert(
    source: Annotated[
        str, typer.Argument(help="Model to read: .xmile/.stmx, .yaml, .mdl or a built-in name.")
    ],
    target: Annotated[Path, typer.Argument(help="File to write: .xmile/.stmx or .yaml.")],
    force: Annotated[bool, typer.Option("--force", help="Replace TARGET if it exists.")] = False,
    data: DataOpt = None,
) -> None:
    """Convert a model between XMILE and YAML (by extension): flywheel convert m.stmx m.yaml."""
    if target.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelError(
            f"cannot tell the format of '{target}' from its extension",
            hint="name it .xmile, .stmx or .yaml",
        )
    if target.exists() and not force:
        raise ModelError(f"'{target}' already exists", hint="pass --force to replace it")
    model = load_model(source, data_files=data or ())
    save_model(model, target)
    console.print(f"wrote {escape(str(target))} ({len(model.elements)} variables)", highlight=False)
