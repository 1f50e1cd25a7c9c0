"""Pure logic: turn an EC2 Auto Scaling EventBridge event into the few facts the DNS decision needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cm_common.eventbridge import parse_envelope, preview, text_field, text_or_none
from cm_common.outcome import RejectedEvent

SOURCE = "aws.autoscaling"
LAUNCH_SUCCESSFUL = "EC2 Instance Launch Successful"
TERMINATE_ACTION = "EC2 Instance-terminate Lifecycle Action"
TERMINATING_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING"
WARM_POOL = "WarmPool"

# Documented EC2 instance ids: "i-" and 8 (old) or 17 hex digits.
INSTANCE_ID_RE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# Origin/Destination are short documented words (EC2, AutoScalingGroup, WarmPool); anything else is garbage.
PLACE_RE = re.compile(r"[A-Za-z0-9]{1,32}")


class Transition(StrEnum):
    LAUNCHED = "launched"
    TERMINATING = "terminating"


_TRANSITIONS = {LAUNCH_SUCCESSFUL: Transition.LAUNCHED, TERMINATE_ACTION: Transition.TERMINATING}


@dataclass(frozen=True)
class InstanceEvent:
    event_id: str | None
    detail_type: str
    transition: Transition
    group_name: str
    instance_id: str
    # Absent in the pre-2023 documented shape; present (EC2, AutoScalingGroup, WarmPool) today.
    origin: str | None
    destination: str | None

    def details(self) -> dict[str, Any]:
        return {
            "detail_type": self.detail_type,
            "instance_id": self.instance_id,
            "group": self.group_name,
            "origin": self.origin,
            "destination": self.destination,
        }


def parse_event(raw: Any, group_name: str) -> InstanceEvent:
    """The event's facts, or ``RejectedEvent`` when it is malformed, of another kind, or for another group."""
    event = parse_envelope(raw, source=SOURCE, detail_types=_TRANSITIONS)
    detail = event.detail
    group = text_field(detail, "AutoScalingGroupName")
    if group != group_name:
        raise RejectedEvent(f"event is for Auto Scaling group {preview(group)}, not {group_name!r}")
    transition = _TRANSITIONS[event.detail_type]
    if transition is Transition.TERMINATING:
        # A terminate action must say it is one; a contradicting transition means a forged or garbled event.
        lifecycle = text_or_none(detail, "LifecycleTransition")
        if lifecycle is not None and lifecycle != TERMINATING_TRANSITION:
            raise RejectedEvent(
                f"detail.LifecycleTransition {preview(lifecycle)} contradicts {TERMINATE_ACTION!r}"
            )
    event_id = event.get("id")
    return InstanceEvent(
        event_id=event_id if isinstance(event_id, str) else None,
        detail_type=event.detail_type,
        transition=transition,
        group_name=group,
        instance_id=text_field(detail, "EC2InstanceId", pattern=INSTANCE_ID_RE),
        origin=text_or_none(detail, "Origin", pattern=PLACE_RE),
        destination=text_or_none(detail, "Destination", pattern=PLACE_RE),
    )
