"""A deployed-like container in moto, and handlers loaded with the env vars the template sets for it.

Integration tests build the state a real deploy leaves (ASG named as the template names it, the container's
sub-zone with its placeholder record, the ECS cluster, the query-log group), compute each function's
environment by resolving template.yaml against that state, and load the handler module fresh under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import botocore.client
from moto.route53.models import HostedZoneIdentifier
from moto.utilities.id_generator import moto_id_manager

from cm_common.aws import a_record_upsert
from container_manager.cfn import function_environment, load_template
from container_manager.intrinsics import Resolver
from container_manager.names import EDGE_REGION, PLACEHOLDER_IP, stack_tags
from container_manager.rehearsal.lambdas import LambdaContext, import_handler

__all__ = ["EDGE_REGION", "LambdaContext"]  # re-exported for the tests

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ACCOUNT = "123456789012"
CONTAINER_ID = "minecraft"
DOMAIN = "example.com"
SERVER_NAME = f"{CONTAINER_ID}.{DOMAIN}"
PLACEHOLDER = PLACEHOLDER_IP
# Integration tests deploy the container outside us-east-1, so region mix-ups fail loudly.
CONTAINER_REGION = "eu-west-1"
# Real hosted zone ids start with Z (the template's HostedZoneId pattern insists); moto's random ones do not.
ZONE_ID = "Z07432391BT2QKN8RXK1F"

# Operations that only read; anything else a handler calls is a mutation.
READ_PREFIXES = ("Describe", "List", "Get")


@dataclass
class Deployed:
    region: str
    asg_name: str
    zone_id: str
    cluster_arn: str
    query_log_group: str
    launch_template_id: str
    subnet_id: str

    def attributes(self) -> dict[str, str]:
        """What the nested stacks' outputs resolve to for this deployment."""
        return {
            "Dns.Outputs.HostedZoneId": self.zone_id,
            "Dns.Outputs.QueryLogGroupName": self.query_log_group,
            "Compute.Outputs.AutoScalingGroupName": self.asg_name,
            "Compute.Outputs.ClusterArn": self.cluster_arn,
        }


def deploy(region: str = EDGE_REGION) -> Deployed:
    """Create, in moto, what a deploy of the default container leaves behind (server stopped)."""
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, refs={"AWS::Region": region})
    # The ASG name comes from the template's own naming rule, so a rename there breaks these tests.
    asg_name = resolver.resolve(
        template["Resources"]["StartSystemFunction"]["Properties"]["Environment"]["Variables"]["ASG_NAME"]
    )
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=f"{region}a")["Subnet"]
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    image = "ami-12c6146b"  # moto's stock example AMI; describe_images over all stock AMIs costs seconds
    lt = ec2.create_launch_template(
        LaunchTemplateName=f"{asg_name}-lt",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t4g.medium"},
    )["LaunchTemplate"]["LaunchTemplateId"]
    boto3.client("autoscaling", region_name=region).create_auto_scaling_group(
        AutoScalingGroupName=asg_name,
        LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"},
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        VPCZoneIdentifier=subnet["SubnetId"],
    )
    cluster = boto3.client("ecs", region_name=region).create_cluster(
        clusterName=f"container-manager-{CONTAINER_ID}"
    )
    route53 = boto3.client("route53", region_name=EDGE_REGION)
    zone_ref = HostedZoneIdentifier(ACCOUNT, f"{SERVER_NAME}.", None)
    moto_id_manager.set_custom_id(zone_ref, ZONE_ID)
    try:
        zone = route53.create_hosted_zone(Name=SERVER_NAME, CallerReference="deploy")["HostedZone"]["Id"]
    finally:
        moto_id_manager.unset_custom_id(zone_ref)
    zone_id = zone.split("/")[-1]
    point_record(zone_id, PLACEHOLDER)
    log_group = f"/aws/route53/{SERVER_NAME}"
    boto3.client("logs", region_name=EDGE_REGION).create_log_group(logGroupName=log_group)
    return Deployed(
        region=region,
        asg_name=asg_name,
        zone_id=zone_id,
        cluster_arn=cluster["cluster"]["clusterArn"],
        query_log_group=log_group,
        launch_template_id=lt,
        subnet_id=subnet["SubnetId"],
    )


