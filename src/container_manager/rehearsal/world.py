"""The rehearsal's cloud: moto, deployed from the templates as CloudFormation would deploy them.

``World.deploy`` walks the root template and its nested stacks in dependency order, checks parameters against
their constraints and the template's ``Rules``, resolves every resource's properties (``StackResolver``) and
creates it in moto through ordinary API calls, with the names and values the template gives. Resources the
lifecycle never touches (routes, policies, subscriptions, dashboards...) are listed as *declared*; the few moto
cannot run are kept as specs the simulated AWS layer (``aws_parts``) acts from: Lambda functions and their event
sources, EventBridge rules, subscription filters, lifecycle hooks (ECS managed draining), alarms, the ECS
service, state machines (``stepfunctions`` runs their executions). ``deletion`` deletes a deployed stack.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.route53.models import HostedZoneIdentifier
from moto.utilities.id_generator import moto_id_manager

from container_manager import names
from container_manager.cfn import function_environment, function_property
from container_manager.intrinsics import UnresolvedError
from container_manager.names import EDGE_REGION as EDGE_REGION  # the rehearsal's modules import it from here
from container_manager.rehearsal import iam
from container_manager.rehearsal.alarms import AlarmDefinition
from container_manager.rehearsal.clock import SimClock
from container_manager.rehearsal.templates import (
    NESTED_STACK_TYPES,
    NO_VALUE,
    StackResolver,
    TemplateSet,
    deploy_order,
)
from container_manager.rehearsal.timeline import Timeline

ACCOUNT = "123456789012"
FAKE_KEY = "testing"  # moto's fake identity
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# Lambda's concurrency quota is per account and region; a new account may start with 10. Reserved concurrency
# must leave 100 of it unreserved - all of it when the quota is 100 or less: on a 10-quota account any
# reservation fails ("Specified ReservedConcurrentExecutions for function decreases account's
# UnreservedConcurrentExecution below its minimum value of [10]"). "Configuring reserved concurrency for a
# function", AWS Lambda Developer Guide: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
NEW_ACCOUNT_CONCURRENCY = 10
UNRESERVED_MINIMUM = 100


class DeployError(RuntimeError):
    """The templates cannot be deployed as written (a constraint, a rule, an unresolvable reference)."""


# ---------------------------------------------------------------------------------------------- deployed specs
@dataclass
class FunctionSpec:
    logical: str
    name: str
    arn: str
    region: str
    handler: str  # module.attribute, e.g. start_system.handler.lambda_handler
    environment: dict[str, str]
    role_arn: str
    statements: list[iam.TemplateStatement]
    max_retries: int = 2
    on_failure: str | None = None

    @property
    def package(self) -> str:
        return self.handler.split(".", 1)[0]

    @property
    def short(self) -> str:
        """start-system, instance-state-change, ... (the POWERTOOLS_SERVICE_NAME, else the logical id)."""
        return self.environment.get("POWERTOOLS_SERVICE_NAME", self.logical)


@dataclass
class Subscription:
    name: str
    region: str
    log_group: str
    pattern: str
    function: FunctionSpec


@dataclass
class RuleTarget:
    arn: str
    function: FunctionSpec | None = None
    input_paths: Mapping[str, str] = field(default_factory=dict)
    input_template: str | None = None
    role_arn: str | None = None  # the role EventBridge assumes for the target (a state machine needs one)


@dataclass
class Rule:
    name: str
    region: str
    pattern: Mapping[str, Any]
    targets: list[RuleTarget]
    origin: str  # "<template file>: <logical id>"


@dataclass(frozen=True)
class HookSpec:
    """A lifecycle hook. PutLifecycleHook's defaults: HeartbeatTimeout 3600 s, DefaultResult ABANDON
    (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html)."""

    name: str
    transition: str
    heartbeat_timeout: int = 3600
    default_result: str = "ABANDON"
    managed_by: str | None = None  # the ECS capacity provider whose managed draining installed it


@dataclass
class GroupSpec:
    name: str
    arn: str
    region: str
    launch_template_id: str
    detailed_monitoring: bool
    metrics_collection: set[str] = field(default_factory=set)
    termination_hooks: list[str] = field(default_factory=list)
    launch_hooks: list[str] = field(default_factory=list)
    hooks: dict[str, HookSpec] = field(default_factory=dict)  # name -> hook


@dataclass
class ZoneSpec:
    id: str
    name: str
    query_log_group: str | None = None


@dataclass
class AlarmSpec:
    logical: str
    region: str
    definition: AlarmDefinition


@dataclass
class ServiceSpec:
    name: str
    region: str
    cluster_arn: str
    scheduling: str
    task_family: str
    containers: list[Mapping[str, Any]]


@dataclass(frozen=True)
class LambdaPermission:
    """An ``AWS::Lambda::Permission``: who may invoke a function, from which source."""

    function: str  # name or ARN, as the template gives it
    principal: str
    source_arn: str | None
    source_account: str | None

    def allows(self, function: FunctionSpec, principal: str, source_arn: str) -> bool:
        # Lambda resource policies: FunctionName may be a name or an ARN; SourceArn is matched as ArnLike.
        named = self.function in (function.name, function.arn, function.logical)
        source = self.source_arn is None or fnmatch.fnmatchcase(source_arn, self.source_arn)
        account = self.source_account in (None, ACCOUNT)
        return named and self.principal == principal and source and account


@dataclass
class StateMachineSpec:
    name: str
    arn: str
    region: str
    definition: Mapping[str, Any]  # Amazon States Language, substitutions applied
    role_arn: str
    statements: list[iam.TemplateStatement]
    deleting: bool = False


@dataclass
class StackRecord:
    name: str
    template: Path
    region: str
    created: dict[str, str] = field(default_factory=dict)  # logical -> type
    declared: dict[str, str] = field(default_factory=dict)  # logical -> type (not emulated)
    skipped: list[str] = field(default_factory=list)  # condition false
    outputs: dict[str, Any] = field(default_factory=dict)
    physical: dict[str, Any] = field(
        default_factory=dict
    )  # logical -> its Ref value (stack deletion reads it)
    nested: dict[str, str] = field(default_factory=dict)  # logical -> the nested stack's name
    deletion_policies: dict[str, str] = field(default_factory=dict)  # logical -> resolved DeletionPolicy


def parameter_problems(spec: Mapping[str, Any], value: str) -> list[str]:
    """How ``value`` breaks the constraints of the parameter declared as ``spec`` (empty: CloudFormation takes it)."""
    problems = []
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        problems.append(f"not one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), value):
        problems.append(f"does not match {spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            problems.append("is not a number")
        else:
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"is below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"is above MaxValue {spec['MaxValue']}")
    return problems


def physical_suffix(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:12].upper()  # noqa: S324 - a name, not security


# --------------------------------------------------------------------------------------------------- the world
class World:
    """moto (already mocked by the caller) plus what the rehearsal knows about the deployment."""

    def __init__(
        self, clock: SimClock, timeline: Timeline, concurrency_quota: int = NEW_ACCOUNT_CONCURRENCY
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        self.concurrency_quota = concurrency_quota  # the account's Lambda concurrency quota, in every region
        self.reserved_concurrency: dict[str, dict[str, int]] = {}  # region -> function name -> reserved
        self.functions: dict[str, FunctionSpec] = {}
        self.subscriptions: list[Subscription] = []
        self.rules: list[Rule] = []
        self.groups: dict[str, GroupSpec] = {}
        self.zones: dict[str, ZoneSpec] = {}
        self.alarms: list[AlarmSpec] = []
        self.policies: dict[str, tuple[str, str, str]] = {}  # policy ARN -> (group, policy name, region)
        self.topics: dict[str, str] = {}  # topic ARN -> region
        self.queues: dict[str, tuple[str, str]] = {}  # queue ARN -> (url, region)
        self.services: list[ServiceSpec] = []
        self.lambda_permissions: list[LambdaPermission] = []
        self.capacity_providers: dict[str, str] = {}  # capacity provider name -> its group's name
        self.state_machines: dict[str, StateMachineSpec] = {}  # ARN -> spec
        self.file_systems: list[tuple[str, str]] = []  # (id, region)
        self.stacks: list[StackRecord] = []
        self.launch_templates: dict[str, dict[str, Any]] = {}  # id -> resolved LaunchTemplateData
        self.task_definitions: dict[str, dict[str, Any]] = {}  # ARN -> resolved properties
        self.role_statements: dict[str, list[iam.TemplateStatement]] = {}  # role ARN -> template statements
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        """A client of moto acting as AWS itself (the deployer, the simulated services): no IAM role."""
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(  # type: ignore[call-overload]
                service, region_name=region, aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY
            )
        return self._clients[key]

    # ------------------------------------------------------------------------------------------------ deploy
    def deploy(
        self, templates: TemplateSet, region: str = EDGE_REGION, stack_name: str | None = None
    ) -> dict[str, Any]:
        """Deploy one root template (and its nested stacks); returns the root's outputs."""
        self._prerequisites(templates, region)
        name = stack_name or names.stack_name(templates.parameters.get("ContainerId", "minecraft"))
        stack = _Stack(self, templates, templates.root, dict(templates.parameters), name, region, parent=None)
        return stack.deploy()

    def _prerequisites(self, templates: TemplateSet, region: str) -> None:
        """What the docs ask a user to have before the first deploy: the domain's public hosted zone."""
        root = templates.load()
        params = root.get("Parameters", {})

        def value(name: str) -> str | None:
            if name in templates.parameters:
                return str(templates.parameters[name])
            default = params.get(name, {}).get("Default")
            return None if default is None else str(default)

        domain, parent = value("DomainName"), value("ParentHostedZoneId")
        if domain and parent and parent not in self.zones:
            self.create_zone(
                domain, parent, comment="the domain's own public zone (exists before any deploy)"
            )

    def reserve_concurrency(self, region: str, function: str, reserved: int, where: str) -> None:
        """Reserve ``reserved`` executions of the region's quota for ``function`` as Lambda does, or refuse
        (``where`` names the template resource in the error)."""
        held = self.reserved_concurrency.setdefault(region, {})
        total = sum(n for name, n in held.items() if name != function) + reserved
        minimum = min(self.concurrency_quota, UNRESERVED_MINIMUM)
        if self.concurrency_quota - total < minimum:
            raise DeployError(
                f"{where} reserves {reserved} concurrent executions: {total} reserved in {region} would "
                f"leave {self.concurrency_quota - total} of the account's quota of {self.concurrency_quota} "
                f"unreserved, below Lambda's minimum of {minimum} (ReservedConcurrentExecutions)"
            )
        held[function] = reserved

    def create_zone(self, name: str, zone_id: str, comment: str = "") -> str:
        route53 = self.client("route53", EDGE_REGION)
        ref = HostedZoneIdentifier(ACCOUNT, f"{name}.", None)
        moto_id_manager.set_custom_id(ref, zone_id)
        try:
            created = route53.create_hosted_zone(
                Name=name, CallerReference=f"rehearsal-{zone_id}", HostedZoneConfig={"Comment": comment[:256]}
            )
        finally:
            moto_id_manager.unset_custom_id(ref)
        zone = str(created["HostedZone"]["Id"]).split("/")[-1]
        self.zones[zone] = ZoneSpec(zone, name.rstrip("."))
        return zone

    # ---------------------------------------------------------------------------------------------- queries
    def group_state(self, group: GroupSpec) -> dict[str, Any]:
        found = self.client("autoscaling", group.region).describe_auto_scaling_groups(
            AutoScalingGroupNames=[group.name]
        )["AutoScalingGroups"]
        return dict(found[0]) if found else {}

    def a_record(self, zone: ZoneSpec, name: str) -> str | None:
        records = self.client("route53", EDGE_REGION).list_resource_record_sets(HostedZoneId=zone.id)
        for record in records["ResourceRecordSets"]:
            if record["Type"] == "A" and record["Name"].rstrip(".") == name.rstrip("."):
                return str(record["ResourceRecords"][0]["Value"])
        return None

    def instance_ip(self, region: str, instance_id: str) -> str | None:
        reservations = self.client("ec2", region).describe_instances(InstanceIds=[instance_id])[
            "Reservations"
        ]
        for reservation in reservations:
            for instance in reservation["Instances"]:
                address = instance.get("PublicIpAddress")
                return str(address) if address else None
        return None

    def function(self, short: str) -> FunctionSpec:
        for spec in self.functions.values():
            if short in (spec.short, spec.logical, spec.name):
                return spec
        raise KeyError(f"no deployed function {short!r} (have {[f.short for f in self.functions.values()]})")


