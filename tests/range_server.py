"""A loopback HTTP server that serves one folder with Range support and counts the bytes it
sends, so a test can tell how much of a file a reader fetched."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.loopback import serve

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class Served:
    url: str
    bytes_sent: int = 0
    requests: int = 0


def _handler(folder: Path, served: Served, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            # Small socket buffers: what is counted as sent is close to what the reader took,
            # not what the kernel queued before the reader hung up.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)

        def do_GET(self) -> None:
            path = folder / self.path.lstrip("/").split("?")[0]
            if not path.is_file():
                self.send_error(404)
                return
            size = path.stat().st_size
            start, end = 0, size - 1
            match = _RANGE.fullmatch(self.headers.get("Range", ""))
            if match:
                start = int(match.group(1))
                end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            with path.open("rb") as source:
                source.seek(start)
                remaining = end - start + 1
                try:
                    while remaining > 0:
                        block = source.read(min(16384, remaining))
                        self.wfile.write(block)
                        remaining -= len(block)
                        with lock:
                            served.bytes_sent += len(block)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader had enough (ffmpeg seeks by dropping the connection)
            with lock:
                served.requests += 1

    return Handler


@contextmanager
def range_server(folder: Path) -> Iterator[Served]:
    served = Served(url="")
    with serve(_handler(folder, served, threading.Lock())) as url:
        served.url = url
        yield served
