"""Machine code of native kernels kept on disk, so that a fresh process need not compile again.

A kernel's object code is stored under a hash of everything it depends on: the IR text, the
optimisation level, llvmlite's and LLVM's versions, this package's version and the processor
(name and features). A different processor or version simply misses. Files are written to a
temporary name and renamed, so a reader never sees half a file, and each file starts with the
SHA-256 of its code, so a damaged file is compiled again rather than loaded; the folder is the
user's own (mode 0700), since loading an object file runs its code.

The folder is ``$FLYWHEEL_KERNEL_CACHE``, else ``kernels`` in the per-user cache directory;
``FLYWHEEL_KERNEL_CACHE=off`` keeps nothing on disk. A folder that cannot be written is not
an error: the kernel is compiled in memory as without a cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MAX_BYTES = 256 << 20  # more than this in the folder: the oldest files are removed


def folder() -> Path | None:
    """Where kernels are kept, or None when the cache is off."""
    env = os.environ.get("FLYWHEEL_KERNEL_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no") else Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("flywheel-sim", appauthor=False)) / "kernels"


def key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


_SOURCES: list[str] = []


def generator_digest() -> str:
    """A hash of the code generator's own source (this package's files), so that kernels
    keyed by the Program rather than by their IR are never reused after the generator
    changes."""
    if not _SOURCES:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        _SOURCES.append(digest.hexdigest())
    return _SOURCES[0]


def exists(name: str) -> bool:
    """Whether a kernel is stored under ``name``."""
    where = folder()
    return where is not None and (where / f"{name}.o").is_file()


def read(name: str) -> bytes | None:
    """The object code stored under ``name``, if any."""
    where = folder()
    if where is None:
        return None
    try:
        stored = (where / f"{name}.o").read_bytes()
    except OSError:
        return None
    check, data = stored[:32], stored[32:]
    return data if hashlib.sha256(data).digest() == check else None  # damaged: compile again


def write(name: str, data: bytes) -> None:
    """Store ``data`` under ``name`` (atomically; silently not when the folder is not ours
    or not writable)."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if where.stat().st_uid != os.getuid():
            return
        handle, temporary = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(hashlib.sha256(data).digest() + data)
        os.replace(temporary, where / f"{name}.o")
        _trim(where)
    except OSError:
        return


def _trim(where: Path) -> None:
    """Remove the least recently written kernels while the folder holds more than MAX_BYTES."""
    files = sorted(where.glob("*.o"), key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    for path in files:
        if total <= MAX_BYTES:
            break
        total -= path.stat().st_size
        path.unlink(missing_ok=True)
