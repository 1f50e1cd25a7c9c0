"""stop-server's pure logic: the alarm-action payload and the stop decision (Given/When/Then)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cm_common.aws import GroupInstance, GroupState
from cm_common.outcome import RejectedEvent
from stop_server.alarm_event import parse_alarm_event, parse_timestamp
from stop_server.decision import decide_stop, judge_alarm

EVENTS = Path(__file__).resolve().parents[2] / "events" / "stop-server"
SHARED_SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"
PREFIX = "container-manager-minecraft-"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def group(desired: int, *states: str) -> GroupState:
    instances = tuple(GroupInstance(f"i-0{n:016x}", s) for n, s in enumerate(states))
    return GroupState("container-manager-minecraft", desired, 1, instances)


def test_the_idle_alarm_entering_alarm_stops_a_running_server() -> None:
    alarm = parse_alarm_event(sample("idle_alarm_entered_alarm.json"))
    assert alarm.alarm_name == "container-manager-minecraft-idle"
    assert (alarm.region, alarm.account, alarm.state, alarm.previous_state) == (
        "eu-west-1",
        "111122223333",
        "ALARM",
        "OK",
    )
    assert judge_alarm(alarm, prefix=PREFIX, region="eu-west-1") is None
    decision = decide_stop(group(1, "InService"), "container-manager-minecraft", alarm)
    assert decision.stop
    assert "desired 1 -> 0" in decision.reason


def test_a_server_already_at_zero_is_left_alone() -> None:
    alarm = parse_alarm_event(sample("idle_alarm_entered_alarm.json"))
    decision = decide_stop(group(0, "Terminating:Wait"), "container-manager-minecraft", alarm)
    assert not decision.stop
    assert not decision.problem


@pytest.mark.parametrize("state", ["Pending", "Pending:Wait", "Pending:Proceed"])
def test_a_start_in_progress_is_never_undone(state: str) -> None:
    # Given a knock launched an instance, and the alarm judged datapoints from before it (CloudWatch ingests late)
    alarm = parse_alarm_event(sample("idle_alarm_entered_alarm.json"))
    # When the alarm's transition into ALARM invokes the stop
    decision = decide_stop(group(1, state), "container-manager-minecraft", alarm)
    # Then the start stands
    assert not decision.stop
    assert "start is in progress" in decision.reason


def test_an_ok_transition_stops_nothing() -> None:
    alarm = parse_alarm_event(sample("idle_alarm_back_to_ok.json"))
    refusal = judge_alarm(alarm, prefix=PREFIX, region="eu-west-1")
    assert refusal is not None
    assert not refusal.stop
    assert not refusal.problem


@pytest.mark.parametrize(
    ("name", "region"),
    [("other_container_alarm.json", "eu-west-1"), ("idle_alarm_entered_alarm.json", "us-east-1")],
)
def test_an_alarm_of_another_container_or_region_is_rejected(name: str, region: str) -> None:
    refusal = judge_alarm(parse_alarm_event(sample(name)), prefix=PREFIX, region=region)
    assert refusal is not None
    assert refusal.problem


def test_the_documented_aws_sample_payloads_parse() -> None:
    # AWS's own examples (CloudWatch User Guide "Lambda alarm actions"; Powertools' capture), copied in the repo
    for name in (
        "cloudwatch_alarm_lambda_action_metric_alarm.json",
        "cloudwatch_alarm_lambda_action_metric_math_powertools.json",
    ):
        raw = json.loads((SHARED_SHAPES / name).read_text())
        if raw["alarmData"]["alarmName"] != raw["alarmArn"].rsplit(":", 1)[-1]:
            # The Powertools capture names an alarm its ARN does not: as published, and rejected as contradictory.
            with pytest.raises(RejectedEvent, match="contradicts"):
                parse_alarm_event(raw)
            continue
        alarm = parse_alarm_event(raw)
        assert alarm.state == "ALARM"
        refusal = judge_alarm(alarm, prefix=PREFIX, region=alarm.region)
        assert refusal is not None
        assert refusal.problem


def _mutated(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(sample("idle_alarm_entered_alarm.json"))
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("source",), "aws.events", "source"),
        (("alarmArn",), "arn:aws:sns:eu-west-1:111122223333:topic", "alarmArn"),
        (("alarmArn",), ["x"], "alarmArn"),
        (("alarmArn",), KeyError, "alarmArn is missing"),
        (("alarmData",), "x", "alarmData"),
        (("alarmData", "state"), None, "state"),
        (("alarmData", "state", "value"), 1, "value"),
        (("alarmData", "state", "timestamp"), "yesterday", "timestamp"),
        (("alarmData", "state", "timestamp"), "2026-11-20T20:14:00", "time zone"),
        (("alarmData", "alarmName"), "container-manager-minecraft-other", "contradicts"),
    ],
)
def test_malformed_payloads_are_rejected_naming_the_field(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    with pytest.raises(RejectedEvent, match=message):
        parse_alarm_event(_mutated(path, value))


@pytest.mark.parametrize("raw", [None, [], "ALARM", 7])
def test_non_objects_are_rejected(raw: Any) -> None:
    with pytest.raises(RejectedEvent, match="expected a CloudWatch alarm action object"):
        parse_alarm_event(raw)


def test_cloudwatch_timestamps_without_an_offset_colon_parse() -> None:
    assert parse_timestamp("2023-08-04T12:36:15.490+0000", "t").utcoffset() is not None
    assert parse_timestamp("2023-08-04T12:36:15Z", "t").utcoffset() is not None
