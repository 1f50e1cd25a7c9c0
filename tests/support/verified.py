"""A complete deployed-like container in moto, for `cm selftest` and `cm timeline`, and a scripted cloud.

``deploy_complete`` adds to ``deployed.deploy`` what a real deploy also leaves and the selftest reads: the stack
(outputs and parameters), the parent zone's NS delegation, query logging, the three functions (recognised by
the env the template gives them), the start subscription filter, the two EventBridge rules and the alarms.

``ScriptedCloud`` plays AWS's part while the selftest waits: its ``sleep`` advances a fake clock and, like the
real services would, starts the server after a player's query reached the name server, points the record at
the instance, runs the task, opens the port, resets the record after the stop. Each behaviour can be switched
off to produce one failure path.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.moto_api import state_manager

from container_manager.cfn import function_environment, load_template
from container_manager.matching import cases
from support.deployed import (
    ACCOUNT,
    CONTAINER_ID,
    DOMAIN,
    EDGE_REGION,
    PLACEHOLDER,
    ROOT,
    SERVER_NAME,
    Deployed,
    deploy,
    point_record,
    set_lifecycle,
    upsert_record,
)
from support.dns_server import LoopbackDns

FUNCTIONS = {
    "start-system": "StartSystemFunction",
    "instance-state-change": "InstanceStateChangeFunction",
    "crash-loop-breaker": "CrashLoopBreakerFunction",
}
_PARAMETERS = ("DeployPart", "ContainerId", "ParentHostedZoneId", "GamePort", "ActivityPorts", "HostedZoneId")


def stack_template(part: str) -> str:
    """A stand-in for the deployed stack: the parameters and outputs `cm` reads (moto cannot deploy SAM)."""
    outputs: dict[str, Any] = {"ServerName": {"Value": SERVER_NAME}}
    if part != "container":  # the edge part owns the sub-zone
        outputs["HostedZoneId"] = {"Value": {"Ref": "HostedZoneId"}}
    return json.dumps(
        {
            "Parameters": {name: {"Type": "String", "Default": ""} for name in _PARAMETERS},
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": outputs,
        }
    )


@dataclass
class Complete:
    deployed: Deployed
    parent_zone_id: str
    functions: dict[str, str]  # short name -> ARN
    filter_name: str = "start-system-query-logged"


def function_env(short: str) -> dict[str, str]:
    """The two variables the template gives every function that identify it (Globals + its own)."""
    template = load_template(ROOT / "template.yaml")
    env = function_environment(template, template["Resources"][FUNCTIONS[short]])
    return {"CONTAINER_ID": CONTAINER_ID, "POWERTOOLS_SERVICE_NAME": str(env["POWERTOOLS_SERVICE_NAME"])}


def deploy_complete(*, ports: str = "tcp/25565", region: str = EDGE_REGION) -> Complete:
    deployed = deploy(region)
    route53 = boto3.client("route53", region_name=EDGE_REGION)
    parent = route53.create_hosted_zone(Name=DOMAIN, CallerReference="parent")["HostedZone"]["Id"]
    parent_id = parent.rsplit("/", 1)[-1]
    servers = route53.get_hosted_zone(Id=deployed.zone_id)["DelegationSet"]["NameServers"]
    delegate(parent_id, servers)
    route53.create_query_logging_config(
        HostedZoneId=deployed.zone_id,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{EDGE_REGION}:{ACCOUNT}:log-group:{deployed.query_log_group}:*",
    )
    role = boto3.client("iam", region_name=EDGE_REGION).create_role(
        RoleName="cm-test-function", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    functions = {}
    for short, logical in FUNCTIONS.items():
        function_region = EDGE_REGION if short == "start-system" else region
        functions[short] = boto3.client("lambda", region_name=function_region).create_function(
            FunctionName=f"container-manager-{CONTAINER_ID}-{logical}-A1B2C3D4",
            Runtime="python3.13",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": function_env(short)},
        )["FunctionArn"]
    complete = Complete(deployed, parent_id, functions)
    boto3.client("logs", region_name=EDGE_REGION).put_subscription_filter(
        logGroupName=deployed.query_log_group,
        filterName=complete.filter_name,
        filterPattern=cases.start_filter(False),  # the template's own, resolved
        destinationArn=functions["start-system"],
    )
    events = boto3.client("events", region_name=region)
    for short in ("instance-state-change", "crash-loop-breaker"):
        name = f"container-manager-{CONTAINER_ID}-{short}-rule"
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.autoscaling"]}), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "function", "Arn": functions[short]}])
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    for suffix in ("idle", "left-up", "crash-loop"):
        cloudwatch.put_metric_alarm(
            AlarmName=f"container-manager-{CONTAINER_ID}-{suffix}",
            MetricName="NetworkIn",
            Namespace="AWS/EC2",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
        )
    parameters = {
        "ContainerId": CONTAINER_ID,
        "ParentHostedZoneId": parent_id,
        "GamePort": ports.split()[0].split("/")[1],
        "ActivityPorts": ports,
        "HostedZoneId": deployed.zone_id,
    }
    name = f"container-manager-{CONTAINER_ID}"
    if region == EDGE_REGION:
        create_stack(name, EDGE_REGION, "all", parameters)
    else:  # the two-stack flow: the edge part in us-east-1, the container in its region
        create_stack(f"{name}-edge", EDGE_REGION, "edge", parameters)
        create_stack(
            name, region, "container", {k: v for k, v in parameters.items() if k != "ParentHostedZoneId"}
        )
    return complete


def create_stack(name: str, region: str, part: str, parameters: dict[str, str]) -> None:
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name,
        TemplateBody=stack_template(part),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in {**parameters, "DeployPart": part}.items()
        ],
    )


def delegate(parent_zone_id: str, servers: list[str]) -> None:
    """The parent zone's NS record for the sub-zone (infra/dns.yaml Delegation)."""
    upsert_record(parent_zone_id, "NS", servers, 3600)


