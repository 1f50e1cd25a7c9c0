"""stop-server against moto, with the environment template.yaml sets (Given/When/Then)."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.autoscaling.models import autoscaling_backends

from support.deployed import (
    ACCOUNT,
    Deployed,
    desired,
    event,
    invoke,
    invoke_without_change,
    log_lines,
    record_api_calls,
    template_env,
)
from support.deployed import load_handler as _load


@pytest.fixture
def handler(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> ModuleType:
    env = template_env("StopServerFunction", deployed, function_region=deployed.region)
    return _load("stop_server", env, monkeypatch)


def alarm_event(name: str, deployed: Deployed) -> dict[str, Any]:
    raw = copy.deepcopy(event(f"stop-server/{name}.json"))
    assert raw["region"] == deployed.region == "eu-west-1"
    return raw


def server(deployed: Deployed, lifecycle_state: str = "InService") -> None:
    boto3.client("autoscaling", region_name=deployed.region).set_desired_capacity(
        AutoScalingGroupName=deployed.asg_name, DesiredCapacity=1
    )
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.instance_states[0].lifecycle_state = lifecycle_state


@pytest.mark.parametrize("name", ["idle_alarm_entered_alarm", "force_stop_alarm_entered_alarm"])
def test_a_stopping_alarm_sets_desired_capacity_to_zero(
    name: str, deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server runs
    server(deployed)
    # When its idle alarm (or the runaway guard) enters ALARM and invokes the function
    with record_api_calls() as calls:
        result = invoke(handler, alarm_event(name, deployed))
    # Then the group goes to 0 in one call, and the log names the alarm and why
    assert result["action"] == "stopped"
    assert desired(deployed) == 0
    assert calls.mutations == [("autoscaling", "SetDesiredCapacity")]
    (line,) = [line for line in log_lines(capsys.readouterr().out) if line.get("action") == "stopped"]
    assert line["alarm"] == result["alarm"]
    assert "Threshold Crossed" in line["alarm_reason"]


def test_a_start_in_progress_is_not_undone(deployed: Deployed, handler: ModuleType) -> None:
    # Given a knock launched an instance that is still Pending
    server(deployed, "Pending")
    # When the idle alarm enters ALARM on datapoints from before the start
    result, _ = invoke_without_change(handler, alarm_event("idle_alarm_entered_alarm", deployed), deployed)
    # Then nothing changes
    assert result["action"] == "no_change"
    assert desired(deployed) == 1


def test_a_stopped_server_is_left_alone(deployed: Deployed, handler: ModuleType) -> None:
    result, _ = invoke_without_change(handler, alarm_event("idle_alarm_entered_alarm", deployed), deployed)
    assert result["action"] == "no_change"


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("idle_alarm_back_to_ok", "ignored"),
        ("other_container_alarm", "rejected"),
        ("malformed_name_contradicts_arn", "rejected"),
    ],
)
def test_events_that_must_not_stop_change_nothing(
    name: str, action: str, deployed: Deployed, handler: ModuleType
) -> None:
    server(deployed)
    result, _ = invoke_without_change(handler, alarm_event(name, deployed), deployed)
    assert result["action"] == action
    assert desired(deployed) == 1


@pytest.mark.parametrize("payload", [None, {}, [], {"source": "aws.cloudwatch"}, {"awslogs": {"data": "x"}}])
def test_garbage_is_rejected_without_a_change(payload: Any, deployed: Deployed, handler: ModuleType) -> None:
    server(deployed)
    result, _ = invoke_without_change(handler, payload, deployed)
    assert result["action"] == "rejected"
