"""The failed-events queue takes dead letters from this stack's EventBridge rules only (issue 9, item 7).

Given every rule of template.yaml and its nested templates whose target dead-letters to FailedEventsQueue -
derived from the templates: the functions' EventBridgeRule events with that DeadLetterConfig (SAM generates a
rule named <Function><Event> for each) and the rules of nested stacks that receive the queue's ARN as a
parameter - each with an ARN as a deployed stack gives it, when EventBridge sends a dead letter from that rule
(aws:SourceArn, aws:SourceAccount), then the queue policy allows it; the same rule of another container's stack
or another account is refused, and no other ARN is admitted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from template_support import ACCOUNT, NESTED_STACK_TYPES, ROOT_TEMPLATE, pseudo_refs, template

from container_manager.intrinsics import Resolver, UnresolvedError
from container_manager.rehearsal.iam import condition_holds
from container_manager.rehearsal.templates import strip_no_value
from container_manager.rehearsal.world import physical_suffix

REGION = "us-east-1"
STACK = "container-manager-minecraft"
QUEUE = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:container-manager-minecraft-failed-events"
SAM_RULE_EVENTS = ("EventBridgeRule", "CloudWatchEvent", "Schedule")


def nested_stack_name(stack: str, nested: str) -> str:
    return f"{stack}-{nested}-{physical_suffix(stack, nested)}"


def rule_arn(stack: str, logical: str, account: str = ACCOUNT) -> str:
    """A rule CloudFormation names: <stack>-<logical id>-<random>, at most 64 characters."""
    name = f"{stack}-{logical}-{physical_suffix(stack, logical)}"[:64]
    return f"arn:aws:events:{REGION}:{account}:rule/{name}"


def dead_letters_to(targets: list[Mapping[str, Any]], queue: Any) -> bool:
    return any(t.get("DeadLetterConfig", {}).get("Arn") == queue for t in targets)


def root_rules(doc: Mapping[str, Any]) -> Iterator[str]:
    """Logical ids of the root's rules that dead-letter to the queue (SAM-generated ones included)."""
    for name, resource in doc["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            for event_name, event in resource["Properties"].get("Events", {}).items():
                if event["Type"] in SAM_RULE_EVENTS and dead_letters_to([event["Properties"]], QUEUE):
                    yield f"{name}{event_name}"
        elif resource["Type"] == "AWS::Events::Rule" and dead_letters_to(
            resource["Properties"].get("Targets", []), QUEUE
        ):
            yield name


def nested_rules(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(nested stack, rule logical id) for the nested stacks' rules that dead-letter to the queue."""
    for name, resource in doc["Resources"].items():
        if resource["Type"] not in NESTED_STACK_TYPES:
            continue
        params = [p for p, value in resource["Properties"].get("Parameters", {}).items() if value == QUEUE]
        if not params:
            continue
        location = resource["Properties"].get("Location") or resource["Properties"]["TemplateURL"]
        nested = template(ROOT_TEMPLATE.parent / location)
        for rule, item in nested["Resources"].items():
            targets = item.get("Properties", {}).get("Targets", [])
            if item["Type"] == "AWS::Events::Rule" and any(
                dead_letters_to(targets, {"Ref": p}) for p in params
            ):
                yield name, rule


def nested_rules_by_stack(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for stack_name, rule in nested_rules(doc):
        grouped.setdefault(stack_name, []).append(rule)
    return grouped


def nested_outputs(stack: str, nested: str, rules: list[str]) -> dict[str, Any]:
    """The nested stack's outputs that its rules' ARNs make (those of a stack named as CloudFormation does)."""
    location = template(ROOT_TEMPLATE)["Resources"][nested]["Properties"]["Location"]
    doc = template(ROOT_TEMPLATE.parent / location)
    child = nested_stack_name(stack, nested)
    resolver = Resolver(
        doc,
        parameters={"ContainerId": "minecraft", "FailedEventsQueueArn": QUEUE_ARN},
        refs=pseudo_refs(REGION),
        attributes={f"{rule}.Arn": rule_arn(child, rule) for rule in rules},
    )
    outputs = {}
    for key, output in doc["Outputs"].items():
        try:
            outputs[f"{nested}.Outputs.{key}"] = resolver.resolve(output["Value"])
        except UnresolvedError:  # an output of other resources (alarms, the policy)
            continue
    return outputs


def deployed_rule_arns(stack: str) -> list[str]:
    doc = template(ROOT_TEMPLATE)
    child_arns = [
        rule_arn(nested_stack_name(stack, name), rule)
        for name, rules in nested_rules_by_stack(doc).items()
        for rule in rules
    ]
    return [rule_arn(stack, rule) for rule in root_rules(doc)] + child_arns


def dead_letter_statement(parameters: Mapping[str, str]) -> dict[str, Any] | None:
    doc = template(ROOT_TEMPLATE)
    attributes: dict[str, Any] = {"FailedEventsQueue.Arn": QUEUE_ARN}
    attributes.update({f"{rule}.Arn": rule_arn(STACK, rule) for rule in root_rules(doc)})
    for stack_name, rules in nested_rules_by_stack(doc).items():
        attributes.update(nested_outputs(STACK, stack_name, rules))
    refs = {**pseudo_refs(REGION), "AWS::NoValue": None}
    resolver = Resolver(doc, parameters=parameters, refs=refs, attributes=attributes)
    policy = doc["Resources"]["FailedEventsQueuePolicy"]["Properties"]["PolicyDocument"]
    statements = strip_no_value(resolver.resolve(policy["Statement"]))
    found = [s for s in statements if s and s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert len(found) <= 1
    return found[0] if found else None


def sends(statement: Mapping[str, Any], source_arn: str, account: str = ACCOUNT) -> bool:
    context = {"aws:SourceArn": [source_arn], "aws:SourceAccount": [account]}
    return (
        statement["Effect"] == "Allow"
        and statement["Action"] == "sqs:SendMessage"
        and statement["Resource"] == QUEUE_ARN
        and condition_holds(statement["Condition"], context)
    )


def test_the_rules_using_the_queue_are_derived_from_the_templates() -> None:
    # a guard on the derivation itself: the functions' two rules and the watchdog's two notices
    doc = template(ROOT_TEMPLATE)
    assert sorted(root_rules(doc)) == [
        "CrashLoopBreakerFunctionTaskCrashed",
        "InstanceStateChangeFunctionInstanceLaunchedOrTerminating",
    ]
    assert sorted(rule for _, rule in nested_rules(doc)) == ["ServerStoppedNotice", "ServerUpNotice"]


@pytest.mark.parametrize("part", ["all", "container"])
def test_every_rule_dead_lettering_here_may_send(part: str) -> None:
    statement = dead_letter_statement({"DeployPart": part, "HostedZoneId": "Z0123456789ABCDEFGHIJ"})
    assert statement is not None
    arns = deployed_rule_arns(STACK)
    assert all(sends(statement, arn) for arn in arns), [a for a in arns if not sends(statement, a)]
    # exactly those: no wildcard, nothing else admitted
    (allowed,) = statement["Condition"].values()
    assert sorted(allowed["aws:SourceArn"]) == sorted(arns)


def test_rules_of_other_stacks_and_accounts_are_refused() -> None:
    statement = dead_letter_statement({"DeployPart": "all"})
    assert statement is not None
    for arn in deployed_rule_arns("container-manager-valheim"):
        assert not sends(statement, arn), arn
    for arn in deployed_rule_arns(STACK):
        other_account = arn.replace(f":{ACCOUNT}:", ":210987654321:")
        assert not sends(statement, other_account, account="210987654321"), other_account
    assert not sends(statement, rule_arn(STACK, "SomeoneElsesRule"))


def test_an_edge_stack_has_no_rule_and_admits_none() -> None:
    assert dead_letter_statement({"DeployPart": "edge"}) is None
