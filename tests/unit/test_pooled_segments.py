"""How the laptop runner hands a folder's segments to its pool of workers."""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import Any

from docproc.local.runner import PooledSegments
from docproc.models import PagesSegment, SegmentResult, SegmentTask
from tests.builders import document_ref


def _tasks(document_id: str, segments: int) -> list[SegmentTask]:
    return [
        SegmentTask(
            document=document_ref(document=document_id),
            segment=PagesSegment(
                index=index,
                page_start=index * 10 + 1,
                page_end=(index + 1) * 10,
                input_key=f"uploads/acme/c1/{document_id}/f.pdf",
            ),
        )
        for index in range(segments)
    ]


class FinishingPool:
    """A pool whose every segment is done as soon as it is handed over: the order of
    hand-over is what it records."""

    def __init__(self) -> None:
        self.handed: list[str] = []

    def submit(self, function: Any, task_json: str) -> Future[str]:
        task = json.loads(task_json)
        self.handed.append(f"{task['document']['document_id']}/{task['segment']['index']}")
        result = SegmentResult(
            tenant_id=task["document"]["tenant_id"],
            document_id=task["document"]["document_id"],
            version=task["document"]["version"],
            segment=task["segment"]["index"],
            chunks=1,
            tokens=1,
            output_key="work/segment.jsonl",
            duration_ms=1,
            peak_rss_mb=1,
        )
        future: Future[str] = Future()
        future.set_result(result.model_dump_json())
        return future


def test_a_document_added_later_gets_its_turn_before_the_rest_of_a_long_one():
    # Given a pool taking two segments at a time, a long document added, then a short one
    pool = FinishingPool()
    running = PooledSegments(pool, in_flight=2)  # type: ignore[arg-type]
    running.add(_tasks("long", 5))
    running.add(_tasks("short", 1))
    # When every outcome is taken
    outcomes = []
    while running:
        outcomes.extend(running.finished(wait_for_one=True))
    # Then the short document's segment went to the pool after the two of the long one that
    # were there first and one more, not after all five
    assert pool.handed == ["long/0", "long/1", "long/2", "short/0", "long/3", "long/4"]
    assert len(outcomes) == 6
    assert all(isinstance(outcome, SegmentResult) for _, outcome in outcomes)


def test_without_a_limit_every_segment_goes_to_the_pool_at_once():
    pool = FinishingPool()
    running = PooledSegments(pool)  # type: ignore[arg-type]
    running.add(_tasks("one", 3))
    assert pool.handed == ["one/0", "one/1", "one/2"]
    assert len(list(running.finished(wait_for_one=True))) == 3
    assert not running
