"""Build AWS events in their documented shapes, with realistic values, for pattern and filter tests.

Shapes follow AWS's published samples (``tests/fixtures/aws-events/``, each file's origin in its SOURCES.md),
with their placeholders (``yyyy-mm-ddThh:mm:ssZ``, ``auto-scaling-group-arn``, ...) replaced by real-looking
values, so the rehearsal needs no sample file. ``tests/templates/test_template_event_shapes.py`` checks that
every builder here keeps the documented keys.
"""

from __future__ import annotations

import copy
from typing import Any

from container_manager.names import stack_name

ACCOUNT = "123456789012"
REGION = "eu-west-1"
GROUP_NAME = stack_name("minecraft")  # the template names the group and the cluster after the stack
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{GROUP_NAME}"
INSTANCE_ID = "i-0c3f6d8a2b9e41f57"
TIME = "2026-11-20T19:42:31Z"

Event = dict[str, Any]

# ----------------------------------------------------------------------------------------------------- Route 53
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html ("Query log example"): the five
# documented lines, as published in 2021 (edge-location codes) and 2022-2023 ("Region" placeholder).
ROUTE53_DOCUMENTED_LINES = (
    "1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP Region 192.168.1.1 -",
    "1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com AAAA NOERROR TCP Region 192.168.3.1 192.168.222.0/24",
    "1.0 2017-12-13T08:16:03.983Z Z123412341234 example.com ANY NOERROR UDP Region 2001:db8::1234 2001:db8:abcd::/48",
    "1.0 2017-12-13T08:15:50.342Z Z123412341234 bad.example.com A NXDOMAIN UDP Region 192.168.3.1 192.168.111.0/24",
    "1.0 2017-12-13T08:16:05.744Z Z123412341234 txt.example.com TXT NOERROR UDP Region 192.168.1.2 -",
    "1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -",
    "1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com AAAA NOERROR TCP IAD12 192.168.3.1 192.168.222.0/24",
    "1.0 2017-12-13T08:16:03.983Z Z123412341234 example.com ANY NOERROR UDP FRA6 2001:db8::1234 2001:db8:abcd::/48",
    "1.0 2017-12-13T08:15:50.342Z Z123412341234 bad.example.com A NXDOMAIN UDP IAD12 192.168.3.1 192.168.111.0/24",
    "1.0 2017-12-13T08:16:05.744Z Z123412341234 txt.example.com TXT NOERROR UDP JFK5 192.168.1.2 -",
)


def query_log_line(
    name: str,
    query_type: str = "A",
    *,
    response: str = "NOERROR",
    protocol: str = "UDP",
    edge: str = "IAD12",
    resolver_ip: str = "192.0.2.44",
    client_subnet: str = "-",
    zone_id: str = "Z07432391BT2QKN8RXK1F",
    time: str = "2026-11-20T19:42:07.500Z",
) -> str:
    """One Route 53 public query-log line: version timestamp zone name type rcode protocol edge resolver edns."""
    fields = ("1.0", time, zone_id, name, query_type, response, protocol, edge, resolver_ip, client_subnet)
    return " ".join(fields)


# ------------------------------------------------------------------------------------------------- Auto Scaling
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
ASG_DETAIL_TYPES = (
    "EC2 Instance Launch Successful",
    "EC2 Instance Launch Unsuccessful",
    "EC2 Instance Terminate Successful",
    "EC2 Instance-launch Lifecycle Action",
    "EC2 Instance-terminate Lifecycle Action",
)


