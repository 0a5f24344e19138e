"""What every handler does the same way: parse the event, tag the logs."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from docproc.errors import InvalidEvent
from docproc.observability import logger

M = TypeVar("M", bound=BaseModel)


def parse_event(model: type[M], event: Any) -> M:
    """Validate ``event`` against ``model``; InvalidEvent names the bad fields, not their values
    (values may hold document content or URLs)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        fields = sorted(
            {".".join(str(part) for part in error["loc"]) or "event" for error in exc.errors()}
        )
        raise InvalidEvent(
            f"{model.__name__} rejected the event: bad or missing {', '.join(fields)}"
        ) from None


def correlate(**keys: str | int | None) -> None:
    """Add correlation keys (tenant, document, version, segment) to every log line."""
    logger.append_keys(**{name: value for name, value in keys.items() if value is not None})
