"""Pure logic: validate an EventBridge ``ECS Task State Change`` event into a typed task, or reject it.

Everything the decision reads is type-checked here, so a malformed or hostile event is rejected with a
reason before any AWS call, instead of raising (retries) or being half-understood.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cm_common.eventbridge import parse_envelope, preview
from cm_common.outcome import RejectedEvent

SOURCE = "aws.ecs"
DETAIL_TYPE = "ECS Task State Change"
# A task definition holds at most 10 containers; ECS-managed sidecars add a few. Far more is not ECS.
MAX_CONTAINERS = 50
# Longest text copied into a log line; ECS reasons are far shorter, a hostile event may not be.
MAX_TEXT = 512
# The task's startup timeline (and its end), logged so a crash can be told apart from a slow pull.
TIMELINE_FIELDS = ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "stoppedAt")


@dataclass(frozen=True)
class ContainerState:
    name: str
    exit_code: int | None
    reason: str | None


@dataclass(frozen=True)
class TaskStateChange:
    event_id: str
    cluster_arn: str
    task_arn: str
    last_status: str
    desired_status: str | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[ContainerState, ...]
    timeline: tuple[tuple[str, str], ...]


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "...(truncated)"


def _required(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        state = "missing" if value is None else f"{type(value).__name__} {preview(value)}"
        raise RejectedEvent(f"{where}.{key} is {state}, expected a non-empty string")
    return clip(value)


def _optional(data: Mapping[str, Any], key: str, where: str) -> str | None:
    # Absent, null or "" all mean "not given" for descriptive fields; another type is malformed.
    return None if data.get(key) in (None, "") else _required(data, key, where)


def _exit_code(container: Mapping[str, Any], where: str) -> int | None:
    value = container.get("exitCode")
    # bool is an int in Python; JSON true is not an exit code.
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise RejectedEvent(f"{where}.exitCode is {type(value).__name__} {preview(value)}, expected an integer")


def _containers(detail: Mapping[str, Any]) -> tuple[ContainerState, ...]:
    raw = detail.get("containers")
    if raw is None:
        return ()  # documented: the Spot interruption event carries no containers
    if not isinstance(raw, list):
        raise RejectedEvent(f"detail.containers is {type(raw).__name__}, expected a list")
    if len(raw) > MAX_CONTAINERS:
        raise RejectedEvent(
            f"detail.containers has {len(raw)} entries; more than {MAX_CONTAINERS} is not a task"
        )
    containers = []
    for index, item in enumerate(raw):
        where = f"detail.containers[{index}]"
        if not isinstance(item, Mapping):
            raise RejectedEvent(f"{where} is {type(item).__name__}, expected an object")
        containers.append(
            ContainerState(
                name=_required(item, "name", where),
                exit_code=_exit_code(item, where),
                reason=_optional(item, "reason", where),
            )
        )
    return tuple(containers)


def parse_task_event(raw: Any) -> TaskStateChange:
    """An EventBridge ECS task state change -> ``TaskStateChange``, or ``RejectedEvent`` saying what is wrong."""
    event = parse_envelope(raw, source=SOURCE, detail_types=(DETAIL_TYPE,))
    event_id = _required(event, "id", "event")
    detail = event.detail
    timeline = tuple(
        (key, stamp) for key in TIMELINE_FIELDS if (stamp := _optional(detail, key, "detail")) is not None
    )
    return TaskStateChange(
        event_id=event_id,
        cluster_arn=_required(detail, "clusterArn", "detail"),
        task_arn=_required(detail, "taskArn", "detail"),
        last_status=_required(detail, "lastStatus", "detail"),
        desired_status=_optional(detail, "desiredStatus", "detail"),
        stop_code=_optional(detail, "stopCode", "detail"),
        stopped_reason=_optional(detail, "stoppedReason", "detail"),
        containers=_containers(detail),
        timeline=timeline,
    )
