"""The one domain call of crash-loop-breaker: from a task state change to a stopped (or untouched) server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cm_common.aws import AutoScaling
from cm_common.outcome import Action, Outcome, RejectedEvent
from crash_loop_breaker.decision import decide_stop, judge_task
from crash_loop_breaker.settings import Settings
from crash_loop_breaker.taskevent import TaskStateChange, clip, parse_task_event


@dataclass
class CrashReport:
    outcome: Outcome
    crash: bool = False
    correlation_id: str | None = None


def task_details(task: TaskStateChange) -> dict[str, Any]:
    """What an operator needs to see why the task stopped, without opening the ECS console."""
    return {
        "task_arn": task.task_arn,
        "cluster_arn": task.cluster_arn,
        "last_status": task.last_status,
        "stop_code": task.stop_code,
        "stopped_reason": task.stopped_reason,
        "containers": [
            {"name": c.name, "exit_code": c.exit_code, "reason": c.reason} for c in task.containers
        ],
        "timeline": dict(task.timeline),
    }


def _event_id(event: Any) -> str | None:
    """Best effort, so even a rejected event can be traced back to its delivery."""
    event_id = event.get("id") if isinstance(event, dict) else None
    return clip(event_id) if isinstance(event_id, str) and event_id else None


def break_crash_loop(event: Any, settings: Settings, groups: AutoScaling) -> CrashReport:
    try:
        task = parse_task_event(event)
    except RejectedEvent as exc:
        return CrashReport(Outcome(Action.REJECTED, str(exc)), correlation_id=_event_id(event))
    details = task_details(task)
    verdict = judge_task(task, settings.cluster_arn)
    if not verdict.crash:
        return CrashReport(Outcome(Action.IGNORED, verdict.reason, details), correlation_id=task.event_id)

    details["crash"] = verdict.reason
    decision = decide_stop(groups.describe(settings.asg_name), settings.asg_name, settings.region)
    if decision.problem:
        outcome = Outcome(Action.REJECTED, decision.reason, details)
    elif decision.stop:
        groups.set_desired_capacity(settings.asg_name, 0)
        outcome = Outcome(Action.STOPPED, decision.reason, details)
    else:
        outcome = Outcome(Action.NO_CHANGE, decision.reason, details)
    return CrashReport(outcome, crash=True, correlation_id=task.event_id)
