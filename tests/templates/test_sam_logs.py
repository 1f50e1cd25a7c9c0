"""`sam logs` finds every function's log group, in both region flows, and `cm logs` reads the same groups.

SAM CLI's own code runs here, in the order `sam logs` runs it (samcli/commands/logs/command.py do_cli):
``ResourcePhysicalIdResolver`` lists the stack's resources (nested stacks too), ``generate_puller`` asks Lambda
``GetFunctionConfiguration`` for each function and takes ``LoggingConfig.LogGroup`` (else the default
``/aws/lambda/<name>``), and the pullers read those groups. The deployed stacks are what CloudFormation makes
of template.yaml after SAM's own transform (the one `sam validate`/`sam deploy` run), with its Conditions
evaluated for each DeployPart. moto holds the functions and the log groups; CloudFormation's
ListStackResources and Lambda's GetFunctionConfiguration are answered by botocore's Stubber in their
documented shapes, because moto 5.2 ignores a function's LoggingConfig (and moto cannot deploy SAM
templates). Lambda reports the LoggingConfig the function was created with, and ``/aws/lambda/<name>`` when
it had none - "Configuring CloudWatch log groups" in the Lambda developer guide,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws
from template_support import (
    ACCOUNT,
    ROOT,
    ROOT_TEMPLATE,
    FabricatedAttributes,
    pseudo_refs,
    sample_parameters,
    template,
)

from container_manager import names
from container_manager import operations as ops
from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver
from container_manager.rehearsal.world import physical_suffix
from support.sam_cli import QUIET_SAM, command_lines, settings_of

CONTAINER_ID = "minecraft"
CONTAINER_REGION = "eu-central-1"  # samconfig.toml's container env
ZONE_ID = "Z07432391BT2QKN8RXK1F"
TARGET = ops.Target(CONTAINER_ID, CONTAINER_REGION)
SAM_DOC = ROOT / "docs" / "sam.md"


@dataclass(frozen=True)
class Flow:
    """One stack of a region flow, as docs/sam.md deploys it."""

    label: str
    stack: str
    region: str
    parameters: dict[str, str]


ONE_STACK = Flow("all", names.stack_name(CONTAINER_ID), names.EDGE_REGION, {"DeployPart": "all"})
EDGE = Flow(
    "edge", TARGET.edge_stack, names.EDGE_REGION, {"DeployPart": "edge", "ContainerRegion": CONTAINER_REGION}
)
CONTAINER = Flow(
    "container", TARGET.name, CONTAINER_REGION, {"DeployPart": "container", "HostedZoneId": ZONE_ID}
)
pytestmark = [pytest.mark.usefixtures("pristine_yaml"), QUIET_SAM]

# flow -> (the container's region, the stacks in deploy order)
FLOWS = {
    "one stack in us-east-1": (names.EDGE_REGION, [ONE_STACK]),
    "edge + container": (CONTAINER_REGION, [EDGE, CONTAINER]),
}


@cache
def translated_root() -> dict[str, Any]:
    """template.yaml after SAM's transform (AWS::Serverless::* -> the CloudFormation resources it deploys)."""
    from samcli.lib.translate.sam_template_validator import SamTemplateValidator

    class NoManagedPolicies:  # our roles are written out: the transform needs no AWS managed policy
        def load(self) -> dict[str, str]:
            return {}

    validator = SamTemplateValidator(
        load_template(ROOT_TEMPLATE), NoManagedPolicies(), region=names.EDGE_REGION
    )
    result: dict[str, Any] = yaml.safe_load(validator.get_translated_template_if_valid())
    return result


# ------------------------------------------------------------------------------------ the deployed stacks
@dataclass
class DeployedStack:
    """What CloudFormation would list for one (nested) stack, and what its functions were created with."""

    stack_id: str
    summaries: list[dict[str, Any]] = field(default_factory=list)
    log_groups: set[str] = field(default_factory=set)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)  # physical name -> LoggingConfig
    children: list[DeployedStack] = field(default_factory=list)

    def walk(self) -> Iterator[DeployedStack]:
        """In the order SAM asks for them: this stack, then each nested stack (depth first, listed order)."""
        yield self
        for child in self.children:
            yield from child.walk()


