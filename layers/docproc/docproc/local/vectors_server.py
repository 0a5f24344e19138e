"""Sharing one embedded Qdrant between worker processes.

qdrant-client's embedded mode allows one process per storage folder, while PyMuPDF wants
one process per concurrent document part. The runner's parent process owns the store and
serves it over a local multiprocessing connection; workers use ``RemoteVectorStore``, which
implements the same port by calling it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Sequence
from multiprocessing.managers import BaseManager, BaseProxy
from typing import Any, cast

from docproc.vectors.port import VectorPoint, VectorStore


class _LockedStore:
    """Serialises calls: the server answers each worker on its own thread, and the parent
    takes the same lock for its own calls."""

    def __init__(self, store: VectorStore, lock: threading.Lock) -> None:
        self._store = store
        self._lock = lock

    def ensure_collection(self) -> None:
        with self._lock:
            self._store.ensure_collection()

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        with self._lock:
            self._store.upsert(points)

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return self._store.existing(ids)


class _Manager(BaseManager):
    pass


class VectorStoreServer:
    """Serves ``store`` on a loopback-only Unix socket until ``close``."""

    def __init__(self, store: VectorStore, lock: threading.Lock) -> None:
        locked = _LockedStore(store, lock)
        _Manager.register("vectors", callable=lambda: locked)
        self.authkey = secrets.token_bytes(32)
        self._manager = _Manager(address=None, authkey=self.authkey)
        self._server = self._manager.get_server()
        self.address = self._server.address
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # A manager's server ends with sys.exit(0), written for a process of its own.
        with contextlib.suppress(SystemExit):
            self._server.serve_forever()

    def close(self) -> None:
        # The serving thread is a daemon and ends with the process.
        self._server.stop_event.set()  # type: ignore[attr-defined]


class RemoteVectorStore:
    """The VectorSink port in a worker process, backed by the parent's store."""

    def __init__(self, address: Any, authkey: bytes) -> None:
        _Manager.register("vectors")
        manager = _Manager(address=address, authkey=authkey)
        manager.connect()
        self._proxy = cast(BaseProxy, manager.vectors())  # type: ignore[attr-defined]

    def ensure_collection(self) -> None:
        self._proxy.ensure_collection()  # type: ignore[attr-defined]

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        self._proxy.upsert(list(points))  # type: ignore[attr-defined]

    def existing(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self._proxy.existing(list(ids)))  # type: ignore[attr-defined]
