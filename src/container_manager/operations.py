"""What `cm` does in AWS for a deployed container: status, start, stop, list, logs, delete.

Every function takes the command's ``Aws`` (its one session) and asks it for clients in an explicit region:
the container's pieces live in its region, the DNS pieces (sub-zone, query log, start-system) always in
us-east-1. Names are the templates' deterministic ones (container_manager.names), so most commands work from
the id alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from container_manager import names
from container_manager.aws import Aws, a_record_upsert, knock
from container_manager.errors import NotFoundError, call
from container_manager.names import EDGE_REGION, PLACEHOLDER_IP

if TYPE_CHECKING:
    from mypy_boto3_autoscaling.type_defs import AutoScalingGroupTypeDef
    from mypy_boto3_cloudformation.type_defs import StackTypeDef
    from mypy_boto3_route53.type_defs import ResourceRecordSetOutputTypeDef


@dataclass(frozen=True)
class Target:
    """Which container, and where its parts live."""

    container_id: str
    region: str

    @property
    def name(self) -> str:
        return names.stack_name(self.container_id)

    @property
    def edge_stack(self) -> str:
        return names.edge_stack_name(self.container_id)


# ---------------------------------------------------------------- look-ups


def stack(aws: Aws, name: str, region: str) -> StackTypeDef | None:
    try:
        stacks = aws.cloudformation(region).describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise
    live = [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
    return live[0] if live else None


def outputs(described: StackTypeDef | None) -> dict[str, str]:
    if not described:
        return {}
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def group(aws: Aws, target: Target) -> AutoScalingGroupTypeDef:
    groups = call(
        "reading the Auto Scaling group",
        target.region,
        lambda: aws.autoscaling(target.region).describe_auto_scaling_groups(
            AutoScalingGroupNames=[target.name]
        )["AutoScalingGroups"],
    )
    if not groups:
        raise NotFoundError(
            f"container {target.container_id!r} not found in {target.region} (no Auto Scaling group {target.name})",
            hint=f"check the id and the region: `cm list --region <region>`, or pass --region / the config file "
            f"(deploy it with `cm deploy {target.container_id}.yaml`)",
        )
    return groups[0]


def find_zone(aws: Aws, target: Target, server_name: str | None) -> tuple[str, str] | None:
    """(zone id, record name) of the container's sub-zone in us-east-1, or None."""
    route53 = aws.route53()
    edge = stack(aws, target.edge_stack, EDGE_REGION) if target.region != EDGE_REGION else None
    zone_id = outputs(edge).get("HostedZoneId") or outputs(stack(aws, target.name, EDGE_REGION)).get(
        "HostedZoneId"
    )
    if zone_id and server_name:
        return zone_id, server_name
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            name = zone["Name"].rstrip(".")
            if (server_name and name == server_name) or (
                not server_name and name.startswith(f"{target.container_id}.")
            ):
                return zone["Id"].split("/")[-1], name
    return None


def a_record(aws: Aws, zone_id: str, record_name: str) -> ResourceRecordSetOutputTypeDef | None:
    records = aws.route53().list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=record_name, StartRecordType="A", MaxItems="1"
    )["ResourceRecordSets"]
    for record in records:
        if record["Type"] == "A" and record["Name"].rstrip(".") == record_name:
            return record
    return None


# ---------------------------------------------------------------- status


def status(aws: Aws, target: Target) -> dict[str, Any]:
    asg = group(aws, target)
    main = call("reading the stack", target.region, lambda: stack(aws, target.name, target.region))
    server_name = outputs(main).get("ServerName")
    instances = []
    ids = [i["InstanceId"] for i in asg.get("Instances", [])]
    addresses: dict[str, str | None] = {}
    if ids:
        reservations = call(
            "reading the instance",
            target.region,
            lambda: aws.ec2(target.region).describe_instances(InstanceIds=ids)["Reservations"],
        )
        for reservation in reservations:
            for instance in reservation["Instances"]:
                addresses[instance["InstanceId"]] = instance.get("PublicIpAddress")
    for item in asg.get("Instances", []):
        instances.append(
            {
                "id": item["InstanceId"],
                "lifecycle": item.get("LifecycleState"),
                "health": item.get("HealthStatus"),
                "type": item.get("InstanceType"),
                "public_ip": addresses.get(item["InstanceId"]),
            }
        )
    dns = call("reading the DNS record", EDGE_REGION, lambda: _dns(aws, target, server_name))
    alarms = call("reading the alarms", target.region, lambda: _alarms(aws, target))
    return {
        "id": target.container_id,
        "region": target.region,
        "stack": {"name": main["StackName"], "status": main["StackStatus"]} if main else None,
        "server_name": dns.get("record") or server_name,
        "desired": asg["DesiredCapacity"],
        "running": sum(1 for i in instances if i["lifecycle"] == "InService"),
        "instances": instances,
        "dns": dns,
        "task": call("reading the ECS task", target.region, lambda: _task(aws, target)),
        "alarms": alarms,
        "last_changes": call("reading the scaling history", target.region, lambda: _activities(aws, target)),
        "last_alarm": _last_alarm(alarms),
    }


