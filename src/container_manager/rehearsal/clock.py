"""The rehearsal's simulated clock: minutes of a real lifecycle pass in milliseconds.

Everything that happens in the rehearsal (a DNS query, an Auto Scaling event, an alarm evaluation, a handler's
metric datapoint) is stamped with this clock's time, never the wall clock. Work scheduled for a later instant
(an instance finishing its boot, a draining instance terminating) runs when the clock passes that instant.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 20, 19, 40, 0, tzinfo=UTC)


@dataclass(order=True)
class _Job:
    due: datetime
    order: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")


class SimClock:
    """Current simulated time plus a queue of jobs due at later simulated times."""

    def __init__(self, start: datetime = START) -> None:
        self.start = start
        self.now = start
        self._jobs: list[_Job] = []
        self._order = itertools.count()
        self._last_tick = start.replace(second=0, microsecond=0)

    def elapsed(self) -> timedelta:
        return self.now - self.start

    def at(self, due: datetime, action: Callable[[], None], label: str = "") -> None:
        """Run ``action`` when the clock reaches ``due`` (at once on the next advance if already past)."""
        heapq.heappush(self._jobs, _Job(due, next(self._order), action, label))

    def after(self, seconds: float, action: Callable[[], None], label: str = "") -> None:
        self.at(self.now + timedelta(seconds=seconds), action, label)

    def pending(self) -> list[str]:
        return [job.label for job in sorted(self._jobs)]

    def advance_to(self, target: datetime, on_tick: Callable[[datetime], None] | None = None) -> None:
        """Move to ``target``, running due jobs in time order; ``on_tick`` runs at each whole minute crossed."""
        if target < self.now:
            raise ValueError(f"the clock cannot go back from {self.now} to {target}")
        while True:
            next_minute = self._last_tick + timedelta(minutes=1)
            next_job = self._jobs[0].due if self._jobs else None
            candidates = [t for t in (next_minute, next_job) if t is not None and t <= target]
            if not candidates:
                break
            when = min(candidates)
            self.now = max(self.now, when)
            if next_job is not None and when == next_job:
                job = heapq.heappop(self._jobs)
                job.action()
                continue
            self._last_tick = when
            if on_tick is not None:
                on_tick(self.now)
        self.now = target

    def advance(self, seconds: float, on_tick: Callable[[datetime], None] | None = None) -> None:
        self.advance_to(self.now + timedelta(seconds=seconds), on_tick)
