"""The dashboard's server-side state: the models it can show (built-in or uploaded), each
compiled once with its scenario file, slider ranges and lazily computed loops.

Nothing here imports Dash, so the report and the tests use it directly. Uploaded model text is
untrusted: it goes through :func:`flywheel_sim.load_model` (the same validation as the CLI,
YAML or whatever other formats the loader accepts) from a folder of its own (so the loader's
folder confinement keeps its data paths inside it), is checked by running it once within the
dashboard's budget (:mod:`.budgets`), and every problem comes back as one
:class:`~flywheel_sim.errors.ModelError` line.

Uploads belong to the browser session that sent them (a random id made for each page load):
a visitor lists only their own, and an upload's key mixes in that id, so it cannot be guessed.
The registry keeps at most ``max_uploads`` of them (and ``max_upload_slots`` compiled slots in
all), dropping the least recently used first, and deletes an upload's folder and entry once it
has not been used for ``keep_uploads_seconds``.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flywheel_sim.compile import Program, compile_model
from flywheel_sim.errors import Cancelled, FlywheelError, ModelError
from flywheel_sim.io.models import MDL_SUFFIXES, MODEL_SUFFIXES, builtin_models, load_model
from flywheel_sim.spec.model import Model
from flywheel_sim.studies.scenarios import Study, load_study
from flywheel_sim.web.budgets import DEFAULT, Budgets, Deadline
from flywheel_sim.web.upload_files import data_files, model_file, upload_digest, write_files

if TYPE_CHECKING:
    import xarray as xr

    from flywheel_sim.engine.simulate import Options
    from flywheel_sim.loops.find import LoopSearch
    from flywheel_sim.present.diagram.layout import Layout
    from flywheel_sim.present.figures import LiveChart

MAX_UPLOAD_BYTES = DEFAULT.max_upload_bytes  # a large hand-written model is ~50 kB
MAX_UPLOADS = DEFAULT.max_uploads  # uploads kept in memory (least recently used dropped first)
SUFFIXES = MODEL_SUFFIXES
SESSION = re.compile(r"[0-9a-f]{32}")  # the page's session id: 128 random bits, in hex


@dataclass(frozen=True)
class SliderSpec:
    """One parameter slider: its range, where it starts and whether it moves on a log scale.

    ``assumed`` is true when the model declares no range and the dashboard chose one."""

    key: str
    label: str
    low: float
    high: float
    default: float
    log: bool
    unit: str
    description: str
    assumed: bool = False

    def to_position(self, value: float) -> float:
        """Slider position of a value (log10 of it on a log scale)."""
        return math.log10(value) if self.log else value

    def to_value(self, position: float) -> float:
        """Parameter value at a slider position, clipped to the range."""
        value = 10.0**position if self.log else position
        return float(min(max(value, self.low), self.high))

    @property
    def bounds(self) -> tuple[float, float]:
        return self.to_position(self.low), self.to_position(self.high)

    @property
    def step(self) -> float:
        lo, hi = self.bounds
        return (hi - lo) / 200 if hi > lo else 1.0


def _range(default: float, low: float, high: float) -> tuple[float, float, bool]:
    """The declared range, or one around the default when a bound is missing."""
    assumed = not (math.isfinite(low) and math.isfinite(high))
    span = abs(default) if default else 1.0
    if not math.isfinite(low):
        low = 0.0 if default >= 0 else default - 2 * span
    if not math.isfinite(high):
        high = max(default, low) + 2 * span
    if high <= low:
        high = low + (abs(low) or 1.0)
    return low, high, assumed


def slider_specs(model: Model, program: Program) -> list[SliderSpec]:
    """One slider per parameter value (one per element of an arrayed parameter), in model
    order, over the declared range; a log scale when the range spans 100x or more."""
    specs = []
    for i, key in enumerate(program.param_keys):
        if "@" in key:  # the base slot of a policy carries the parameter's own key too
            continue
        element = model.element(key.split("[")[0])
        default = float(program.param_default[i])
        low, high, assumed = _range(
            default, float(program.param_min[i]), float(program.param_max[i])
        )
        log = low > 0 and high / low >= 100
        label = element.name + (key[key.index("[") :] if "[" in key else "")
        specs.append(
            SliderSpec(
                key, label, low, high, default, log, element.unit, element.description, assumed
            )
        )
    return specs


@dataclass
class Entry:
    """A model the dashboard can show, compiled, with what the views need from it."""

    key: str  # built-in name, "file:<hash>" (given to serve) or "upload:<hash>"
    label: str
    model: Model
    program: Program
    study: Study
    budgets: Budgets = DEFAULT
    owner: str | None = None  # the session that uploaded it (uploads only)
    folder: Path | None = None  # the upload's own folder (uploads only)
    used: float = field(default_factory=time.monotonic)  # last asked for
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dominance: dict[tuple[tuple[str, float], ...], xr.Dataset] = field(
        default_factory=dict, repr=False
    )
    _charts: dict[tuple[str, ...], LiveChart] = field(default_factory=dict, repr=False)

    @cached_property
    def sliders(self) -> list[SliderSpec]:
        return slider_specs(self.model, self.program)

    @cached_property
    def search(self) -> LoopSearch:
        from flywheel_sim.loops import find_loops

        deadline = self.budgets.run_deadline(f"the loop search of '{self.label}'")
        try:
            return find_loops(self.model, program=self.program, options=self.options(deadline))
        except Cancelled:
            raise Cancelled(deadline.message()) from None

    @cached_property
    def layout(self) -> Layout:
        """The causal-loop diagram's positions (ModelError when the model names no loops)."""
        from flywheel_sim.present.diagram.layout import diagram_layout

        return diagram_layout(self.model, self.search)

    @property
    def size(self) -> int:
        """What the model holds in memory, in compiled slots (scalar instances)."""
        return len(self.program.slot_keys)

    def options(self, cancel: Deadline | None = None) -> Options:
        """Simulation options of one live run of this model: the dashboard's limits, and a
        deadline of ``run_seconds`` unless ``cancel`` is given."""
        return self.budgets.options(cancel or self.budgets.run_deadline())

    @cached_property
    def reference(self) -> xr.Dataset:
        """The run with every parameter at its default (within the live-run budget)."""
        from flywheel_sim.engine.simulate import simulate

        deadline = self.budgets.run_deadline(f"the default run of '{self.label}'")
        try:
            return simulate(self.program, options=self.options(deadline))
        except Cancelled:
            raise Cancelled(deadline.message()) from None

    def chart(self, variables: tuple[str, ...]) -> LiveChart:
        """The variables chart for these variables (the last few kept)."""
        from flywheel_sim.present.figures import LiveChart

        with self._lock:
            found = self._charts.get(variables)
        if found is None:
            found = LiveChart(self.model, self.reference, variables)
            with self._lock:
                if len(self._charts) >= 16:
                    self._charts.pop(next(iter(self._charts)))
                self._charts[variables] = found
        return found

    def dominance(self, params: dict[str, float]) -> xr.Dataset:
        """Loop dominance for one parameter set (the last few kept)."""
        from flywheel_sim.loops import search_dominance

        key = tuple(sorted(params.items()))
        with self._lock:
            found = self._dominance.get(key)
        if found is not None:
            return found
        deadline = self.budgets.run_deadline("the loop dominance")
        try:
            data = search_dominance(
                self.model,
                self.search,
                params or None,
                program=self.program,
                options=self.options(deadline),
            )
        except Cancelled:
            raise Cancelled(deadline.message()) from None
        with self._lock:
            if len(self._dominance) >= 8:
                self._dominance.pop(next(iter(self._dominance)))
            self._dominance[key] = data
        return data

    def values(self, positions: dict[str, float]) -> dict[str, float]:
        """Parameter values from slider positions; only those that differ from the default."""
        out = {}
        for spec in self.sliders:
            if spec.key in positions and positions[spec.key] is not None:
                value = spec.to_value(float(positions[spec.key]))
                if not np.isclose(value, spec.default, rtol=1e-12, atol=0.0):
                    out[spec.key] = value
        return out


