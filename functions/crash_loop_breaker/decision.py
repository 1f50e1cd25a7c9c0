"""Pure logic: is this task event a crash of our container, and does the group need stopping?"""

from __future__ import annotations

from dataclasses import dataclass

from cm_common.aws import GroupState
from crash_loop_breaker.taskevent import TaskStateChange

TASK_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
# Stop codes that mean someone or something meant to stop the task; restarting would not loop.
NORMAL_STOPS = {
    "ServiceSchedulerInitiated": "the service scheduler stopped it (scale-in or deployment)",
    "UserInitiated": "a user stopped it",
    "SpotInterruption": "a Spot interruption stopped it",
    "TerminationNotice": "a Spot termination notice stopped it",
    "InfrastructureHealth": "ECS replaced it for infrastructure health",
}


@dataclass(frozen=True)
class CrashVerdict:
    crash: bool
    reason: str


@dataclass(frozen=True)
class StopDecision:
    stop: bool
    reason: str
    problem: bool = False


def exits(task: TaskStateChange) -> str:
    return ", ".join(f"{c.name}={c.exit_code}" for c in task.containers) or "no containers"


def judge_task(task: TaskStateChange, cluster_arn: str) -> CrashVerdict:
    """Crash = our cluster, STOPPED, and failed to start or an essential container exited non-zero."""
    if task.cluster_arn != cluster_arn:
        # Exact match: a cluster whose name merely starts with ours is another container's.
        return CrashVerdict(False, f"task of another cluster {task.cluster_arn}; ours is {cluster_arn}")
    if task.last_status != "STOPPED":
        return CrashVerdict(False, f"task is {task.last_status}, not STOPPED")
    if task.stop_code == TASK_FAILED_TO_START:
        return CrashVerdict(True, f"task failed to start: {task.stopped_reason or 'no reason given'}")
    if task.stop_code == ESSENTIAL_CONTAINER_EXITED:
        # Any non-zero exit, as the rule's anything-but matches any element of the containers array.
        failed = [c for c in task.containers if c.exit_code is not None and c.exit_code != 0]
        if failed:
            return CrashVerdict(True, f"essential container exited non-zero ({exits(task)})")
        return CrashVerdict(False, f"essential container exited cleanly ({exits(task)}); a normal stop")
    if task.stop_code in NORMAL_STOPS:
        return CrashVerdict(
            False, f"{task.stop_code}: {NORMAL_STOPS[task.stop_code]} ({exits(task)}); not a crash"
        )
    # Unknown or absent stop code: not what the rule routes here, and stopping on a guess costs players.
    return CrashVerdict(False, f"stop code {task.stop_code!r} is not a crash this function acts on")


def decide_stop(group: GroupState | None, group_name: str, region: str) -> StopDecision:
    if group is None:
        return StopDecision(False, f"Auto Scaling group {group_name} not found in {region}", problem=True)
    if group.desired_capacity == 0:
        # A second crash event (or a retry) after we stopped: setting 0 again would change nothing.
        return StopDecision(False, f"already stopped or stopping (desired 0; instances {group.summary()})")
    return StopDecision(
        True,
        f"crash loop broken: desired {group.desired_capacity} -> 0 (instances {group.summary()})",
    )
