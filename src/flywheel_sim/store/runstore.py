"""The run store: every run, comparison, sweep and sensitivity analysis, kept in DuckDB.

One embedded database file (default ``<user data dir>/flywheel-sim/runs.duckdb``; set
``FLYWHEEL_STORE`` or pass a path) holds:

- ``models``: each model text once, by SHA-256;
- ``batches``: one row per command run — kind (run, compare, sweep, sensitivity), model name
  and hash, scenario, seed, code version, times, status (running, done, interrupted), the
  settings needed to reproduce or resume it, and the saved times, variables and parameters;
- ``chunks``: which chunks of a batch are written (a sweep writes each chunk as it finishes);
- ``runs``: per run, its scenario, seed, status, the values of the batch's parameters
  (those set or sampled; the rest are the model's defaults) and, for a failed run, the
  variable that went non-finite first and when (``failed_variable``, ``failed_time``);
- ``series``: the outputs, one row per run and variable holding its values at the batch's
  saved times as one ``DOUBLE[]`` (the long format, one row per time, is what ``series()``
  and ``export`` give back).

A chunk is one transaction: a killed process loses only the chunk in flight, and a sweep can
resume from the chunks written. DuckDB lets one process write a file at a time, so every
access opens a short-lived connection and waits (with back-off) while another process holds
the lock: two sweeps writing at once take turns instead of failing or corrupting the file
(:mod:`flywheel_sim.store.lock`). The schema is versioned (``meta.schema_version``); opening
an older store migrates it (:mod:`flywheel_sim.store.schema`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from flywheel_sim.errors import FlywheelError, OutputError
from flywheel_sim.store.lock import HeldWriter, open_store, store_failure
from flywheel_sim.store.schema import migrate

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import xarray as xr

    from flywheel_sim.spec.model import Model


class Outcome(Protocol):
    """What the store reads of an outcome (a :class:`flywheel_sim.studies.outcomes.Outcome`):
    a variable at a time (``at``) or a ``statistic`` over the run, and its ``label``."""

    @property
    def variable(self) -> str: ...

    @property
    def at(self) -> float | None: ...

    @property
    def statistic(self) -> str: ...

    @property
    def label(self) -> str: ...


def default_path() -> Path:
    """``$FLYWHEEL_STORE``, else ``runs.duckdb`` in the per-user data directory."""
    env = os.environ.get("FLYWHEEL_STORE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("flywheel-sim", appauthor=False)) / "runs.duckdb"


def model_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, eq=False)
class NewBatch:
    """A batch to record (:meth:`RunStore.begin`): its ``kind`` (run, compare, sweep,
    sensitivity, calibration), ``model``, number of runs, saved ``times``, ``variables`` and
    the ``parameters`` whose values each run stores, the ``settings`` that reproduce it, its
    ``scenario``, base ``seed`` and a free-text ``note``."""

    kind: str
    model: Model
    n_runs: int
    times: Sequence[float] | NDArray[np.float64]
    variables: Sequence[str]
    parameters: Sequence[str]
    settings: Mapping[str, Any] = field(default_factory=dict)
    scenario: str = ""
    seed: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Chunk:
    """Runs to write (:meth:`RunStore.write_chunk`), numbered from ``first_run``: ``params``
    is (runs, parameters) in the batch's parameter order, one seed and one status per run,
    ``series`` maps each variable to (runs, times) at ``times``; ``scenario`` names the runs'
    scenario (one for all, or one per run); ``failed_variable`` and ``failed_time`` say, per
    run, what went non-finite first and when ("" and NaN for a run that finished; empty:
    not known)."""

    first_run: int
    params: NDArray[np.float64]
    seeds: NDArray[np.int64]
    status: Sequence[str]
    series: Mapping[str, NDArray[np.float64]]
    times: NDArray[np.float64]
    scenario: str | Sequence[str] = ""
    failed_variable: Sequence[str] = ()
    failed_time: Sequence[float] | NDArray[np.float64] = ()


@dataclass(frozen=True)
class Batch:
    """A stored batch's record (``flywheel runs show``)."""

    id: int
    kind: str
    model_name: str
    model_hash: str
    scenario: str
    seed: int
    code_version: str
    created: Any
    finished: Any
    status: str
    n_runs: int
    settings: dict[str, Any]
    times: tuple[float, ...]
    variables: tuple[str, ...]
    parameters: tuple[str, ...]
    note: str
    runs_written: int


