"""Random and mutated events reach every handler through its Lambda entry point: each answers
with its documented typed error and writes nothing (S3, the ledger, the vector store, the bus).

Documented: InvalidEvent for an event its model refuses; InvalidObjectKey for a well-formed S3
event whose key is not uploads/{tenant}/{case}/{document}/{filename}. A mutation that leaves
a valid event is not a bad event, and is not counted.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as event_note
from hypothesis import strategies as st

from docproc.errors import InvalidEvent, InvalidObjectKey
from docproc.handlers import parse_event
from docproc.models import (
    DocumentKey,
    ExecutionStatusChangeEvent,
    PlanRequest,
    PlanResult,
    PublishedEvent,
    ReindexEvent,
    S3ObjectEvent,
    SegmentTask,
)
from tests.e2e.harness import ROOT
from tests.e2e.runtimes import FakeContext, load_handler_module
from tests.integration.conftest import BUCKET, TABLE, Aws

MODELS = {
    "plan": PlanRequest,
    "process_segment": SegmentTask,
    "finalize": PlanResult,
    "notify_failure": ExecutionStatusChangeEvent,
    "delete": S3ObjectEvent,
    "start": S3ObjectEvent,
    "webhook": PublishedEvent,
    "reindex": ReindexEvent,
}
HANDLERS = {name: load_handler_module(name).handler for name in MODELS}
SLOW = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _s3_key(name: str, event: dict[str, Any]) -> str | None:
    """The object key of a well-formed S3 event given to ``name``."""
    if name in ("start", "delete"):
        return str(parse_event(S3ObjectEvent, event).detail.object.key)
    if name == "plan":
        return str(parse_event(PlanRequest, event).event.detail.object.key)
    return None


def _expected(name: str, event: Any) -> type[Exception] | None:
    """The documented error for this event, or None if it is a valid event."""
    try:
        parse_event(MODELS[name], event)
    except InvalidEvent:
        return InvalidEvent
    key = _s3_key(name, event)
    if key is not None:
        try:
            DocumentKey.from_object_key(key)
        except InvalidObjectKey:
            return InvalidObjectKey
    return None


def _nothing_written(aws: Aws) -> None:
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert aws.dynamodb.Table(TABLE).scan()["Count"] == 0
    assert aws.qdrant.client().get_collections().collections == []
    assert aws.published() == []


@pytest.fixture
def aws(moto_aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:x")
    for module in (load_handler_module(name) for name in MODELS):
        module.dependencies.cache_clear()
    return moto_aws


@SLOW
@given(name=st.sampled_from(sorted(MODELS)), event=json_values)
def test_random_events_are_invalid_events(aws: Aws, name: str, event: Any):
    with pytest.raises(InvalidEvent):
        HANDLERS[name](event, FakeContext(name))
    _nothing_written(aws)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_paths(child, (*prefix, index)))
    return paths


@SLOW
@given(data=st.data())
def test_mutated_sample_events_get_their_documented_error(aws: Aws, data: st.DataObject):
    # Given a sample event with one field removed or replaced
    name = data.draw(st.sampled_from(sorted(MODELS)))
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    mutated = copy.deepcopy(event)
    path = data.draw(st.sampled_from(_paths(mutated)))
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values | st.just("uploads/acme/../x.pdf"))
    expected = _expected(name, mutated)
    assume(expected is not None)
    event_note(f"{name}: {expected.__name__}")
    # When the handler gets it, Then exactly that error, and nothing was written
    with pytest.raises(Exception) as raised:
        HANDLERS[name](mutated, FakeContext(name))
    assert type(raised.value) is expected, f"{name}: {type(raised.value).__name__}"
    _nothing_written(aws)
