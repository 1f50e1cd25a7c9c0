"""The event builders in tests/support/aws_events.py keep AWS's documented shapes.

The rule tests are only as good as their events: given AWS's published samples (tests/fixtures/aws-events, each
file's origin in its SOURCES.md), each built event has exactly the sample's keys, at every level, and no
placeholder values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import aws_events as ev

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in ``value``; array elements are merged under ``[]``."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text(encoding="utf-8")))


ASG_FILES = {
    "EC2 Instance Launch Successful": "asg_instance_launch_successful.json",
    "EC2 Instance Launch Unsuccessful": "asg_instance_launch_unsuccessful.json",
    "EC2 Instance Terminate Successful": "asg_instance_terminate_successful.json",
    "EC2 Instance-launch Lifecycle Action": "asg_instance_launch_lifecycle_action.json",
    "EC2 Instance-terminate Lifecycle Action": "asg_instance_terminate_lifecycle_action.json",
}
ECS_FILES = {
    "essential_container_exited": "ecs_task_state_change_stopped_essential_container_exited.derived.json",
    "task_failed_to_start": "ecs_task_state_change_stopped_task_failed_to_start.derived.json",
    "service_scheduler_scale_in": "ecs_task_state_change_stopped_service_scheduler_scale_in.derived.json",
    "user_initiated": "ecs_task_state_change_stopped_user_initiated.json",
}
PLACEHOLDERS = ("yyyy", "auto-scaling-group-arn", "instance-arn", "description-text", "my-asg", "0123456789:")


@pytest.mark.parametrize(("detail_type", "file"), ASG_FILES.items())
def test_auto_scaling_events_have_the_documented_keys(detail_type: str, file: str) -> None:
    built = ev.asg_event(detail_type)
    documented = sample(file)
    assert key_paths(built) == key_paths(documented)
    assert built["detail-type"] == documented["detail-type"]
    assert built["detail"]["Origin"] == documented["detail"]["Origin"]
    assert built["detail"]["Destination"] == documented["detail"]["Destination"]
    assert len(built["resources"]) == len(documented["resources"])


@pytest.mark.parametrize(("kind", "file"), ECS_FILES.items())
def test_stopped_task_events_have_the_documented_keys(kind: str, file: str) -> None:
    built = ev.ecs_task_event(kind, exit_codes=(0,))
    documented = sample(file)
    assert key_paths(built) - {"detail.containers[].networkInterfaces[]"} == key_paths(documented) - {
        "detail.containers[].networkBindings",
        "detail.containers[].networkBindings[]",
        "detail.containers[].networkBindings[].bindIP",
        "detail.containers[].networkBindings[].containerPort",
        "detail.containers[].networkBindings[].hostPort",
        "detail.containers[].networkBindings[].protocol",
        "detail.attachments[]",
        "detail.attachments[].id",
        "detail.attachments[].type",
        "detail.attachments[].status",
        "detail.attachments[].details",
    }  # host network mode: no port bindings, no task ENI attachment
    for field in ("stopCode", "desiredStatus", "lastStatus", "launchType"):
        assert built["detail"][field] == documented["detail"][field], field


def test_running_task_event_keys_are_documented() -> None:
    documented = key_paths(sample("ecs_task_state_change_running_ec2.json")) | key_paths(
        sample(ECS_FILES["user_initiated"])
    )
    stopped_only = {"detail.stopCode", "detail.stoppedReason", "detail.stoppingAt", "detail.stoppedAt"}
    built = key_paths(ev.ecs_task_event("running"))
    assert built <= documented
    assert not built & stopped_only


@pytest.mark.parametrize(
    "event",
    [ev.asg_event(t) for t in ev.ASG_DETAIL_TYPES] + [ev.ecs_task_event(k) for k in ev.ECS_TASK_KINDS],
    ids=[*ev.ASG_DETAIL_TYPES, *ev.ECS_TASK_KINDS],
)
def test_built_events_hold_no_placeholders(event: dict[str, Any]) -> None:
    text = json.dumps(event)
    assert not [p for p in PLACEHOLDERS if p in text]


def test_documented_query_log_lines_are_the_published_ones() -> None:
    published = [
        line
        for name in ("route53_query_log_lines.txt", "route53_query_log_lines_2021_with_edge_codes.txt")
        for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert list(ev.ROUTE53_DOCUMENTED_LINES) == published


def test_built_query_log_line_has_the_documented_ten_fields() -> None:
    documented = ev.ROUTE53_DOCUMENTED_LINES[5].split(" ")
    built = ev.query_log_line("minecraft.example.com", "A").split(" ")
    assert len(built) == len(documented) == 10
    assert built[0] == documented[0] == "1.0"
    assert built[3:5] == ["minecraft.example.com", "A"]


def test_every_sample_here_says_where_it_came_from() -> None:
    # Given the copied samples, Then SOURCES.md has a row naming each one (and no row for a file not here)
    rows = {
        line.split("|")[1].strip()
        for line in (SAMPLES / "SOURCES.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().endswith((".json", ".txt"))
    }
    assert rows == {p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.md"}
