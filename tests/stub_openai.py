"""A loopback server speaking the OpenAI embeddings API, for driving the real openai client."""

from __future__ import annotations

import base64
import json
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import UnderWay, serve


@dataclass
class Scripted:
    """A canned error response: served instead of embeddings while ``times`` lasts."""

    status: int
    times: int = 1
    # Only for requests with an input containing this text (None: any request).
    when_input_contains: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(
        default_factory=lambda: {"error": {"message": "scripted", "type": "test"}}
    )


@dataclass
class StubOpenAI:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    # Answer floats even when base64 was asked for (as some compatible servers do).
    force_float: bool = False
    # After this many successful embedding responses, answer 429 until reset to None.
    rate_limit_after: int | None = None
    served: int = 0
    inputs_embedded: int = 0
    # Embedding requests: the time each waits before its answer, the most at once.
    under_way: UnderWay = field(default_factory=UnderWay)
    # The server answers each request on a thread of its own.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def vector(self, text: str, dimensions: int) -> list[float]:
        seed = sum(text.encode()) % 97
        return [((seed + i) % 13) / 13.0 for i in range(dimensions)]


def _handler(stub: StubOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            request["authorization"] = self.headers.get("Authorization")
            stub.requests.append(request)
            if self.path.rstrip("/") != "/v1/embeddings":
                self._send(404, {"error": {"message": "not found"}}, {})
                return
            with stub.under_way.request():
                pass
            self._embeddings(request)

        def _embeddings(self, request: dict[str, Any]) -> None:
            if stub.rate_limit_after is not None and stub.served >= stub.rate_limit_after:
                self._send(
                    429,
                    {"error": {"message": "rate limited", "type": "requests"}},
                    {"Retry-After": "0"},
                )
                return
            inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
            scripted = next(
                (
                    entry
                    for entry in stub.script
                    if entry.when_input_contains is None
                    or any(entry.when_input_contains in text for text in inputs)
                ),
                None,
            )
            if scripted is not None:
                scripted.times -= 1
                if scripted.times <= 0:
                    stub.script.remove(scripted)
                self._send(scripted.status, scripted.body, scripted.headers)
                return
            dimensions = request.get("dimensions", 8)
            as_base64 = request.get("encoding_format") == "base64" and not stub.force_float
            data = []
            for index, text in enumerate(inputs):
                vector = stub.vector(text, dimensions)
                embedding: Any = (
                    base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                    if as_base64
                    else vector
                )
                data.append({"object": "embedding", "index": index, "embedding": embedding})
            with stub.lock:
                stub.served += 1
                stub.inputs_embedded += len(inputs)
            tokens = sum(len(text.split()) for text in inputs)
            self._send(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": request["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
                {},
            )

    return Handler


@contextmanager
def stub_openai() -> Iterator[StubOpenAI]:
    stub = StubOpenAI()
    with serve(_handler(stub)) as url:
        stub.url = f"{url}/v1"
        yield stub
