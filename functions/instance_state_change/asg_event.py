"""Pure logic: turn an EC2 Auto Scaling EventBridge event into the few facts the DNS decision needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cm_common.config import INSTANCE_ID_RE
from cm_common.eventbridge import parse_envelope, preview, text_field, text_or_none
from cm_common.outcome import RejectedEvent
from cm_common.starting import parse_time

SOURCE = "aws.autoscaling"
LAUNCH_SUCCESSFUL = "EC2 Instance Launch Successful"
LAUNCH_UNSUCCESSFUL = "EC2 Instance Launch Unsuccessful"
TERMINATE_ACTION = "EC2 Instance-terminate Lifecycle Action"
TERMINATE_SUCCESSFUL = "EC2 Instance Terminate Successful"
TERMINATING_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING"
WARM_POOL = "WarmPool"

# Origin/Destination are short documented words (EC2, AutoScalingGroup, WarmPool); anything else is garbage.
PLACE_RE = re.compile(r"[A-Za-z0-9]{1,32}")


STATUS_PREVIEW_CHARS = 200


class Transition(StrEnum):
    LAUNCHED = "launched"
    TERMINATING = "terminating"  # the termination hook holds it (early: the world may still be saving)
    TERMINATED = "terminated"  # gone, with or without a hook (the safety net for terminations outside it)
    LAUNCH_FAILED = "launch_failed"  # no server came up (capacity, quota, a bad launch template)


_TRANSITIONS = {
    LAUNCH_SUCCESSFUL: Transition.LAUNCHED,
    TERMINATE_ACTION: Transition.TERMINATING,
    TERMINATE_SUCCESSFUL: Transition.TERMINATED,
    LAUNCH_UNSUCCESSFUL: Transition.LAUNCH_FAILED,
}


@dataclass(frozen=True)
class InstanceEvent:
    event_id: str | None
    detail_type: str
    transition: Transition
    group_name: str
    # "" only for a failed launch that created no instance (AWS then sends EC2InstanceId "").
    instance_id: str
    # Absent in the pre-2023 documented shape; present (EC2, AutoScalingGroup, WarmPool) today.
    origin: str | None
    destination: str | None
    time: datetime | None = None  # the envelope's time: when it happened (None when absent or garbled)
    status_message: str | None = None  # a failed launch's reason, cut to STATUS_PREVIEW_CHARS

    def details(self) -> dict[str, Any]:
        details = {
            "detail_type": self.detail_type,
            "instance_id": self.instance_id,
            "group": self.group_name,
            "origin": self.origin,
            "destination": self.destination,
        }
        if self.status_message is not None:
            details["status_message"] = self.status_message
        return details


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
    status = None
    if transition is Transition.LAUNCH_FAILED:
        # The documented failure may name no instance: none was created (e.g. no capacity in the zone).
        instance_id = text_field(detail, "EC2InstanceId")
        if instance_id and not INSTANCE_ID_RE.fullmatch(instance_id):
            raise RejectedEvent(
                f"detail.EC2InstanceId={preview(instance_id)} does not match {INSTANCE_ID_RE.pattern}"
            )
        message = text_or_none(detail, "StatusMessage")
        status = None if message is None else message[:STATUS_PREVIEW_CHARS]
    else:
        instance_id = text_field(detail, "EC2InstanceId", pattern=INSTANCE_ID_RE)
    event_id = event.get("id")
    when = event.get("time")
    return InstanceEvent(
        event_id=event_id if isinstance(event_id, str) else None,
        detail_type=event.detail_type,
        transition=transition,
        group_name=group,
        instance_id=instance_id,
        origin=text_or_none(detail, "Origin", pattern=PLACE_RE),
        destination=text_or_none(detail, "Destination", pattern=PLACE_RE),
        time=parse_time(when) if isinstance(when, str) else None,
        status_message=status,
    )