def _string(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def deployed(doc: dict[str, Any], parameters: dict[str, str], stack_id: str, region: str) -> DeployedStack:
    """Resolve one template as CloudFormation would deploy it with ``parameters``: resources whose Condition
    holds, log group names, each function's LoggingConfig (Ref of a log group = its name), nested stacks."""
    params = sample_parameters(doc, parameters)
    refs = {**{name: f"{name}-physical-id" for name in doc["Resources"]}, **pseudo_refs(region)}
    first = Resolver(doc, parameters=params, refs=refs, attributes=FabricatedAttributes(region))
    live = {
        name: resource
        for name, resource in doc["Resources"].items()
        if "Condition" not in resource or first.condition(resource["Condition"])
    }
    groups = {
        name: str(first.resolve(resource["Properties"]["LogGroupName"]))
        for name, resource in live.items()
        if resource["Type"] == "AWS::Logs::LogGroup" and "LogGroupName" in resource.get("Properties", {})
    }
    resolver = Resolver(
        doc, parameters=params, refs={**refs, **groups}, attributes=FabricatedAttributes(region)
    )
    short_name = stack_id.split("/")[1] if stack_id.startswith("arn:") else stack_id
    stack = DeployedStack(stack_id, log_groups=set(groups.values()))
    for name, resource in live.items():
        kind = resource["Type"]
        physical = groups.get(name, f"{name}-physical-id")
        if kind == "AWS::Lambda::Function":
            physical = f"{short_name[:38]}-{name[:10]}-{physical_suffix(short_name, name)}"
            stack.functions[physical] = resolver.resolve(resource["Properties"].get("LoggingConfig", {}))
        elif kind == "AWS::CloudFormation::Stack":
            child_name = f"{short_name}-{name}-{physical_suffix(short_name, name)}"
            physical = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{child_name}/0f1e2d3c"
            child_params = resolver.resolve(resource["Properties"].get("Parameters", {}))
            child_doc = template(ROOT / resource["Properties"]["TemplateURL"])
            child = {k: _string(v) for k, v in child_params.items()}
            stack.children.append(deployed(child_doc, child, physical, region))
        stack.summaries.append(
            {
                "LogicalResourceId": name,
                "PhysicalResourceId": physical,
                "ResourceType": kind,
                "LastUpdatedTimestamp": datetime(2026, 11, 20, tzinfo=UTC),
                "ResourceStatus": "CREATE_COMPLETE",
            }
        )
    return stack


# ---------------------------------------------------------------------------------------- the AWS side
class Cloud:
    """One region's clients as SAM's ``boto_client_provider``/``boto_resource_provider`` hand them out:
    moto for Logs and IAM, Stubber-backed CloudFormation and Lambda (see the module docstring)."""

    def __init__(self, stack: DeployedStack, region: str) -> None:
        self.region = region
        self.stack = stack
        self.cloudformation = boto3.resource("cloudformation", region_name=region)
        self.cloudformation_stub = Stubber(self.cloudformation.meta.client)
        self.lambda_ = boto3.client("lambda", region_name=region)
        self.lambda_stub = Stubber(self.lambda_)
        self.logs = boto3.client("logs", region_name=region)
        # The releaser of terminating instances (infra/compute.yaml) is a state machine: `sam logs` asks Step
        # Functions for its logging destinations. It has none (execution history only), as this answers.
        self.stepfunctions = boto3.client("stepfunctions", region_name=region)
        self.stepfunctions_stub = Stubber(self.stepfunctions)
        self.configurations: dict[str, dict[str, Any]] = {}
        self._create_in_moto()
        self.cloudformation_stub.activate()
        self.lambda_stub.activate()
        self.stepfunctions_stub.activate()

    def _create_in_moto(self) -> None:
        role = boto3.client("iam", region_name=self.region).create_role(
            RoleName=f"function-role-{self.region}", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("index.py", "def handler(event, context):\n    return event\n")
        moto_lambda = boto3.client("lambda", region_name=self.region)
        for each in self.stack.walk():
            for group in each.log_groups:
                self.logs.create_log_group(logGroupName=group)
            for name, logging in each.functions.items():
                moto_lambda.create_function(
                    FunctionName=name,
                    Runtime="python3.13",
                    Role=role,
                    Handler="index.handler",
                    Code={"ZipFile": code.getvalue()},
                    **({"LoggingConfig": logging} if logging else {}),
                )
                config = moto_lambda.get_function_configuration(FunctionName=name)
                config.pop("ResponseMetadata")
                # What Lambda answers and moto leaves out: the group given at creation, else the default one.
                config["LoggingConfig"] = {
                    "LogFormat": logging.get("LogFormat", "Text"),
                    "LogGroup": logging.get("LogGroup", f"/aws/lambda/{name}"),
                }
                self.configurations[name] = config

    def client(self, service: str) -> Any:
        return {"lambda": self.lambda_, "logs": self.logs, "stepfunctions": self.stepfunctions}[service]

    def resource(self, service: str) -> Any:
        assert service == "cloudformation"
        return self.cloudformation

    def expect_stack_listing(self) -> None:
        for each in self.stack.walk():
            self.cloudformation_stub.add_response(
                "list_stack_resources",
                {"StackResourceSummaries": each.summaries},
                {"StackName": each.stack_id},
            )

    def expect_state_machine_calls(self, arns: list[str]) -> None:
        """DescribeStateMachine's documented shape (Step Functions API Reference) for a machine that logs nowhere."""
        for arn in arns:
            self.stepfunctions_stub.add_response(
                "describe_state_machine",
                {
                    "stateMachineArn": arn,
                    "name": arn.rsplit(":", 1)[-1],
                    "definition": "{}",
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/releaser",
                    "type": "STANDARD",
                    "creationDate": datetime(2026, 11, 20, tzinfo=UTC),
                    "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
                },
                {"stateMachineArn": arn},
            )

    def expect_configuration_calls(self, physical_names: list[str]) -> None:
        for name in physical_names:
            self.lambda_stub.add_response(
                "get_function_configuration", self.configurations[name], {"FunctionName": name}
            )


def write_log_line(logs: Any, group: str, when: datetime) -> str:
    message = f"a line in {group}"
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/20/[$LATEST]0f1e2d3c")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/20/[$LATEST]0f1e2d3c",
        logEvents=[{"timestamp": int(when.timestamp() * 1000), "message": message}],
    )
    return message


@dataclass
class SamLogs:
    """What one `sam logs --stack-name <stack> --region <region> [-n ...] [--cw-log-group ...]` would read."""

    stack: DeployedStack
    groups: dict[str, str]  # logical id SAM prints (or the log group, for --cw-log-group) -> log group
    printed: str
    warnings: list[str]


def sam_logs(
    flow: Flow,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    names: list[str] | None = None,
    cw_log_groups: list[str] | None = None,
) -> SamLogs:
    from samcli.commands.logs.logs_context import ResourcePhysicalIdResolver
    from samcli.commands.logs.puller_factory import generate_puller

    stack = deployed(translated_root(), flow.parameters, flow.stack, flow.region)
    cloud = Cloud(stack, flow.region)
    now = datetime.now(UTC)
    for each in stack.walk():
        for group in each.log_groups:
            write_log_line(cloud.logs, group, now - timedelta(minutes=1))
    capsys.readouterr()
    if (
        names or not cw_log_groups
    ):  # SAM lists the stack only then (do_cli: fetch_all_when_no_resource_name_given)
        cloud.expect_stack_listing()
    resources = ResourcePhysicalIdResolver(
        cloud.resource, cloud.client, flow.stack, names
    ).get_resource_information(fetch_all_when_no_resource_name_given=not cw_log_groups)
    cloud.expect_configuration_calls(
        [r.physical_resource_id for r in resources if r.resource_type == "AWS::Lambda::Function"]
    )
    cloud.expect_state_machine_calls(
        [r.physical_resource_id for r in resources if r.resource_type == "AWS::StepFunctions::StateMachine"]
    )
    with caplog.at_level("WARNING", logger="samcli"):
        puller = generate_puller(cloud.client, resources, additional_cw_log_groups=cw_log_groups)
        puller.load_time_period(now - timedelta(minutes=10), now)
    cloud.lambda_stub.assert_no_pending_responses()
    cloud.stepfunctions_stub.assert_no_pending_responses()
    cloud.cloudformation_stub.assert_no_pending_responses()
    pullers = puller._pullers  # the groups SAM resolved; it has no public accessor
    return SamLogs(
        stack=stack,
        groups={p.resource_name or p.cw_log_group: p.cw_log_group for p in pullers},
        printed=capsys.readouterr().out,
        warnings=[r.getMessage() for r in caplog.records if r.levelname == "WARNING"],
    )


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _logical(function: str) -> str:
    """The logical id in the function's own stack: what SAM labels its lines with."""
    return function.rsplit("/", 1)[-1]


def _functions_of(flow: Flow) -> list[ops.LogSource]:
    return [
        s
        for s in names.LOG_SOURCES
        if s.function
        and flow.parameters["DeployPart"] in (("all", "edge") if s.edge else ("all", "container"))
    ]


# ----------------------------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("flow_name", FLOWS)
def test_sam_logs_tails_each_function_in_the_group_cm_logs_reads(
    flow_name: str, aws: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given the flow's stacks deployed, When `sam logs --stack-name <stack> --region <region>` runs against each,
    Then SAM resolves every function of the stack to the group the stack declares for it (through LoggingConfig,
    not /aws/lambda/...), reads the lines written there, and the (region, group) pairs over the flow's stacks
    are exactly the function groups `cm logs` reads."""
    container_region, flows = FLOWS[flow_name]
    found: set[tuple[str, str]] = set()
    for flow in flows:
        result = sam_logs(flow, capsys, caplog)
        declared = {group for each in result.stack.walk() for group in each.log_groups}
        expected = {_logical(s.function): names.log_group(CONTAINER_ID, s.name) for s in _functions_of(flow)}
        assert result.groups == expected, f"{flow.label}: sam logs resolves {result.groups}"
        assert set(result.groups.values()) <= declared, "a function logs to a group its stack does not create"
        for group in result.groups.values():
            assert f"a line in {group}" in result.printed
        found |= {(flow.region, group) for group in result.groups.values()}
    assert found == set(ops.log_groups(ops.Target(CONTAINER_ID, container_region), "functions"))


@pytest.mark.parametrize("flow", [ONE_STACK, CONTAINER], ids=lambda f: f.label)
def test_container_log_group_tails_beside_the_named_functions(
    flow: Flow, aws: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given the stack holding the container (all, or the container part), When `sam logs` runs with each of
    its functions by -n and the container's group by --cw-log-group (the docs' command), Then SAM reads the
    group infra/compute.yaml creates (no "does not exist" warning), which is the one `cm logs --source
    container` reads in that region."""
    names = [
        s.function for s in _functions_of(flow)
    ]  # nested ones as Stack/Function, as `sam logs -n` takes them
    target = ops.Target(CONTAINER_ID, flow.region)
    ((region, container_group),) = ops.log_groups(target, "container")
    result = sam_logs(flow, capsys, caplog, names=names, cw_log_groups=[container_group])
    assert region == flow.region
    assert result.groups[container_group] == container_group
    assert set(result.groups) == {*map(_logical, names), container_group}
    assert f"a line in {container_group}" in result.printed
    assert result.warnings == []
    assert any(
        container_group in each.log_groups for each in result.stack.walk() if "-Compute-" in each.stack_id
    )


def test_cw_log_group_alone_tails_no_function(
    aws: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given --cw-log-group without -n, Then SAM tails only that group (why docs/sam.md lists -n with it)."""
    ((_, container_group),) = ops.log_groups(ops.Target(CONTAINER_ID, CONTAINER_REGION), "container")
    result = sam_logs(CONTAINER, capsys, caplog, cw_log_groups=[container_group])
    assert result.groups == {container_group: container_group}


def test_docs_sam_logs_lines_name_real_functions_and_groups() -> None:
    """Every `sam logs` line in docs/sam.md addresses a stack of a flow in the region it lives in (by its flags
    or its samconfig.toml env), and names only that stack's functions and, where the stack holds the container,
    the container's group - so a rename fails here instead of in a user's terminal."""
    lines = [line for line in command_lines(SAM_DOC.read_text()) if line.startswith("sam logs")]
    assert len(lines) >= 6, "docs/sam.md lost its sam logs commands"
    flows = {(f.stack, f.region): f for f in (ONE_STACK, EDGE, CONTAINER)}
    for line in lines:
        settings = settings_of(line, "logs")
        flow = flows.get((settings["stack_name"], settings["region"]))
        assert flow, f"{line}: no stack {settings['stack_name']} in {settings['region']}"
        functions = {s.function for s in _functions_of(flow)}
        for name in re.findall(r"(?:-n|--name) (\S+)", line):
            assert name in functions, f"{line}: {name} is not a function of {flow.stack} ({flow.label})"
        for group in re.findall(r"--cw-log-group (\S+)", line):
            assert flow.parameters["DeployPart"] != "edge", (
                f"{line}: the container's log is not in the edge stack"
            )
            assert (flow.region, group) in ops.log_groups(
                ops.Target(CONTAINER_ID, flow.region), "container"
            ), line