def asg_event(
    detail_type: str,
    *,
    group_name: str = GROUP_NAME,
    instance_id: str = INSTANCE_ID,
    region: str = REGION,
    account: str = ACCOUNT,
    source: str = "aws.autoscaling",
    origin: str | None = None,
    destination: str | None = None,
    time: str = TIME,
    event_id: str = "7e1c9a35-2b4d-4f08-9c6e-1a3b5d7f9e02",
) -> Event:
    """An Auto Scaling EventBridge event of ``detail_type`` for one instance of ``group_name``."""
    if detail_type not in ASG_DETAIL_TYPES:
        raise ValueError(f"unknown Auto Scaling detail-type {detail_type!r}")
    group_arn = (
        f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:"
        f"5d8c1a0e-7b2f-4c3a-9e61-0f4b2d7c8a93:autoScalingGroupName/{group_name}"
    )
    instance_arn = f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"
    launching = "launch" in detail_type.lower()
    origin = origin or ("EC2" if launching else "AutoScalingGroup")
    destination = destination or ("AutoScalingGroup" if launching else "EC2")
    detail: dict[str, Any]
    if "Lifecycle Action" in detail_type:
        resources = [group_arn]
        detail = {
            "LifecycleActionToken": "3f5d2a91-6c4e-4b8f-a1d7-9e0c2b6f4a58",
            "AutoScalingGroupName": group_name,
            "LifecycleHookName": "ecs-managed-draining-termination-hook" if not launching else "launch-hook",
            "EC2InstanceId": instance_id,
            "LifecycleTransition": f"autoscaling:EC2_INSTANCE_{'LAUNCHING' if launching else 'TERMINATING'}",
            "NotificationMetadata": "",
        }
    else:
        resources = [group_arn, instance_arn]
        failed = detail_type.endswith("Unsuccessful")
        verb = "Launching a new" if launching else "Terminating"
        detail = {
            "StatusCode": "Failed" if failed else "InProgress",
            "Description": f"{verb} EC2 instance: {instance_id}",
            "AutoScalingGroupName": group_name,
            "ActivityId": "b07a4c3e-2d9f-4e1b-8c6a-5f3e1d2c0b9a",
            "Details": {"Availability Zone": f"{region}b", "Subnet ID": "subnet-0a1b2c3d4e5f60718"},
            "RequestId": "6e2f9b1c-4a7d-4c3e-b8f5-1d0a9c2e7b64",
            "StatusMessage": "We currently do not have sufficient capacity in the Availability Zone"
            if failed
            else "",
            "EndTime": time,
            "EC2InstanceId": instance_id,
            "StartTime": "2026-11-20T19:42:09.118Z",
            "Cause": (
                f"At 2026-11-20T19:42:08Z a user request update of AutoScalingGroup constraints to min: 0, "
                f"max: 1, desired: {1 if launching else 0} changing the desired capacity from "
                f"{0 if launching else 1} to {1 if launching else 0}."
            ),
        }
        if failed:  # the documented Launch Unsuccessful event has no Description
            del detail["Description"]
    detail["Origin"] = origin
    detail["Destination"] = destination
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time,
        "region": region,
        "resources": resources,
        "detail": detail,
    }


# ---------------------------------------------------------------------------------------------------------- ECS
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html; STOPPED shape from the
# aws-samples capture the ECS guide links ("Checking stopped tasks for errors"), EC2 launch type.
ECS_TASK_KINDS = (
    "essential_container_exited",
    "task_failed_to_start",
    "service_scheduler_scale_in",
    "user_initiated",
    "spot_interruption",
    "running",
)

_TASK_ID = "4f7a2c9e81d34b6f9a0c5e2d7b1f3a86"
_STOP_REASONS = {
    "essential_container_exited": ("EssentialContainerExited", "Essential container in task exited"),
    "task_failed_to_start": (
        "TaskFailedToStart",
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        "docker.io/itzg/minecraft-server:2026.11.0: not found",
    ),
    "service_scheduler_scale_in": (
        "ServiceSchedulerInitiated",
        "Scaling activity initiated by (deployment ecs-svc/1834756204977301542)",
    ),
    "user_initiated": ("UserInitiated", "Task stopped by user"),
    "spot_interruption": ("SpotInterruption", "Your Spot Task was interrupted."),
}


