"""What a handler decided, in one shape for logs, metrics and the invocation result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    STARTED = "started"
    DEFERRED = "deferred"  # a knock during a drain: recorded, the server starts when the old instance is gone
    STOPPED = "stopped"
    DNS_UPDATED = "dns_updated"
    NO_CHANGE = "no_change"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Outcome:
    action: Action
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_result(self) -> dict[str, Any]:
        return {"action": str(self.action), "reason": self.reason, **self.details}


class RejectedEvent(ValueError):
    """The event is malformed or not ours. Retrying cannot fix it, so handlers log and return instead."""
