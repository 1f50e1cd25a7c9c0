"""The rehearsal's output: one timestamped line per step (simulated clock), then a summary table."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from container_manager.rehearsal.clock import SimClock

# What a line is: "real" = our handler code or a moto API call did it; "simulated" = the rehearsal played
# AWS's part (documented in docs/demo.md); "check" = an expectation; "scenario" = a heading.
KINDS = ("real", "simulated", "check", "scenario", "note")


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    actor: str
    text: str
    ok: bool = True


@dataclass(frozen=True)
class Verdict:
    scenario: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Timeline:
    clock: SimClock
    out: TextIO | None = field(default_factory=lambda: sys.stdout)
    entries: list[Entry] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def log(self, kind: str, actor: str, text: str, *, ok: bool = True) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown timeline kind {kind!r}")
        entry = Entry(self.clock.now, kind, actor, text, ok)
        self.entries.append(entry)
        self._print(entry)

    def real(self, actor: str, text: str, *, ok: bool = True) -> None:
        self.log("real", actor, text, ok=ok)

    def simulated(self, actor: str, text: str) -> None:
        self.log("simulated", actor, text)

    def note(self, actor: str, text: str) -> None:
        self.log("note", actor, text)

    def heading(self, title: str) -> None:
        self.log("scenario", "", title)

    def verdict(self, scenario: str, expected: str, observed: str, ok: bool) -> None:
        self.verdicts.append(Verdict(scenario, expected, observed, ok))
        self.log("check", "✓" if ok else "✗", f"{expected}: {observed}", ok=ok)

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]

    def _print(self, entry: Entry) -> None:
        if self.out is None:
            return
        elapsed = entry.at - self.clock.start
        minutes, seconds = divmod(int(elapsed.total_seconds()), 60)
        stamp = f"{entry.at:%H:%M:%S}.{entry.at.microsecond // 1000:03d} +{minutes:3d}:{seconds:02d}"
        if entry.kind == "scenario":
            print(f"\n{stamp}  ━━ {entry.text}", file=self.out)
            return
        print(f"{stamp}  {entry.kind:<9}  {entry.actor:<22} {entry.text}", file=self.out)

    def summary(self) -> str:
        rows = [("scenario", "expected", "observed", "")] + [
            (v.scenario, v.expected, v.observed, "✓" if v.ok else "✗") for v in self.verdicts
        ]
        widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate((34, 46, 60, 1))]

        def cell(text: str, width: int) -> str:
            return text if len(text) <= width else text[: width - 1] + "…"

        lines = []
        for index, row in enumerate(rows):
            lines.append("  ".join(cell(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        passed = len(self.verdicts) - len(self.failed)
        lines.append(f"\n{passed}/{len(self.verdicts)} checks passed")
        return "\n".join(lines)
