"""A loopback server speaking Deepgram's pre-recorded API (POST /v1/listen), for driving the
real deepgram-sdk. It cannot recognise speech: it answers with a scripted transcript whose
word times are relative to the audio it received, as Deepgram's are."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.loopback import serve


@dataclass
class StubDeepgram:
    url: str = ""
    # (word, start, end, speaker) relative to the start of the posted audio.
    words: list[tuple[str, float, float, int]] = field(default_factory=list)
    # Statuses to answer before succeeding, one per request.
    failures: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def response(self, audio_seconds: float) -> dict[str, Any]:
        words = [
            {
                "word": text.lower().strip(".,"),
                "start": start,
                "end": end,
                "confidence": 0.98,
                "speaker": speaker,
                "speaker_confidence": 0.9,
                "punctuated_word": text,
            }
            for text, start, end, speaker in self.words
            if start < audio_seconds
        ]
        transcript = " ".join(w["punctuated_word"] for w in words)
        utterances = []
        for speaker in sorted({w["speaker"] for w in words}):
            own = [w for w in words if w["speaker"] == speaker]
            utterances.append(
                {
                    "start": own[0]["start"],
                    "end": own[-1]["end"],
                    "confidence": 0.97,
                    "channel": 0,
                    "transcript": " ".join(w["punctuated_word"] for w in own),
                    "words": own,
                    "speaker": speaker,
                    "id": str(uuid.uuid4()),
                }
            )
        utterances.sort(key=lambda u: u["start"])
        return {
            "metadata": {
                "transaction_key": "deprecated",
                "request_id": str(uuid.uuid4()),
                "sha256": "0" * 64,
                "created": "2026-11-29T12:00:00.000Z",
                "duration": audio_seconds,
                "channels": 1,
                "models": [str(uuid.uuid4())],
                "model_info": {},
            },
            "results": {
                "channels": [
                    {
                        "alternatives": [
                            {"transcript": transcript, "confidence": 0.98, "words": words}
                        ]
                    }
                ],
                "utterances": utterances,
            },
        }


def _handler(stub: StubDeepgram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return bytes(data)
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_POST(self) -> None:
            body = self._body()
            url = urlparse(self.path)
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            stub.requests.append(
                {
                    "path": url.path,
                    "query": query,
                    "authorization": self.headers.get("Authorization", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "chunked": "Transfer-Encoding" in self.headers,
                    "bytes": len(body),
                }
            )
            if stub.failures:
                status = stub.failures.pop(0)
                self._send(status, {"err_code": "SCRIPTED", "err_msg": "scripted failure"})
                return
            rate = int(query.get("sample_rate", "16000"))
            self._send(200, stub.response(len(body) / (2 * rate)))

        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def stub_deepgram() -> Iterator[StubDeepgram]:
    stub = StubDeepgram()
    with serve(_handler(stub)) as url:
        stub.url = url
        yield stub
