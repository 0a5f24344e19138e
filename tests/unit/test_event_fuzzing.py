"""Random and mutated events: handlers answer with the typed error, never a crash."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docproc.errors import DocprocError, InvalidEvent
from docproc.handlers import parse_event
from docproc.models import (
    ExecutionStatusChangeEvent,
    PlanRequest,
    PlanResult,
    PublishedEvent,
    S3ObjectEvent,
    SegmentTask,
)
from tests.e2e.runtimes import FakeContext, load_handler_module

ROOT = Path(__file__).resolve().parents[2]
MODELS = {
    "plan": PlanRequest,
    "process_segment": SegmentTask,
    "finalize": PlanResult,
    "notify_failure": ExecutionStatusChangeEvent,
    "delete": S3ObjectEvent,
    "start": S3ObjectEvent,
    "webhook": PublishedEvent,
}
HANDLERS = {name: load_handler_module(name).handler for name in MODELS}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should an event ever validate, the handler stops at its settings: typed, no AWS call.
    for name in (
        "DOCPROC_BUCKET",
        "LEDGER_TABLE",
        "EVENT_BUS_NAME",
        "QDRANT_URL",
        "STATE_MACHINE_ARN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    for handler_module in (load_handler_module(name) for name in MODELS):
        handler_module.dependencies.cache_clear()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(sorted(MODELS)), event=json_values)
def test_random_events_get_the_typed_error(name: str, event: Any):
    with pytest.raises(DocprocError):
        HANDLERS[name](event, FakeContext(name))


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_paths(child, (*prefix, index)))
    return paths


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_sample_events_validate_or_fail_typed(data: st.DataObject):
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
        parent[path[-1]] = data.draw(json_values)
    with contextlib.suppress(InvalidEvent):
        parse_event(MODELS[name], mutated)
