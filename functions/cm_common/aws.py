"""Thin boto3 adapter: lazily created clients with an explicit region, and the few calls we make.

Domain code never touches boto3; it receives the small value objects defined here. The two requests `cm` makes
too (the A record UPSERT, the knock) are built by ``a_record_upsert`` and ``knock``, whose copies in
src/container_manager/aws.py a test pins (tests/templates/test_rules_agree.py): this bundle ships alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, cast

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import PutMetricDataInputTypeDef
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_route53 import Route53Client
    from mypy_boto3_route53.type_defs import ChangeResourceRecordSetsRequestTypeDef

# Short connect timeout and standard retries: a stuck call must not eat the function's whole timeout.
_BOTO_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})

ACTIVE_STATES_PREFIXES = ("Pending", "InService")
# Terminating, Terminating:Wait, Terminating:Proceed: detached from the group's capacity but still running.
TERMINATING_PREFIX = "Terminating"
_UNKNOWN_INSTANCE_CODES = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


@dataclass(frozen=True)
class GroupInstance:
    instance_id: str
    lifecycle_state: str

    @property
    def is_active(self) -> bool:
        """Pending*, or InService: an instance that is, or is about to be, the server."""
        return self.lifecycle_state.startswith(ACTIVE_STATES_PREFIXES)

    @property
    def is_terminating(self) -> bool:
        """Terminating*: on its way out, possibly still saving the world (ECS managed draining's hook)."""
        return self.lifecycle_state.startswith(TERMINATING_PREFIX)


@dataclass(frozen=True)
class GroupState:
    name: str
    desired_capacity: int
    max_size: int
    instances: tuple[GroupInstance, ...]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def terminating(self) -> tuple[GroupInstance, ...]:
        return tuple(i for i in self.instances if i.is_terminating)

    def without(self, instance_id: str) -> GroupState:
        """The group as it is once ``instance_id`` is gone (an event said so; the group may lag behind)."""
        return replace(self, instances=tuple(i for i in self.instances if i.instance_id != instance_id))

    def summary(self) -> str:
        """``i-0abc:InService, i-0def:Terminating:Wait`` - for reasons in logs."""
        return ", ".join(f"{i.instance_id}:{i.lifecycle_state}" for i in self.instances) or "none"

    def member(self, instance_id: str) -> GroupInstance | None:
        """The group's record of ``instance_id``, or ``None`` when it is not (or no longer) in the group."""
        return next((i for i in self.instances if i.instance_id == instance_id), None)


@dataclass(frozen=True)
class InstanceAddress:
    instance_id: str
    state: str
    public_ipv4: str | None


class AwsClients:
    """One per region; each client is created on first use so cold starts pay only for what they call."""

    def __init__(self, region: str) -> None:
        self.region = region

    @cached_property
    def _session(self) -> botocore.session.Session:
        # botocore directly: boto3's import also loads s3transfer and resources (~120 ms of cold start) we never use.
        return botocore.session.get_session()

    @cached_property
    def autoscaling(self) -> AutoScalingClient:
        return cast(
            "AutoScalingClient",
            self._session.create_client("autoscaling", region_name=self.region, config=_BOTO_CONFIG),
        )

    @cached_property
    def cloudwatch(self) -> CloudWatchClient:
        return cast(
            "CloudWatchClient",
            self._session.create_client("cloudwatch", region_name=self.region, config=_BOTO_CONFIG),
        )

    @cached_property
    def ec2(self) -> EC2Client:
        return cast(
            "EC2Client", self._session.create_client("ec2", region_name=self.region, config=_BOTO_CONFIG)
        )

    @cached_property
    def route53(self) -> Route53Client:
        return cast(
            "Route53Client",
            self._session.create_client("route53", region_name=self.region, config=_BOTO_CONFIG),
        )


class AutoScaling:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def describe(self, group_name: str) -> GroupState | None:
        groups = self._clients.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])
        for group in groups["AutoScalingGroups"]:
            if group["AutoScalingGroupName"] == group_name:
                return GroupState(
                    name=group_name,
                    desired_capacity=group["DesiredCapacity"],
                    max_size=group["MaxSize"],
                    instances=tuple(
                        GroupInstance(i["InstanceId"], i["LifecycleState"])
                        for i in group.get("Instances", [])
                    ),
                    tags={t["Key"]: t.get("Value", "") for t in group.get("Tags", []) if "Key" in t},
                )
        return None

    def set_desired_capacity(self, group_name: str, capacity: int) -> None:
        # HonorCooldown=False: a player's knock or a crash must act now, not after a cooldown.
        self._clients.autoscaling.set_desired_capacity(
            AutoScalingGroupName=group_name, DesiredCapacity=capacity, HonorCooldown=False
        )

    def tag_group(self, group_name: str, key: str, value: str) -> None:
        """Set one tag on the group itself (not propagated to instances)."""
        self._clients.autoscaling.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": group_name,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
            ]
        )

    def untag_group(self, group_name: str, key: str) -> None:
        """Remove one tag from the group; removing a tag that is not there is not an error."""
        self._clients.autoscaling.delete_tags(
            Tags=[{"ResourceId": group_name, "ResourceType": "auto-scaling-group", "Key": key}]
        )


class Instances:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def address(self, instance_id: str) -> InstanceAddress | None:
        """The instance's state and public IPv4; ``None`` when EC2 does not know the id."""
        try:
            reservations = self._clients.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError as exc:
            # An unknown id is an answer, not a failure: retrying cannot make the instance exist.
            if exc.response.get("Error", {}).get("Code") in _UNKNOWN_INSTANCE_CODES:
                return None
            raise
        for reservation in reservations:
            for instance in reservation["Instances"]:
                if instance["InstanceId"] == instance_id:
                    return InstanceAddress(
                        instance_id=instance_id,
                        state=instance["State"]["Name"],
                        public_ipv4=instance.get("PublicIpAddress") or None,
                    )
        return None


class Dns:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def upsert_a_record(self, zone_id: str, name: str, address: str, ttl: int, comment: str) -> str:
        response = self._clients.route53.change_resource_record_sets(
            **a_record_upsert(zone_id, name, address, ttl, comment)
        )
        return response["ChangeInfo"]["Id"]


class CustomMetrics:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def put_knocks(self, namespace: str, metric: str, container_id: str, count: int) -> None:
        self._clients.cloudwatch.put_metric_data(**knock(namespace, metric, container_id, count))


def a_record_upsert(
    zone_id: str, name: str, address: str, ttl: int, comment: str
) -> ChangeResourceRecordSetsRequestTypeDef:
    """The ChangeResourceRecordSets request that points ``name``'s A record at ``address`` (idempotent)."""
    return {
        "HostedZoneId": zone_id,
        "ChangeBatch": {
            "Comment": comment[:256],  # Route 53's limit for a change batch comment
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "A",
                        "TTL": ttl,
                        "ResourceRecords": [{"Value": address}],
                    },
                }
            ],
        },
    }


def knock(namespace: str, metric: str, container_id: str, count: int) -> PutMetricDataInputTypeDef:
    """The PutMetricData request of ``count`` knocks: someone asked for the server (the idle alarm reads it)."""
    return {
        "Namespace": namespace,
        "MetricData": [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "ContainerId", "Value": container_id}],
                "Value": count,
                "Unit": "Count",
            }
        ],
    }
