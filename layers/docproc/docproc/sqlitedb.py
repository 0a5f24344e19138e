"""One SQLite database file shared by the laptop runner's processes (ledger, vectors)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SQLiteDatabase:
    """A connection per process (connections must not cross a fork), WAL so readers never
    wait for the writer, and writers wait for each other instead of failing."""

    def __init__(self, path: Path, schema: str, busy_timeout_seconds: float = 60) -> None:
        self.path = path
        self._timeout = busy_timeout_seconds
        self._pid = -1
        self._connection: sqlite3.Connection | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        # The file's set-up (WAL mode, the tables) is not synced: a sync here, the command's
        # first, waited for everything written before it to reach the disk (after the 417 MB
        # copy of an upload, 0.45-0.96 s here) though it makes nothing durable that a crash
        # would need: a database without its tables or WAL mode is set up again.
        db.execute("PRAGMA synchronous=OFF")
        self._use_wal(db)
        # One write transaction: processes opening a new file together create it once.
        try:
            db.executescript(f"BEGIN IMMEDIATE;\n{schema}\nCOMMIT;")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("PRAGMA synchronous=NORMAL")

    def _connect(self) -> sqlite3.Connection:
        self._connection = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        self._pid = os.getpid()
        return self._connection

    def connection(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            db = self._connect()
            self._use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
        assert self._connection is not None
        return self._connection

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Switch the file to WAL (it stays so). Two processes switching a new file at once
        deadlock, and SQLite fails one at once without its busy handler: that one waits and
        tries again, and by then the file is usually WAL already, which is a no-op."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the write lock is taken up front, so a read-then-write inside
        cannot be invalidated by another process."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None
