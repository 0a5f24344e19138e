"""Serving a request handler on loopback for the length of a test (what the stubs share)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server running ``handler`` on a free port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class UnderWay:
    """A stub's requests of one kind under way: how long each waits before it is answered,
    as a real service's would, and the most there were at once."""

    # Seconds each request waits before it is answered (a service's own time, the network's).
    delay_seconds: float = 0.0
    # The most requests that were under way at once.
    most_at_once: int = 0
    # Requests answered (or under way).
    count: int = 0
    # Hold requests until this many are under way at once, the first time (up to 10 s): a
    # test of overlap then holds on a loaded machine, where a client slower to send its next
    # request than the delay above would never have them meet.
    gather: int = 0
    _gathered: threading.Event = field(default_factory=threading.Event)
    _at_once: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def request(self) -> Iterator[None]:
        """One request's wait, counted while it lasts; the answer follows the block."""
        with self._lock:
            self.count += 1
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
            if self._at_once >= self.gather:
                self._gathered.set()
        try:
            if not self._gathered.wait(10):
                # Never that many at once: the test fails on most_at_once, and the requests
                # after this one are not each held 10 s more (a 7-minute failure, not 10 s).
                self._gathered.set()
            time.sleep(self.delay_seconds)
            yield
        finally:
            # Before the answer is sent, not after: a client may send its next request as soon
            # as it has read this answer, before this thread runs again, and the two would be
            # counted at once.
            with self._lock:
                self._at_once -= 1
