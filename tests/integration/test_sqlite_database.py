"""The laptop's SQLite file as many worker processes open it at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from docproc.sqlitedb import SQLiteDatabase

_SCHEMA = "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
_PROCESSES = 8
_TRIALS = 25


def _open_and_write(path: str, start_at: float, row_id: int) -> str | None:
    # Every process waits for the same instant so the opens really overlap.
    while time.time() < start_at:
        pass
    try:
        database = SQLiteDatabase(Path(path), _SCHEMA, busy_timeout_seconds=10)
        with database.transaction() as db:
            db.execute("INSERT INTO rows VALUES (?, ?)", (row_id, "x"))
        database.close()
    except Exception as error:  # the test reports what any process saw
        return f"{type(error).__name__}: {error}"
    return None


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path):
    # Given worker processes that open the same new database file at the same instant
    # (two switching a new file to WAL together deadlock inside SQLite; it failed one of them
    # at once, without waiting, in about one trial in four here)
    context = multiprocessing.get_context("spawn")
    with context.Pool(_PROCESSES) as pool:
        for trial in range(_TRIALS):
            path = str(tmp_path / f"trial-{trial}.sqlite3")
            start_at = time.time() + 0.1
            # When each creates the schema and writes a row
            failures = pool.starmap(
                _open_and_write, [(path, start_at, n) for n in range(_PROCESSES)]
            )
            # Then none fails, and every row is there
            assert [f for f in failures if f] == [], f"trial {trial}"
            rows = (
                SQLiteDatabase(Path(path), _SCHEMA)
                .connection()
                .execute("SELECT count(*) FROM rows")
            )
            assert rows.fetchone()[0] == _PROCESSES


def test_a_new_files_set_up_is_not_synced_and_what_is_written_after_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given every statement SQLite runs for the database, traced
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_connect(*args, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    # When a new file is set up (WAL mode, its tables), then a row is written
    database = SQLiteDatabase(tmp_path / "new.sqlite3", _SCHEMA)
    with database.transaction() as db:
        db.execute("INSERT INTO rows VALUES (1, 'x')")
    # Then the set-up ran without syncs (the command's first sync waited for whatever was
    # written before it: an upload's copy), and the row under WAL's NORMAL syncs
    steps = [
        statement.strip().split("(")[0].strip()
        for statement in statements
        if statement.strip().startswith(("PRAGMA", "CREATE", "INSERT"))
    ]
    assert steps == [
        "PRAGMA synchronous=OFF",
        "PRAGMA journal_mode=WAL",
        "CREATE TABLE IF NOT EXISTS rows",
        "PRAGMA synchronous=NORMAL",
        "INSERT INTO rows VALUES",
    ]
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    database.close()