def _entry(key: str, label: str, model: Model, study: Study, budgets: Budgets) -> Entry:
    return Entry(key, label, model, compile_model(model, budgets.limits), study, budgets)


def _forget(entry: Entry) -> None:
    """Delete an upload's folder (its model file and anything beside it)."""
    if entry.folder is not None:
        shutil.rmtree(entry.folder, ignore_errors=True)


class Registry:
    """The models a dashboard serves: every built-in one (loaded on first use), the files
    given to ``serve`` and the visitors' uploads (each visible to its own session only)."""

    def __init__(self, budgets: Budgets = DEFAULT, root: Path | None = None) -> None:
        """``root`` holds the uploads' folders (default: a private temporary folder, deleted
        when the server stops)."""
        self.budgets = budgets
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="flywheel-web-")
            root = Path(self._temporary.name)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> Entry:
        self.sweep()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                entry.used = time.monotonic()
                return entry
        if key not in builtin_models():
            raise ModelError(
                f"the model '{key}' is no longer loaded",
                hint="uploads unused for a while are deleted: upload it again",
            )
        model = load_model(key)
        entry = _entry(key, key, model, load_study(key, model), self.budgets)
        with self._lock:
            self._entries.setdefault(key, entry)
            return self._entries[key]

    def uploads(self, session: str = "") -> list[Entry]:
        """The models not built in that ``session`` may pick: the files given to ``serve``,
        then its own uploads (least recently used first)."""
        self.sweep()
        with self._lock:
            return [
                e
                for e in self._entries.values()
                if e.key.startswith("file:") or (e.key.startswith("upload:") and e.owner == session)
            ]

    def sweep(self, now: float | None = None) -> list[str]:
        """Delete the uploads unused for ``keep_uploads_seconds`` (entry and folder); returns
        their keys. Called on every request and by the server's sweeper thread."""
        now = time.monotonic() if now is None else now
        keep = self.budgets.keep_uploads_seconds
        with self._lock:
            old = [
                e
                for e in self._entries.values()
                if e.key.startswith("upload:") and now - e.used > keep
            ]
            for entry in old:
                del self._entries[entry.key]
        for entry in old:
            _forget(entry)
        return [e.key for e in old]

    def open(self, path: Path) -> Entry:
        """A model file given on the command line, with the scenario file beside it."""
        model = load_model(path)
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        entry = _entry(f"file:{digest}", path.name, model, load_study(path, model), self.budgets)
        with self._lock:
            self._entries[entry.key] = entry
        return entry

    def upload(
        self,
        filename: str,
        content: bytes,
        session: str = "",
        files: Sequence[tuple[str, bytes]] = (),
    ) -> Entry:
        """Validate, compile and run once an uploaded model file, for ``session``, with the
        data ``files`` (name, bytes) uploaded with it written beside it (:mod:`.upload_files`);
        a one-line ModelError naming the file if it is bad or beyond the dashboard's budget."""
        budgets = self.budgets
        name, stored = model_file(filename, content, budgets)
        if session and not SESSION.fullmatch(session):
            raise ModelError("this page's session is not valid", hint="reload the page")
        extra = data_files(files, stored, budgets)
        self.sweep()
        digest = upload_digest(session, content, extra)
        key = f"upload:{digest}"
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                found.used = time.monotonic()
                return found
        folder = self.root / digest
        folder.mkdir(exist_ok=True)
        path = folder / stored
        path.write_bytes(content)
        try:
            datasets = write_files(folder, extra)  # .dat files: a Vensim model's datasets
            mdl = path.suffix in MDL_SUFFIXES
            model = load_model(path, data_files=datasets if mdl else ())
            entry = _entry(key, f"{name} (uploaded)", model, load_study(path, model), budgets)
            entry.owner, entry.folder = session, folder
            if entry.size > budgets.max_upload_slots:
                raise ModelError(
                    f"'{name}' has {entry.size:,} variable instances; the dashboard keeps "
                    f"uploads of at most {budgets.max_upload_slots:,}",
                    hint="run it with the command line (flywheel run)",
                )
            entry.reference  # noqa: B018 - runs it once within the budget, or refuses it
            if model.history is not None:  # the chart shows it: read it now, or refuse
                from flywheel_sim.studies.history import history_frame

                history_frame(model)
        except FlywheelError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            text = str(exc).replace(str(path), name).replace(str(folder), "the upload's folder")
            raise ModelError(text) from None
        except MemoryError:
            shutil.rmtree(folder, ignore_errors=True)
            raise ModelError(f"'{name}' needs more memory than the dashboard has") from None
        with self._lock:
            self._entries[key] = entry
            dropped = self._evict(keep=key)
        for old in dropped:
            _forget(old)
        return entry

    def _evict(self, keep: str) -> list[Entry]:
        """Drop the least recently used uploads (never ``keep``) while more than
        ``max_uploads`` or ``max_upload_slots`` are held; the caller deletes their folders."""
        dropped: list[Entry] = []
        uploads = [e for e in self._entries.values() if e.key.startswith("upload:")]
        total = sum(e.size for e in uploads)
        for entry in uploads:  # least recently used first
            if len(uploads) - len(dropped) <= self.budgets.max_uploads and (
                total <= self.budgets.max_upload_slots
            ):
                break
            if entry.key == keep:
                continue
            del self._entries[entry.key]
            dropped.append(entry)
            total -= entry.size
        return dropped
