"""At-least-once delivery and overlapping runs: one result, no duplicates, newest version wins."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
from qdrant_client import QdrantClient, models

from tests.e2e.harness import DeployedStack


def _count(qdrant: QdrantClient, collection: str, document: str, version: str | None = None):
    must = [models.FieldCondition(key="document_id", match=models.MatchValue(value=document))]
    if version:
        must.append(models.FieldCondition(key="version", match=models.MatchValue(value=version)))
    return qdrant.count(collection, count_filter=models.Filter(must=must)).count


@pytest.mark.built_artifacts
def test_two_concurrent_executions_of_one_version(stack: DeployedStack, qdrant, generated):
    # Given the same upload event run by two executions at once (a redrive racing a retry)
    (event,) = stack.upload("uploads/acme/case-c/twin/a.pdf", generated["pdf_120"].read_bytes())
    first, second = stack.start(event), stack.start(event)
    # When both finish
    outcomes = [stack.wait(first)["status"], stack.wait(second)["status"]]
    # Then both end well, with one announcement and no duplicate points
    assert outcomes == ["SUCCEEDED", "SUCCEEDED"]
    (announced,) = stack.published()
    detail = announced["detail"]
    assert _count(qdrant, detail["collection"], "twin") == detail["chunks_total"]


def _invoke(stack: DeployedStack, function: str, payload: dict) -> dict:
    response = stack.lambda_.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    return dict(json.loads(response["Payload"].read()))


@pytest.mark.built_artifacts
def test_finalize_run_again_by_its_own_execution_announces_again(stack: DeployedStack, generated):
    # Given an execution that ingested a version and announced it
    (event,) = stack.upload("uploads/acme/case-c/redriven/a.pdf", generated["pdf_3"].read_bytes())
    execution = stack.start(event)
    assert stack.wait(execution)["status"] == "SUCCEEDED"
    (announced,) = stack.published()
    (finalized,) = [payload for name, payload in stack.invocations if name == "FinalizeFunction"]
    assert finalized["execution_arn"] == execution  # Plan hands Finalize the execution's ARN
    # When that execution runs Finalize again (a redrive after its answer was lost)
    again = _invoke(stack, "FinalizeFunction", finalized)
    # Then Finalize answers to announce it again, as first announced
    assert (again["outcome"], again["publish"]) == ("completed", True)
    assert again["summary"] == announced["detail"]
    # And another execution's Finalize of the same version answers to announce nothing
    other = _invoke(stack, "FinalizeFunction", {**finalized, "execution_arn": f"{execution}-2"})
    assert (other["outcome"], other["publish"]) == ("already_completed", False)


@pytest.mark.built_artifacts
def test_an_overwrite_during_a_run_gets_its_own_run_and_wins(
    stack: DeployedStack, qdrant, generated
):
    key = "uploads/acme/case-c/moving/a.pdf"
    # Given a run of version 1 in progress when version 2 is uploaded
    (old,) = stack.upload(key, generated["pdf_300"].read_bytes())
    old_run = stack.start(event=old)
    (new,) = stack.upload(key, generated["pdf_120"].read_bytes())
    new_run = stack.start(event=new)
    # When both runs finish, each on the version it pinned
    assert stack.wait(old_run)["status"] == "SUCCEEDED"
    assert stack.wait(new_run)["status"] == "SUCCEEDED"
    # Then the newest version is the document: announced last, and the only points left
    announced = [e["detail"] for e in stack.published() if e["detail"]["document_id"] == "moving"]
    v1, v2 = old["detail"]["object"]["version-id"], new["detail"]["object"]["version-id"]
    assert announced and announced[-1]["version"] == v2
    collection = announced[-1]["collection"]
    assert _count(qdrant, collection, "moving", v1) == 0
    assert _count(qdrant, collection, "moving", v2) == announced[-1]["chunks_total"]
    items = {i["sk"]: i for i in stack.ledger_items() if i["pk"] == "DOC#acme#moving"}
    assert items["DOCUMENT"]["completed_version"] == v2


# --- each interleaving forced: a handler held at its entry until the other run got ahead ----


class Gate:
    """Holds the calls of one function whose event matches, until opened; records results."""

    def __init__(self, stack: DeployedStack, function: str, holds: Callable[[dict], bool]):
        self.reached, self.opened = threading.Event(), threading.Event()
        self.results: list[dict] = []
        module = stack.modules[function]
        real = module.handler

        def held(event: dict, context: object) -> dict:
            if holds(event):
                self.reached.set()
                assert self.opened.wait(120), "the gate was never opened"
            result = real(event, context)
            self.results.append(result)
            return result

        self._restore = lambda: setattr(module, "handler", real)
        module.handler = held

    def close(self) -> None:
        self._restore()


def _version(event: dict) -> str:
    return event["detail"]["object"]["version-id"]


def test_an_older_version_planned_after_a_newer_one_stops_at_plan(stack: DeployedStack, generated):
    key = "uploads/acme/case-c/order/a.pdf"
    (old,) = stack.upload(key, generated["pdf_3"].read_bytes())
    (new,) = stack.upload(key, generated["pdf_120"].read_bytes())
    # Given the newer upload's run done before the older one's starts (events out of order)
    assert stack.wait(stack.start(new))["status"] == "SUCCEEDED"
    stack.invocations.clear()
    # When the older version's run comes
    run = stack.wait(stack.start(old))
    # Then Plan says superseded and nothing else runs
    assert json.loads(run["output"])["status"] == "superseded"
    assert [name for name, _ in stack.invocations] == ["PlanFunction"]
    assert [e["detail"]["version"] for e in stack.published()] == [_version(new)]


def test_a_version_overtaken_while_it_ran_is_retired_at_finalize(
    stack: DeployedStack, qdrant: QdrantClient, generated
):
    key = "uploads/acme/case-c/overtaken/a.pdf"
    (old,) = stack.upload(key, generated["pdf_120"].read_bytes())
    (new,) = stack.upload(key, generated["pdf_3"].read_bytes())
    # Given the older version's run held at Finalize, its segments done
    gate = Gate(stack, "FinalizeFunction", lambda e: e["document"]["version"] == _version(old))
    try:
        old_run = stack.start(old)
        assert gate.reached.wait(120)
        # When the newer version's run completes in the meantime, then the older one goes on
        assert stack.wait(stack.start(new))["status"] == "SUCCEEDED"
        gate.opened.set()
        assert stack.wait(old_run)["status"] == "SUCCEEDED"
    finally:
        gate.close()
    # Then the older version was retired at Finalize: unannounced, its points gone
    outcomes = {r["summary"]["version"]: r["outcome"] for r in gate.results}
    assert outcomes == {_version(new): "completed", _version(old): "retired"}
    announced = [e["detail"]["version"] for e in stack.published()]
    assert announced == [_version(new)]
    collection = gate.results[0]["summary"]["collection"]
    assert _count(qdrant, collection, "overtaken", _version(old)) == 0


def test_a_version_completed_by_a_twin_execution_is_not_announced_twice(
    stack: DeployedStack, generated
):
    (event,) = stack.upload("uploads/acme/case-c/twins/a.pdf", generated["pdf_120"].read_bytes())
    # Given two executions of one version, the second held at Finalize
    arrivals: list[str] = []
    gate = Gate(stack, "FinalizeFunction", lambda e: arrivals.append("x") or len(arrivals) == 2)
    try:
        first, second = stack.start(event), stack.start(event)
        # When the first completes the version before the second goes on
        assert gate.reached.wait(120)
        deadline = time.monotonic() + 120
        while not gate.results and time.monotonic() < deadline:
            time.sleep(0.05)
        gate.opened.set()
        statuses = [stack.wait(first)["status"], stack.wait(second)["status"]]
    finally:
        gate.close()
    # Then the second takes the already-completed path: one announcement
    assert statuses == ["SUCCEEDED", "SUCCEEDED"]
    assert [r["outcome"] for r in gate.results] == ["completed", "already_completed"]
    assert len(stack.published()) == 1
