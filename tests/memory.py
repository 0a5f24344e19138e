"""What a call adds to this process's memory at its peak, measured one way for every test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from docproc.observability import current_rss_mb, peak_rss_mb, reset_peak_rss

T = TypeVar("T")


def peak_growth_mb(call: Callable[[], T]) -> tuple[T, float]:
    """``call()``'s result, and how many MB the process's peak RSS rose over its RSS before
    the call (the peak is reset first)."""
    reset_peak_rss()
    before = current_rss_mb()
    result = call()
    return result, peak_rss_mb() - before
