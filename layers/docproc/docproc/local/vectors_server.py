"""Sharing the laptop's one Qdrant Edge shard between processes.

A shard is opened by one process, while PyMuPDF wants one process per concurrent document
part. The process that has the shard (the runner's parent, while it ingests or deletes) serves
it over a local multiprocessing connection: its workers write through ``RemoteVectorStore``,
which implements the same port by calling it, and ``docproc search`` in another process finds
the server through a file beside the shard and searches through it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import secrets
import threading
from collections.abc import Iterator, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection
from multiprocessing.managers import BaseManager, BaseProxy, Server
from pathlib import Path
from typing import Any, cast

from docproc.errors import VectorStoreBusy
from docproc.vectors.port import SearchHit, VectorPoint, VectorStore

# What a call to a served store that has finished is refused with.
_GONE = "the process that served the vector store has finished"


class LockedStore:
    """Serialises calls: the server answers each connection on its own thread, and the
    process that serves takes the same lock for its own calls. Once ``retired`` (the server
    closing), a call that comes late is refused instead of opening the store again."""

    def __init__(self, store: VectorStore, lock: threading.Lock) -> None:
        self._store = store
        self._lock = lock
        self._retired = False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[VectorStore]:
        with self._lock:
            if self._retired:
                raise VectorStoreBusy(_GONE)
            yield self._store

    def retire(self) -> None:
        with self._lock:
            self._retired = True

    def ensure_collection(self) -> None:
        with self._locked() as store:
            store.ensure_collection()

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        with self._locked() as store:
            store.upsert(points)

    def upsert_pickled(self, points: bytes) -> None:
        """``upsert`` of a worker's batch, sent pickled: read once this call has the store.
        A batch's points as Python objects weigh about three times their pickle (a vector is
        384 floats of 32 bytes each), and while the store seals (a second, holding the
        interpreter) each worker's next batch waits here: sent as objects, the serving
        process's own memory peaked at 258-259 MB on 1 GB of text, pickled at 252 MB."""
        with self._locked() as store:
            store.upsert(pickle.loads(points))  # noqa: S301 - from an authenticated worker

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        with self._locked() as store:
            return store.existing(ids)

    def search(
        self, vector: Sequence[float] | None, tenant_id: str, **options: Any
    ) -> list[SearchHit]:
        """VectorSearcher.search (its keyword options passed on as they are)."""
        with self._locked() as store:
            return store.search(vector, tenant_id, **options)

    def delete_document(
        self, tenant_id: str, document_id: str, keep_version: str | None = None
    ) -> None:
        with self._locked() as store:
            store.delete_document(tenant_id, document_id, keep_version)


class _Server(Server):
    def accept_connection(self, c: Connection, name: str) -> None:
        """Serve a client's connection (Server.accept_connection), then close it. Its loop ends
        when the server closes, and the caller would then send the connection's "accepted"
        reply again, which the client's next call would take for its answer (a search
        returning None, an upsert that seems to have succeeded): closed, that call fails."""
        try:
            super().accept_connection(c, name)
        finally:
            c.close()


class _Client(BaseManager):
    pass


_Client.register("vectors")


class VectorStoreServer:
    """Serves ``store`` on a loopback-only Unix socket until ``close``; with ``announce``, its
    address and key are written there (readable by this user only) for other commands."""

    def __init__(
        self, store: VectorStore, lock: threading.Lock, announce: Path | None = None
    ) -> None:
        # The store as served: under the lock. The serving process's own calls go through it.
        locked = self.store = LockedStore(store, lock)

        # A class of its own: a manager's registry is its class's, and a client's
        # registration in the same process (or another server's) must not replace this one.
        class _Served(BaseManager):
            pass

        _Served.register("vectors", callable=lambda: locked)
        self.authkey = secrets.token_bytes(32)
        self._server = _Server(_Served._registry, None, self.authkey, "pickle")  # type: ignore[attr-defined]
        self.address = self._server.address
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._announce = announce
        if announce is not None:
            staging = announce.with_name(announce.name + ".tmp")
            staging.unlink(missing_ok=True)
            descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                json.dump({"address": self.address, "authkey": self.authkey.hex()}, out)
            staging.replace(announce)

    def _serve(self) -> None:
        # A manager's server ends with sys.exit(0), written for a process of its own.
        with contextlib.suppress(SystemExit):
            self._server.serve_forever()

    def close(self) -> None:
        if self._announce is not None:
            self._announce.unlink(missing_ok=True)
        self.store.retire()
        # The serving thread is a daemon and ends with the process.
        self._server.stop_event.set()  # type: ignore[attr-defined]


class RemoteVectorStore:
    """The store of the process that serves it: a worker's VectorSink, and a search's."""

    def __init__(self, address: Any, authkey: bytes) -> None:
        manager = _Client(address=address, authkey=authkey)
        manager.connect()
        self._proxy = cast(BaseProxy, manager.vectors())  # type: ignore[attr-defined]

    @classmethod
    def announced(cls, announce: Path) -> RemoteVectorStore | None:
        """The store a running process announced at ``announce``; None when none is served
        there now (no file, or its process has gone)."""
        try:
            served = json.loads(announce.read_text())
            return cls(served["address"], bytes.fromhex(served["authkey"]))
        except (OSError, EOFError, ValueError, KeyError, AuthenticationError):
            return None

    def _call(self, method: str, *args: Any, **options: Any) -> Any:
        """The served store's answer; VectorStoreBusy once its server has closed the
        connection (it finished)."""
        try:
            return self._proxy._callmethod(method, args, options)
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            raise VectorStoreBusy(_GONE) from exc

    def ensure_collection(self) -> None:
        self._call("ensure_collection")

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        if points:
            self._call("upsert_pickled", pickle.dumps(list(points), pickle.HIGHEST_PROTOCOL))

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self._call("existing", list(ids)))

    def search(
        self, vector: Sequence[float] | None, tenant_id: str, **options: Any
    ) -> list[SearchHit]:
        """VectorSearcher.search (its keyword options passed on as they are)."""
        return list(self._call("search", vector, tenant_id, **options))
