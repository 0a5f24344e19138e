"""BENCHMARKS.md is the harness's rendering of its figures, its verdicts follow the targets,
and its ratios of runs taken in turns are taken pair by pair."""

from __future__ import annotations

import pytest

from benchmarks.report import OUTPUT, Section, Target, load, render
from benchmarks.run import _paired_ratio


def _section(name: str, pace: list[float]) -> Section:
    return Section(
        name,
        "abc1234",
        "python -m benchmarks.run --only bytes",
        "quick",
        11.0,
        "2 cores",
        "Python 3.11",
        pace=pace,
    )


def test_benchmarks_md_is_exactly_what_the_harness_renders_from_its_figures() -> None:
    # Given the figures the harness wrote (BENCHMARKS.json) and the template
    sections = load()
    # When they are rendered
    rendered = render(sections)
    # Then BENCHMARKS.md is that, to the byte: a figure or a word edited by hand turns this red
    assert sections, "BENCHMARKS.json holds no section"
    assert OUTPUT.read_text() == rendered, (
        "BENCHMARKS.md differs from the harness's rendering: re-run the section "
        "(python -m benchmarks.run --only NAME --write) or, for a template-only change, "
        "python -c 'from benchmarks.report import write; write([])'"
    )


def test_a_sections_provenance_gives_the_machines_pace_when_it_was_measured() -> None:
    # Given a section measured with the pace probe beside it, and one from before the probe
    paced, unpaced = _section("bytes", [0.412, 0.437]), _section("bytes", [])
    # When each is rendered
    with_pace, without = render({"bytes": paced}), render({"bytes": unpaced})
    # Then the first says the pace before and after, the second nothing about it
    assert "The machine's pace: 0.41 s before, 0.44 s after." in with_pace
    assert "pace" not in without.split("## Bytes read per segment")[1].split("##")[0]


@pytest.mark.parametrize(
    ("target", "value", "verdict"),
    [
        (Target("ratio", at_most=1.0), 1.0, "pass"),
        (Target("ratio", at_most=1.0), 1.24, "FAIL (within noise)"),
        (Target("ratio", at_most=1.0), 1.26, "FAIL"),
        (Target("ratio", at_least=0.8), 0.61, "FAIL (within noise)"),
        (Target("ratio", at_least=0.8), 0.59, "FAIL"),
        (Target("memory", at_most=256), 280, "FAIL (within noise)"),
        (Target("memory", at_most=256), 282, "FAIL"),
        (Target("count", at_most=0), 1, "FAIL"),
        (Target("ratio", at_most=1.0, issue=17), 3.0, "FAIL (open: #17)"),
    ],
)
def test_a_rows_verdict_is_its_target_with_the_noise_margin_of_its_kind(
    target: Target, value: float, verdict: str
) -> None:
    # Given a target and a measured value / When judged / Then pass, within noise, or fail
    assert target.verdict(value) == verdict


def test_a_ratio_of_runs_in_turns_is_the_median_of_its_pairs_not_of_its_medians() -> None:
    # Given three pairs of runs in turns, the machine slow for both runs of the second pair and
    # for ours alone in the third: two pairs of three say ours takes half the time
    ours, theirs = [1.0, 3.0, 3.0], [2.0, 6.0, 2.0]
    # When the ratio is taken / Then it is the pairs' median, 0.5; the ratio of the two medians
    # would be 3 / 2 = 1.5
    assert _paired_ratio(ours, theirs) == 0.5
