"""The rehearsal's CloudWatch as AWS documents it: ingestion delay, Lambda alarm actions only on transitions
(behind the function's resource permission), Auto Scaling actions re-executed every minute in ALARM; and
Route 53 logging names as DNS-0x20 resolvers send them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from container_manager.rehearsal.alarms import MetricKey
from container_manager.rehearsal.aws_parts import GOOGLE_PUBLIC_DNS_EGRESS, Cloud, MetricStore
from unit.test_rehearsal_aws_parts import in_world

IDLE = "IdleAlarm"


def _idle_only(cloud: Cloud) -> None:
    """Keep only the idle alarm (no data: breaching, so it enters ALARM at the first evaluation)."""
    cloud.world.alarms[:] = [a for a in cloud.world.alarms if a.logical == IDLE]
    cloud.cloudwatch.evaluators = {IDLE: cloud.cloudwatch.evaluators[IDLE]}


def _stop_server_runs(cloud: Cloud) -> list[str]:
    return [i.action for i in cloud.lambdas.invocations if i.function.short == "stop-server"]


def test_lambda_action_runs_once_on_entering_alarm_however_long_it_stays() -> None:
    def check(cloud: Cloud) -> None:
        _idle_only(cloud)
        cloud.advance(10 * 60)  # ten evaluations, all in ALARM
        assert cloud.cloudwatch.evaluators[IDLE].state == "ALARM"
        assert _stop_server_runs(cloud) == ["no_change"]  # once, and the group was already at 0

    in_world(check, alarms=True)


def test_auto_scaling_action_is_executed_again_every_minute_in_alarm() -> None:
    def check(cloud: Cloud) -> None:
        _idle_only(cloud)
        (group,) = cloud.world.groups.values()
        autoscaling = cloud.world.client("autoscaling", group.region)
        autoscaling.put_scaling_policy(
            AutoScalingGroupName=group.name,
            PolicyName="to-zero",
            PolicyType="SimpleScaling",
            AdjustmentType="ExactCapacity",
            ScalingAdjustment=0,
        )
        arn = autoscaling.describe_policies(AutoScalingGroupName=group.name)["ScalingPolicies"][0][
            "PolicyARN"
        ]
        cloud.world.policies[arn] = (group.name, "to-zero", group.region)
        (spec,) = cloud.world.alarms
        spec.definition = dataclasses.replace(spec.definition, alarm_actions=(arn,))
        cloud.cloudwatch.evaluators[IDLE].definition = spec.definition
        cloud.advance(5 * 60)
        runs = [a for a in cloud.cloudwatch.actions if a.target == arn]
        assert len(runs) == 5
        assert [a.repeated for a in runs] == [False, True, True, True, True]
        # a player's start is undone by the next re-execution: the defect the Lambda action avoids
        autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
        cloud.advance(60)
        assert cloud.world.group_state(group)["DesiredCapacity"] == 0

    in_world(check, alarms=True)


def test_an_alarm_without_permission_cannot_invoke_the_function() -> None:
    def check(cloud: Cloud) -> None:
        _idle_only(cloud)
        cloud.world.lambda_permissions.clear()
        cloud.advance(2 * 60)
        assert cloud.cloudwatch.evaluators[IDLE].state == "ALARM"
        assert _stop_server_runs(cloud) == []
        denied = [e.text for e in cloud.world.timeline.entries if "DENIED" in e.text]
        assert denied
        assert "lambda.alarms.cloudwatch.amazonaws.com" in denied[0]

    in_world(check, alarms=True)


def test_datapoints_become_visible_to_alarms_only_after_the_ingestion_delay() -> None:
    store = MetricStore([])
    key = MetricKey("ContainerManager", "DnsQueries", frozenset({("ContainerId", "minecraft")}))
    delay = store.delay(key, 1_000.0)
    low, high = MetricStore.DELAY_SECONDS
    assert low <= delay <= high
    store.forced_delay = 180
    assert store.delay(key, 1_000.0) == 180


def test_a_knock_datapoint_is_invisible_until_its_delay_has_passed() -> None:
    def check(cloud: Cloud) -> None:
        store = cloud.cloudwatch.store
        store.forced_delay = 180
        now = cloud.world.clock.now
        cloud.world.client("cloudwatch", "us-east-1").put_metric_data(
            Namespace="ContainerManager",
            MetricData=[
                {
                    "MetricName": "DnsQueries",
                    "Dimensions": [{"Name": "ContainerId", "Value": "minecraft"}],
                    "Value": 1.0,
                    "Timestamp": now,
                }
            ],
        )
        key = MetricKey("ContainerManager", "DnsQueries", frozenset({("ContainerId", "minecraft")}))
        window = (now - timedelta(minutes=1)).timestamp(), (now + timedelta(minutes=1)).timestamp()
        store.refresh(now)
        assert store.datapoints(key, *window) == []
        store.refresh(now + timedelta(seconds=179))
        assert store.datapoints(key, *window) == []
        store.refresh(now + timedelta(seconds=180))
        assert [p.value for p in store.datapoints(key, *window)] == [1.0]

    in_world(check)


def test_a_0x20_resolver_query_is_logged_in_mixed_case_and_still_starts_the_server() -> None:
    def check(cloud: Cloud) -> None:
        (started,) = cloud.route53.query("minecraft.example.com", "A", GOOGLE_PUBLIC_DNS_EGRESS)
        logged = cloud.route53.lines[-1].split()[3]
        assert logged.lower() == "minecraft.example.com"
        assert logged not in ("minecraft.example.com", "MINECRAFT.EXAMPLE.COM")
        assert started.action == "started"
        cloud.route53.query("minecraft.example.com", "A", "192.0.2.44")
        assert cloud.route53.lines[-1].split()[3] == "minecraft.example.com"  # other resolvers: as asked

    in_world(check)


def test_cloudwatch_time_is_the_alarm_payload_format() -> None:
    from container_manager.rehearsal.aws_parts import cloudwatch_time

    moment = datetime(2023, 8, 4, 12, 36, 15, 490_000, tzinfo=UTC)
    assert cloudwatch_time(moment) == "2023-08-04T12:36:15.490+0000"  # as in the documented example
