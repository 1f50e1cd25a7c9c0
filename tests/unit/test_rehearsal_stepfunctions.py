"""The rehearsal's Step Functions: Amazon States Language (JSONPath) executions on the simulated clock.

Given a small definition, when an execution runs, then each state does what the States Language specification
says: paths and ResultPath, Wait on the clock, Choice rules, AWS SDK Tasks in moto as the machine's role (denied
when the role does not allow the call), Retry with backoff, Catch, Fail; what is not emulated fails loudly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from container_manager.rehearsal import iam
from container_manager.rehearsal.clock import SimClock
from container_manager.rehearsal.runner import FUNCTIONS, sandbox
from container_manager.rehearsal.stepfunctions import (
    Execution,
    StepFunctions,
    choice_matches,
    error_name,
    string_matches,
)
from container_manager.rehearsal.timeline import Timeline
from container_manager.rehearsal.world import ACCOUNT, RuleTarget, StateMachineSpec, World

REGION = "eu-west-1"
DESCRIBE_GROUPS = {
    "Sid": "Describe",
    "Effect": "Allow",
    "Action": "autoscaling:DescribeAutoScalingGroups",
    "Resource": "*",
}
UNRELATED = {
    "Effect": "Allow",
    "Action": "sts:GetCallerIdentity",
    "Resource": "*",
}  # a role needs some policy


class Service:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sfn = StepFunctions(world)
        self.count = 0

    def machine(self, definition: dict[str, Any], *statements: dict[str, Any]) -> StateMachineSpec:
        self.count += 1
        name = f"machine-{self.count}"
        parsed = iam.statements_of([{"Statement": list(statements)}]) if statements else []
        policy = iam.moto_copy(parsed) if parsed else {"Version": "2012-10-17", "Statement": [UNRELATED]}
        role_arn = iam.create_role(f"{name}-role", policy)
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        spec = StateMachineSpec(name, arn, REGION, definition, role_arn, parsed)
        self.world.state_machines[arn] = spec
        self.world.role_statements[role_arn] = parsed
        return spec

    def run(self, definition: dict[str, Any], data: Any, *statements: dict[str, Any]) -> Execution:
        return self.sfn.start(self.machine(definition, *statements).arn, data, "test")

    def advance(self, seconds: float) -> None:
        self.world.clock.advance(seconds)


@pytest.fixture
def service() -> Iterator[Service]:
    with sandbox(FUNCTIONS):
        clock = SimClock()
        yield Service(World(clock, Timeline(clock, None)))


def machine_of(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"StartAt": states[0][0], "States": dict(states)}


# --------------------------------------------------------------------------------------- paths, Pass
def test_parameters_result_path_and_output_path(service: Service) -> None:
    definition = machine_of(
        (
            "Shape",
            {
                "Type": "Pass",
                "Parameters": {"id.$": "$.detail.id", "fixed": 1, "name.$": "$$.Execution.Name"},
                "ResultPath": "$.shaped",
                "Next": "Done",
            },
        ),
        ("Done", {"Type": "Succeed", "OutputPath": "$.shaped"}),
    )
    execution = service.run(definition, {"detail": {"id": "i-1"}})
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"id": "i-1", "fixed": 1, "name": execution.name}


def test_result_path_null_keeps_the_input_and_input_path_selects(service: Service) -> None:
    definition = machine_of(
        ("Keep", {"Type": "Pass", "Result": {"x": 1}, "ResultPath": None, "Next": "Pick"}),
        ("Pick", {"Type": "Pass", "InputPath": "$.a", "End": True}),
    )
    assert service.run(definition, {"a": [1, 2]}).output == [1, 2]


def test_a_path_that_matches_nothing_fails_the_execution(service: Service) -> None:
    definition = machine_of(("Shape", {"Type": "Pass", "Parameters": {"x.$": "$.missing"}, "End": True}))
    execution = service.run(definition, {})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


# ------------------------------------------------------------------------------------------------ Wait
@pytest.mark.parametrize("wait", [{"Seconds": 30}, {"SecondsPath": "$.seconds"}])
def test_wait_runs_on_the_simulated_clock(service: Service, wait: dict[str, Any]) -> None:
    definition = machine_of(
        ("Pause", {"Type": "Wait", **wait, "Next": "Done"}), ("Done", {"Type": "Succeed"})
    )
    execution = service.run(definition, {"seconds": 30})
    service.advance(29)
    assert execution.status == "RUNNING"
    service.advance(1)
    assert execution.status == "SUCCEEDED"
    assert (execution.stopped - execution.started).total_seconds() == 30  # type: ignore[operator]


def test_a_deleted_machines_execution_ends_at_its_next_transition(service: Service) -> None:
    definition = machine_of(
        ("Pause", {"Type": "Wait", "Seconds": 60, "Next": "Done"}), ("Done", {"Type": "Succeed"})
    )
    execution = service.run(definition, {})
    execution.machine.deleting = True
    service.advance(60)
    assert execution.status == "ABORTED"


# ---------------------------------------------------------------------------------------------- Choice
DATA = {"name": "minecraft", "count": 3, "on": True, "cause": "No active Lifecycle Action found with token t"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.name", "StringEquals": "minecraft"}, True),
        ({"Variable": "$.name", "StringEquals": "valheim"}, False),
        ({"Variable": "$.count", "NumericGreaterThanEquals": 3}, True),
        ({"Variable": "$.count", "NumericLessThan": 3}, False),
        ({"Variable": "$.name", "NumericEquals": 3}, False),  # a type mismatch is false, not an error
        ({"Variable": "$.on", "BooleanEquals": True}, True),
        ({"Variable": "$.gone", "IsPresent": False}, True),
        ({"Variable": "$.cause", "StringMatches": "*No active Lifecycle Action*"}, True),
        ({"Variable": "$.name", "StringEqualsPath": "$.name"}, True),
        (
            {
                "And": [
                    {"Variable": "$.on", "BooleanEquals": True},
                    {"Not": {"Variable": "$.count", "IsNull": True}},
                ]
            },
            True,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.count", "NumericEquals": 1},
                    {"Variable": "$.count", "NumericEquals": 2},
                ]
            },
            False,
        ),
    ],
)
def test_choice_rules(rule: dict[str, Any], expected: bool) -> None:
    assert choice_matches(rule, DATA, {}) is expected


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2024.txt", "log-*.txt", True),  # the specification's example
        ("log-2024.csv", "log-*.txt", False),
        ("", "*", True),
        ("a*b", "a\\*b", True),  # an escaped star is literal
        ("axb", "a\\*b", False),
    ],
)
def test_string_matches(value: str, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected


def test_no_matching_choice_without_default_fails(service: Service) -> None:
    definition = machine_of(
        ("Decide", {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}]}),
        ("Done", {"Type": "Succeed"}),
    )
    assert service.run(definition, {"n": 2}).error == "States.NoChoiceMatched"


def test_a_missing_choice_variable_is_a_runtime_error(service: Service) -> None:
    definition = machine_of(
        (
            "Decide",
            {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}],
                "Default": "Done",
            },
        ),
        ("Done", {"Type": "Succeed"}),
    )
    assert service.run(definition, {}).error == "States.Runtime"


# ------------------------------------------------------------------------------------------------ Task
def describe_task(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:autoscaling:describeAutoScalingGroups",
        "Parameters": {"AutoScalingGroupNames.$": "$.groups"},
        **extra,
    }


def test_an_sdk_task_calls_moto_as_the_machines_role(service: Service) -> None:
    definition = machine_of(("Describe", describe_task(ResultPath="$.result", End=True)))
    execution = service.run(definition, {"groups": ["nothing-here"]}, DESCRIBE_GROUPS)
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"groups": ["nothing-here"], "result": {"AutoScalingGroups": []}}


def test_a_call_the_role_does_not_allow_is_denied_retried_with_backoff_then_caught(service: Service) -> None:
    definition = machine_of(
        (
            "Describe",
            describe_task(
                Retry=[
                    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 2, "BackoffRate": 2}
                ],
                Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}],
                End=True,
            ),
        ),
        ("Caught", {"Type": "Pass", "End": True}),
    )
    execution = service.run(definition, {"groups": []})  # a role without the Describe statement
    service.advance(60)
    assert execution.status == "SUCCEEDED"
    assert execution.output["error"]["Error"] == "AutoScaling.AccessDeniedException"
    failures = [at for at, text in execution.history if "AccessDenied" in text and "caught" not in text]
    offsets = [(at - execution.started).total_seconds() for at in failures]
    assert offsets == [0, 5, 15]  # the call, then retries after 5 s and 5 * 2 s


def test_an_uncaught_task_error_fails_the_execution(service: Service) -> None:
    execution = service.run(machine_of(("Describe", describe_task(End=True))), {"groups": []})
    assert (execution.status, execution.error) == ("FAILED", "AutoScaling.AccessDeniedException")


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Map", "End": True},
        {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $.a)"}, "End": True},
        {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True},
    ],
)
def test_what_is_not_emulated_fails_loudly(service: Service, state: dict[str, Any]) -> None:
    execution = service.run(machine_of(("Only", state)), {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


@pytest.mark.parametrize(
    ("service_name", "code", "expected"),
    [  # the AWS SDK integrations page's own examples, and the releaser's
        ("acm-pca", "ResourceNotFoundException", "AcmPca.ResourceNotFoundException"),
        ("s3", "BucketAlreadyExists", "S3.BucketAlreadyExistsException"),
        ("autoscaling", "ValidationError", "AutoScaling.ValidationErrorException"),
    ],
)
def test_sdk_error_names(service_name: str, code: str, expected: str) -> None:
    assert error_name(service_name, code) == expected


# ------------------------------------------------------------------------------------ from EventBridge
def test_eventbridge_starts_a_machine_only_with_a_role_allowed_to(service: Service) -> None:
    definition = machine_of(("Done", {"Type": "Succeed"}))
    machine = service.machine(definition)
    event = {"detail-type": "x", "detail": {}}
    allowed = {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine.arn}
    other = {**allowed, "Resource": machine.arn + "-other"}
    roles = {}
    for name, statement in (("allowed", allowed), ("other", other)):
        statements = iam.statements_of([{"Statement": [statement]}])
        roles[name] = iam.create_role(f"events-{name}", iam.moto_copy(statements))
        service.world.role_statements[roles[name]] = statements
    assert service.sfn.start_from_rule(RuleTarget(machine.arn), event, "rule") is None
    assert (
        service.sfn.start_from_rule(RuleTarget(machine.arn, role_arn=roles["other"]), event, "rule") is None
    )
    started = service.sfn.start_from_rule(RuleTarget(machine.arn, role_arn=roles["allowed"]), event, "rule")
    assert started is not None
    assert json.dumps(started.input) == json.dumps(event)
    assert started.status == "SUCCEEDED"
