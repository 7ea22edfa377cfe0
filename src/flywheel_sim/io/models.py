"""Model files in and out, chosen by suffix: :func:`load_model` reads YAML, XMILE or Vensim
(``.mdl``) files and built-in models by name, :func:`save_model` writes YAML or XMILE.

Each format's reader and writer is imported only when a file of that format is read or
written, so loading an XMILE file loads neither PyYAML nor the writers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import ModelError, did_you_mean

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from flywheel_sim.spec.model import Model

MAX_FILE_BYTES = 20_000_000
XMILE_SUFFIXES = (".xmile", ".stmx", ".itmx", ".xml")
YAML_SUFFIXES = (".yaml", ".yml")
MDL_SUFFIXES = (".mdl",)  # read only
MODEL_SUFFIXES = (*YAML_SUFFIXES, *XMILE_SUFFIXES, *MDL_SUFFIXES)


def loads_model(text: str, *, file: str | None = None, name: str = "model") -> Model:
    """Build a Model from YAML text."""
    from flywheel_sim.io.yaml.reader import loads_model as loads

    return loads(text, file=file, name=name)


def _library() -> Traversable:
    """The package data (flywheel_sim/library): a plain Path when the package is installed as
    files, as ``importlib.resources.files`` returns then too, without importing it (~10 ms of a
    fresh process, with zipfile, tempfile and shutil); else what ``importlib.resources`` gives
    (a package inside a zip file)."""
    folder = Path(__file__).parent.parent / "library"
    if (folder / "models").is_dir():
        return folder
    from importlib import resources

    return resources.files("flywheel_sim.library")


def builtin_models() -> list[str]:
    """Names of the models shipped inside the package."""
    folder = _library() / "models"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_model(source: str | Path, *, data_files: Sequence[str | Path] = ()) -> Model:
    """Load a model from a YAML, XMILE or Vensim .mdl file, or by built-in name
    (``flywheel models``). ``data_files`` (.dat, .tab, .csv) give a Vensim model's data
    variables (those without an equation) their series; other models take none.

    Raises ModelError with file and line for anything wrong in the file.
    """
    if isinstance(data_files, str | Path):
        data_files = (data_files,)
    path = Path(source)
    if data_files and path.suffix.lower() not in MDL_SUFFIXES:
        raise ModelError(
            f"data files are read for Vensim .mdl models, and '{source}' is not one",
            hint="leave out the data files (--data)",
        )
    if not path.exists() and isinstance(source, str) and re.fullmatch(r"[\w-]+", source):
        if source in builtin_models():
            ref = _library() / "models" / f"{source}.yaml"
            return loads_model(ref.read_text(encoding="utf-8"), file=f"{source}.yaml", name=source)
        hint = did_you_mean(source, builtin_models())
        raise ModelError(
            f"no model file or built-in model called '{source}'",
            hint=hint or f"built-in models: {', '.join(builtin_models())}",
        )
    if path.is_dir():
        raise ModelError(f"'{source}' is a folder, not a model file")
    if not path.is_file():
        raise ModelError(f"model file '{source}' does not exist")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelError(f"model file '{source}' is larger than {MAX_FILE_BYTES} bytes")
    suffix = path.suffix.lower()
    if suffix in XMILE_SUFFIXES:
        from flywheel_sim.io.xmile.reader import load_xmile

        return load_xmile(path)
    if suffix in MDL_SUFFIXES:
        from flywheel_sim.io.mdl import load_mdl

        return load_mdl(path, data_files=data_files)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"model file '{source}' is not UTF-8 text") from None
    return loads_model(text, file=str(path), name=path.stem)


def save_model(model: Model, path: str | Path) -> Path:
    """Write ``model`` as YAML or XMILE, chosen by the suffix of ``path``."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in YAML_SUFFIXES:
        from flywheel_sim.io.yaml.writer import save_yaml

        return save_yaml(model, target)
    if suffix in XMILE_SUFFIXES:
        from flywheel_sim.io.xmile.writer import save_xmile

        return save_xmile(model, target)
    if suffix in MDL_SUFFIXES:
        raise ModelError(
            f"cannot write '{target}': Vensim .mdl files are read, not written",
            hint="name it .xmile, .stmx or .yaml",
        )
    raise ModelError(
        f"cannot tell the format of '{target}' from its extension",
        hint="name it .xmile, .stmx or .yaml",
    )


__all__ = [
    "MDL_SUFFIXES",
    "MODEL_SUFFIXES",
    "XMILE_SUFFIXES",
    "YAML_SUFFIXES",
    "builtin_models",
    "load_model",
    "loads_model",
    "save_model",
]
