"""What a benchmark run produced, kept as data and rendered into BENCHMARKS.md.

Every row is a number with its unit, a label, and optionally a target it is held to. The
figures of each section are kept in BENCHMARKS.json with the commit, command, machine,
versions and wall time that produced them; BENCHMARKS.md is rendered whole from
benchmarks/BENCHMARKS.template.md and that file, never edited by hand. A run of some sections
(``--only``) replaces those sections' figures and keeps the others', each still saying where
it came from.

Targets and noise: a row meets its target, misses it within the noise margin of its kind
(25% for ratios and speeds, 10% for memory, none for counts), or misses it beyond: only the
last makes the run fail (exit status 1), since these machines are shared and noisy. A target
that an open issue is about is shown as met or missed and never fails the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "benchmarks" / "BENCHMARKS.template.md"
RESULTS = ROOT / "BENCHMARKS.json"
OUTPUT = ROOT / "BENCHMARKS.md"

Kind = Literal["ratio", "memory", "count", "quality"]
MARGINS: dict[str, float] = {"ratio": 0.25, "memory": 0.10, "count": 0.0, "quality": 0.0}


@dataclass(frozen=True)
class Target:
    """``value <= at_most`` or ``value >= at_least``. A target of an open issue (``issue``) is
    shown with its verdict but does not fail the run: it is work to do, not a guarantee."""

    kind: Kind
    at_most: float | None = None
    at_least: float | None = None
    issue: int | None = None

    def describe(self, unit: str) -> str:
        suffix = "x" if unit == "x" else f" {unit}" if unit else ""
        if self.at_most is not None:
            return f"<= {self.at_most:g}{suffix}"
        return f">= {self.at_least:g}{suffix}"

    def verdict(self, value: float) -> str:
        """pass; FAIL (within noise); FAIL; or for an open issue's target, FAIL (open: #N)."""
        margin = MARGINS[self.kind]
        if self.at_most is not None:
            met = value <= self.at_most
            within = value <= self.at_most * (1 + margin)
        else:
            assert self.at_least is not None
            met = value >= self.at_least
            within = value >= self.at_least * (1 - margin)
        if met:
            return "pass"
        if self.issue is not None:
            return f"FAIL (open: #{self.issue})"
        return "FAIL (within noise)" if within else "FAIL"


@dataclass
class Row:
    key: str
    label: str
    value: float
    unit: str
    shown: str
    target: Target | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return self.target.verdict(self.value) if self.target else ""


@dataclass
class Section:
    name: str
    commit: str
    command: str
    size: str
    seconds: float
    machine: str
    versions: str
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)
    # The machine's pace before and after the section (benchmarks/pace.py), in seconds; none
    # for a section measured before the harness recorded it.
    pace: list[float] = field(default_factory=list)

    def add(
        self,
        key: str,
        label: str,
        value: float,
        unit: str,
        shown: str | None = None,
        target: Target | None = None,
        note: str = "",
    ) -> Row:
        if shown is None:
            shown = f"{value:.2f}x" if unit == "x" else f"{value:,.0f} {unit}".strip()
        row = Row(key, label, value, unit, shown, target, note)
        self.rows.append(row)
        verdict = row.verdict
        bound = target.describe(unit) if target else ""
        print(f"  {self.name:10} {label:70} {shown:>18} {bound:>10} {verdict}", flush=True)
        return row

    def failures(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == "FAIL"]


def load() -> dict[str, Section]:
    if not RESULTS.exists():
        return {}
    data = json.loads(RESULTS.read_text())
    sections = {}
    for name, raw in data["sections"].items():
        rows = [
            Row(**{**row, "target": Target(**row["target"]) if row["target"] else None})
            for row in raw.pop("rows")
        ]
        sections[name] = Section(**raw, rows=rows)
    return sections


def save(sections: dict[str, Section]) -> None:
    data = {"sections": {name: asdict(section) for name, section in sorted(sections.items())}}
    RESULTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def _table(section: Section) -> list[str]:
    lines = ["| metric | value | target | result |", "|---|---|---|---|"]
    for row in section.rows:
        bound = row.target.describe(row.unit) if row.target else ""
        lines.append(f"| {row.label} | {row.shown} | {bound} | {row.verdict} |")
    return lines


def _provenance(section: Section) -> str:
    pace = (
        f" The machine's pace: {section.pace[0]:.2f} s before, {section.pace[1]:.2f} s after."
        if section.pace
        else ""
    )
    return (
        f"*Measured by `{section.command}` at commit `{section.commit}`, {section.size} inputs, "
        f"in {section.seconds:.0f} s on {section.machine}; {section.versions}.{pace}*"
    )


def render(sections: dict[str, Section]) -> str:
    """BENCHMARKS.md from the template: ``{{table:NAME}}`` is a section's table,
    ``{{provenance:NAME}}`` where and how it was measured, ``{{extra:NAME:PART}}`` lines a
    section made besides its rows, ``{{value:KEY}}`` one row's figure."""
    rows = {row.key: row for section in sections.values() for row in section.rows}

    def placeholder(match: re.Match[str]) -> str:
        kind, _, rest = match.group(1).partition(":")
        if kind == "value":
            return rows[rest].shown if rest in rows else "(not measured)"
        name, _, part = rest.partition(":")
        section = sections.get(name)
        if section is None:
            return f"*Not measured yet: `make bench` (or `--only {name}`).*"
        if kind == "table":
            return "\n".join(_table(section))
        if kind == "provenance":
            return _provenance(section)
        if kind == "extra":
            return "\n".join(section.extra.get(part, ["(not measured)"]))
        raise KeyError(match.group(0))

    return re.sub(r"\{\{([a-z]+:[A-Za-z0-9_.:-]+)\}\}", placeholder, TEMPLATE.read_text())


def write(new: Iterable[Section]) -> None:
    sections = load()
    for section in new:
        sections[section.name] = section
    save(sections)
    OUTPUT.write_text(render(sections))


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
