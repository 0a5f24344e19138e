"""`docproc`'s arguments: a value out of range is refused by the command line, naming the
option and why, before anything is read, started or searched."""

from __future__ import annotations

import pytest

from docproc.local.cli import build_parser, main


@pytest.mark.parametrize(
    ("args", "named", "why"),
    [
        (["search", ""], "query", "the query is empty"),
        (["search", " \t "], "query", "the query is empty"),
        (["search", "deposit", "--top-k", "0"], "--top-k", "'0' is not a positive whole number"),
        (["search", "deposit", "--top-k", "-3"], "--top-k", "not a positive whole number"),
        (["search", "deposit", "--top-k", "1.5"], "--top-k", "not a positive whole number"),
        (["backfill", "--max-concurrency", "0"], "--max-concurrency", "not a positive"),
        (["reindex", "--model", "m", "--max-concurrency", "-1"], "--max-concurrency", "positive"),
        (
            ["backfill", "--tolerated-failure-percentage", "101"],
            "--tolerated-failure-percentage",
            "'101' is not a percentage from 0 to 100",
        ),
        (["backfill", "--tolerated-failure-percentage", "nan"], "--tolerated", "percentage"),
        (["reindex", "--tolerated-failure-percentage", "-1"], "--tolerated", "percentage"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_its_option(args, named, why, capsys):
    # When the command line holds a value out of its option's range
    with pytest.raises(SystemExit) as refused:
        main(args)
    # Then the command exits 2 (usage), saying which option and why
    assert refused.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert named in error and why in error, error


def test_the_bounds_themselves_are_accepted():
    # When the command line holds each range's bounds, then they are parsed as given
    parser = build_parser()
    assert parser.parse_args(["search", "deposit", "--top-k", "1"]).top_k == 1
    backfill = parser.parse_args(
        ["backfill", "--max-concurrency", "1", "--tolerated-failure-percentage", "0"]
    )
    assert (backfill.max_concurrency, backfill.tolerated_failure_percentage) == (1, 0.0)
    reindex = parser.parse_args(["reindex", "--tolerated-failure-percentage", "100"])
    assert reindex.tolerated_failure_percentage == 100.0
