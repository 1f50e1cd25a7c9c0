"""`cm timeline` from AWS's records: moto for logs, EC2 and Route 53; botocore's Stubber where moto keeps no
such record (scaling activities with causes, ECS task and container-instance timestamps, metric data, alarm
history), with responses in the shapes of the API references:

* DescribeScalingActivities - EC2 Auto Scaling API reference, ``Activity`` (ActivityId, AutoScalingGroupName,
  Description "Launching a new EC2 instance: i-..." / "Terminating EC2 instance: i-...", Cause "At <time> ...",
  StartTime, EndTime, StatusCode, Progress);
* DescribeTasks / DescribeContainerInstances - ECS API reference, ``Task`` (createdAt, pullStartedAt,
  pullStoppedAt, startedAt, stoppingAt, stoppedAt) and ``ContainerInstance`` (ec2InstanceId, registeredAt);
* GetMetricData - CloudWatch API reference, ``MetricDataResult`` (Id, Label, Timestamps, Values, StatusCode);
* DescribeAlarmHistory - ``AlarmHistoryItem`` (AlarmName, Timestamp, HistoryItemType, HistorySummary).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto.ec2.models import ec2_backends

from container_manager import names
from container_manager import operations as ops
from container_manager.aws import Aws
from container_manager.cli import main
from container_manager.deployment import discover
from container_manager.errors import OK
from container_manager.timeline import collect
from container_manager.waterfall import render
from support.deployed import ACCOUNT, CONTAINER_ID, EDGE_REGION, SERVER_NAME
from support.verified import deploy_complete

BASE = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
CLUSTER = f"arn:aws:ecs:{EDGE_REGION}:123456789012:cluster/container-manager-{CONTAINER_ID}"
TASK = f"arn:aws:ecs:{EDGE_REGION}:123456789012:task/container-manager-{CONTAINER_ID}/4f7a2c9e81d34b6f"
CONTAINER_INSTANCE = (
    f"arn:aws:ecs:{EDGE_REGION}:123456789012:container-instance/container-manager-{CONTAINER_ID}/9b2e"
)


def t(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    complete = deploy_complete()
    # The timeline reads the query log by the filter's pattern, not through the filter; without it moto does not
    # try to run start-system (in Docker) for each line written below.
    boto3.client("logs", region_name=EDGE_REGION).delete_subscription_filter(
        logGroupName=complete.deployed.query_log_group, filterName=complete.filter_name
    )
    ec2 = boto3.client("ec2", region_name=EDGE_REGION)
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    # EC2 records the launch time; moto stamps "now" - put it where this run's records say it was
    ec2_backends[ACCOUNT][EDGE_REGION].get_instance(instance).launch_time = t(3).replace(tzinfo=None)
    logs = boto3.client("logs", region_name=EDGE_REGION)
    write(logs, complete.deployed.query_log_group, "edge", [(t(0), query_line(t(0)))])
    write(
        logs,
        names.log_group(CONTAINER_ID, "start-system"),
        "s",
        [
            (
                t(0.6),
                {"level": "INFO", "action": "started", "reason": "desired 0 -> 1", "query_name": SERVER_NAME},
            )
        ],
    )
    write(
        logs,
        names.log_group(CONTAINER_ID, "instance-state-change"),
        "i",
        [
            (
                t(97.2),
                {"action": "dns_updated", "address": "54.1.2.3", "change_id": "/change/C0123456789ABC"},
            ),
            (t(1900), {"action": "dns_updated", "address": "0.0.0.0", "change_id": "/change/C0123456789ABD"}),
        ],
    )
    return {"complete": complete, "instance": instance}


def query_line(moment: datetime) -> str:
    return f"1.0 {iso(moment)} Z07432391BT2QKN8RXK1F {SERVER_NAME} A NOERROR UDP IAD12 192.0.2.44 -"


def write(logs: Any, group: str, stream: str, lines: list[tuple[datetime, Any]]) -> None:
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": int(at.timestamp() * 1000), "message": m if isinstance(m, str) else json.dumps(m)}
            for at, m in lines
        ],
    )


def activity(kind: str, instance: str, start: datetime, end: datetime, cause: str) -> dict[str, Any]:
    verb = "Launching a new EC2 instance" if kind == "launch" else "Terminating EC2 instance"
    return {
        "ActivityId": f"{kind}-0b9a",
        "AutoScalingGroupName": f"container-manager-{CONTAINER_ID}",
        "Description": f"{verb}: {instance}",
        "Cause": cause,
        "StartTime": start,
        "EndTime": end,
        "StatusCode": "Successful",
        "Progress": 100,
    }


@contextmanager
def stubbed(
    clients: Aws,
    instance: str,
    *,
    activities: list[dict[str, Any]],
    task: dict[str, Any] | None,
    alarm_items: list[dict[str, Any]] | None,
    players: list[tuple[datetime, float]],
) -> Iterator[None]:
    autoscaling = Stubber(clients.autoscaling(EDGE_REGION))
    autoscaling.add_response(
        "describe_scaling_activities",
        {"Activities": activities},
        {"AutoScalingGroupName": f"container-manager-{CONTAINER_ID}", "MaxRecords": 100},
    )
    ecs = Stubber(clients.ecs(EDGE_REGION))
    ecs.add_response(
        "list_container_instances", {"containerInstanceArns": [CONTAINER_INSTANCE]}, {"cluster": ANY}
    )
    ecs.add_response(
        "describe_container_instances",
        {
            "containerInstances": [
                {
                    "containerInstanceArn": CONTAINER_INSTANCE,
                    "ec2InstanceId": instance,
                    "status": "ACTIVE",
                    "registeredAt": t(52),
                }
            ]
        },
        {"cluster": ANY, "containerInstances": [CONTAINER_INSTANCE]},
    )
    ecs.add_response("list_tasks", {"taskArns": []}, {"cluster": ANY, "desiredStatus": "RUNNING"})
    ecs.add_response(
        "list_tasks", {"taskArns": [TASK] if task else []}, {"cluster": ANY, "desiredStatus": "STOPPED"}
    )
    if task:
        ecs.add_response("describe_tasks", {"tasks": [task]}, {"cluster": ANY, "tasks": [TASK]})
    cloudwatch = Stubber(clients.cloudwatch(EDGE_REGION))
    cloudwatch.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "players",
                    "Label": "Players",
                    "Timestamps": [at for at, _ in players],
                    "Values": [v for _, v in players],
                    "StatusCode": "Complete",
                }
            ]
        },
        None,
    )
    if alarm_items is not None:
        cloudwatch.add_response("describe_alarm_history", {"AlarmHistoryItems": alarm_items}, None)
    with autoscaling, ecs, cloudwatch:
        yield
        autoscaling.assert_no_pending_responses()
        ecs.assert_no_pending_responses()
        cloudwatch.assert_no_pending_responses()


def full_task() -> dict[str, Any]:
    return {
        "taskArn": TASK,
        "clusterArn": CLUSTER,
        "containerInstanceArn": CONTAINER_INSTANCE,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "createdAt": t(98),
        "pullStartedAt": t(99),
        "pullStoppedAt": t(127),
        "startedAt": t(129),
        "stoppingAt": t(1905),
        "stoppedAt": t(1950),
        "stopCode": "ServiceSchedulerInitiated",
    }


def run_collect(world: dict[str, Any], **stubs: Any) -> Any:
    clients = Aws(boto3.session.Session())
    deployment = discover(clients, ops.Target(CONTAINER_ID, EDGE_REGION))
    with stubbed(clients, world["instance"], **stubs):
        return collect(clients, deployment, now=t(4000))


def phases(fall: Any) -> dict[str, float | None]:
    return {s.phase: s.seconds for s in fall.spans}


def test_a_start_and_an_idle_stop_are_reconstructed_phase_by_phase(world: dict[str, Any]) -> None:
    # Given the records AWS keeps of a DNS-started run that the idle alarm stopped
    instance = world["instance"]
    found = run_collect(
        world,
        activities=[
            activity(
                "terminate",
                instance,
                t(1890),
                t(1990),
                f"At {t(1889):%Y-%m-%dT%H:%M:%SZ} a monitor alarm container-manager-{CONTAINER_ID}-idle in state "
                "ALARM triggered policy ScaleToZero changing the desired capacity from 1 to 0.",
            ),
            activity(
                "launch",
                instance,
                t(2),
                t(96),
                f"At {t(1):%Y-%m-%dT%H:%M:%SZ} a user request update of AutoScalingGroup constraints to min: 0, "
                "max: 1, desired: 1 changing the desired capacity from 0 to 1.",
            ),
        ],
        task=full_task(),
        alarm_items=[
            {
                "AlarmName": f"container-manager-{CONTAINER_ID}-idle",
                "Timestamp": t(1888),
                "HistoryItemType": "StateUpdate",
                "HistorySummary": "Alarm updated from OK to ALARM",
            }
        ],
        players=[(t(180), 0.0), (t(240), 2.0)],
    )
    # Then the start's phases carry the durations the records give
    start = phases(found.start)
    assert start["DNS query -> start-system"] == pytest.approx(0.6)
    assert start["desired 1 -> launch"] == pytest.approx(1)
    assert start["instance boot -> InService"] == pytest.approx(94)
    assert start["image pull"] == pytest.approx(28)
    assert start["container start"] == pytest.approx(2)
    assert start["DNS record -> instance"] == pytest.approx(1.2)
    assert start["first player"] == pytest.approx(111)
    # the total runs from the player's query to the last phase, without the first player
    assert found.start.total_seconds == pytest.approx(129)
    # And the stop's, from the alarm's transition to the termination
    stop = phases(found.stop)
    assert stop["alarm idle -> scale-in"] == pytest.approx(1)
    assert stop["drain: container stops"] == pytest.approx(45)
    assert stop["DNS reset"] == pytest.approx(10)
    assert stop["terminate (hook, then gone)"] == pytest.approx(100)
    text = render(found.start)
    assert "image pull" in text
    assert "total" in text
    assert "Route 53 change C0123456789ABC: INSYNC" in text


def test_records_aws_no_longer_keeps_become_notes(world: dict[str, Any]) -> None:
    # Given a start whose task was stopped long ago (ECS forgot it) and a stop by `cm stop`, no players
    instance = world["instance"]
    found = run_collect(
        world,
        activities=[
            activity("launch", instance, t(2), t(96), "At 2026-01-01T00:00:00Z a user request update"),
            activity("terminate", instance, t(600), t(700), "At 2026-01-01T00:10:00Z a user request update"),
        ],
        task=None,
        alarm_items=None,  # no alarm in the cause: the history is never asked
        players=[],
    )
    notes = " ".join(found.start.notes)
    assert "about an hour" in notes  # the stopped task
    assert "no player seen" in notes
    assert any("not an alarm" in n for n in found.stop.notes)
    assert "image pull" not in phases(found.start)


def test_an_alarm_whose_history_expired_is_said_so(world: dict[str, Any]) -> None:
    instance = world["instance"]
    found = run_collect(
        world,
        activities=[
            activity("launch", instance, t(2), t(96), "At 2026-01-01T00:00:00Z a user request"),
            activity(
                "terminate",
                instance,
                t(1890),
                t(1990),
                f"At 2026-01-01T00:30:00Z a monitor alarm container-manager-{CONTAINER_ID}-idle in state ALARM "
                "triggered policy ScaleToZero",
            ),
        ],
        task=full_task(),
        alarm_items=[],
        players=[],
    )
    assert any("two weeks" in n for n in found.stop.notes)
    assert phases(found.stop)["alarm idle -> scale-in"] is None


def test_cm_timeline_without_scaling_activities_says_they_are_kept_six_weeks(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployed container whose group has no activity moto (or AWS, after six weeks) still keeps
    deploy_complete()
    # When
    code = main(["timeline", CONTAINER_ID, "--region", EDGE_REGION, "--json"])
    # Then exit 0 and a note naming the retention
    data = json.loads(capsys.readouterr().out)
    assert code == OK
    assert data["timeline"][0]["phases"] == []
    assert "six weeks" in data["timeline"][0]["notes"][0]
