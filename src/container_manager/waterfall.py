"""A start (or stop) as a waterfall: one row per phase with its offset, duration and bar, then the total.

Pure: the input is a list of ``Span(phase, start, end, source)`` records, wherever they came from - AWS's own
records (`cm timeline`, `cm selftest`) or the local rehearsal's simulated clock (`make demo`) - so both print
the same format. A phase whose start or end AWS no longer keeps is still listed, with the reason, and left out
of the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BAR_WIDTH = 30


@dataclass(frozen=True)
class Span:
    phase: str
    start: datetime | None
    end: datetime | None
    source: str  # which record gave the times: "scaling activity", "start-system log", ...
    note: str = ""  # why a time is missing, or what the span means
    in_total: bool = True  # False: shown, but not part of the total (e.g. the first player, minutes later)

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Waterfall:
    title: str
    spans: tuple[Span, ...]
    notes: tuple[str, ...] = ()  # records AWS no longer keeps, and other caveats
    label: str = ""  # "simulated" for the rehearsal

    @property
    def known(self) -> list[Span]:
        return [s for s in self.spans if s.seconds is not None and s.in_total]

    @property
    def first(self) -> datetime | None:
        return min((s.start for s in self.known if s.start), default=None)

    @property
    def last(self) -> datetime | None:
        return max((s.end for s in self.known if s.end), default=None)

    @property
    def total_seconds(self) -> float | None:
        """From the earliest known start to the latest known end."""
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).total_seconds()


def waterfall(title: str, spans: Sequence[Span], notes: Sequence[str] = (), *, label: str = "") -> Waterfall:
    return Waterfall(title, tuple(spans), tuple(dict.fromkeys(notes)), label)


def render(fall: Waterfall, *, width: int = BAR_WIDTH) -> str:
    """The waterfall as text: offset from the first record, duration, a bar on a shared scale, the source."""
    heading = fall.title + (f"  [{fall.label}]" if fall.label else "")
    lines = [heading]
    first, total = fall.first, fall.total_seconds
    if first is None or not total:
        total = 0.0
    scale = f"|0 s{'':<{max(width - 9, 1)}}{_seconds(total):>6}|" if total else "|" + " " * width + "|"
    name_width = max([len(s.phase) for s in fall.spans] + [len("phase")])
    lines.append(f"  {'phase':<{name_width}}  {'at':>8}  {'took':>8}  {scale}  source")
    for span in fall.spans:
        if span.seconds is None or span.start is None or first is None:
            missing = "start" if span.start is None else "end"
            lines.append(
                f"  {span.phase:<{name_width}}  {'-':>8}  {'-':>8}  |{'?':^{width}}|  {span.source}"
                + (f" ({missing} not recorded)" if not span.note else "")
            )
            if span.note:
                lines.append(f"  {'':<{name_width}}  {'':>8}  {'':>8}   {span.note}")
            continue
        offset = (span.start - first).total_seconds()
        lines.append(
            f"  {span.phase:<{name_width}}  {'+' + _seconds(offset):>8}  {_seconds(span.seconds):>8}  "
            f"|{_bar(offset, span.seconds, total, width)}|  {span.source}"
            + (f" - {span.note}" if span.note else "")
        )
    lines.append(
        f"  {'total':<{name_width}}  {'':>8}  {_seconds(fall.total_seconds) if fall.total_seconds is not None else '-':>8}"
        "  (first record to last)"
    )
    if fall.notes:
        lines.append("  notes:")
        lines.extend(f"  - {note}" for note in fall.notes)
    return "\n".join(lines)


def as_json(fall: Waterfall) -> dict[str, Any]:
    return {
        "title": fall.title,
        "label": fall.label or None,
        "total_seconds": _round(fall.total_seconds),
        "phases": [
            {
                "phase": s.phase,
                "start": s.start.isoformat() if s.start else None,
                "end": s.end.isoformat() if s.end else None,
                "seconds": _round(s.seconds),
                "source": s.source,
                "note": s.note or None,
                "in_total": s.in_total,
            }
            for s in fall.spans
        ],
        "notes": list(fall.notes),
    }


@dataclass
class SpanBuilder:
    """Collects spans and notes while records are read; a missing record becomes a note, never an error."""

    spans: list[Span] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        phase: str,
        start: datetime | None,
        end: datetime | None,
        source: str,
        note: str = "",
        *,
        in_total: bool = True,
    ) -> None:
        if start is None and end is None and not note:
            return  # nothing known and nothing to say: leave the row out
        if start is not None and end is not None and end < start:
            start, end = end, start  # clock skew between services of a few ms; keep the row readable
        self.spans.append(Span(phase, start, end, source, note, in_total))

    def missing(self, note: str) -> None:
        self.notes.append(note)


def _bar(offset: float, seconds: float, total: float, width: int) -> str:
    if total <= 0:
        return "█".ljust(width)
    begin = min(int(offset / total * width), width - 1)
    length = max(1, round(seconds / total * width))
    length = min(length, width - begin)
    return (" " * begin + "█" * length).ljust(width)


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
