"""The run store's schema: its tables, created and upgraded by numbered migrations.

The schema is versioned (``meta.schema_version``); :func:`migrate` brings a store of any
earlier version up to :data:`SCHEMA_VERSION` in one transaction, and refuses a store written
by a newer flywheel-sim or a DuckDB file that is not a run store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flywheel_sim.errors import OutputError

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 4

# Each entry brings the schema from version (index) to version (index + 1).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 0 -> 1: the first schema
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE TABLE models (hash VARCHAR PRIMARY KEY, name VARCHAR, text VARCHAR)",
        "CREATE SEQUENCE batch_ids START 1",
        """CREATE TABLE batches (
            id BIGINT PRIMARY KEY, kind VARCHAR, model_name VARCHAR, model_hash VARCHAR,
            scenario VARCHAR, seed BIGINT, code_version VARCHAR, created TIMESTAMP,
            finished TIMESTAMP, status VARCHAR, n_runs BIGINT, settings VARCHAR,
            times DOUBLE[], variables VARCHAR[], parameters VARCHAR[])""",
        """CREATE TABLE chunks (batch BIGINT, chunk INTEGER, first_run BIGINT,
            n_runs BIGINT, written TIMESTAMP, PRIMARY KEY (batch, chunk))""",
        """CREATE TABLE runs (batch BIGINT, run BIGINT, scenario VARCHAR, seed BIGINT,
            status VARCHAR, params DOUBLE[])""",
        """CREATE TABLE series (batch BIGINT, run BIGINT, variable VARCHAR, time DOUBLE,
            value DOUBLE)""",
    ),
    (  # 1 -> 2: a free-text note per batch (flywheel sweep --note)
        "ALTER TABLE batches ADD COLUMN note VARCHAR DEFAULT ''",
    ),
    (  # 2 -> 3: one row per run and variable, its values over time as a list (36x fewer rows)
        """CREATE TABLE series_lists (batch BIGINT, run BIGINT, variable VARCHAR,
            value DOUBLE[])""",
        """INSERT INTO series_lists SELECT batch, run, variable, list(value ORDER BY time)
            FROM series GROUP BY batch, run, variable""",
        "DROP TABLE series",
        "ALTER TABLE series_lists RENAME TO series",
    ),
    (  # 3 -> 4: where and when a failed run went non-finite (NULL: not recorded, before 4)
        "ALTER TABLE runs ADD COLUMN failed_variable VARCHAR",
        "ALTER TABLE runs ADD COLUMN failed_time DOUBLE",
    ),
)


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Bring the store open on ``con`` (the file ``path``, named in errors) to the current
    schema; a store already at :data:`SCHEMA_VERSION` is left untouched."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    version = 0
    if "meta" in tables:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
    elif tables:
        raise OutputError(f"{path} is a DuckDB file but not a flywheel run store")
    if version > SCHEMA_VERSION:
        raise OutputError(
            f"run store {path} has schema version {version}, newer than this "
            f"flywheel-sim ({SCHEMA_VERSION}) — upgrade flywheel-sim"
        )
    if version == SCHEMA_VERSION:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for step in MIGRATIONS[version:]:
            for statement in step:
                con.execute(statement)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
