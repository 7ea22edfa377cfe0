"""The data files uploaded with a model (several files in one upload): checked, named safely
and written beside the model in the upload's own folder, so that the model reads them as it
reads files beside it on disk (GET XLS/DIRECT calls, ``history: data:``), and a Vensim model's
data variables read the ``.dat`` datasets among them.

Every file has the same size limit as the model (``max_upload_bytes``), an upload holds at
most ``max_upload_files`` data files, and a name is reduced to its last part with every
character but letters, digits, spaces and ``_ - . ( )`` replaced by ``_`` and no leading dot:
no name can leave the folder, hide, or replace the model file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from flywheel_sim.errors import ModelError
from flywheel_sim.io.models import MODEL_SUFFIXES
from flywheel_sim.web.budgets import Budgets

DATA_SUFFIXES = (".csv", ".tab", ".txt", ".dat", ".xlsx", ".xlsm", ".xls")
"""Files a model may read beside it: GET XLS/DIRECT files, history data, Vensim datasets."""
DATASET_SUFFIXES = (".dat",)
"""The data files given to a Vensim model's data variables (``load_model(data_files=)``)."""
_UNSAFE = re.compile(r"[^\w .()-]")


@dataclass(frozen=True)
class DataFile:
    """One uploaded data file: its safe name (in the upload's folder) and its bytes."""

    name: str
    content: bytes


def safe_name(filename: str) -> str:
    """The name a file is written under: its last part (``/`` or ``\\`` separated), with
    unsafe characters replaced and leading dots and spaces dropped; at most 100 characters."""
    last = PureWindowsPath(filename.replace("/", "\\")).name
    name = _UNSAFE.sub("_", last).lstrip(". ").rstrip(" ")[-100:].lstrip(". ")
    return name or "data"


def model_file(filename: str, content: bytes, budgets: Budgets) -> tuple[str, str]:
    """The uploaded model's name (as shown) and the name it is stored under; one-line
    ModelError for a file that is not a model or is too large."""
    name = Path(filename or "model.yaml").name
    suffix = Path(name).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelError(
            f"'{name}' is not a model file",
            hint="upload a YAML (.yaml), XMILE (.xmile, .stmx) or Vensim (.mdl) model",
        )
    if len(content) > budgets.max_upload_bytes:
        raise ModelError(
            f"'{name}' is {len(content):,} bytes; uploads are limited to "
            f"{budgets.max_upload_bytes:,} bytes"
        )
    stem = re.sub(r"[^\w-]", "_", Path(name).stem)[:60] or "model"
    return name, f"{stem}{suffix}"


def upload_digest(session: str, content: bytes, files: Sequence[DataFile]) -> str:
    """An upload's key: its session, its model and its data files (the same model with other
    data files is another upload)."""
    hashed = hashlib.sha256(session.encode() + b"\0" + content)
    for file in files:
        hashed.update(b"\0%d\0%s\0" % (len(file.content), file.name.encode()) + file.content)
    return hashed.hexdigest()[:24]


def data_files(
    files: Sequence[tuple[str, bytes]], model_name: str, budgets: Budgets
) -> list[DataFile]:
    """The data files of an upload, checked; one-line ModelError naming the file otherwise."""
    if len(files) > budgets.max_upload_files:
        raise ModelError(
            f"{len(files)} data files came with the model; an upload takes at most "
            f"{budgets.max_upload_files}",
            hint="upload the model with the files it reads, and no others",
        )
    out: dict[str, DataFile] = {}
    for filename, content in files:
        name = safe_name(filename)
        if Path(name).suffix.lower() not in DATA_SUFFIXES:
            raise ModelError(
                f"'{name}' is not a data file a model reads",
                hint=f"upload one model file with its data files ({', '.join(DATA_SUFFIXES)})",
            )
        if len(content) > budgets.max_upload_bytes:
            raise ModelError(
                f"'{name}' is {len(content):,} bytes; uploads are limited to "
                f"{budgets.max_upload_bytes:,} bytes a file"
            )
        if name.lower() == model_name.lower() or name.lower() in {n.lower() for n in out}:
            raise ModelError(
                f"two files of the upload are named '{name}'", hint="give each file its own name"
            )
        out[name] = DataFile(name, content)
    return list(out.values())


def write_files(folder: Path, files: Sequence[DataFile]) -> list[Path]:
    """Write ``files`` into ``folder`` (names from :func:`safe_name`, so inside it); the paths
    of the Vensim datasets among them."""
    datasets = []
    for file in files:
        path = folder / file.name
        if path.resolve().parent != folder.resolve():  # safe_name makes this impossible
            raise ModelError(f"'{file.name}' is not a name a file can have here")
        path.write_bytes(file.content)
        if path.suffix.lower() in DATASET_SUFFIXES:
            datasets.append(path)
    return datasets


__all__ = [
    "DATASET_SUFFIXES",
    "DATA_SUFFIXES",
    "DataFile",
    "data_files",
    "safe_name",
    "write_files",
]