def _dns(aws: Aws, target: Target, server_name: str | None) -> dict[str, Any]:
    found = find_zone(aws, target, server_name)
    if not found:
        return {"zone_id": None, "record": server_name, "value": None, "ttl": None}
    zone_id, record_name = found
    record = a_record(aws, zone_id, record_name)
    values = [r["Value"] for r in record.get("ResourceRecords", [])] if record else []
    return {
        "zone_id": zone_id,
        "record": record_name,
        "value": values[0] if values else None,
        "ttl": record.get("TTL") if record else None,
        "placeholder": bool(values) and values[0] == PLACEHOLDER_IP,
    }


def _task(aws: Aws, target: Target) -> dict[str, Any] | None:
    ecs = aws.ecs(target.region)
    try:
        arns = ecs.list_tasks(cluster=target.name, desiredStatus="RUNNING")["taskArns"]
        arns += ecs.list_tasks(cluster=target.name, desiredStatus="STOPPED")["taskArns"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"ClusterNotFoundException", "ClientException"}:
            return None
        raise
    if not arns:
        return None
    tasks = ecs.describe_tasks(cluster=target.name, tasks=arns[:10])["tasks"]
    tasks.sort(key=lambda t: str(t.get("createdAt", "")), reverse=True)
    latest = tasks[0]
    return {
        "arn": latest["taskArn"],
        "last_status": latest.get("lastStatus"),
        "desired_status": latest.get("desiredStatus"),
        "started_at": latest.get("startedAt"),
        "stopped_reason": latest.get("stoppedReason"),
        "stop_code": latest.get("stopCode"),
    }


def _alarms(aws: Aws, target: Target) -> dict[str, dict[str, Any] | None]:
    """State, reason and time of each watchdog alarm (None: the alarm does not exist)."""
    alarm_names = [f"{target.name}-{suffix}" for suffix in names.ALARM_SUFFIXES]
    found = aws.cloudwatch(target.region).describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]
    by_name = {a["AlarmName"]: a for a in found}
    result: dict[str, dict[str, Any] | None] = {}
    for suffix, name in zip(names.ALARM_SUFFIXES, alarm_names, strict=True):
        alarm = by_name.get(name)
        result[suffix] = (
            {
                "state": alarm["StateValue"],
                "reason": alarm.get("StateReason"),
                "since": alarm.get("StateUpdatedTimestamp"),
            }
            if alarm
            else None
        )
    return result


def _activities(aws: Aws, target: Target) -> list[dict[str, Any]]:
    activities = aws.autoscaling(target.region).describe_scaling_activities(
        AutoScalingGroupName=target.name, MaxRecords=5
    )["Activities"]
    return [
        {
            "time": a.get("StartTime"),
            "status": a.get("StatusCode"),
            "description": a.get("Description"),
            "cause": a.get("Cause"),
        }
        for a in activities
    ]