@dataclass(frozen=True)
class Failures:
    """The failed runs of a stored batch (:meth:`RunStore.failures`): how many of ``runs``
    ``failed``; the variables that went non-finite first, most frequent first, as
    (variable, runs, earliest time) — "" when not recorded; the earliest and median failure
    times; and per parameter (the batch's order) the range of the sampled values and the
    range holding the middle 80 % of the failed runs' values, as ((low, high), (low, high))."""

    runs: int
    failed: int
    variables: tuple[tuple[str, int, float], ...] = ()
    first_time: float = float("nan")
    median_time: float = float("nan")
    regions: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] = field(
        default_factory=dict
    )

    @property
    def share(self) -> float:
        return self.failed / self.runs if self.runs else 0.0


class RunStore:
    """A run store file; every method opens (and closes) its own connection."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        if self.path.is_dir():
            raise OutputError(f"run store {self.path} is a folder; give a file path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create the run store folder {self.path.parent}: {exc.strerror}"
            ) from None
        self.writer = HeldWriter(self.path)
        with self.connect() as con:
            migrate(con, self.path)

    # -- connections --------------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, waiting while another process holds the file's lock. A DuckDB or
        system error while it is used (a full disk, a truncated file) is a
        :class:`~flywheel_sim.store.lock.StoreFailure`, one line naming the file."""
        import duckdb

        self.release()
        con = open_store(self.path)
        try:
            yield con
        except (duckdb.Error, OSError) as exc:
            with contextlib.suppress(Exception):
                con.close()
            raise store_failure(self.path, exc) from None
        try:
            con.close()  # folds the log into the file: this can need disk space too
        except (duckdb.Error, OSError) as exc:
            raise store_failure(self.path, exc) from None

    def release(self, *, busy: bool = False) -> None:
        """Close the connection kept open between chunk writes, if any (idempotent); see
        :class:`flywheel_sim.store.lock.HeldWriter`."""
        self.writer.release(busy=busy)

    # -- writing ------------------------------------------------------------------------------
    def begin(self, new: NewBatch) -> int:
        """Record a new batch (status 'running'); returns its id."""
        from flywheel_sim.version import __version__

        model = new.model
        text = model.text or repr(model)
        digest = model_hash(text)
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT INTO models SELECT ?, ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM models WHERE hash = ?)",
                [digest, model.name, text, digest],
            )
            row = con.execute("SELECT nextval('batch_ids')").fetchone()
            assert row is not None
            batch = int(row[0])
            con.execute(
                "INSERT INTO batches (id, kind, model_name, model_hash, scenario, seed, "
                "code_version, created, finished, status, n_runs, settings, times, variables, "
                "parameters, note) VALUES (?, ?, ?, ?, ?, ?, ?, now(), NULL, 'running', ?, ?, "
                "?, ?, ?, ?)",
                [
                    batch,
                    new.kind,
                    model.name,
                    digest,
                    new.scenario,
                    int(new.seed),
                    __version__,
                    int(new.n_runs),
                    json.dumps(dict(new.settings), default=_json_default),
                    [float(t) for t in new.times],
                    list(new.variables),
                    list(new.parameters),
                    new.note,
                ],
            )
            con.execute("COMMIT")
        return batch

    def write_chunk(self, batch: int, chunk: int, runs: Chunk) -> None:
        """Write chunk number ``chunk`` of ``batch`` in one transaction (a chunk written
        before is left as it is)."""
        import pyarrow as pa

        first_run, seeds, series, times = runs.first_run, runs.seeds, runs.series, runs.times
        n = len(seeds)
        numbers = first_run + np.arange(n)
        scenario = runs.scenario
        scenarios = [scenario] * n if isinstance(scenario, str) else list(scenario)
        matrix = np.asarray(runs.params, dtype=float).reshape(n, -1)
        # one float column per parameter, gathered into the DOUBLE[] in SQL: a column of
        # per-run arrays would make DuckDB inspect 1,000 Python objects per chunk
        columns = {f"p{j}": matrix[:, j] for j in range(matrix.shape[1])}
        status = list(runs.status)
        # NULL for a run that finished, or when the writer did not say (a run of an old store)
        failed = np.array([s != "ok" for s in status], dtype=bool)
        if len(runs.failed_variable) == n and len(runs.failed_time) == n:
            failed_names = [
                str(v) if f else None for v, f in zip(runs.failed_variable, failed, strict=True)
            ]
            failed_times = np.asarray(runs.failed_time, dtype=float)
        else:
            failed_names, failed_times, failed = [None] * n, np.full(n, np.nan), failed & False
        run_frame = pa.table(
            {
                "batch": np.full(n, batch, dtype=np.int64),
                "run": numbers.astype(np.int64),
                "scenario": scenarios,
                "seed": np.asarray(seeds, dtype=np.int64),
                "status": status,
                "failed_variable": pa.array(failed_names, type=pa.string()),
                "failed_time": pa.array(failed_times, mask=~failed),
                **columns,
            }
        )
        params_sql = f"[{', '.join(columns)}]::DOUBLE[]" if columns else "[]::DOUBLE[]"
        names = list(series)
        width = len(times)
        series_frame = None
        if names:
            # (run, variable, time) flattened; each (run, variable) row is a slice of it
            values = np.stack(
                [np.asarray(series[v], dtype=float).reshape(n, width) for v in names], axis=1
            ).reshape(-1)
            offsets = np.arange(0, values.size + 1, width, dtype=np.int64)
            codes = np.tile(np.arange(len(names), dtype=np.int32), n)
            series_frame = pa.table(
                {
                    "batch": np.full(n * len(names), batch, dtype=np.int64),
                    "run": np.repeat(numbers, len(names)).astype(np.int64),
                    "variable": pa.DictionaryArray.from_arrays(codes, pa.array(names)),
                    "value": pa.LargeListArray.from_arrays(offsets, values),
                }
            )
        import duckdb

        try:
            self._insert_chunk(
                batch, chunk, n, first_run, run_frame, params_sql, names, series_frame
            )
        except (duckdb.Error, OSError) as exc:
            raise store_failure(self.path, exc) from None

    def _insert_chunk(
        self,
        batch: int,
        chunk: int,
        n: int,
        first_run: int,
        run_frame: Any,
        params_sql: str,
        names: list[str],
        series_frame: Any,
    ) -> None:
        # shared with the previous chunks; one transaction per chunk
        with self.writer.using() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                exists = con.execute(
                    "SELECT 1 FROM chunks WHERE batch = ? AND chunk = ?", [batch, chunk]
                ).fetchone()
                if exists is None:
                    con.register("run_frame", run_frame)
                    con.execute(
                        "INSERT INTO runs (batch, run, scenario, seed, status, params, "
                        "failed_variable, failed_time) SELECT batch, run, scenario, seed, status, "
                        f"{params_sql}, failed_variable, failed_time FROM run_frame"
                    )
                    con.unregister("run_frame")
                    if names:
                        con.register("series_frame", series_frame)
                        con.execute(
                            "INSERT INTO series SELECT batch, run, CAST(variable AS VARCHAR), "
                            "value FROM series_frame"
                        )
                        con.unregister("series_frame")
                    con.execute(
                        "INSERT INTO chunks VALUES (?, ?, ?, ?, now())",
                        [batch, chunk, first_run, n],
                    )
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):  # the error above says what went wrong
                    self.release()  # closing rolls the transaction back
                raise

    def save_result(
        self,
        model: Model,
        result: xr.Dataset,
        *,
        kind: str = "run",
        scenario: str = "",
        settings: Mapping[str, Any] | None = None,
    ) -> int:
        """Store a whole ``simulate`` result (scalar variables) as one finished batch."""
        variables = [str(v) for v in result.data_vars if result[v].dims == ("run", "time")]
        parameters = [
            str(c)
            for c in result.coords
            if result[c].dims == ("run",)
            and str(c) not in ("seed", "status", "failed_variable", "failed_time", "run")
        ]
        times = np.asarray(result["time"].values, dtype=float)
        seeds = np.asarray(result["seed"].values, dtype=np.int64)
        batch = self.begin(
            NewBatch(
                kind=kind,
                model=model,
                scenario=scenario,
                seed=int(seeds[0]) if seeds.size else 0,
                n_runs=len(seeds),
                settings=settings or {},
                times=times,
                variables=variables,
                parameters=parameters,
            )
        )
        params = (
            np.column_stack([np.asarray(result[p].values, dtype=float) for p in parameters])
            if parameters
            else np.zeros((len(seeds), 0))
        )
        chunk = Chunk(
            first_run=0,
            params=params,
            seeds=seeds,
            status=[str(s) for s in result["status"].values],
            series={v: np.asarray(result[v].values, dtype=float) for v in variables},
            times=times,
            scenario=scenario,
            **_failures(result),
        )
        self.write_chunk(batch, 0, chunk)
        self.finish(batch)
        return batch

    def finish(self, batch: int, status: str = "done") -> None:
        with self.connect() as con:
            con.execute(
                "UPDATE batches SET status = ?, finished = now() WHERE id = ?", [status, batch]
            )

    def done_chunks(self, batch: int) -> set[int]:
        with self.connect() as con:
            rows = con.execute("SELECT chunk FROM chunks WHERE batch = ?", [batch]).fetchall()
        return {int(r[0]) for r in rows}

    # -- reading ------------------------------------------------------------------------------
    def batches(self, *, limit: int | None = None, model: str | None = None) -> pd.DataFrame:
        """The stored batches, newest first."""
        query = (
            "SELECT b.id, b.kind, b.model_name AS model, b.scenario, b.status, b.n_runs, "
            "COALESCE(SUM(c.n_runs), 0) AS runs_written, b.created, b.note FROM batches b "
            "LEFT JOIN chunks c ON c.batch = b.id"
        )
        args: list[Any] = []
        if model is not None:
            query += " WHERE b.model_name = ?"
            args.append(model)
        query += " GROUP BY ALL ORDER BY b.id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self.connect() as con:
            return con.execute(query, args).df()

    def batch(self, batch: int) -> Batch:
        with self.connect() as con:
            return self._batch(con, batch)

    def _batch(self, con: duckdb.DuckDBPyConnection, batch: int) -> Batch:
        row = con.execute(
            "SELECT id, kind, model_name, model_hash, scenario, seed, code_version, "
            "created, finished, status, n_runs, settings, times, variables, parameters, "
            "note, (SELECT COALESCE(SUM(n_runs), 0) FROM chunks WHERE batch = id) "
            "FROM batches WHERE id = ?",
            [batch],
        ).fetchone()
        if row is None:
            raise FlywheelError(f"no batch {batch} in the run store {self.path}")
        return Batch(
            int(row[0]),
            row[1],
            row[2],
            row[3],
            row[4] or "",
            int(row[5]),
            row[6],
            row[7],
            row[8],
            row[9],
            int(row[10]),
            json.loads(row[11] or "{}"),
            tuple(row[12] or ()),
            tuple(row[13] or ()),
            tuple(row[14] or ()),
            row[15] or "",
            int(row[16]),
        )

    def failures(self, batch: int, *, top: int = 3) -> Failures:
        """What failed in ``batch``, computed in the database (see :class:`Failures`);
        ``top``: how many failing variables to name."""
        with self.connect() as con:
            info = self._batch(con, batch)
            row = con.execute(
                "SELECT count(*), count(*) FILTER (status <> 'ok'), "
                "min(failed_time) FILTER (status <> 'ok'), "
                "median(failed_time) FILTER (status <> 'ok') FROM runs WHERE batch = ?",
                [batch],
            ).fetchone()
            assert row is not None
            runs, failed = int(row[0]), int(row[1])
            if not failed:
                return Failures(runs, 0)
            variables = con.execute(
                "SELECT COALESCE(failed_variable, ''), count(*) AS n, min(failed_time) "
                "FROM runs WHERE batch = ? AND status <> 'ok' GROUP BY 1 "
                f"ORDER BY n DESC, 3 LIMIT {int(top)}",
                [batch],
            ).fetchall()
            regions = {}
            for j, name in enumerate(info.parameters, start=1):
                ranges = con.execute(
                    f"SELECT min(params[{j}]), max(params[{j}]), "
                    f"quantile_cont(params[{j}], 0.1) FILTER (status <> 'ok'), "
                    f"quantile_cont(params[{j}], 0.9) FILTER (status <> 'ok') "
                    "FROM runs WHERE batch = ?",
                    [batch],
                ).fetchone()
                if ranges is not None and None not in ranges:
                    low, high, f_low, f_high = (float(x) for x in ranges)
                    regions[name] = ((low, high), (f_low, f_high))
        return Failures(
            runs,
            failed,
            tuple((str(v), int(k), _float(t)) for v, k, t in variables),
            _float(row[2]),
            _float(row[3]),
            regions,
        )

    def model_text(self, digest: str) -> str:
        with self.connect() as con:
            row = con.execute("SELECT text FROM models WHERE hash = ?", [digest]).fetchone()
        if row is None:
            raise FlywheelError(f"model {digest[:12]} is not in the run store {self.path}")
        return str(row[0])

    def runs(self, batch: int) -> pd.DataFrame:
        """One row per run: run, scenario, seed, status, failed_variable and failed_time
        (empty for a run that finished) and a column per parameter."""
        import pandas as pd

        info = self.batch(batch)
        with self.connect() as con:
            frame = con.execute(
                "SELECT run, scenario, seed, status, COALESCE(failed_variable, '') AS "
                "failed_variable, failed_time, params FROM runs WHERE batch = ? ORDER BY run",
                [batch],
            ).df()
        frame["failed_time"] = frame["failed_time"].astype(float)
        values = np.array(frame.pop("params").tolist(), dtype=float).reshape(
            len(frame), len(info.parameters)
        )
        return pd.concat([frame, pd.DataFrame(values, columns=list(info.parameters))], axis=1)

    def series(self, batch: int, variables: Sequence[str] | None = None) -> pd.DataFrame:
        """The outputs in long format: run, variable, time, value."""
        query = (
            "SELECT s.run, s.variable, unnest(b.times) AS time, unnest(s.value) AS value "
            "FROM series s JOIN batches b ON b.id = s.batch WHERE s.batch = ?"
        )
        args: list[Any] = [batch]
        if variables:
            query += f" AND s.variable IN ({', '.join('?' * len(variables))})"
            args += list(variables)
        with self.connect() as con:
            return con.execute(query + " ORDER BY run, variable, time", args).df()

    def outcome(self, batch: int, outcome: Outcome) -> NDArray[np.float64]:
        """One outcome of every run of a batch (in run order), computed in the database, so
        memory grows with the number of runs only, not with runs x times."""
        return self.outcomes(batch, [outcome])[outcome.label]

    def outcomes(self, batch: int, outcomes: Sequence[Outcome]) -> dict[str, NDArray[np.float64]]:
        """Several outcomes of every run of a batch, by label, over one connection."""
        found: dict[str, NDArray[np.float64]] = {}
        with self.connect() as con:
            info = self._batch(con, batch)
            times = np.asarray(info.times, dtype=float)
            for outcome in outcomes:
                if outcome.at is not None:
                    k = int(np.argmin(np.abs(times - outcome.at))) + 1  # lists count from 1
                    value = f"value[{k}]"
                else:
                    reduce = {
                        "end": "value[-1]",
                        "max": "list_max(value)",
                        "min": "list_min(value)",
                    }
                    value = reduce.get(outcome.statistic, "list_avg(value)")
                rows = con.execute(
                    f"SELECT run, {value} AS value FROM series WHERE batch = ? AND variable = ?",
                    [batch, outcome.variable],
                ).fetchnumpy()
                values = np.full(info.n_runs, np.nan)
                runs = np.asarray(rows["run"], dtype=np.int64)
                values[runs] = np.asarray(rows["value"], dtype=float)
                found[outcome.label] = values
        return found

    def percentiles(
        self, batch: int, variables: Sequence[str], percents: Sequence[float]
    ) -> dict[str, NDArray[np.float64]]:
        """Percentiles over the runs of each variable at each saved time: variable ->
        (len(percents), times), computed in the database (failed runs' NaN left out)."""
        levels = "[" + ", ".join(f"{p / 100:.6f}" for p in percents) + "]"
        with self.connect() as con:
            info = self._batch(con, batch)
            out = {v: np.full((len(percents), len(info.times)), np.nan) for v in variables}
            for variable in variables:  # one variable at a time keeps the working set small
                rows = con.execute(
                    f"SELECT k, quantile_cont(x, {levels}) FROM (SELECT "
                    "unnest(range(len(value))) AS k, unnest(value) AS x FROM series "
                    "WHERE batch = ? AND variable = ?) WHERE NOT isnan(x) GROUP BY k",
                    [batch, variable],
                ).fetchall()
                for k, values in rows:
                    out[variable][:, int(k)] = values
        return out

    def load(self, batch: int) -> xr.Dataset:
        """A stored batch as a Dataset: (run, time) per variable, parameters as coordinates."""
        import xarray as xr

        info = self.batch(batch)
        runs = self.runs(batch)
        n_runs, n_times = len(runs), len(info.times)
        order = runs["run"].to_numpy(dtype=np.int64)
        index = np.full(int(order.max()) + 1 if n_runs else 0, -1, dtype=np.int64)
        index[order] = np.arange(n_runs)
        data = {}
        with self.connect() as con:
            for variable in info.variables:
                flat = con.execute(
                    "SELECT run, unnest(range(len(value))) AS k, unnest(value) AS x "
                    "FROM series WHERE batch = ? AND variable = ?",
                    [batch, variable],
                ).fetchnumpy()
                if len(flat["run"]) == 0:
                    continue
                values = np.full((n_runs, n_times), np.nan)
                rows = index[np.asarray(flat["run"], dtype=np.int64)]
                values[rows, np.asarray(flat["k"], dtype=np.int64)] = np.asarray(
                    flat["x"], dtype=float
                )
                data[variable] = (("run", "time"), values)
        coords: dict[str, Any] = {"run": order, "time": list(info.times)}
        for column in (
            "scenario", "seed", "status", "failed_variable", "failed_time", *info.parameters
        ):  # fmt: skip
            coords[column] = ("run", runs[column].to_numpy())
        return xr.Dataset(
            data,
            coords=coords,
            attrs={"batch": info.id, "model": info.model_name, "kind": info.kind},
        )

    def export(self, batch: int, path: str | Path) -> Path:
        """Write a batch's outputs (long format, with each run's scenario, seed, status and
        parameters) to .csv or .parquet, atomically."""
        from flywheel_sim.io.results import atomic_path

        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise OutputError(f"cannot export to '{target.name}': use .csv or .parquet")
        self.batch(batch)  # raises if absent
        runs = self.runs(batch)
        frame = self.series(batch).merge(runs, on="run", how="left")
        with atomic_path(target) as tmp:
            if suffix == ".csv":
                frame.to_csv(tmp, index=False)
            else:
                _write_parquet(frame, tmp, target)
        return target

    def delete(self, batch: int) -> None:
        self.batch(batch)
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            for table, key in (
                ("series", "batch"),
                ("runs", "batch"),
                ("chunks", "batch"),
                ("batches", "id"),
            ):
                con.execute(f"DELETE FROM {table} WHERE {key} = ?", [batch])
            con.execute("DELETE FROM models WHERE hash NOT IN (SELECT model_hash FROM batches)")
            con.execute("COMMIT")


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _failures(result: xr.Dataset) -> dict[str, Any]:
    """A ``simulate`` result's failure details, for a :class:`Chunk` (none if it has none)."""
    if "failed_variable" not in result.coords or "failed_time" not in result.coords:
        return {}
    return {
        "failed_variable": [str(v) for v in result["failed_variable"].values],
        "failed_time": np.asarray(result["failed_time"].values, dtype=float),
    }


def _write_parquet(frame: pd.DataFrame, tmp: Path, target: Path) -> None:
    """``frame`` to the Parquet file ``tmp`` (for ``target``) with an in-memory DuckDB: a
    failure is the export file's, not the store's."""
    import duckdb

    try:
        with duckdb.connect() as con:
            con.register("export_frame", frame)
            con.execute(f"COPY export_frame TO '{_sql_path(tmp)}' (FORMAT parquet)")
    except (duckdb.Error, OSError) as exc:
        lines = str(exc).strip().splitlines()
        raise OutputError(
            f"could not write '{target}': {lines[0] if lines else type(exc).__name__}"
        ) from None


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in settings")
