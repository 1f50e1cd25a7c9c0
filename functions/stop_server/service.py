"""The one domain call of stop-server: from an alarm's Lambda action to a stopped (or untouched) server."""

from __future__ import annotations

from typing import Any

from cm_common.aws import AutoScaling
from cm_common.outcome import Action, Outcome, RejectedEvent
from stop_server.alarm_event import parse_alarm_event
from stop_server.decision import decide_stop, judge_alarm
from stop_server.settings import Settings


def stop_on_alarm(event: Any, settings: Settings, groups: AutoScaling) -> Outcome:
    try:
        alarm = parse_alarm_event(event)
    except RejectedEvent as exc:
        return Outcome(Action.REJECTED, str(exc))
    details = alarm.details()
    refusal = judge_alarm(alarm, prefix=settings.alarm_prefix, region=settings.region)
    decision = refusal or decide_stop(groups.describe(settings.asg_name), settings.asg_name, alarm)
    if decision.problem:
        return Outcome(Action.REJECTED, decision.reason, details)
    if not decision.stop:
        return Outcome(Action.NO_CHANGE if refusal is None else Action.IGNORED, decision.reason, details)
    groups.set_desired_capacity(settings.asg_name, 0)
    return Outcome(Action.STOPPED, decision.reason, details)
