"""The EventBridge rules of template.yaml, resolved for a realistic stack, against documented-shape events.

Given the rule pattern CloudFormation would deploy (intrinsics resolved through the real template), when an
AWS-shaped event arrives, then the rule passes exactly the events its function is meant to handle.
"""

from __future__ import annotations

from typing import Any

import pytest
from template_support import ROOT_TEMPLATE, template

from container_manager.intrinsics import Resolver
from container_manager.matching.event_pattern import EventPattern
from support import aws_events as ev

STACK_OUTPUTS = {
    "Compute.Outputs.ClusterArn": ev.CLUSTER_ARN,
    "Compute.Outputs.AutoScalingGroupName": ev.GROUP_NAME,
}


def rule_pattern(function: str, event_name: str) -> EventPattern:
    doc = template(ROOT_TEMPLATE)
    event = doc["Resources"][function]["Properties"]["Events"][event_name]
    assert event["Type"] == "EventBridgeRule", f"{function}.{event_name} is no longer an EventBridge rule"
    resolver = Resolver(doc, parameters={"DeployPart": "all"}, attributes=STACK_OUTPUTS)
    return EventPattern(resolver.resolve(event["Properties"]["Pattern"]))


@pytest.fixture(scope="module")
def crash_rule() -> EventPattern:
    return rule_pattern("CrashLoopBreakerFunction", "TaskCrashed")


@pytest.fixture(scope="module")
def instance_rule() -> EventPattern:
    return rule_pattern("InstanceStateChangeFunction", "InstanceLaunchedOrTerminating")


class TestCrashRule:
    @pytest.mark.parametrize(
        ("kind", "exit_codes"),
        [
            ("task_failed_to_start", ()),
            ("essential_container_exited", (1,)),
            ("essential_container_exited", (137,)),
            ("essential_container_exited", (0, 2)),  # a second container crashed
        ],
    )
    def test_crashes_of_our_task_reach_the_breaker(
        self, crash_rule: EventPattern, kind: str, exit_codes: tuple[int, ...]
    ) -> None:
        assert crash_rule.matches(ev.ecs_task_event(kind, exit_codes=exit_codes))

    def test_the_same_crash_in_another_cluster_is_ignored(self, crash_rule: EventPattern) -> None:
        other = ev.CLUSTER_ARN.replace("container-manager-minecraft", "container-manager-valheim")
        assert not crash_rule.matches(ev.ecs_task_event("essential_container_exited", cluster_arn=other))
        other_account = ev.CLUSTER_ARN.replace(ev.ACCOUNT, "210987654321")
        assert not crash_rule.matches(ev.ecs_task_event("task_failed_to_start", cluster_arn=other_account))

    @pytest.mark.parametrize(
        ("kind", "exit_codes"),
        [
            ("essential_container_exited", (0,)),  # clean exit (e.g. /stop in the console)
            ("essential_container_exited", (None,)),  # no exit code reported
            ("service_scheduler_scale_in", (0,)),  # normal scale-in
            ("service_scheduler_scale_in", (143,)),  # SIGTERM on scale-in is not a crash
            ("user_initiated", (0,)),
            ("user_initiated", (137,)),
            ("spot_interruption", (143,)),
            ("running", ()),
        ],
    )
    def test_non_crashes_are_ignored(
        self, crash_rule: EventPattern, kind: str, exit_codes: tuple[int | None, ...]
    ) -> None:
        assert not crash_rule.matches(ev.ecs_task_event(kind, exit_codes=exit_codes))

    def test_a_stopping_task_not_yet_stopped_is_ignored(self, crash_rule: EventPattern) -> None:
        event = ev.ecs_task_event("essential_container_exited")
        event["detail"]["lastStatus"] = "DEACTIVATING"
        assert not crash_rule.matches(event)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("source", "aws.ec2"),
            ("source", "com.example.spoof"),
            ("detail-type", "ECS Container Instance State Change"),
        ],
    )
    def test_other_sources_and_detail_types_are_ignored(
        self, crash_rule: EventPattern, field: str, value: str
    ) -> None:
        event: dict[str, Any] = ev.ecs_task_event("task_failed_to_start")
        event[field] = value
        assert not crash_rule.matches(event)


class TestInstanceRule:
    @pytest.mark.parametrize(
        "detail_type",
        [
            "EC2 Instance Launch Successful",
            "EC2 Instance-terminate Lifecycle Action",
            # the safety nets: a termination outside the hook, a failed launch
            "EC2 Instance Terminate Successful",
            "EC2 Instance Launch Unsuccessful",
        ],
    )
    def test_launch_and_terminate_hook_of_our_group_reach_the_function(
        self, instance_rule: EventPattern, detail_type: str
    ) -> None:
        assert instance_rule.matches(ev.asg_event(detail_type))

    @pytest.mark.parametrize(
        "detail_type", ["EC2 Instance Launch Successful", "EC2 Instance-terminate Lifecycle Action"]
    )
    def test_other_groups_are_ignored(self, instance_rule: EventPattern, detail_type: str) -> None:
        for group in (
            "container-manager-valheim",
            "container-manager-minecraft-2",
            "Container-Manager-Minecraft",
        ):
            assert not instance_rule.matches(ev.asg_event(detail_type, group_name=group)), group

    @pytest.mark.parametrize(
        "detail_type",
        ["EC2 Instance-launch Lifecycle Action"],
    )
    def test_other_auto_scaling_events_are_ignored(
        self, instance_rule: EventPattern, detail_type: str
    ) -> None:
        assert not instance_rule.matches(ev.asg_event(detail_type))

    @pytest.mark.parametrize("source", ["aws.ec2", "aws.ecs", "com.example.spoof"])
    def test_other_sources_are_ignored(self, instance_rule: EventPattern, source: str) -> None:
        assert not instance_rule.matches(ev.asg_event("EC2 Instance Launch Successful", source=source))
