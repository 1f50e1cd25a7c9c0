"""Pure logic: the few facts of a CloudWatch alarm's Lambda-action event that the stop needs.

Shape: "Event object sent from CloudWatch to Lambda", CloudWatch User Guide, "Lambda alarm actions"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-actions-Lambda.html):
``{"source": "aws.cloudwatch", "alarmArn", "accountId", "time", "region", "alarmData": {"alarmName",
"state": {"value", "reason", "timestamp"}, "previousState", "configuration"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cm_common.eventbridge import preview, text_field
from cm_common.outcome import RejectedEvent

SOURCE = "aws.cloudwatch"
ALARM_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:cloudwatch:([a-z0-9-]{1,32}):(\d{12}):alarm:([^\x00-\x1f\x7f]{1,255})"
)
REASON_CHARS = 300


@dataclass(frozen=True)
class AlarmAction:
    alarm_arn: str
    region: str
    account: str
    alarm_name: str
    state: str
    previous_state: str | None
    reason: str
    changed_at: datetime  # when the alarm entered this state (for logs)

    def details(self) -> dict[str, Any]:
        return {
            "alarm": self.alarm_name,
            "state": self.state,
            "previous_state": self.previous_state,
            "alarm_reason": self.reason,
            "changed_at": self.changed_at.isoformat(),
        }


def parse_timestamp(value: str, where: str) -> datetime:
    """CloudWatch writes ``2023-08-04T12:36:15.490+0000`` (no colon in the offset); accept ISO forms too."""
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise RejectedEvent(f"{where}={preview(value)} is not a timestamp") from exc
    if parsed.tzinfo is None:
        raise RejectedEvent(f"{where}={preview(value)} has no time zone")
    return parsed


def _mapping(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        raise RejectedEvent(f"{where}.{key} is {preview(value)}, expected an object")
    return value


def parse_alarm_event(raw: Any) -> AlarmAction:
    """The alarm's facts, or ``RejectedEvent`` naming what is missing or malformed."""
    if not isinstance(raw, Mapping):
        raise RejectedEvent(f"event is a {type(raw).__name__}, expected a CloudWatch alarm action object")
    if raw.get("source") != SOURCE:
        raise RejectedEvent(f"source {preview(raw.get('source'))} is not {SOURCE!r}")
    arn = text_field(raw, "alarmArn", pattern=ALARM_ARN_RE, where="event")
    match = ALARM_ARN_RE.fullmatch(arn)
    assert match is not None  # text_field checked it
    data = _mapping(raw, "alarmData", "event")
    state = _mapping(data, "state", "alarmData")
    previous = data.get("previousState")
    previous_value = previous.get("value") if isinstance(previous, Mapping) else None
    name = text_field(data, "alarmName", where="alarmData")
    if name != match.group(3):
        raise RejectedEvent(f"alarmData.alarmName {preview(name)} contradicts alarmArn {preview(arn)}")
    reason = state.get("reason")
    return AlarmAction(
        alarm_arn=arn,
        region=match.group(1),
        account=match.group(2),
        alarm_name=name,
        state=text_field(state, "value", where="alarmData.state"),
        previous_state=previous_value if isinstance(previous_value, str) else None,
        reason=reason[:REASON_CHARS] if isinstance(reason, str) else "",
        changed_at=parse_timestamp(
            text_field(state, "timestamp", where="alarmData.state"), "state.timestamp"
        ),
    )
