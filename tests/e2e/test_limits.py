"""Step Functions' limits, measured in moto's engine on the real definition."""

from __future__ import annotations

import json

from tests.conftest import REPORT_TABLES
from tests.e2e.harness import DeployedStack

STATE_LIMIT_BYTES = 256 * 1024
SEGMENTS = 10_000


def _compact(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def test_ten_thousand_segments_fit_in_the_parent_state(stack: DeployedStack, generated):
    # Given the real definition, with the Map's gathered results kept (ResultPath) and the run
    # ending there, so that what the Map adds to the parent's state is the execution's output
    definition = json.loads(stack.definition)
    segments_map = definition["States"]["ProcessSegments"]
    segments_map["ResultPath"] = "$.segment_results"
    segments_map.pop("Next")
    segments_map["End"] = True
    measuring = stack.sfn.create_state_machine(
        name="measure-map-output",
        definition=json.dumps(definition),
        roleArn=stack.state_machine_role,
    )["stateMachineArn"]
    (event,) = stack.upload("uploads/acme/case-l/limits/a.pdf", generated["pdf_300"].read_bytes())

    # When a 6-segment document runs through it
    execution_arn = stack.sfn.start_execution(stateMachineArn=measuring, input=json.dumps(event))[
        "executionArn"
    ]
    execution = stack.wait(execution_arn)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    state = json.loads(execution["output"])

    # Then each segment adds an empty object, and 10,000 segments stay far below 256 KiB
    results = state.pop("segment_results")
    assert results == [{}] * 6
    per_segment = (_compact(results) - 2 + 1) / len(results)  # "[", "]" and the commas
    projected = _compact(state) + 2 + round(per_segment * SEGMENTS)
    REPORT_TABLES.setdefault("parent state of a distributed Map run", []).extend(
        [
            ("Plan's output", f"{_compact(state)} bytes"),
            ("per segment", f"{per_segment:.0f} bytes"),
            (f"{SEGMENTS:,} segments", f"{projected:,} bytes of {STATE_LIMIT_BYTES:,}"),
        ]
    )
    assert projected < STATE_LIMIT_BYTES / 4
