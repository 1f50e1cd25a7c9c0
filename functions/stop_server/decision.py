"""Pure logic: does this alarm action stop the server now?"""

from __future__ import annotations

from dataclasses import dataclass

from cm_common.aws import GroupState
from stop_server.alarm_event import AlarmAction


@dataclass(frozen=True)
class StopDecision:
    stop: bool
    reason: str
    problem: bool = False  # not ours or impossible: an admin must look; retrying cannot fix it


def judge_alarm(alarm: AlarmAction, *, prefix: str, region: str) -> StopDecision | None:
    """Why this alarm action must not stop the server, or ``None`` when it may. Staleness is AWS's job: the
    function's EventInvokeConfig drops an invocation older than MaximumEventAgeInSeconds, retries included."""
    if alarm.region != region or not alarm.alarm_name.startswith(prefix):
        return StopDecision(
            False,
            f"alarm {alarm.alarm_arn} is not one of this container's ({prefix}* in {region})",
            problem=True,
        )
    if alarm.state != "ALARM":
        return StopDecision(False, f"alarm {alarm.alarm_name} is {alarm.state}, not ALARM; nothing to stop")
    return None


def decide_stop(group: GroupState | None, group_name: str, alarm: AlarmAction) -> StopDecision:
    if group is None:
        return StopDecision(False, f"Auto Scaling group {group_name} not found", problem=True)
    if group.desired_capacity == 0:
        return StopDecision(False, f"already stopped or stopping (desired 0; instances {group.summary()})")
    launching = [i for i in group.instances if i.lifecycle_state.startswith("Pending")]
    if launching:
        # A start is under way: the alarm judged datapoints from before it (CloudWatch ingests late). Its
        # startup grace or knock datapoints take the alarm out of ALARM; a later idle period enters it again.
        return StopDecision(
            False,
            f"a start is in progress ({group.summary()}); the alarm's datapoints predate it - not stopped",
        )
    return StopDecision(
        True,
        f"{alarm.alarm_name} entered ALARM: desired {group.desired_capacity} -> 0 (instances {group.summary()})",
    )
