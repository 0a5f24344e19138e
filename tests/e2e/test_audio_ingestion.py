"""A recording through the state machine: Plan probes it and ProcessSegment transcribes its
time windows, both reading it through presigned URLs (served by moto's own HTTP server on
loopback, which shares the in-process backend, so ffmpeg reads the same object the handlers
see)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from benchmarks.generators import recording
from tests.e2e.harness import BUCKET, DeployedStack


@pytest.mark.built_artifacts
def test_recording_is_transcribed_in_time_windows(
    stack: DeployedStack, qdrant: QdrantClient, tmp_path: Path
):
    # Given a 25-minute M4A with two sentences, one in the first and one in the third window
    audio = tmp_path / "hearing.m4a"
    placed = recording(audio, 25 * 60, [(45.0, 4), (1250.0, 8)])
    (event,) = stack.upload("uploads/acme/case-9/hearing-1/hearing.m4a", audio.read_bytes())
    # When the upload is ingested
    execution = stack.run(event)
    # Then Plan cut three 600-second windows and each went to ProcessSegment
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    windows = [p["segment"] for name, p in stack.invocations if name == "ProcessSegmentFunction"]
    assert sorted((w["kind"], w["time_start"]) for w in windows) == [
        ("time", 0.0),
        ("time", 600.0),
        ("time", 1200.0),
    ]
    # And the chunks carry what was said, where it was said
    chunks = []
    for key in sorted(stack.object_keys("work/acme/hearing-1/")):
        if key.endswith(".chunks.jsonl"):
            body = stack.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            chunks.extend(json.loads(line) for line in body.splitlines())
    assert [c["segment"] for c in chunks] == [0, 2]
    for chunk, clip in zip(chunks, placed, strict=True):
        assert abs(chunk["time_start"] - clip.start) < 2
        assert chunk["extraction"] == "ffmpeg+pocketsphinx-en-us"
    assert "motion" in chunks[0]["text"] and "insurance" in chunks[1]["text"]
    # And the document was announced as ingested
    (published,) = stack.published()
    assert published["detail"]["media_type"] == "audio/mp4"
    assert published["detail"]["chunks_total"] == 2
    assert abs(published["detail"]["seconds"] - 25 * 60) < 1
