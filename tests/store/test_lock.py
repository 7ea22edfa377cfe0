"""The store's lock and schema: chunk writes share one connection for a while and then give
the file up; a new file gets the current schema, which is not migrated twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from flywheel_sim.store import lock
from flywheel_sim.store.lock import HeldWriter, open_store
from flywheel_sim.store.schema import SCHEMA_VERSION, migrate


def test_the_writer_keeps_its_connection_then_gives_the_file_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.duckdb"
    writer = HeldWriter(path)
    first = writer.connection()
    assert writer.connection() is first  # consecutive chunks share it
    monkeypatch.setattr(lock, "HOLD", -1.0)  # held too long: the next chunk waits its turn
    monkeypatch.setattr(lock, "TURN", 0.0)
    second = writer.connection()
    assert second is not first and writer.held is second
    writer.release()
    writer.release()  # idempotent
    assert writer.held is None
    with open_store(path) as other:  # the file is free for another connection
        assert other.execute("SELECT 42").fetchone() == (42,)


def test_a_new_store_gets_the_current_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    with open_store(path) as con:
        migrate(con, path)
        migrate(con, path)  # nothing left to do
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert row == (str(SCHEMA_VERSION),)
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"meta", "models", "batches", "chunks", "runs", "series"} <= tables


@pytest.mark.skipif(lock.fcntl is None, reason="the queue needs flock")
def test_a_waiting_reader_gets_the_file_from_a_writer_between_chunks(tmp_path: Path) -> None:
    """The writer holds the file between chunks, idle here: without the queue, a reader
    would wait until the writer's next chunk (or LOCK_TIMEOUT, 120 s)."""
    import subprocess
    import sys

    from flywheel_sim.store.runstore import RunStore

    path = tmp_path / "runs.duckdb"
    RunStore(path)
    writer = HeldWriter(path)
    held = writer.connection()
    assert writer.queue is not None and not writer.queue.waits()
    reader = (
        "import sys; from flywheel_sim.store.runstore import RunStore; "
        "print(len(RunStore(sys.argv[1]).batches()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr
    assert writer.held is None  # the writer gave it up for the reader
    again = writer.connection()  # and takes it again for its next chunk
    assert again is not held and again.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    writer.release()
