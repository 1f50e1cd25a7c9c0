"""infra/compute.yaml's releaser of terminating instances (issue 9 item 4), read from the template.

Given the rule, state machine and roles CloudFormation would deploy for a container, then: AWS's own sample
terminate lifecycle action event of this group starts the releaser and no other group's does; the release comes
StopTimeoutSeconds + 60 s after the action began and completes exactly that action; the roles may do nothing
else; and a stack delete removes the group before the releaser. The behaviour over time is rehearsed in
tests/e2e/test_demo_lifecycle.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from template_support import ROOT, fabricating_resolver, template

from container_manager.matching.event_pattern import EventPattern
from container_manager.rehearsal.iam import resource_matches
from container_manager.rehearsal.stepfunctions import read_path, string_matches
from container_manager.rehearsal.templates import dependencies

COMPUTE = ROOT / "infra" / "compute.yaml"
SAMPLE = Path(__file__).parent / "fixtures" / "asg_instance_terminate_lifecycle_action.json"
GROUP = "container-manager-minecraft"
ACCOUNT = "123456789012"
REGION = "us-east-1"  # what fabricating_resolver deploys a non-container part to


def resolved(logical: str, **parameters: str) -> dict[str, Any]:
    doc = template(COMPUTE)
    resolver = fabricating_resolver(doc, {"ContainerId": "minecraft", **parameters})
    return dict(resolver.resolve(doc["Resources"][logical]))


def sample(group: str | None = None) -> dict[str, Any]:
    """AWS's published "Scale-in lifecycle action" example; ``group`` replaces its placeholder group name."""
    event: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    if group is not None:
        event["detail"]["AutoScalingGroupName"] = group
    return event


def definition(stop_timeout: int = 120) -> dict[str, Any]:
    props = resolved("TerminatingInstanceReleaser", StopTimeoutSeconds=str(stop_timeout))["Properties"]
    parsed: dict[str, Any] = json.loads(props["DefinitionString"])
    return parsed


def group_arn(name: str) -> str:
    uuid = "5d8c1a0e-7b2f-4c3a-9e61-0f4b2d7c8a93"
    return f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:{uuid}:autoScalingGroupName/{name}"


# ------------------------------------------------------------------------------------------------ the rule
@pytest.fixture(scope="module")
def rule() -> EventPattern:
    return EventPattern(resolved("TerminatingInstanceRule")["Properties"]["EventPattern"])


def test_the_sample_terminate_lifecycle_action_of_this_group_starts_the_releaser(rule: EventPattern) -> None:
    assert rule.matches(sample(GROUP))


@pytest.mark.parametrize("group", [None, "container-manager-valheim", "container-manager-minecraft-2"])
def test_another_groups_lifecycle_action_does_not(rule: EventPattern, group: str | None) -> None:
    # None: the sample as AWS publishes it, group "my-asg"
    assert not rule.matches(sample(group))


@pytest.mark.parametrize(
    "detail_type",
    [
        "EC2 Instance-launch Lifecycle Action",
        "EC2 Instance Terminate Successful",
        "EC2 Instance Launch Successful",
    ],
)
def test_other_events_of_the_group_do_not(rule: EventPattern, detail_type: str) -> None:
    event = sample(GROUP)
    event["detail-type"] = detail_type
    assert not rule.matches(event)


