"""A Qdrant server on loopback: Qdrant's REST API over qdrant-client's own local engine.

No Qdrant server package installs here, and an in-process ``:memory:`` client cannot be shared
by separate Lambda processes (nor may a deployed function use one). This serves the REST calls
that docproc and the tests make, so the real ``QdrantClient(url=...)`` in every handler, in
its own process or not, reaches one store the way functions reach a Qdrant server. Bodies are
parsed with qdrant-client's REST models (``extra="forbid"``, as strict as the server's schema);
anything else answers 404 naming the route, so a new call shows up as a failing test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel
from qdrant_client import QdrantClient, models

from tests.loopback import UnderWay, serve

# The client checks that the server is within one minor version of itself.
SERVER_VERSION = version("qdrant-client")


@dataclass
class QdrantServer:
    url: str = ""
    engine: QdrantClient = field(default_factory=lambda: QdrantClient(location=":memory:"))
    # The api-key header of every request, for tests of secrets.
    api_keys: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Points written or read by id (a segment's upserts, its look-ups of what is stored): the
    # time each waits before its answer, outside the engine's lock (as a network's and a
    # server's own time would be: a server answers requests at once), and the most at once.
    points: UnderWay = field(default_factory=UnderWay)
    # The number of points in each upsert request, in the order they came.
    upserts: list[int] = field(default_factory=list)

    def client(self) -> QdrantClient:
        """A client of this server, as docproc makes one."""
        from docproc.wiring import qdrant_client

        return qdrant_client(self.url, None)


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


def _update_result() -> dict[str, Any]:
    return {"operation_id": 0, "status": "completed"}


def _points_selector(body: dict[str, Any]) -> models.PointsSelector:
    if "filter" in body:
        return models.FilterSelector.model_validate(body)
    return models.PointIdsList.model_validate(body)


def _batch(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    operations = models.UpdateOperations.model_validate(body).operations
    engine.batch_update_points(name, update_operations=operations, wait=True)
    return [_update_result() for _ in operations]


def _query(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.QueryRequest.model_validate(body)
    response = engine.query_points(
        name,
        query=request.query,
        using=request.using,
        prefetch=request.prefetch,
        query_filter=request.filter,
        search_params=request.params,
        limit=request.limit or 10,
        offset=request.offset,
        with_payload=request.with_payload if request.with_payload is not None else False,
        with_vectors=request.with_vector if request.with_vector is not None else False,
        score_threshold=request.score_threshold,
    )
    return _dump(response)


def _scroll(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.ScrollRequest.model_validate(body)
    points, next_offset = engine.scroll(
        name,
        scroll_filter=request.filter,
        limit=request.limit or 10,
        offset=request.offset,
        with_payload=request.with_payload if request.with_payload is not None else True,
        with_vectors=request.with_vector if request.with_vector is not None else False,
    )
    return {"points": _dump(points), "next_page_offset": next_offset}


def _retrieve(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.PointRequest.model_validate(body)
    records = engine.retrieve(
        name,
        ids=request.ids,
        with_payload=request.with_payload if request.with_payload is not None else True,
        with_vectors=request.with_vector if request.with_vector is not None else False,
    )
    return _dump(records)


def _upsert(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    batch = models.PointsList.model_validate(body)
    engine.upsert(name, points=batch.points, wait=True)
    return _update_result()


def _create(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.CreateCollection.model_validate(body)
    if engine.collection_exists(name):
        raise _Conflict(f"Collection `{name}` already exists!")
    engine.create_collection(
        name,
        vectors_config=request.vectors,
        sparse_vectors_config=request.sparse_vectors,
        quantization_config=request.quantization_config,
    )
    return True


def _index(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    # The local engine ignores payload indexes (filters scan); validating the request is what
    # a test of the index definitions needs.
    models.CreateFieldIndex.model_validate(body)
    return _update_result()


def _exists(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    return {"exists": engine.collection_exists(name)}


def _count(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.CountRequest.model_validate(body)
    return _dump(engine.count(name, count_filter=request.filter, exact=True))


def _update_vectors(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    request = models.UpdateVectors.model_validate(body)
    engine.update_vectors(name, points=request.points, update_filter=request.update_filter)
    return _update_result()


def _create_vector_name(engine: QdrantClient, name: str, body: dict[str, Any], vector: str) -> Any:
    config: models.VectorNameConfig
    if "sparse" in body:
        config = models.SparseVectorNameConfig.model_validate(body)
    else:
        config = models.DenseVectorNameConfig.model_validate(body)
    engine.create_vector_name(name, vector, config)
    return _update_result()


def _delete_points(engine: QdrantClient, name: str, body: dict[str, Any]) -> Any:
    engine.delete(name, points_selector=_points_selector(body), wait=True)
    return _update_result()


class _Conflict(Exception):
    pass


class _Missing(Exception):
    pass


# (engine, collection, body, and any other part of the path the route names)
_Route = Callable[..., Any]
_COLLECTION = r"/collections/(?P<name>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], _Route]] = [
    ("GET", re.compile(_COLLECTION + "/exists"), _exists),
    ("GET", re.compile(_COLLECTION), lambda e, n, b: _dump(e.get_collection(n))),
    ("PUT", re.compile(_COLLECTION), _create),
    ("DELETE", re.compile(_COLLECTION), lambda e, n, b: e.delete_collection(n)),
    ("PUT", re.compile(_COLLECTION + "/index"), _index),
    ("PUT", re.compile(_COLLECTION + "/points"), _upsert),
    ("POST", re.compile(_COLLECTION + "/points"), _retrieve),
    ("POST", re.compile(_COLLECTION + "/points/query"), _query),
    ("POST", re.compile(_COLLECTION + "/points/scroll"), _scroll),
    ("POST", re.compile(_COLLECTION + "/points/count"), _count),
    ("POST", re.compile(_COLLECTION + "/points/batch"), _batch),
    ("POST", re.compile(_COLLECTION + "/points/delete"), _delete_points),
    ("PUT", re.compile(_COLLECTION + "/points/vectors"), _update_vectors),
    ("PUT", re.compile(_COLLECTION + "/vectors/(?P<vector>[^/]+)"), _create_vector_name),
]


# The requests QdrantServer.points times and counts.
_POINTS = (_upsert, _retrieve)


def _handler(server: QdrantServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _serve(self, method: str) -> None:
            started = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            path = urlsplit(self.path).path
            server.api_keys.append(self.headers.get("api-key"))
            if method == "GET" and path == "/":
                about = {"title": "qdrant - vector search engine", "version": SERVER_VERSION}
                self._reply(200, about)
                return
            if method == "GET" and path == "/collections":
                with server.lock:
                    listed = _dump(server.engine.get_collections())
                self._reply(200, {"result": listed, "status": "ok", "time": 0})
                return
            for route_method, pattern, action in _ROUTES:
                match = pattern.fullmatch(path)
                if route_method != method or match is None:
                    continue
                name = match["name"]
                named = {key: value for key, value in match.groupdict().items() if key != "name"}
                timed = server.points.request() if action in _POINTS else nullcontext()
                try:
                    with timed, server.lock:
                        creates = method == "PUT" and path == f"/collections/{name}"
                        asks = action is _exists
                        if not (creates or asks) and not server.engine.collection_exists(name):
                            raise _Missing(f"Collection `{name}` doesn't exist!")
                        result = action(server.engine, name, body, **named)
                        if action is _upsert:
                            server.upserts.append(len(body["points"]))
                except _Missing as exc:
                    self._reply(404, {"status": {"error": f"Not found: {exc}"}, "time": 0})
                    return
                except _Conflict as exc:
                    self._reply(409, {"status": {"error": f"Wrong input: {exc}"}, "time": 0})
                    return
                except (ValueError, KeyError) as exc:
                    self._reply(400, {"status": {"error": f"Bad request: {exc}"}, "time": 0})
                    return
                elapsed = time.perf_counter() - started
                self._reply(200, {"result": result, "status": "ok", "time": elapsed})
                return
            query = parse_qs(urlsplit(self.path).query)
            self._reply(
                404, {"status": {"error": f"no route for {method} {path} {query}"}, "time": 0}
            )

        def do_GET(self) -> None:
            self._serve("GET")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


@contextmanager
def qdrant_server() -> Iterator[QdrantServer]:
    server = QdrantServer()
    with serve(_handler(server)) as url:
        server.url = url
        yield server
    server.engine.close()