# ----------------------------------------------------------------------------------------------------- a stack
class _Lookup(Mapping[str, Any]):
    """Ref/GetAtt values of what this stack has created so far; unknown keys raise (never a guess)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.known: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self.known:
            raise UnresolvedError(f"{self.what} {key}")
        return self.known[key]

    def __contains__(self, key: object) -> bool:
        return key in self.known

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class _Stack:
    def __init__(
        self,
        world: World,
        templates: TemplateSet,
        path: Path,
        parameters: dict[str, str],
        name: str,
        region: str,
        parent: str | None,
    ) -> None:
        self.world = world
        self.templates = templates
        self.path = path
        self.template = templates.load(path)
        self.name = name
        self.region = region
        self.label = path.name if parent is None else f"{path.parent.name}/{path.name}"
        self.record = StackRecord(name, path, region)
        self.refs = _Lookup("Ref")
        self.attributes = _Lookup("GetAtt")
        self.refs.known.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::StackName": name,
                "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{physical_suffix(name)}",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": NO_VALUE,
            }
        )
        self._check_parameters(parameters)
        self.resolver = StackResolver(
            self.template, parameters=parameters, refs=self.refs, attributes=self.attributes
        )

    # ------------------------------------------------------------------------------------------ parameters
    def _check_parameters(self, given: Mapping[str, str]) -> None:
        declared = self.template.get("Parameters", {})
        for name, spec in declared.items():
            if name not in given and "Default" not in spec:
                raise DeployError(f"{self.label}: parameter {name} has no value and no default")
            value = str(given.get(name, spec.get("Default")))
            problems = parameter_problems(spec, value)
            if problems:
                raise DeployError(f"{self.label}: parameter {name}={value!r} {' and '.join(problems)}")

    def _check_rules(self) -> None:
        for rule_name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.resolver.resolve(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self.resolver.resolve(assertion["Assert"]):
                    raise DeployError(
                        f"{self.label}: rule {rule_name} fails: {assertion.get('AssertDescription', '')}"
                    )

    # ------------------------------------------------------------------------------------------------ deploy
    def deploy(self) -> dict[str, Any]:
        self._check_rules()
        self._resolve_ssm_parameters()
        resources = self.template["Resources"]
        for logical in deploy_order(self.template):
            resource = resources[logical]
            condition = resource.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                self.record.skipped.append(logical)
                continue
            kind = resource["Type"]
            try:
                if kind in FUNCTION_TYPES:
                    self._reserve_concurrency(logical, resource)
                self._create(logical, kind, resource)
            except (UnresolvedError, KeyError, ValueError) as exc:
                raise DeployError(f"{self.label}: {logical} ({kind}): {exc}") from exc
            self.record.physical[logical] = self.refs.known[logical]
            if "DeletionPolicy" in resource:
                self.record.deletion_policies[logical] = str(
                    self.resolver.resolve(resource["DeletionPolicy"])
                )
        for name, output in self.template.get("Outputs", {}).items():
            condition = output.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                continue
            self.record.outputs[name] = self.resolver.resolve_clean(output["Value"], f"Outputs.{name}")
        self.world.stacks.append(self.record)
        return self.record.outputs

    def _resolve_ssm_parameters(self) -> None:
        """``AWS::SSM::Parameter::Value<...>`` parameters take the parameter store's value at deploy time. The
        ECS-optimized AMI ids are AWS public parameters: the rehearsal publishes stand-in ids for them."""
        for name, spec in self.template.get("Parameters", {}).items():
            if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
                path = str(self.resolver.ref(name))
                ssm = self.world.client("ssm", self.region)
                try:
                    value = ssm.get_parameter(Name=path)["Parameter"]["Value"]
                except ssm.exceptions.ParameterNotFound:
                    value = f"ami-0{physical_suffix(path).lower()}abcd"[:21]
                    ssm.put_parameter(Name=path, Value=value, Type="String")
                self.resolver._params[name] = value

    def _reserve_concurrency(self, logical: str, resource: Mapping[str, Any]) -> None:
        reserved = self.resolver.resolve_clean(
            function_property(self.template, resource, "ReservedConcurrentExecutions"),
            f"{logical}.ReservedConcurrentExecutions",
        )
        if reserved is not None and reserved is not NO_VALUE:  # AWS::NoValue: the property is absent
            # keyed by stack and logical id: deploying the same stack again replaces its share
            function = f"{self.name}/{logical}"
            self.world.reserve_concurrency(self.region, function, int(reserved), f"{self.label}: {logical}")

    def _props(self, logical: str, resource: Mapping[str, Any]) -> dict[str, Any]:
        props = self.resolver.resolve_clean(resource.get("Properties", {}), f"{logical}.Properties")
        return dict(props)

    def _physical(self, logical: str, limit: int = 64) -> str:
        return f"{self.name}-{logical}-{physical_suffix(self.name, logical)}"[-limit:].lstrip("-")

    def _set(self, logical: str, ref: Any, **attributes: Any) -> None:
        self.refs.known[logical] = ref
        for key, value in attributes.items():
            self.attributes.known[f"{logical}.{key}"] = value

    def _create(self, logical: str, kind: str, resource: Mapping[str, Any]) -> None:
        creator = getattr(self, "_" + kind.replace("::", "_"), None)
        if kind in NESTED_STACK_TYPES:
            self._nested(logical, resource)
            self.record.created[logical] = kind
        elif creator is None:
            # Not emulated: nothing in the lifecycle reads it. Its Ref is a stand-in id, its attributes too.
            self.record.declared[logical] = kind
            stand_in = self._physical(logical)
            self._set(logical, stand_in)
            for attribute in ("Arn", "Name", "Id", "GroupId"):
                self.attributes.known.setdefault(f"{logical}.{attribute}", f"{stand_in}-{attribute.lower()}")
        else:
            creator(logical, self._props(logical, resource), resource)
            self.record.created[logical] = kind

    # ----------------------------------------------------------------------------------------- nested stacks
    def _nested(self, logical: str, resource: Mapping[str, Any]) -> None:
        props = resource["Properties"]
        location = props.get("Location") or props.get("TemplateURL")
        params = self.resolver.resolve_clean(props.get("Parameters", {}), f"{logical}.Parameters")
        strings = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in params.items()}
        name = f"{self.name}-{logical}-{physical_suffix(self.name, logical)}"
        child = _Stack(
            self.world,
            self.templates,
            self.templates.nested(str(location)),
            strings,
            name,
            self.region,
            self.name,
        )
        outputs = child.deploy()
        self.record.nested[logical] = name
        self._set(logical, child.refs.known["AWS::StackId"])
        for key, value in outputs.items():
            self.attributes.known[f"{logical}.Outputs.{key}"] = value

    # ------------------------------------------------------------------------------------------------- logs
    def _AWS_Logs_LogGroup(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("LogGroupName") or self._physical(logical, 512)
        logs = self.world.client("logs", self.region)
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        self._set(logical, name, Arn=f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*")

    # --------------------------------------------------------------------------------------------- route 53
    def _AWS_Route53_HostedZone(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = str(props["Name"]).rstrip(".")
        zone_id = "Z0" + physical_suffix(name) + "XQ7"  # a real-looking id (moto's random ones lack the Z)
        comment = props.get("HostedZoneConfig", {}).get("Comment", "")
        zone = self.world.create_zone(name, zone_id, comment)
        logging = props.get("QueryLoggingConfig", {}).get("CloudWatchLogsLogGroupArn")
        if logging:
            # arn:aws:logs:<region>:<account>:log-group:<name>[:*]
            self.world.zones[zone].query_log_group = (
                str(logging).split(":log-group:", 1)[1].removesuffix(":*")
            )
        servers = self.world.client("route53", EDGE_REGION).get_hosted_zone(Id=zone)["DelegationSet"]
        self._set(logical, zone, Id=zone, NameServers=list(servers["NameServers"]))

    def _AWS_Route53_RecordSet(self, logical: str, props: dict[str, Any], _: Any) -> None:
        record: dict[str, Any] = {"Name": props["Name"], "Type": props["Type"]}
        if "TTL" in props:
            record["TTL"] = int(props["TTL"])
        record["ResourceRecords"] = [{"Value": str(v)} for v in props.get("ResourceRecords", [])]
        self.world.client("route53", EDGE_REGION).change_resource_record_sets(
            HostedZoneId=props["HostedZoneId"],
            ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]},
        )
        self._set(logical, str(props["Name"]).rstrip("."))

    # -------------------------------------------------------------------------------------------------- EC2
    def _AWS_EC2_VPC(self, logical: str, props: dict[str, Any], _: Any) -> None:
        vpc = self.world.client("ec2", self.region).create_vpc(CidrBlock=props["CidrBlock"])["Vpc"]["VpcId"]
        self._set(logical, vpc, CidrBlock=props["CidrBlock"])

    def _AWS_EC2_Subnet(self, logical: str, props: dict[str, Any], _: Any) -> None:
        ec2 = self.world.client("ec2", self.region)
        subnet = ec2.create_subnet(
            VpcId=props["VpcId"], CidrBlock=props["CidrBlock"], AvailabilityZone=props["AvailabilityZone"]
        )["Subnet"]["SubnetId"]
        if props.get("MapPublicIpOnLaunch") in (True, "true"):
            ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        self._set(logical, subnet)

    def _AWS_EC2_SecurityGroup(self, logical: str, props: dict[str, Any], _: Any) -> None:
        group = self.world.client("ec2", self.region).create_security_group(
            GroupName=props.get("GroupName") or self._physical(logical, 255),
            Description=props["GroupDescription"],
            VpcId=props["VpcId"],
        )["GroupId"]
        self._set(logical, group, GroupId=group)

    def _AWS_EC2_SecurityGroupIngress(self, logical: str, props: dict[str, Any], _: Any) -> None:
        self.world.client("ec2", self.region).authorize_security_group_ingress(
            GroupId=props["GroupId"],
            IpPermissions=[
                {
                    "IpProtocol": str(props["IpProtocol"]),
                    "FromPort": int(props["FromPort"]),
                    "ToPort": int(props["ToPort"]),
                    "IpRanges": [{"CidrIp": props["CidrIp"], "Description": props.get("Description", "")}],
                }
            ],
        )
        self._set(logical, self._physical(logical))

    def _AWS_EC2_LaunchTemplate(self, logical: str, props: dict[str, Any], _: Any) -> None:
        data = dict(props["LaunchTemplateData"])
        created = self.world.client("ec2", self.region).create_launch_template(
            LaunchTemplateName=props.get("LaunchTemplateName") or self._physical(logical, 128),
            LaunchTemplateData=data,
        )["LaunchTemplate"]
        version = str(created["LatestVersionNumber"])
        self._set(
            logical,
            created["LaunchTemplateId"],
            LatestVersionNumber=version,
            DefaultVersionNumber=version,
            LaunchTemplateId=created["LaunchTemplateId"],
        )
        self.world.launch_templates[created["LaunchTemplateId"]] = data

    # ------------------------------------------------------------------------------------------- autoscaling
    def _AWS_AutoScaling_AutoScalingGroup(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("AutoScalingGroupName") or self._physical(logical, 255)
        template = props["LaunchTemplate"]
        subnets = props.get("VPCZoneIdentifier", [])
        args: dict[str, Any] = {
            "AutoScalingGroupName": name,
            "MinSize": int(props["MinSize"]),
            "MaxSize": int(props["MaxSize"]),
            "LaunchTemplate": {
                "LaunchTemplateId": template["LaunchTemplateId"],
                "Version": template["Version"],
            },
            "VPCZoneIdentifier": ",".join(subnets) if isinstance(subnets, list) else str(subnets),
            "Tags": [
                {**t, "ResourceId": name, "ResourceType": "auto-scaling-group"} for t in props.get("Tags", [])
            ],
        }
        if "DesiredCapacity" in props:
            args["DesiredCapacity"] = int(props["DesiredCapacity"])
        for key in ("HealthCheckType",):
            if key in props:
                args[key] = props[key]
        if "HealthCheckGracePeriod" in props:
            args["HealthCheckGracePeriod"] = int(props["HealthCheckGracePeriod"])
        autoscaling = self.world.client("autoscaling", self.region)
        autoscaling.create_auto_scaling_group(**args)
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        collected: set[str] = set()
        for item in props.get("MetricsCollection", []):
            collected |= set(item.get("Metrics", []))
        data = self.world.launch_templates.get(template["LaunchTemplateId"], {})
        self.world.groups[name] = GroupSpec(
            name=name,
            arn=group["AutoScalingGroupARN"],
            region=self.region,
            launch_template_id=template["LaunchTemplateId"],
            detailed_monitoring=bool(data.get("Monitoring", {}).get("Enabled", False)),
            metrics_collection=collected,
        )
        self._set(logical, name)

    def _group_by_arn_or_name(self, value: str) -> GroupSpec:
        for group in self.world.groups.values():
            if value in (group.arn, group.name):
                return group
        raise KeyError(f"Auto Scaling group {value} is not deployed")

    def _AWS_AutoScaling_LifecycleHook(self, logical: str, props: dict[str, Any], _: Any) -> None:
        group = self._group_by_arn_or_name(str(props["AutoScalingGroupName"]))
        name = props.get("LifecycleHookName") or self._physical(logical, 255)
        hook = HookSpec(
            name,
            str(props["LifecycleTransition"]),
            int(props.get("HeartbeatTimeout", HookSpec.heartbeat_timeout)),
            str(props.get("DefaultResult", HookSpec.default_result)),
        )
        self._put_hook(group, hook)
        self._set(logical, name)

    def _put_hook(self, group: GroupSpec, hook: HookSpec) -> None:
        self.world.client("autoscaling", self.region).put_lifecycle_hook(
            LifecycleHookName=hook.name,
            AutoScalingGroupName=group.name,
            LifecycleTransition=hook.transition,
            HeartbeatTimeout=hook.heartbeat_timeout,
            DefaultResult=hook.default_result,
        )
        hooks = group.termination_hooks if "TERMINATING" in hook.transition else group.launch_hooks
        hooks.append(hook.name)
        group.hooks[hook.name] = hook

    def _AWS_AutoScaling_ScalingPolicy(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = self._physical(logical, 255)
        args: dict[str, Any] = {
            "AutoScalingGroupName": props["AutoScalingGroupName"],
            "PolicyName": name,
            "PolicyType": props.get("PolicyType", "SimpleScaling"),
            "AdjustmentType": props["AdjustmentType"],
            "ScalingAdjustment": int(props["ScalingAdjustment"]),
        }
        if "Cooldown" in props:
            args["Cooldown"] = int(props["Cooldown"])
        autoscaling = self.world.client("autoscaling", self.region)
        autoscaling.put_scaling_policy(**args)
        (policy,) = autoscaling.describe_policies(
            AutoScalingGroupName=props["AutoScalingGroupName"], PolicyNames=[name]
        )["ScalingPolicies"]
        self.world.policies[policy["PolicyARN"]] = (props["AutoScalingGroupName"], name, self.region)
        self._set(logical, policy["PolicyARN"], Arn=policy["PolicyARN"])

    # -------------------------------------------------------------------------------------------------- ECS
    def _AWS_ECS_Cluster(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("ClusterName") or self._physical(logical, 255)
        arn = self.world.client("ecs", self.region).create_cluster(clusterName=name)["cluster"]["clusterArn"]
        self._set(logical, name, Arn=arn)

    def _AWS_ECS_CapacityProvider(self, logical: str, props: dict[str, Any], _: Any) -> None:
        provider = props["AutoScalingGroupProvider"]
        group = self._group_by_arn_or_name(str(provider["AutoScalingGroupArn"]))
        name = props.get("Name") or self._physical(logical, 255)
        if provider.get("ManagedDraining", "ENABLED") == "ENABLED":
            # What ECS does when the capacity provider is created: a termination hook on the group, named as
            # the capacity provider's managed_draining attachment reports it ("Configuring Amazon ECS capacity
            # providers to safely shut down instances",
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/enable-managed-instance-draining.html).
            # Its timeout and default result are not in ECS's documentation; 3600 s and CONTINUE are what
            # describe-lifecycle-hooks shows on such groups (reported by users whose stack deletes hung on it).
            hook = HookSpec(
                "ecs-managed-draining-termination-hook",
                "autoscaling:EC2_INSTANCE_TERMINATING",
                heartbeat_timeout=3600,
                default_result="CONTINUE",
                managed_by=name,
            )
            self._put_hook(group, hook)
        self.world.capacity_providers[name] = group.name
        self._set(logical, name)

    def _AWS_ECS_TaskDefinition(self, logical: str, props: dict[str, Any], _: Any) -> None:
        family = props.get("Family") or self._physical(logical, 255)
        arn = f"arn:aws:ecs:{self.region}:{ACCOUNT}:task-definition/{family}:1"
        self.world.task_definitions[arn] = dict(props)
        self._set(logical, arn, TaskDefinitionArn=arn)

    def _AWS_ECS_Service(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("ServiceName") or self._physical(logical, 255)
        task = self.world.task_definitions[str(props["TaskDefinition"])]
        cluster = str(props["Cluster"])
        cluster_arn = (
            cluster
            if cluster.startswith("arn:")
            else f"arn:aws:ecs:{self.region}:{ACCOUNT}:cluster/{cluster}"
        )
        self.world.services.append(
            ServiceSpec(
                name=name,
                region=self.region,
                cluster_arn=cluster_arn,
                scheduling=str(props.get("SchedulingStrategy", "REPLICA")),
                task_family=str(task.get("Family", name)),
                containers=list(task.get("ContainerDefinitions", [])),
            )
        )
        self._set(logical, f"arn:aws:ecs:{self.region}:{ACCOUNT}:service/{cluster}/{name}", Name=name)

    # -------------------------------------------------------------------------------------------------- EFS
    def _AWS_EFS_FileSystem(self, logical: str, props: dict[str, Any], _: Any) -> None:
        created = self.world.client("efs", self.region).create_file_system(
            CreationToken=self._physical(logical), Encrypted=bool(props.get("Encrypted", False))
        )
        self.world.file_systems.append((created["FileSystemId"], self.region))
        self._set(logical, created["FileSystemId"], Arn=created["FileSystemArn"])

    def _AWS_EFS_AccessPoint(self, logical: str, props: dict[str, Any], _: Any) -> None:
        created = self.world.client("efs", self.region).create_access_point(
            ClientToken=self._physical(logical), FileSystemId=props["FileSystemId"]
        )
        self._set(logical, created["AccessPointId"], Arn=created["AccessPointArn"])

    # -------------------------------------------------------------------------------------------------- IAM
    def _AWS_IAM_Role(self, logical: str, props: dict[str, Any], resource: Mapping[str, Any]) -> None:
        name = props.get("RoleName") or self._physical(logical, 64)
        statements = iam.role_statements(logical, self.resolver)
        arn = iam.create_role(name, iam.moto_copy(statements), props["AssumeRolePolicyDocument"])
        self.world.role_statements[arn] = statements
        self._set(logical, name, Arn=arn, RoleId=f"AROA{physical_suffix(arn)}")

    def _AWS_IAM_InstanceProfile(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("InstanceProfileName") or self._physical(logical, 128)
        client = self.world.client("iam", EDGE_REGION)
        arn = client.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
        for role in props.get("Roles", []):
            client.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
        self._set(logical, name, Arn=arn)

    # ---------------------------------------------------------------------------------------- SNS, SQS, CW
    def _AWS_SNS_Topic(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("TopicName") or self._physical(logical, 256)
        arn = self.world.client("sns", self.region).create_topic(Name=name)["TopicArn"]
        self.world.topics[arn] = self.region
        self._set(logical, arn, TopicName=name, TopicArn=arn)

    def _AWS_SQS_Queue(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("QueueName") or self._physical(logical, 80)
        sqs = self.world.client("sqs", self.region)
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}"
        self.world.queues[arn] = (url, self.region)
        self._set(logical, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _AWS_CloudWatch_Alarm(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("AlarmName") or self._physical(logical, 255)
        definition = AlarmDefinition.from_properties(name, props)
        args = {k: v for k, v in props.items() if k not in ("AlarmName",)}
        for key in ("Threshold",):
            args[key] = float(args[key])
        for key in ("EvaluationPeriods", "DatapointsToAlarm", "Period"):
            if key in args:
                args[key] = int(args[key])
        for metric in args.get("Metrics", []):
            if "MetricStat" in metric:
                metric["MetricStat"]["Period"] = int(metric["MetricStat"]["Period"])
        self.world.client("cloudwatch", self.region).put_metric_alarm(AlarmName=name, **args)
        self.world.alarms.append(AlarmSpec(logical, self.region, definition))
        self._set(logical, name, Arn=f"arn:aws:cloudwatch:{self.region}:{ACCOUNT}:alarm:{name}")

    def _AWS_Lambda_Permission(self, logical: str, props: dict[str, Any], _: Any) -> None:
        self.world.lambda_permissions.append(
            LambdaPermission(
                function=str(props["FunctionName"]),
                principal=str(props["Principal"]),
                source_arn=str(props["SourceArn"]) if "SourceArn" in props else None,
                source_account=str(props["SourceAccount"]) if "SourceAccount" in props else None,
            )
        )
        self._set(logical, self._physical(logical))

    # ------------------------------------------------------------------------------------------- EventBridge
    def _AWS_Events_Rule(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("Name") or self._physical(logical, 64)
        targets = [
            RuleTarget(
                arn=str(t["Arn"]),
                function=self._function_by_arn(str(t["Arn"])),
                input_paths=t.get("InputTransformer", {}).get("InputPathsMap", {}),
                input_template=t.get("InputTransformer", {}).get("InputTemplate"),
                role_arn=t.get("RoleArn"),
            )
            for t in props.get("Targets", [])
        ]
        self._add_rule(name, props["EventPattern"], targets, logical)
        self._set(logical, name, Arn=f"arn:aws:events:{self.region}:{ACCOUNT}:rule/{name}")

    def _add_rule(
        self, name: str, pattern: Mapping[str, Any], targets: list[RuleTarget], logical: str
    ) -> None:
        events = self.world.client("events", self.region)
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
        if targets:
            events.put_targets(
                Rule=name, Targets=[{"Id": f"t{i}", "Arn": t.arn} for i, t in enumerate(targets)]
            )
        self.world.rules.append(Rule(name, self.region, pattern, targets, f"{self.label}: {logical}"))

    # ---------------------------------------------------------------------------------------- Step Functions
    def _AWS_StepFunctions_StateMachine(self, logical: str, props: dict[str, Any], _: Any) -> None:
        name = props.get("StateMachineName") or self._physical(logical, 80)
        text = props["DefinitionString"] if "DefinitionString" in props else json.dumps(props["Definition"])
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            text = text.replace("${" + key + "}", str(value))
        definition = json.loads(text)  # a definition that is not JSON fails the deploy, as in AWS
        role_arn = str(props["RoleArn"])
        arn = self.world.client("stepfunctions", self.region).create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=role_arn,
            type=props.get("StateMachineType", "STANDARD"),
        )["stateMachineArn"]
        statements = self.world.role_statements.get(role_arn, [])
        self.world.state_machines[arn] = StateMachineSpec(
            name, arn, self.region, definition, role_arn, statements
        )
        self._set(logical, arn, Arn=arn, Name=name)

    def _function_by_arn(self, arn: str) -> FunctionSpec | None:
        return next((f for f in self.world.functions.values() if f.arn == arn), None)

    # --------------------------------------------------------------------------------------- SAM functions
    def _AWS_Serverless_Function(
        self, logical: str, props: dict[str, Any], resource: Mapping[str, Any]
    ) -> None:
        globals_ = self.resolver.resolve_clean(
            self.template.get("Globals", {}).get("Function", {}), "Globals.Function"
        )
        name = props.get("FunctionName") or self._physical(logical, 64)
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"
        environment = self.resolver.resolve_clean(
            function_environment(self.template, resource), f"{logical}.Environment"
        )
        role_arn = str(props["Role"])
        invoke = props.get("EventInvokeConfig", {})
        spec = FunctionSpec(
            logical=logical,
            name=name,
            arn=arn,
            region=self.region,
            handler=str(props.get("Handler") or globals_.get("Handler")),
            environment={k: str(v) for k, v in environment.items()},
            role_arn=role_arn,
            statements=self.world.role_statements.get(role_arn, []),
            max_retries=int(invoke.get("MaximumRetryAttempts", 2)),
            on_failure=invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
        )
        self.world.functions[logical] = spec
        self._set(logical, name, Arn=arn)
        for event_name, event in props.get("Events", {}).items():
            kind, event_props = event["Type"], event.get("Properties", {})
            if kind == "CloudWatchLogs":
                self.world.subscriptions.append(
                    Subscription(
                        name=f"{name}{event_name}",
                        region=self.region,
                        log_group=str(event_props["LogGroupName"]),
                        pattern=str(event_props.get("FilterPattern", "")),
                        function=spec,
                    )
                )
            elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                rule_name = event_props.get("RuleName") or self._physical(f"{logical}{event_name}", 64)
                self._add_rule(
                    rule_name, event_props["Pattern"], [RuleTarget(arn, spec)], f"{logical}.{event_name}"
                )
            else:
                raise DeployError(
                    f"{self.label}: {logical} event {event_name} of type {kind} is not emulated"
                )
