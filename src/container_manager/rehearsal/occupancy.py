"""Who holds what, when: the instances alive in each group and the instances that mount each EFS world.

An instance is alive and mounts the container's file systems from its launch (the user data mounts the world
early in boot, so the launch is the earliest it can be mounted) until EC2 has terminated it - through every
``Terminating*`` state, while the old server may still be saving. Two holders of one world at once is the
defect of issue 9 item 5; ``peak`` is how the scenarios assert it never happens.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Stay:
    holder: str
    start: datetime
    end: datetime | None = None  # None: still there


class Occupancy:
    def __init__(self) -> None:
        self._stays: dict[str, list[Stay]] = defaultdict(list)

    def enter(self, place: str, holder: str, at: datetime) -> None:
        self._stays[place].append(Stay(holder, at))

    def leave(self, holder: str, at: datetime) -> None:
        """``holder`` leaves every place it holds (an instance terminated: its mounts are gone with it)."""
        for stays in self._stays.values():
            for stay in stays:
                if stay.holder == holder and stay.end is None:
                    stay.end = at

    def holders(self, place: str) -> list[str]:
        return [s.holder for s in self._stays.get(place, []) if s.end is None]

    def peak(self, place: str, since: datetime, until: datetime) -> int:
        """The most holders ``place`` had at one instant within [since, until]."""
        stays = [
            s for s in self._stays.get(place, []) if s.start <= until and (s.end is None or s.end > since)
        ]
        # At each moment a stay begins (or the window opens), count who is there; a stay ending at t is gone at t.
        moments = {since} | {s.start for s in stays if s.start >= since}
        return max(
            (sum(1 for s in stays if s.start <= t and (s.end is None or s.end > t)) for t in moments),
            default=0,
        )
