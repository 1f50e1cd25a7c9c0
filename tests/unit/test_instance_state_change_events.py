"""instance-state-change event parsing: the documented shapes parse, everything else is rejected with a reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cm_common.eventbridge import preview
from cm_common.outcome import RejectedEvent
from cm_common.starting import parse_time
from instance_state_change.asg_event import InstanceEvent, Transition, parse_event
from support.deployed import event

GROUP = "container-manager-minecraft"
SAMPLE_ID = "i-0a3f5c7e9b1d24680"


def sample(name: str, **detail: Any) -> dict[str, Any]:
    raw = copy.deepcopy(event(f"instance-state-change/{name}.json"))
    raw["detail"].update(detail)
    return raw


@pytest.mark.parametrize(
    ("name", "transition", "origin", "destination"),
    [
        ("launch_successful", Transition.LAUNCHED, "EC2", "AutoScalingGroup"),
        ("launch_successful_from_warm_pool", Transition.LAUNCHED, "WarmPool", "AutoScalingGroup"),
        ("launch_successful_into_warm_pool", Transition.LAUNCHED, "EC2", "WarmPool"),
        ("launch_successful_legacy_shape", Transition.LAUNCHED, None, None),
        ("terminate_lifecycle_action", Transition.TERMINATING, "AutoScalingGroup", "EC2"),
        ("terminate_lifecycle_action_into_warm_pool", Transition.TERMINATING, "AutoScalingGroup", "WarmPool"),
        ("terminate_successful", Transition.TERMINATED, "AutoScalingGroup", "EC2"),
        ("terminate_successful_outside_hook", Transition.TERMINATED, "AutoScalingGroup", "EC2"),
    ],
)
def test_documented_shapes_parse(
    name: str, transition: Transition, origin: str | None, destination: str | None
) -> None:
    # Given a sample event in the documented shape - When it is parsed for our group
    parsed = parse_event(sample(name), GROUP)
    # Then the facts the decision needs come out typed
    assert parsed == InstanceEvent(
        event_id=parsed.event_id,
        detail_type=parsed.detail_type,
        transition=transition,
        group_name=GROUP,
        instance_id=SAMPLE_ID,
        origin=origin,
        destination=destination,
        time=parse_time(event(f"instance-state-change/{name}.json")["time"]),
    )
    assert parsed.event_id == event(f"instance-state-change/{name}.json")["id"]
    assert parsed.time is not None


def test_failed_launch_without_an_instance_parses_with_its_reason() -> None:
    # Given AWS's failed launch: no instance was created, so EC2InstanceId is ""
    parsed = parse_event(sample("launch_unsuccessful"), GROUP)
    # Then it is a launch failure naming no instance, with the status message for the log
    assert parsed.transition is Transition.LAUNCH_FAILED
    assert parsed.instance_id == ""
    assert parsed.status_message is not None
    assert parsed.status_message.startswith("We currently do not have sufficient t4g.medium capacity")
    assert parsed.details()["status_message"] == parsed.status_message


def test_failed_launch_that_created_an_instance_names_it() -> None:
    parsed = parse_event(
        sample("launch_unsuccessful", EC2InstanceId=SAMPLE_ID, StatusMessage="x" * 5000), GROUP
    )
    assert parsed.instance_id == SAMPLE_ID
    assert parsed.status_message == "x" * 200  # cut: a log line, not an echo


def test_garbled_event_time_is_dropped_not_trusted() -> None:
    raw = sample("terminate_successful")
    raw["time"] = "soon"
    assert parse_event(raw, GROUP).time is None


def test_old_eight_digit_instance_ids_are_accepted() -> None:
    assert (
        parse_event(sample("launch_successful", EC2InstanceId="i-12345678"), GROUP).instance_id
        == "i-12345678"
    )


def test_event_id_that_is_not_a_string_is_dropped_not_trusted() -> None:
    raw = sample("launch_successful")
    raw["id"] = {"nested": True}
    assert parse_event(raw, GROUP).event_id is None


def _without_detail() -> dict[str, Any]:
    raw = sample("launch_successful")
    del raw["detail"]
    return raw


def _with(**top: Any) -> dict[str, Any]:
    raw = sample("launch_successful")
    raw.update(top)
    return raw


def _without(key: str, name: str = "launch_successful") -> dict[str, Any]:
    raw = sample(name)
    del raw["detail"][key]
    return raw


REJECTED: dict[str, tuple[Any, str]] = {
    "event is a list": ([sample("launch_successful")], "event is a list"),
    "event is a string": ("EC2 Instance Launch Successful", "event is a str"),
    "event is null": (None, "event is a NoneType"),
    "wrong source": (_with(source="aws.ec2"), "source 'aws.ec2' is not 'aws.autoscaling'"),
    "forged custom source": (_with(source="custom.autoscaling"), "is not 'aws.autoscaling'"),
    "terminate unsuccessful": (
        _with(**{"detail-type": "EC2 Instance Terminate Unsuccessful"}),
        "'EC2 Instance Terminate Unsuccessful' is not handled",
    ),
    "failed launch naming garbage": (
        sample("launch_unsuccessful", EC2InstanceId="i-xyz"),
        "EC2InstanceId='i-xyz' does not match",
    ),
    "failed launch with a non-text reason": (
        sample("launch_unsuccessful", StatusMessage=["x"]),
        "StatusMessage is a list",
    ),
    "terminated without an instance": (
        sample("terminate_successful", EC2InstanceId=""),
        "EC2InstanceId='' does not match",
    ),
    "launch lifecycle action": (sample("launch_lifecycle_action"), "'EC2 Instance-launch Lifecycle Action'"),
    "detail-type missing": (_with(**{"detail-type": None}), "detail-type None is not handled"),
    "detail missing": (_without_detail(), "detail is None, expected an object"),
    "detail is a string": (_with(detail="{}"), "detail is '{}', expected an object"),
    "other group": (sample("other_group_launch_successful"), "'container-manager-valheim', not"),
    "group name missing": (_without("AutoScalingGroupName"), "detail.AutoScalingGroupName is missing"),
    "group name a list": (sample("launch_successful", AutoScalingGroupName=[GROUP]), "is a list"),
    "instance id missing": (_without("EC2InstanceId"), "detail.EC2InstanceId is missing"),
    "instance id a number": (sample("launch_successful", EC2InstanceId=1234), "EC2InstanceId is a int"),
    "instance id empty": (sample("launch_successful", EC2InstanceId=""), "EC2InstanceId='' does not match"),
    "instance id upper-case": (
        sample("launch_successful", EC2InstanceId="I-0A3F5C7E9B1D24680"),
        "does not match",
    ),
    "instance id with a shell payload": (
        sample("launch_successful", EC2InstanceId="i-0a3f5c7e9b1d24680; rm -rf /"),
        "does not match",
    ),
    "instance id an ARN": (
        sample("launch_successful", EC2InstanceId=f"arn:aws:ec2:eu-west-1:111122223333:instance/{SAMPLE_ID}"),
        "does not match",
    ),
    "destination not a string": (sample("launch_successful", Destination={"x": 1}), "Destination is a dict"),
    "terminate claiming a launch transition": (
        sample("terminate_lifecycle_action", LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING"),
        "contradicts",
    ),
}


@pytest.mark.parametrize("case", REJECTED, ids=list(REJECTED))
def test_bad_events_are_rejected_with_a_reason(case: str) -> None:
    raw, words = REJECTED[case]
    with pytest.raises(RejectedEvent) as rejected:
        parse_event(raw, GROUP)
    assert words in str(rejected.value)


def test_huge_garbage_is_previewed_not_echoed() -> None:
    # Given a megabyte of garbage where the instance id should be
    raw = sample("launch_successful", EC2InstanceId="i-" + "A" * 1_000_000)
    # When it is rejected - Then the message stays short but says how long the value was
    with pytest.raises(RejectedEvent) as rejected:
        parse_event(raw, GROUP)
    assert len(str(rejected.value)) < 300
    assert "(1000004 chars)" in str(rejected.value)


def test_preview_keeps_short_values_whole() -> None:
    assert preview("i-123") == "'i-123'"
    assert preview("x" * 200, limit=10) == "'xxxxxxxxx... (202 chars)"
