"""``flywheel convert A B``: XMILE <-> YAML, chosen by the files' extensions.

Registered on the main app by :mod:`flywheel_sim.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flywheel_sim.cli import app, console
from flywheel_sim.errors import ModelError
from flywheel_sim.spec.loader import XMILE_SUFFIXES, load_model

YAML_SUFFIXES = (".yaml", ".yml")


@app.command()
def convert(
    source: Annotated[
        str, typer.Argument(help="Model to read: .xmile/.stmx, .yaml or a built-in name.")
    ],
    target: Annotated[Path, typer.Argument(help="File to write: .xmile/.stmx or .yaml.")],
    force: Annotated[bool, typer.Option("--force", help="Replace TARGET if it exists.")] = False,
) -> None:
    """Convert a model between XMILE and YAML (by extension): flywheel convert m.stmx m.yaml."""
    from flywheel_sim.xmile import save_xmile, save_yaml

    suffix = target.suffix.lower()
    if suffix not in (*XMILE_SUFFIXES, *YAML_SUFFIXES):
        raise ModelError(
            f"cannot tell the format of '{target}' from its extension",
            hint="name it .xmile, .stmx or .yaml",
        )
    if target.exists() and not force:
        raise ModelError(f"'{target}' already exists", hint="pass --force to replace it")
    model = load_model(source)
    if suffix in YAML_SUFFIXES:
        save_yaml(model, target)
    else:
        save_xmile(model, target)
    console.print(f"wrote {target} ({len(model.elements)} variables)", highlight=False)