def test_the_rule_targets_the_releaser_with_its_own_role() -> None:
    (target,) = template(COMPUTE)["Resources"]["TerminatingInstanceRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["TerminatingInstanceReleaser", "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": ["TerminatingInstanceRuleRole", "Arn"]}
    assert "Input" not in target  # the state machine reads the event as EventBridge sends it
    assert "InputTransformer" not in target


# ------------------------------------------------------------------------------------------ the release
def waits_before_release(machine: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Seconds of Wait states from StartAt to the first Task (the path every execution takes), and that Task."""
    seconds, name = 0.0, machine["StartAt"]
    while machine["States"][name]["Type"] == "Wait":
        state = machine["States"][name]
        seconds += float(state["Seconds"])
        name = state["Next"]
    return seconds, machine["States"][name]


@pytest.mark.parametrize("stop_timeout", [2, 30, 120])
def test_the_release_comes_stop_timeout_plus_60_seconds_after_the_action(stop_timeout: int) -> None:
    waited, task = waits_before_release(definition(stop_timeout))
    assert waited == stop_timeout + 60
    assert task["Type"] == "Task"
    assert task["Resource"] == "arn:aws:states:::aws-sdk:autoscaling:completeLifecycleAction"


def test_the_release_completes_exactly_the_action_of_the_event_with_continue() -> None:
    _, task = waits_before_release(definition())
    event = sample(GROUP)
    arguments = {
        key.removesuffix(".$"): read_path(value, event, {}) if key.endswith(".$") else value
        for key, value in task["Parameters"].items()
    }
    assert arguments == {
        "AutoScalingGroupName": GROUP,
        "LifecycleHookName": "my-lifecycle-hook",
        "LifecycleActionToken": "87654321-4321-4321-4321-210987654321",
        "InstanceId": "i-1234567890abcdef0",
        "LifecycleActionResult": "CONTINUE",
    }


def test_an_action_ecs_completed_first_ends_the_execution_as_released_anything_else_fails_it() -> None:
    machine = definition()
    _, task = waits_before_release(machine)
    (catcher,) = task["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    choice = machine["States"][catcher["Next"]]
    (rule,) = choice["Choices"]
    assert rule["Variable"] == f"{catcher['ResultPath']}.Cause"
    # Auto Scaling's answer when the action is no longer active (what AWS returns, as clients match it)
    assert string_matches("No active Lifecycle Action found with token 8765-4321", rule["StringMatches"])
    assert not string_matches(
        "User: ... is not authorized to perform: autoscaling:Complete...", rule["StringMatches"]
    )
    assert machine["States"][rule["Next"]]["Type"] == "Succeed"
    assert machine["States"][choice["Default"]]["Type"] == "Fail"
    assert machine["States"][task["Next"]]["Type"] == "Succeed"


def test_retries_never_push_a_release_past_stop_timeout_plus_two_minutes() -> None:
    # Retries only follow a failed call; their whole budget must still fit the two minutes after StopTimeout.
    waited, task = waits_before_release(definition(120))
    budget = sum(
        float(r.get("IntervalSeconds", 1)) * float(r.get("BackoffRate", 2.0)) ** n
        for r in task["Retry"]
        for n in range(int(r.get("MaxAttempts", 3)))
    )
    assert waited - 120 + budget <= 120


# --------------------------------------------------------------------------------------------- the roles
def only_statement(role: str) -> dict[str, Any]:
    policies = resolved(role)["Properties"]["Policies"]
    (policy,) = policies
    (statement,) = policy["PolicyDocument"]["Statement"]
    return dict(statement)


def trusted_service(role: str) -> str:
    (statement,) = resolved(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    return str(statement["Principal"]["Service"])


def test_the_releaser_may_only_complete_lifecycle_actions_of_this_group() -> None:
    statement = only_statement("TerminatingInstanceReleaserRole")
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "autoscaling:CompleteLifecycleAction"
    assert "Condition" not in statement
    resource = str(statement["Resource"])
    assert resource_matches(resource, group_arn(GROUP))
    assert not resource_matches(resource, group_arn("container-manager-valheim"))
    assert not resource_matches(resource, group_arn("container-manager-minecraft-2"))
    assert trusted_service("TerminatingInstanceReleaserRole") == "states.amazonaws.com"


def test_eventbridge_may_only_start_the_releaser() -> None:
    statement = only_statement("TerminatingInstanceRuleRole")
    assert statement["Action"] == "states:StartExecution"
    assert statement["Resource"] == resolved("TerminatingInstanceRule")["Properties"]["Targets"][0]["Arn"]
    assert trusted_service("TerminatingInstanceRuleRole") == "events.amazonaws.com"


# ---------------------------------------------------------------------------------------- stack delete
def test_the_group_is_deleted_before_the_releaser() -> None:
    # CloudFormation deletes a resource before what it depends on: the group must depend on the rule and the
    # state machine (and so on their roles), so its instances terminate while the releaser still runs.
    graph = dependencies(template(COMPUTE))
    assert {"TerminatingInstanceRule", "TerminatingInstanceReleaser"} <= graph["AutoScalingGroup"]
    # and nothing of the releaser depends on the group (that would be a cycle): it names the group literally
    releaser = ("TerminatingInstanceRule", "TerminatingInstanceReleaser", "TerminatingInstanceRuleRole")
    for logical in (*releaser, "TerminatingInstanceReleaserRole"):
        assert "AutoScalingGroup" not in graph[logical]


def test_the_capacity_provider_goes_before_the_group_which_is_why_ecs_cannot_release_it() -> None:
    graph = dependencies(template(COMPUTE))
    assert "AutoScalingGroup" in graph["CapacityProvider"]


def test_an_instance_without_its_volumes_joins_another_cluster() -> None:
    # What the rehearsal's MountsFail step relies on: such an instance never becomes a container instance of the
    # service's cluster, so only the releaser ends its termination.
    user_data = str(
        template(COMPUTE)["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    )
    assert 'cluster="$cluster-volumes-not-mounted"' in user_data
    assert "ECS_CLUSTER=$cluster" in user_data