def ecs_task_event(
    kind: str,
    *,
    cluster_arn: str = CLUSTER_ARN,
    exit_codes: tuple[int | None, ...] = (1,),
    region: str | None = None,
    account: str | None = None,
    time: str | None = None,
    event_id: str = "c2a8e4f1-6b3d-9e07-5f1a-8d4c2b9e7a31",
    task_id: str = _TASK_ID,
    container_instance_id: str = "9b2e6f1a0c4d47e8b3a5d1c7f9e2b604",
) -> Event:
    """An "ECS Task State Change" event of one of ``ECS_TASK_KINDS`` for a task in ``cluster_arn``.

    ``exit_codes`` gives one container per entry (``None``: no exit code, as for a container that never ran);
    it applies to STOPPED kinds except ``task_failed_to_start``, whose single container never started.
    """
    if kind not in ECS_TASK_KINDS:
        raise ValueError(f"unknown ECS task event kind {kind!r}")
    region = region or cluster_arn.split(":")[3]
    account = account or cluster_arn.split(":")[4]
    cluster = cluster_arn.rsplit("/", 1)[1]
    task_arn = f"arn:aws:ecs:{region}:{account}:task/{cluster}/{task_id}"
    stopped = kind != "running"
    status = "STOPPED" if stopped else "RUNNING"
    codes: tuple[int | None, ...] = (None,) if kind == "task_failed_to_start" else exit_codes
    if not stopped:
        codes = (None,)
    containers = [
        _container(index, code, status, region, account, task_arn) for index, code in enumerate(codes)
    ]
    detail: dict[str, Any] = {
        "attachments": [],
        "availabilityZone": f"{region}b",
        "capacityProviderName": "container-manager-minecraft-asg",
        "clusterArn": cluster_arn,
        "containerInstanceArn": (
            f"arn:aws:ecs:{region}:{account}:container-instance/{cluster}/{container_instance_id}"
        ),
        "containers": containers,
        "createdAt": "2026-11-20T19:44:02.417Z",
        "launchType": "EC2",
        "cpu": "0",
        "memory": "6656",
        "desiredStatus": status,
        "group": "service:minecraft",
        "lastStatus": status,
        "overrides": {"containerOverrides": [{"name": "minecraft"}]},
        "connectivity": "CONNECTED",
        "connectivityAt": "2026-11-20T19:44:02.417Z",
        "pullStartedAt": "2026-11-20T19:44:02.912Z",
        "pullStoppedAt": "2026-11-20T19:44:31.260Z",
        "startedAt": "2026-11-20T19:44:33.074Z",
        "startedBy": "ecs-svc/1834756204977301542",
        "taskArn": task_arn,
        "taskDefinitionArn": f"arn:aws:ecs:{region}:{account}:task-definition/container-manager-minecraft:7",
        "updatedAt": "2026-11-20T19:44:33.074Z",
        "version": 3,
    }
    if stopped:
        stop_code, reason = _STOP_REASONS[kind]
        detail.update(
            {
                "stoppingAt": "2026-11-20T20:31:12.530Z",
                "stoppedAt": "2026-11-20T20:31:40.118Z",
                "executionStoppedAt": "2026-11-20T20:31:39Z",
                "stoppedReason": reason,
                "stopCode": stop_code,
                "updatedAt": "2026-11-20T20:31:40.118Z",
                "version": 6,
            }
        )
        if kind == "task_failed_to_start":
            del detail["startedAt"]
            del containers[0]["runtimeId"]
            containers[0]["reason"] = reason
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": account,
        "time": time or ("2026-11-20T20:31:40Z" if stopped else "2026-11-20T19:44:33Z"),
        "region": region,
        "resources": [task_arn],
        "detail": detail,
    }


def _container(index: int, code: int | None, status: str, region: str, account: str, task_arn: str) -> Event:
    name = "minecraft" if index == 0 else f"sidecar-{index}"
    container: Event = {
        "containerArn": f"arn:aws:ecs:{region}:{account}:container/3c9e1b7a-5d2f-4e80-a6c4-0f8b2d1e9a{index:02d}",
        "lastStatus": status,
        "name": name,
        "image": "itzg/minecraft-server:2026.11.0",
        "imageDigest": "sha256:5b1f8c3e9a2d7f4c6e0b1a9d8c7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f",
        "runtimeId": f"e41a7c2f9b0d3e6a8c5f1b4d7e0a3c6f9b2e5d8a1c4f7b0e3d6a9c2f5b8e1d{index:02d}",
        "taskArn": task_arn,
        "networkInterfaces": [],
        "cpu": "0",
        "memoryReservation": "6144",
    }
    if code is not None:
        container["exitCode"] = code
    return container


def clone(event: Event) -> Event:
    """A deep copy to mutate into a near-miss."""
    return copy.deepcopy(event)
