"""Notifier that appends events to a JSONL file: the laptop's event bus."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docproc.models import EVENT_SOURCE


class JsonlNotifier:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        event = {
            "source": EVENT_SOURCE,
            "detail-type": detail_type,
            "time": datetime.now(UTC).isoformat(),
            "detail": detail,
        }
        line = json.dumps(event, default=str) + "\n"
        # One write per event on an O_APPEND descriptor: lines from processes do not interleave.
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        return [json.loads(line) for line in self._path.read_text().splitlines() if line]