def _last_alarm(alarms: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    """The alarm in ALARM that changed last: why the server stopped (idle, left up, crash loop).

    Read from the alarms themselves rather than their history: the idle alarm stays in ALARM until the next
    knock, so its state and reason still explain the last stop.
    """
    firing = [(name, alarm) for name, alarm in alarms.items() if alarm and alarm["state"] == "ALARM"]
    if not firing:
        return None
    name, alarm = max(firing, key=lambda item: str(item[1].get("since") or ""))
    return {"alarm": name, "time": alarm.get("since"), "reason": alarm.get("reason")}


# ---------------------------------------------------------------- start / stop


def set_desired(aws: Aws, target: Target, desired: int) -> dict[str, Any]:
    before = group(aws, target)["DesiredCapacity"]
    call(
        "changing the desired capacity",
        target.region,
        lambda: aws.autoscaling(target.region).set_desired_capacity(
            AutoScalingGroupName=target.name, DesiredCapacity=desired, HonorCooldown=False
        ),
    )
    if desired > 0:
        # A knock, as a DNS query would write: the idle alarm leaves ALARM, so it can stop this server later
        # (it acts only on entering ALARM; docs/architecture.md, Watchdog).
        call(
            "writing the knock metric",
            target.region,
            lambda: aws.cloudwatch(target.region).put_metric_data(**knock(target.container_id)),
        )
    return {"id": target.container_id, "region": target.region, "desired_before": before, "desired": desired}


# ---------------------------------------------------------------- list


def list_containers(aws: Aws, regions: list[str]) -> list[dict[str, Any]]:
    found = []
    for region in regions:
        for item in call("listing stacks", region, partial(_stacks, aws, region)):
            name = item["StackName"]
            tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
            if not names.is_container_stack(name):
                continue
            if tags.get("project", names.PROJECT) != names.PROJECT:
                continue
            params = {p["ParameterKey"]: p.get("ParameterValue") for p in item.get("Parameters", [])}
            container_id = (
                tags.get("container-id") or params.get("ContainerId") or names.container_id_of(name)
            )
            found.append(
                {
                    "id": container_id,
                    "stack": name,
                    "region": region,
                    "part": params.get("DeployPart") or ("edge" if name.endswith("-edge") else "all"),
                    "status": item["StackStatus"],
                    "server_name": outputs(item).get("ServerName"),
                }
            )
    found.sort(key=lambda s: (s["id"], s["region"], s["stack"]))
    return found


def _stacks(aws: Aws, region: str) -> list[StackTypeDef]:
    pages = aws.cloudformation(region).get_paginator("describe_stacks").paginate()
    return [item for page in pages for item in page["Stacks"]]


# ---------------------------------------------------------------- logs


def log_groups(target: Target, source: str) -> list[tuple[str, str]]:
    """(region, log group) pairs for ``source`` = container | functions | all."""
    wanted = [s for s in names.LOG_SOURCES if source == "all" or (source == "functions") == bool(s.function)]
    return [
        (EDGE_REGION if s.edge else target.region, names.log_group(target.container_id, s.name))
        for s in wanted
    ]


def read_logs(aws: Aws, target: Target, source: str, start_ms: int, seen: set[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    missing = 0
    groups = log_groups(target, source)
    for region, name in groups:
        logs = aws.logs(region)
        try:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=name, startTime=start_ms)
            for page in pages:
                for event in page["events"]:
                    if event["eventId"] in seen:
                        continue
                    seen.add(event["eventId"])
                    events.append(
                        {
                            "time": event["timestamp"],
                            "group": name.rsplit("/", 1)[-1],
                            "message": event["message"].rstrip("\n"),
                        }
                    )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                missing += 1
                continue
            raise
    if missing == len(groups):
        raise NotFoundError(
            f"no log groups of container {target.container_id!r} in {target.region}",
            hint="check the id and --region (`cm list`); log groups exist once the stack is deployed",
        )
    events.sort(key=lambda e: (e["time"], e["group"]))
    return events


def follow_logs(
    aws: Aws,
    target: Target,
    source: str,
    start_ms: int,
    emit: Callable[[dict[str, Any]], None],
    *,
    polls: int | None = None,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Print new events until interrupted (or ``polls`` rounds, for tests)."""
    seen: set[str] = set()
    rounds = 0
    while polls is None or rounds < polls:
        for event in call(
            "reading logs", target.region, partial(read_logs, aws, target, source, start_ms, seen)
        ):
            start_ms = max(start_ms, int(event["time"]))
            emit(event)
        rounds += 1
        if polls is None or rounds < polls:
            sleep(interval)


# ---------------------------------------------------------------- delete


def reset_record(aws: Aws, target: Target, server_name: str | None) -> dict[str, Any] | None:
    """Point the A record back at the placeholder so CloudFormation can delete it (infra/dns.yaml)."""
    found = find_zone(aws, target, server_name)
    if not found:
        return None
    zone_id, record_name = found
    record = a_record(aws, zone_id, record_name)
    if record is None:
        return None
    aws.route53().change_resource_record_sets(
        **a_record_upsert(
            zone_id,
            record["Name"],
            PLACEHOLDER_IP,
            record.get("TTL", 30),
            comment="cm delete: reset to the placeholder so the stack's record can be deleted",
        )
    )
    return {"zone_id": zone_id, "record": record_name, "value": PLACEHOLDER_IP}


def stacks_to_delete(aws: Aws, target: Target) -> list[tuple[str, str]]:
    """(stack, region) in deletion order: the container stack first, then the edge stack."""
    found = []
    if stack(aws, target.name, target.region):
        found.append((target.name, target.region))
    if stack(aws, target.edge_stack, EDGE_REGION):
        found.append((target.edge_stack, EDGE_REGION))
    return found


def delete_stack(aws: Aws, name: str, region: str, *, delay: int = 10, max_attempts: int = 360) -> None:
    cloudformation = aws.cloudformation(region)
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": delay, "MaxAttempts": max_attempts}
    )


def data_file_systems(aws: Aws, target: Target) -> list[str]:
    """The container's EFS file systems (tagged by infra/storage.yaml), retained or not."""
    efs = aws.efs(target.region)
    found = []
    for page in efs.get_paginator("describe_file_systems").paginate():
        for fs in page["FileSystems"]:
            tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
            if tags.get("container-manager:container-id") == target.container_id:
                found.append(fs["FileSystemId"])
    return sorted(found)


def delete_file_system(
    aws: Aws,
    file_system_id: str,
    region: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 60,
) -> None:
    efs = aws.efs(region)
    for target in efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]:
        efs.delete_mount_target(MountTargetId=target["MountTargetId"])
    # A file system can only go once its mount targets are gone (they take about a minute).
    for _ in range(attempts):
        if not efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]:
            break
        sleep(5)
    efs.delete_file_system(FileSystemId=file_system_id)


def iso(value: Any) -> Any:
    """JSON-friendly timestamps."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [iso(v) for v in value]
    return value