@contextmanager
def steady_tasks() -> Iterator[None]:
    """moto advances an ECS task one state per DescribeTasks (RUNNING -> ... -> STOPPED); keep it RUNNING."""
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    try:
        yield
    finally:
        state_manager.unset_transition(model_name="ecs::task")


@dataclass
class ScriptedCloud:
    """AWS's side of a start and a stop, advanced by the selftest's own (injected) sleep."""

    complete: Complete
    dns: LoopbackDns
    now: float = 0.0
    starts: bool = True  # start-system sets desired 1 after a plain-case query
    boots: bool = True  # the instance reaches InService (else it stays Pending)
    points_dns: bool = True
    runs_task: bool = True
    opens_port: bool = True
    resets_dns: bool = True
    port_open: bool = False
    log: list[str] = field(default_factory=list)
    _task_started: bool = False

    @property
    def region(self) -> str:
        return self.complete.deployed.region

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.react()

    def group(self) -> dict[str, Any]:
        return boto3.client("autoscaling", region_name=self.region).describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.complete.deployed.asg_name]
        )["AutoScalingGroups"][0]

    def instance_ip(self, instance_id: str) -> str:
        reservations = boto3.client("ec2", region_name=self.region).describe_instances(
            InstanceIds=[instance_id]
        )
        return str(reservations["Reservations"][0]["Instances"][0]["PublicIpAddress"])

    def react(self) -> None:
        deployed = self.complete.deployed
        group = self.group()
        plain_query = SERVER_NAME in self.dns.questions
        if self.starts and plain_query and group["DesiredCapacity"] == 0 and not self.log:
            boto3.client("autoscaling", region_name=self.region).set_desired_capacity(
                AutoScalingGroupName=deployed.asg_name, DesiredCapacity=1
            )
            self.log.append("started")
            group = self.group()
        members = group["Instances"]
        if members and group["DesiredCapacity"] == 0:
            # Auto Scaling terminates what the desired capacity no longer covers (moto keeps a Pending one)
            boto3.client("autoscaling", region_name=self.region).terminate_instance_in_auto_scaling_group(
                InstanceId=members[0]["InstanceId"], ShouldDecrementDesiredCapacity=False
            )
            members = self.group()["Instances"]
        elif members and not self.boots:
            set_lifecycle(deployed, members[0]["InstanceId"], "Pending")
            members = self.group()["Instances"]
        in_service = [m for m in members if m["LifecycleState"] == "InService"]
        if in_service and self.points_dns and "dns" not in self.log:
            address = self.instance_ip(in_service[0]["InstanceId"])
            point_record(deployed.zone_id, address)
            self.dns.records[SERVER_NAME] = address
            self.log.append("dns")
        if in_service and self.runs_task and not self._task_started:
            self._run_task(in_service[0]["InstanceId"])
            self._task_started = True
        if in_service and self._task_started and self.opens_port:
            self.port_open = True
        if "started" in self.log and not members and self.resets_dns and "reset" not in self.log:
            point_record(deployed.zone_id, PLACEHOLDER)
            self.dns.records[SERVER_NAME] = PLACEHOLDER
            self.port_open = False
            self.log.append("reset")

    def _run_task(self, instance_id: str) -> None:
        ecs = boto3.client("ecs", region_name=self.region)
        cluster = self.complete.deployed.cluster_arn
        ecs.register_task_definition(
            family="container-manager-minecraft",
            containerDefinitions=[{"name": "minecraft", "image": "itzg/minecraft-server", "memory": 512}],
        )
        ecs.register_container_instance(
            cluster=cluster,
            instanceIdentityDocument=json.dumps({"instanceId": instance_id, "region": self.region}),
        )
        ecs.run_task(cluster=cluster, taskDefinition="container-manager-minecraft")

    def tcp(self, host: str, port: int, timeout: float) -> bool:
        return self.port_open and port == 25565 and host == self.dns.records.get(SERVER_NAME)
