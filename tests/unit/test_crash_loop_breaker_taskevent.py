"""Parsing ECS task state change events: every field the decision reads is typed, or the event is rejected."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from cm_common.outcome import RejectedEvent
from crash_loop_breaker.taskevent import MAX_CONTAINERS, MAX_TEXT, parse_task_event
from support.deployed import EVENTS, event

SAMPLES = sorted(p.stem for p in (EVENTS / "crash-loop-breaker").glob("*.json"))


def sample(name: str = "essential_container_exited_nonzero") -> dict[str, Any]:
    return copy.deepcopy(event(f"crash-loop-breaker/{name}.json"))


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_parses(name: str) -> None:
    task = parse_task_event(sample(name))
    assert task.task_arn.startswith("arn:aws:ecs:eu-west-1:111122223333:task/")


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_realistic_not_placeholders(name: str) -> None:
    # The files double as `sam local invoke -e` inputs: real-looking values only, in the documented shape.
    raw = sample(name)
    text = Path(EVENTS / "crash-loop-breaker" / f"{name}.json").read_text()
    for placeholder in ("yyyy", "EXAMPLE", "0123456789:", "123456789012", "example"):
        assert placeholder not in text
    assert raw["account"] == "111122223333"
    assert raw["time"].startswith("2026-")
    assert raw["detail"]["launchType"] == "EC2"
    assert raw["detail"]["capacityProviderName"]
    assert raw["detail"]["containers"][0]["image"] == "itzg/minecraft-server:java21"
    assert raw["resources"] == [raw["detail"]["taskArn"]]


def test_fields_are_read_with_the_startup_timeline() -> None:
    task = parse_task_event(sample())
    assert task.event_id == sample()["id"]
    assert task.last_status == "STOPPED"
    assert task.stop_code == "EssentialContainerExited"
    assert task.stopped_reason == "Essential container in task exited"
    assert [(c.name, c.exit_code) for c in task.containers] == [("minecraft", 1)]
    assert [key for key, _ in task.timeline] == [
        "createdAt",
        "pullStartedAt",
        "pullStoppedAt",
        "startedAt",
        "stoppingAt",
        "stoppedAt",
    ]


def test_failed_start_has_no_started_at_and_keeps_the_pull_error() -> None:
    task = parse_task_event(sample("task_failed_to_start"))
    assert "startedAt" not in dict(task.timeline)
    assert task.containers[0].exit_code is None
    assert (task.containers[0].reason or "").startswith("CannotPullContainerError")


def test_documented_spot_event_without_containers_parses() -> None:
    # AWS's Spot sample has no containers array at all.
    raw = sample("spot_interruption")
    del raw["detail"]["containers"]
    assert parse_task_event(raw).containers == ()


def test_empty_optional_text_means_not_given() -> None:
    raw = sample()
    raw["detail"]["stoppedReason"] = ""
    assert parse_task_event(raw).stopped_reason is None


def test_long_text_is_clipped_for_the_logs() -> None:
    raw = sample()
    raw["detail"]["stoppedReason"] = "x" * 100_000
    reason = parse_task_event(raw).stopped_reason or ""
    assert len(reason) < MAX_TEXT + 20
    assert reason.endswith("(truncated)")


def _set(path: str, value: Any) -> dict[str, Any]:
    raw = sample()
    target: Any = raw
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return raw


_DELETE = object()

MALFORMED: dict[str, tuple[Any, str]] = {
    "not an object": ([sample()], "event is a list"),
    "null event": (None, "event is a NoneType"),
    "wrong source": (_set("source", "aws.ec2"), "source 'aws.ec2' is not 'aws.ecs'"),
    "spoofed custom source": (_set("source", "aws.ecs.spoof"), "is not 'aws.ecs'"),
    "wrong detail-type": (
        _set("detail-type", "ECS Container Instance State Change"),
        "detail-type 'ECS Container Instance State Change' is not",
    ),
    "no id": (_set("id", _DELETE), "event.id is missing"),
    "detail missing": (_set("detail", _DELETE), "detail is None, expected an object"),
    "detail a string": (_set("detail", "{}"), "detail is '{}', expected an object"),
    "clusterArn missing": (_set("detail.clusterArn", _DELETE), "detail.clusterArn is missing"),
    "taskArn a number": (_set("detail.taskArn", 7), "detail.taskArn is int 7"),
    "lastStatus a list": (_set("detail.lastStatus", ["STOPPED"]), "detail.lastStatus is list"),
    "stopCode an object": (_set("detail.stopCode", {"code": "x"}), "detail.stopCode is dict"),
    "createdAt a number": (_set("detail.createdAt", 1773511480), "detail.createdAt is int"),
    "containers an object": (
        _set("detail.containers", {"name": "minecraft"}),
        "containers is dict, expected a list",
    ),
    "container a string": (_set("detail.containers", ["minecraft"]), "containers[0] is str"),
    "container without name": (_set("detail.containers.0.name", _DELETE), "containers[0].name is missing"),
    "exitCode a string": (
        _set("detail.containers.0.exitCode", "1"),
        "exitCode is str '1', expected an integer",
    ),
    "exitCode a float": (_set("detail.containers.0.exitCode", 1.0), "exitCode is float"),
    "exitCode a boolean": (_set("detail.containers.0.exitCode", True), "exitCode is bool"),
    "huge containers list": (
        _set("detail.containers", [{"name": f"c{i}", "exitCode": 1} for i in range(10_000)]),
        f"more than {MAX_CONTAINERS}",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_events_are_rejected_with_a_reason(case: str) -> None:
    raw, words = MALFORMED[case]
    with pytest.raises(RejectedEvent) as rejected:
        parse_task_event(raw)
    assert words in str(rejected.value)


def test_rejection_reason_does_not_echo_a_huge_value() -> None:
    with pytest.raises(RejectedEvent) as rejected:
        parse_task_event(_set("source", "x" * 100_000))
    assert len(str(rejected.value)) < 200
