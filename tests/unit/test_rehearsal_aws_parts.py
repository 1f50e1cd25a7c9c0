"""The simulated AWS parts against a deployed world (moto): Auto Scaling lifecycle and its events, ECS tasks,
rule routing, the subscription filter, Route 53 query logging, the Lambda service's retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from container_manager.rehearsal.aws_parts import Cloud, EventBus
from container_manager.rehearsal.occupancy import Occupancy
from container_manager.rehearsal.world import ACCOUNT
from support.rehearsal_world import in_world


def detail_types(cloud: Cloud) -> list[str]:
    return [str(event["detail-type"]) for _, event in cloud.bus.delivered]


def test_launch_and_scale_in_follow_the_lifecycle_with_the_draining_hook() -> None:
    def check(cloud: Cloud) -> None:
        world = cloud.world
        (group,) = world.groups.values()
        assert group.termination_hooks == ["ecs-managed-draining-termination-hook"]
        autoscaling = world.client("autoscaling", group.region)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
        cloud.autoscaling.reconcile()
        (tracked,) = cloud.autoscaling.instances.values()
        assert tracked.phase == "Pending"
        assert world.group_state(group)["Instances"][0]["LifecycleState"] == "Pending"
        cloud.advance(180)  # boot, then the DAEMON task starts
        assert tracked.phase == "InService"
        assert "EC2 Instance Launch Successful" in detail_types(cloud)
        assert cloud.ecs.running(tracked.instance_id) is not None
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=0)
        cloud.autoscaling.reconcile()
        assert tracked.phase == "Terminating:Wait"
        assert detail_types(cloud)[-1] == "EC2 Instance-terminate Lifecycle Action"
        cloud.advance(120)
        assert tracked.phase == "Terminated"
        assert world.group_state(group)["Instances"] == []
        assert detail_types(cloud)[-1] == "EC2 Instance Terminate Successful"
        # the launch, terminate-lifecycle and terminate-successful events reached instance-state-change
        invoked = [i.function.short for i in cloud.lambdas.invocations]
        assert invoked.count("instance-state-change") == 3

    in_world(check)


def test_without_a_termination_hook_there_is_no_lifecycle_action_event() -> None:
    def check(cloud: Cloud) -> None:
        (group,) = cloud.world.groups.values()
        group.termination_hooks.clear()
        autoscaling = cloud.world.client("autoscaling", group.region)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
        cloud.advance(120)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=0)
        cloud.autoscaling.reconcile()
        assert "EC2 Instance-terminate Lifecycle Action" not in detail_types(cloud)
        assert detail_types(cloud)[-1] == "EC2 Instance Terminate Successful"

    in_world(check)


def test_terminating_instances_do_not_count_toward_desired_capacity() -> None:
    """AWS detaches a terminating instance from the group: a desired capacity raised during a drain launches a
    replacement at once (the defect issue 9 item 5 fixes in start-system; the rehearsal must be able to show it)."""

    def check(cloud: Cloud) -> None:
        (group,) = cloud.world.groups.values()
        autoscaling = cloud.world.client("autoscaling", group.region)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
        cloud.advance(120)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=0)
        cloud.autoscaling.reconcile()
        (old,) = cloud.autoscaling.instances.values()
        assert old.phase == "Terminating:Wait"
        # When desired becomes 1 again (set on the group itself: the model, not moto's own count, decides)
        from moto.autoscaling.models import autoscaling_backends

        autoscaling_backends[ACCOUNT][group.region].autoscaling_groups[group.name].desired_capacity = 1
        cloud.autoscaling.reconcile()
        # Then a second instance launches while the first still drains, and both hold the world
        phases = sorted(t.phase for t in cloud.autoscaling.instances.values())
        assert phases == ["Pending", "Terminating:Wait"]
        now = cloud.world.clock.now
        assert cloud.autoscaling.occupancy.peak(group.name, now, now) == 2
        (fs, _), *_ = cloud.world.file_systems
        assert sorted(cloud.autoscaling.occupancy.holders(fs)) == sorted(cloud.autoscaling.instances)
        # And once the first is terminated (released within StopTimeoutSeconds + 2 min) it holds nothing any more
        cloud.advance(300)
        assert cloud.autoscaling.occupancy.holders(fs) == [
            t.instance_id for t in cloud.autoscaling.active(group)
        ]

    in_world(check)


def test_occupancy_peak_counts_holders_at_the_same_instant_only() -> None:
    start = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    at = [start + timedelta(minutes=m) for m in range(10)]
    places = Occupancy()
    places.enter("fs", "a", at[0])
    places.leave("a", at[2])
    places.enter("fs", "b", at[2])  # the moment a leaves: never together
    assert places.peak("fs", at[0], at[5]) == 1
    places.enter("fs", "c", at[3])  # b still there
    assert places.peak("fs", at[0], at[5]) == 2
    assert places.peak("fs", at[0], at[1]) == 1  # the window before c came
    assert places.peak("other", at[0], at[9]) == 0


def test_crash_event_matches_the_crash_rule_and_a_drain_stop_does_not() -> None:
    def check(cloud: Cloud) -> None:
        (group,) = cloud.world.groups.values()
        autoscaling = cloud.world.client("autoscaling", group.region)
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
        cloud.advance(240)
        (tracked,) = cloud.autoscaling.instances.values()
        assert cloud.ecs.crash_loop(tracked.instance_id, times=1, exit_code=137)
        breaker = [i for i in cloud.lambdas.invocations if i.function.short == "crash-loop-breaker"]
        assert [i.action for i in breaker] == ["stopped"]
        cloud.advance(120)  # drained and terminated: the drain's STOPPED event is no crash
        breaker = [i for i in cloud.lambdas.invocations if i.function.short == "crash-loop-breaker"]
        assert len(breaker) == 1

    in_world(check)


def test_query_log_and_subscription_filter() -> None:
    def check(cloud: Cloud) -> None:
        assert cloud.route53.query("other.example.com", "A", "198.51.100.7") == []  # parent zone: not logged
        # the filter forwards the sub-zone's A queries; start-system's name check ignores the sub-name
        (sub_name,) = cloud.route53.query("x.minecraft.example.com", "A", "198.51.100.7")
        assert sub_name.action == "ignored"
        assert cloud.route53.query("minecraft.example.com", "AAAA", "198.51.100.7") == []  # filter says no
        (started,) = cloud.route53.query("minecraft.example.com", "A", "192.0.2.44")
        assert started.action == "started"
        logs = cloud.world.client("logs", "us-east-1")
        events = logs.filter_log_events(logGroupName="/aws/route53/minecraft.example.com")["events"]
        assert [e["message"].split(" ")[3:6] for e in events] == [
            ["x.minecraft.example.com", "A", "NXDOMAIN"],
            ["minecraft.example.com", "AAAA", "NOERROR"],
            ["minecraft.example.com", "A", "NOERROR"],
        ]

    in_world(check)


def test_failed_invocations_are_retried_then_dead_lettered() -> None:
    def check(cloud: Cloud) -> None:
        spec = cloud.world.function("instance-state-change")
        spec.environment.pop("HOSTED_ZONE_ID")  # its cold start now fails
        invocation = cloud.lambdas.invoke(spec, {"detail-type": "x"}, "test")
        assert not invocation.ok
        assert len(invocation.attempts) == 1 + spec.max_retries == 3
        assert "HOSTED_ZONE_ID" in str(invocation.attempts[-1].error)
        assert invocation.dead_lettered
        url, region = cloud.world.queues[str(spec.on_failure)]
        messages = cloud.world.client("sqs", region).receive_message(QueueUrl=url)["Messages"]
        assert len(messages) == 1

    in_world(check)


def test_rule_targets_with_input_transformer() -> None:
    event: dict[str, Any] = {"detail": {"EC2InstanceId": "i-1"}}
    text = EventBus._transform(
        event, {"instance": "$.detail.EC2InstanceId"}, '"Server up (instance <instance>)"'
    )
    assert text == "Server up (instance i-1)"


@pytest.mark.parametrize("name", ["minecraft.example.com", "a.b.minecraft.example.com."])
def test_zone_for_picks_the_most_specific_zone(name: str) -> None:
    def check(cloud: Cloud) -> None:
        zone = cloud.route53.zone_for(name)
        assert zone is not None
        assert zone.name == "minecraft.example.com"
        parent = cloud.route53.zone_for("example.com")
        assert parent is not None
        assert parent.name == "example.com"

    in_world(check)
