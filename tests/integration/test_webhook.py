"""The signed webhook: wire format, retries, verification, and every event from a laptop run.

The receiver (tests/webhook_receiver.py) checks signatures with its own code, not with
docproc.webhook.verify, so a bug shared by signer and verifier cannot pass unnoticed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.generators import text_pdf
from docproc.config import LocalSettings, WebhookFunctionSettings, load_settings
from docproc.errors import ConfigurationError, InvalidSignature, TransientError, WebhookRejected
from docproc.notify.webhook import DeliveryPolicy, WebhookDelivery
from docproc.storage.local import LocalObjectStore
from docproc.webhook import signature_header, verify
from tests.e2e.harness import ROOT
from tests.integration.test_laptop_runner import DOCPROC, _env, run
from tests.webhook_receiver import Answer, Receiver, webhook_receiver

SECRET = "whsec-test-3f9a"
DETAIL = {"tenant_id": "acme", "document_id": "lease-1", "chunks_total": 3, "note": "naïve"}
FAST = DeliveryPolicy(max_retry_seconds=20, first_backoff_seconds=0.05, max_backoff_seconds=0.2)


@pytest.fixture
def receiver() -> Receiver:
    with webhook_receiver(SECRET) as running:
        yield running


def _delivery(receiver: Receiver, policy: DeliveryPolicy = FAST) -> WebhookDelivery:
    return WebhookDelivery(receiver.url, lambda: [SECRET], policy)


def test_the_wire_format(receiver: Receiver):
    # When one event is delivered
    done = _delivery(receiver).deliver("evt-1", "Document Ingested", "2026-11-29T10:05:00Z", DETAIL)
    # Then it is one signed POST of compact UTF-8 JSON with the event's id in a header
    (delivery,) = receiver.received
    assert done.attempts == 1 and done.status == 200 and delivery.verified
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers["X-Docproc-Event-Id"] == "evt-1"
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", delivery.headers["X-Docproc-Signature"])
    assert (
        delivery.body
        == (
            '{"id":"evt-1","type":"Document Ingested","time":"2026-11-29T10:05:00Z",'
            '"data":{"tenant_id":"acme","document_id":"lease-1","chunks_total":3,"note":"naïve"}}'
        ).encode()
    )


def test_a_5xx_is_retried_under_one_event_id(receiver: Receiver):
    receiver.script = [Answer(503), Answer(502)]
    done = _delivery(receiver).deliver("evt-2", "Document Deleted", "t", DETAIL)
    assert done.attempts == 3 and done.status == 200
    assert {r.headers["X-Docproc-Event-Id"] for r in receiver.received} == {"evt-2"}
    assert all(r.verified for r in receiver.received)


def test_a_429_waits_as_long_as_retry_after_says(receiver: Receiver):
    receiver.script = [Answer(429, {"Retry-After": "1"})]
    done = _delivery(receiver).deliver("evt-3", "Document Ingested", "t", DETAIL)
    first, second = receiver.received
    assert done.attempts == 2 and second.at - first.at >= 1.0


@pytest.mark.parametrize(
    "answer", [Answer(400), Answer(404), Answer(302, {"Location": "https://elsewhere.example"})]
)
def test_a_refusal_or_a_redirect_is_not_retried(receiver: Receiver, answer: Answer):
    receiver.script = [answer]
    with pytest.raises(WebhookRejected, match=str(answer.status)):
        _delivery(receiver).deliver("evt-4", "Document Ingested", "t", DETAIL)
    assert len(receiver.received) == 1


def test_retries_end_after_the_configured_time(receiver: Receiver):
    receiver.script = [Answer(503)] * 1000
    policy = DeliveryPolicy(
        max_retry_seconds=1, first_backoff_seconds=0.05, max_backoff_seconds=0.1
    )
    started = time.monotonic()
    with pytest.raises(TransientError, match="gave up"):
        _delivery(receiver, policy).deliver("evt-5", "Document Ingested", "t", DETAIL)
    assert time.monotonic() - started < 3 and len(receiver.received) > 2


def test_an_unreachable_receiver_is_retried_then_transient():
    policy = DeliveryPolicy(
        max_retry_seconds=0.5, first_backoff_seconds=0.05, max_backoff_seconds=0.1
    )
    delivery = WebhookDelivery("http://127.0.0.1:9/hook", lambda: [SECRET], policy)
    with pytest.raises(TransientError, match="ConnectError"):
        delivery.deliver("evt-6", "Document Ingested", "t", DETAIL)


@pytest.mark.timeout(30)
def test_an_endless_answer_is_not_read_to_its_end(receiver: Receiver):
    # A receiver cannot hold the sender: it reads at most 64 KB of an answer, then hangs up
    receiver.script = [Answer(200, endless=True)]
    done = _delivery(receiver).deliver("evt-7", "Document Ingested", "t", DETAIL)
    assert done.status == 200


# --- verify ---------------------------------------------------------------------------------


def _signed(secrets: list[str], timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"id": "evt-9", "type": "Document Ingested", "time": "t", "data": {}}
    ).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Docproc-Signature": signature_header(secrets, stamp, body),
        "X-Docproc-Event-Id": "evt-9",
    }, body


def test_verify_returns_the_event():
    headers, body = _signed([SECRET])
    assert verify(SECRET, headers, body)["id"] == "evt-9"
    # header names are case-insensitive, as HTTP's are
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify(SECRET, lower, body)["type"] == "Document Ingested"


def test_verify_rejects_a_wrong_secret_a_changed_body_and_a_replay():
    headers, body = _signed([SECRET])
    with pytest.raises(InvalidSignature):
        verify("not-the-secret", headers, body)
    with pytest.raises(InvalidSignature):
        verify(SECRET, headers, body.replace(b"Ingested", b"Deleted!"))
    old_headers, old_body = _signed([SECRET], timestamp=int(time.time()) - 301)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, old_headers, old_body)
    with pytest.raises(InvalidSignature):
        verify(
            SECRET,
            {"X-Docproc-Signature": headers["X-Docproc-Signature"], "X-Docproc-Event-Id": "other"},
            body,
        )
    with pytest.raises(InvalidSignature):
        verify(SECRET, {}, body)


def test_during_a_rotation_either_key_verifies():
    headers, body = _signed(["whsec-new", "whsec-old"])
    assert verify("whsec-new", headers, body) and verify("whsec-old", headers, body)
    with pytest.raises(InvalidSignature):
        verify("whsec-other", headers, body)


def test_the_readme_receiver_verifies_a_real_delivery(receiver: Receiver):
    # Given the receiver README shows (standard library only), run as written
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(# webhook receiver.*?)```", readme, re.DOTALL)
    assert code, "README shows the receiver"
    namespace: dict = {}
    exec(code.group(1), namespace)
    # When a real delivery reaches it
    _delivery(receiver).deliver("evt-10", "Document Ingested", "t", DETAIL)
    (delivery,) = receiver.received
    # Then it accepts it, and refuses a tampered copy
    event = namespace["verified_event"](delivery.headers, delivery.body, SECRET)
    assert event["data"] == DETAIL
    assert namespace["verified_event"](delivery.headers, delivery.body + b" ", SECRET) is None


# --- settings -------------------------------------------------------------------------------


def test_in_lambda_the_url_is_https(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:hook")
    monkeypatch.setenv("WEBHOOK_URL", "http://127.0.0.1:8080/hook")
    with pytest.raises(ConfigurationError, match="https"):
        load_settings(WebhookFunctionSettings)
    monkeypatch.setenv("WEBHOOK_URL", "https://app.example.com/hooks/docproc")
    assert load_settings(WebhookFunctionSettings).webhook_url.startswith("https://")


def test_on_a_laptop_http_only_to_loopback_and_never_without_a_secret(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "http://app.example.com/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with pytest.raises(ConfigurationError, match="loopback"):
        load_settings(LocalSettings)
    monkeypatch.setenv("WEBHOOK_URL", "http://127.0.0.1:8080/hook")
    assert load_settings(LocalSettings).webhook_keys == [SECRET]
    monkeypatch.delenv("WEBHOOK_SECRET")
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET"):
        load_settings(LocalSettings)


# --- a laptop run ---------------------------------------------------------------------------


def _blank_pdf(path: Path) -> Path:
    import pymupdf

    document = pymupdf.open()
    for _ in range(2):
        document.new_page()
    document.save(path)
    return path


def test_every_event_of_a_laptop_run_reaches_the_webhook(receiver: Receiver, tmp_path: Path):
    home = tmp_path / "home"
    hook = {
        "WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": SECRET,
        "PROGRESS_EVENT_SECONDS": "0.001",
    }
    # Given a 120-page document in 3 segments, a document with no text, and a deletion
    pdf = text_pdf(tmp_path / "record.pdf", pages=120, seed=4)
    run(home, "ingest", str(pdf), "--document-id", "record", SEGMENT_PAGES="40", **hook)
    # (ingested again: complete and announced already, it announces nothing)
    run(home, "ingest", str(pdf), "--document-id", "record", SEGMENT_PAGES="40", **hook)
    failed = run(home, "ingest", str(_blank_pdf(tmp_path / "blank.pdf")), check=False, **hook)
    assert failed.returncode != 0
    run(home, "delete", "record", **hook)
    # Then every event arrived signed, each under its own id
    types = [r.event["type"] for r in receiver.received]
    assert all(r.verified for r in receiver.received)
    assert "Document Ingestion Progress" in types
    assert [t for t in types if t != "Document Ingestion Progress"] == [
        "Document Ingested",
        "Document Ingestion Failed",
        "Document Deleted",
    ]
    ids = [r.headers["X-Docproc-Event-Id"] for r in receiver.received]
    assert len(set(ids)) == len(ids) and all(
        r.event["id"] == i for r, i in zip(receiver.received, ids, strict=True)
    )
    # And the event log has the same events
    logged = [
        json.loads(line)["detail-type"] for line in (home / "events.jsonl").read_text().splitlines()
    ]
    assert logged == types


def test_a_delivery_that_fails_for_good_does_not_fail_the_ingest(
    receiver: Receiver, tmp_path: Path
):
    # Given a receiver that refuses everything
    receiver.script = [Answer(400)] * 10
    home = tmp_path / "home"
    report = run(
        home,
        "ingest",
        str(ROOT / "samples" / "lease-agreement.pdf"),
        "--json",
        WEBHOOK_URL=receiver.url,
        WEBHOOK_SECRET=SECRET,
    )
    # Then the document is ingested and the event is kept for a later resend
    assert json.loads(report.stdout)["status"] == "complete"
    (kept,) = [
        json.loads(line) for line in (home / "webhook-failed.jsonl").read_text().splitlines()
    ]
    assert kept["type"] == "Document Ingested" and "WebhookRejected" in kept["error"]
    assert kept["data"]["document_id"] == "lease-agreement"


def _hook(receiver: Receiver) -> dict[str, str]:
    return {"WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}


def _held_by_a_down_receiver(
    receiver: Receiver, home: Path, *args: str, event: str | None = None
) -> subprocess.Popen[bytes]:
    """``docproc *args`` started while the receiver is down (503 to everything), returned once
    the receiver has seen its first delivery attempt (of ``event``, when given): the command
    is then retrying it, and has done all it does before."""
    receiver.script = [Answer(503)] * 10_000
    process = subprocess.Popen(
        [*DOCPROC, *args],
        env=_env(home, **_hook(receiver)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not any(event in (None, r.event["type"]) for r in receiver.received):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return process


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_an_ingest_stopped_while_its_webhook_retries_announces_when_run_again(
    receiver: Receiver, tmp_path: Path
):
    # Given an ingest whose receiver is down (503) when the document completes
    home, sample = tmp_path / "home", ROOT / "samples" / "lease-agreement.pdf"
    hook = _hook(receiver)
    # When it is killed while retrying "Document Ingested" (the ledger says complete by then)
    ingesting = _held_by_a_down_receiver(
        receiver, home, "ingest", str(sample), event="Document Ingested"
    )
    _kill(ingesting)
    # And the same command runs again once the receiver is back
    receiver.script = []
    attempts = len(receiver.received)
    report = json.loads(run(home, "ingest", str(sample), "--json", **hook).stdout)
    # Then it processes nothing and announces the version, with the summary first written
    assert (report["status"], report["segments_processed"]) == ("complete", 0)
    (announced,) = [r.event for r in receiver.received[attempts:]]
    assert announced["type"] == "Document Ingested"
    assert announced["data"]["version"] == report["version"]
    assert announced["data"]["chunks_total"] == report["chunks_total"] > 0
    # And a third run announces nothing more
    run(home, "ingest", str(sample), **hook)
    assert len(receiver.received) == attempts + 1


def test_a_case_deletion_stopped_while_its_webhook_retries_announces_when_run_again(
    receiver: Receiver, tmp_path: Path
):
    # Given two documents of one case, and a third whose ingest stopped before the ledger knew
    # of it (its upload copied in, nothing else)
    home, sample = tmp_path / "home", ROOT / "samples" / "lease-agreement.pdf"
    for name in ("a", "b"):
        run(home, "ingest", str(sample), "--case", "c1", "--document-id", name)
    LocalObjectStore(home / "objects").put_upload("uploads/local/c1/c/lease.pdf", sample)
    # When the case's deletion is killed while its receiver is down (503) and retrying the
    # first "Document Deleted" (that document's ledger row is gone by then)
    hook = _hook(receiver)
    _kill(_held_by_a_down_receiver(receiver, home, "delete", "--case", "c1"))
    first = receiver.received[0].event["data"]["document_id"]
    # And the same command runs again once the receiver is back
    receiver.script = []
    attempts = len(receiver.received)
    deleted = json.loads(run(home, "delete", "--case", "c1", "--json", **hook).stdout)
    # Then every document of the case is deleted and announced once, the first one included
    assert first in {"a", "b", "c"}
    assert sorted(d["document_id"] for d in deleted) == ["a", "b", "c"]
    announced = [r.event for r in receiver.received[attempts:]]
    assert [e["type"] for e in announced] == ["Document Deleted"] * 3
    assert sorted(e["data"]["document_id"] for e in announced) == ["a", "b", "c"]
    assert {e["data"]["case_id"] for e in announced} == {"c1"}
    # And no copy of their uploads is left, and a third run finds nothing to delete
    assert not [p for p in (home / "objects").rglob("*.pdf")]
    assert run(home, "delete", "--case", "c1", **hook).stdout.strip() == "nothing to delete"
    assert len(receiver.received) == attempts + 3


def test_a_search_while_an_ingest_runs_is_answered_by_that_process(
    receiver: Receiver, tmp_path: Path
):
    # Given an ingest that has the laptop's store, held up at its end by a receiver that is
    # down (it is then complete and searchable, and still running)
    home, sample = tmp_path / "home", ROOT / "samples" / "lease-agreement.pdf"
    ingesting = _held_by_a_down_receiver(
        receiver, home, "ingest", str(sample), event="Document Ingested"
    )
    # When another docproc command searches meanwhile
    hits = json.loads(run(home, "search", "early termination fee", "--json").stdout)
    # Then the running process answers it, through what it announced beside the shard
    assert hits and {hit["document_id"] for hit in hits} == {"lease-agreement"}
    (announced,) = (home / "vectors").glob("*.serving")
    assert announced.stat().st_mode & 0o777 == 0o600
    # And a command that would change the store is still refused
    deleting = run(home, "delete", "lease-agreement", check=False)
    assert deleting.returncode == 1 and "VectorStoreBusy" in deleting.stderr
    # And once that process is gone (killed: its lock goes with it), a search opens the store
    _kill(ingesting)
    assert json.loads(run(home, "search", "early termination fee", "--json").stdout) == hits


def test_a_search_while_a_deletion_runs_is_answered_by_that_process(
    receiver: Receiver, tmp_path: Path
):
    # Given two ingested documents, and the deletion of one held up at its end by a receiver
    # that is down (its points are gone by then, and it is still running)
    home, sample = tmp_path / "home", ROOT / "samples" / "lease-agreement.pdf"
    for name in ("kept", "deleted"):
        run(home, "ingest", str(sample), "--document-id", name)
    deleting = _held_by_a_down_receiver(
        receiver, home, "delete", "deleted", event="Document Deleted"
    )
    # When another docproc command searches meanwhile
    hits = json.loads(run(home, "search", "early termination fee", "--json").stdout)
    # Then the deleting process answers it: the document kept, not the one deleted
    assert hits and {hit["document_id"] for hit in hits} == {"kept"}
    # And once that process is gone, a search opens the store itself and finds the same
    _kill(deleting)
    assert json.loads(run(home, "search", "early termination fee", "--json").stdout) == hits
