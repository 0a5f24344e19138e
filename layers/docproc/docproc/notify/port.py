"""The notifier port: tells the main application what happened to a document."""

from __future__ import annotations

from typing import Any, Protocol


class Notifier(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Publish one event with source ``docproc``; TransientError if it could not be sent."""
        ...