def template_env(
    function: str, deployed: Deployed, *, function_region: str, parameters: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment template.yaml gives ``function`` (Globals merged), resolved for this deployment."""
    template = load_template(ROOT / "template.yaml")
    params = dict(parameters or {})
    if deployed.region != function_region:
        params.setdefault("ContainerRegion", deployed.region)
    resolver = Resolver(
        template,
        parameters=params,
        refs={"AWS::Region": function_region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"},
        attributes=deployed.attributes(),
    )
    variables = function_environment(template, template["Resources"][function])
    env = {key: str(resolver.resolve(value)) for key, value in variables.items()}
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = function_region
    return env


def load_handler(package: str, env: dict[str, str], monkeypatch: Any) -> ModuleType:
    """Import ``<package>.handler`` fresh, as a cold start under ``env`` would (the rehearsal's import)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return import_handler(package, env.get("POWERTOOLS_SERVICE_NAME"))


@dataclass
class ApiCalls:
    """Every AWS API operation made while recording, as (service, operation, params)."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def mutations(self) -> list[tuple[str, str]]:
        return [(s, op) for s, op, _ in self.calls if not op.startswith(READ_PREFIXES)]

    def operations(self) -> list[str]:
        return [op for _, op, _ in self.calls]


@contextmanager
def record_api_calls() -> Iterator[ApiCalls]:
    recorded = ApiCalls()
    original = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, params: dict[str, Any]) -> Any:
        recorded.calls.append((client.meta.service_model.service_name, operation, params))
        return original(client, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", spy):
        yield recorded


def state(deployed: Deployed) -> dict[str, Any]:
    """Everything a handler could change, for before/after comparisons."""
    group = boto3.client("autoscaling", region_name=deployed.region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[deployed.asg_name]
    )["AutoScalingGroups"][0]
    records = boto3.client("route53", region_name=EDGE_REGION).list_resource_record_sets(
        HostedZoneId=deployed.zone_id
    )["ResourceRecordSets"]
    metrics = boto3.client("cloudwatch", region_name=deployed.region).list_metrics(
        Namespace="ContainerManager"
    )
    return {
        "desired": group["DesiredCapacity"],
        "instances": sorted(i["InstanceId"] for i in group["Instances"]),
        "tags": sorted((t["Key"], t["Value"]) for t in group.get("Tags", [])),
        "records": records,
        "metrics": metrics["Metrics"],
    }


def start_request(deployed: Deployed) -> str | None:
    """The group's deferred-knock tag (cm_common.starting.START_REQUEST_TAG), or ``None``."""
    from cm_common.starting import START_REQUEST_TAG

    return dict(state(deployed)["tags"]).get(START_REQUEST_TAG)


def record_start_request(deployed: Deployed, value: str) -> None:
    """Tag the group with a deferred knock, as start-system does during a drain."""
    from cm_common.starting import START_REQUEST_TAG

    boto3.client("autoscaling", region_name=deployed.region).create_or_update_tags(
        Tags=[
            {
                "ResourceId": deployed.asg_name,
                "ResourceType": "auto-scaling-group",
                "Key": START_REQUEST_TAG,
                "Value": value,
                "PropagateAtLaunch": False,
            }
        ]
    )


def a_record(deployed: Deployed) -> tuple[str, int]:
    for record in boto3.client("route53", region_name=EDGE_REGION).list_resource_record_sets(
        HostedZoneId=deployed.zone_id
    )["ResourceRecordSets"]:
        if record["Type"] == "A" and record["Name"].rstrip(".") == SERVER_NAME:
            return record["ResourceRecords"][0]["Value"], record["TTL"]
    raise AssertionError("the server's A record is missing")


def event(path: str) -> dict[str, Any]:
    """A sample event from events/ (the same files `sam local invoke -e` uses)."""
    result: dict[str, Any] = json.loads((EVENTS / path).read_text())
    return result


def log_lines(output: str) -> list[dict[str, Any]]:
    """Powertools JSON log lines from captured stdout (EMF metric blobs excluded)."""
    lines = []
    for raw in output.splitlines():
        if raw.startswith("{"):
            data = json.loads(raw)
            if "_aws" not in data:
                lines.append(data)
    return lines


def metric_names(output: str) -> dict[str, float]:
    """Metric name -> value from the EMF blobs Powertools printed."""
    names: dict[str, float] = {}
    for raw in output.splitlines():
        if raw.startswith("{") and '"_aws"' in raw:
            data = json.loads(raw)
            for directive in data["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = data[metric["Name"]]
                    names[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return names


def invoke(handler: ModuleType, payload: Any) -> dict[str, Any]:
    """Call a loaded handler as Lambda would."""
    result: dict[str, Any] = handler.lambda_handler(payload, LambdaContext())
    return result


def desired(deployed: Deployed) -> int:
    group = boto3.client("autoscaling", region_name=deployed.region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[deployed.asg_name]
    )["AutoScalingGroups"][0]
    return int(group["DesiredCapacity"])


# A stand-in for the real stack (the `cm` tests): moto cannot deploy the SAM template, but `cm` only reads the
# stack's name, status, tags, parameters and outputs.
STUB_TEMPLATE = json.dumps(
    {
        "Parameters": {
            "DeployPart": {"Type": "String", "Default": "all"},
            "ContainerId": {"Type": "String", "Default": ""},
        },
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ServerName": {"Value": SERVER_NAME}},
    }
)


def create_stack(name: str, region: str, part: str = "all", container_id: str = CONTAINER_ID) -> None:
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name,
        TemplateBody=STUB_TEMPLATE,
        Parameters=[
            {"ParameterKey": "DeployPart", "ParameterValue": part},
            {"ParameterKey": "ContainerId", "ParameterValue": container_id},
        ],
        Tags=[{"Key": k, "Value": v} for k, v in stack_tags(container_id).items()],
    )


def set_lifecycle(deployed: Deployed, instance_id: str, lifecycle_state: str) -> None:
    """Put one group member into a lifecycle state moto cannot reach by itself (Pending:Wait, Terminating:Wait)."""
    from moto.autoscaling.models import autoscaling_backends

    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    for member in group.instance_states:
        if member.instance.id == instance_id:
            member.lifecycle_state = lifecycle_state
            return
    raise AssertionError(f"{instance_id} is not in the group")


def point_record(zone_id: str, address: str) -> None:
    """Set the server's A record as the deploy (placeholder) or instance-state-change (instance IP) would."""
    boto3.client("route53", region_name=EDGE_REGION).change_resource_record_sets(
        **a_record_upsert(zone_id, SERVER_NAME, address, 30, comment="test: as a deploy or a handler would")
    )


def upsert_record(zone_id: str, record_type: str, values: list[str], ttl: int) -> None:
    """UPSERT the server name's record of any ``record_type`` in ``zone_id`` (NS records of a delegation;
    the A record goes through ``point_record``, the functions' own request)."""
    boto3.client("route53", region_name=EDGE_REGION).change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": SERVER_NAME,
                        "Type": record_type,
                        "TTL": ttl,
                        "ResourceRecords": [{"Value": v} for v in values],
                    },
                }
            ]
        },
    )


def invoke_without_change(
    handler: ModuleType, payload: Any, deployed: Deployed
) -> tuple[dict[str, Any], ApiCalls]:
    """Invoke, and assert the handler made no mutating AWS call and left every resource as it was."""
    before = state(deployed)
    with record_api_calls() as calls:
        result = invoke(handler, payload)
    assert calls.mutations == [], f"mutating calls: {calls.mutations}"
    assert state(deployed) == before
    return result, calls
