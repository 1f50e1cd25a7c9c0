"""IAM statements of every role and policy in every template are scoped to ARNs.

Given each Allow statement of an identity policy (inline role policies, AWS::IAM::Policy/ManagedPolicy), when
CloudFormation resolves it (template.yaml: for each DeployPart), then every Resource is an ARN naming specific
resources - or the literal "*" for actions AWS offers no resource-level scoping for (the allow-list below), and
then only with a ``#`` comment on that line of the YAML saying why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    ROOT_TEMPLATE,
    Statement,
    fabricating_resolver,
    iam_statements,
    template,
    template_files,
    template_id,
    template_lines,
)

# Actions the Service Authorization Reference lists with no resource type: "*" is the only possible Resource.
# Add one only after checking that page for its service; keep the comment on the template line too.
UNSCOPABLE_ACTIONS = frozenset(
    {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLifecycleHooks",
        "autoscaling:DescribeScalingActivities",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeTags",
        "cloudwatch:PutMetricData",  # pin with the cloudwatch:namespace condition key
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:ListMetrics",
        "ecr:GetAuthorizationToken",
        "ecs:DiscoverPollEndpoint",
        "ecs:ListClusters",
        "ecs:DescribeTaskDefinition",
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "ec2messages:AcknowledgeMessage",
        "ec2messages:DeleteMessage",
        "ec2messages:FailMessage",
        "ec2messages:GetEndpoint",
        "ec2messages:GetMessages",
        "ec2messages:SendReply",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sts:GetCallerIdentity",
    }
)
ROOT_SCENARIOS = (
    {"DeployPart": "all"},
    {"DeployPart": "edge", "ContainerRegion": "eu-west-1"},
    {"DeployPart": "container", "HostedZoneId": "Z07432391BT2QKN8RXK1F"},
)
_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-*]*):(?P<account>[0-9*]*):(?P<rest>.+)$"
)
_COMMENT = re.compile(r"""["']?\*["']?\s*,?\s*\]?\s*#\s*\S""")


def _statements() -> list[Any]:
    params = []
    for path in template_files():
        for statement in iam_statements(path):
            sid = statement.data.get("Sid", f"#{statement.index}")
            params.append(pytest.param(path, statement, id=f"{template_id(path)}:{statement.resource}:{sid}"))
    return params


STATEMENTS = _statements()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _scenarios(path: Path) -> tuple[dict[str, str], ...]:
    return ROOT_SCENARIOS if path == ROOT_TEMPLATE else ({},)


def _resource_problems(path: Path, statement: Statement) -> list[str]:
    data = statement.data
    actions = [str(a) for a in _as_list(data.get("Action", []))]
    problems = []
    if "NotAction" in data or "NotResource" in data:
        problems.append("uses NotAction/NotResource: allow-lists only")
    problems += [
        f"action {a!r} is a wildcard: list the actions" for a in actions if a == "*" or a.endswith(":*")
    ]
    if "Resource" not in data:
        return [*problems, "has no Resource"]
    items = _as_list(data["Resource"])
    if "*" in items:
        unscopable = sorted(set(actions) - UNSCOPABLE_ACTIONS)
        if unscopable:
            problems.append(
                f'Resource "*" for scopable actions {unscopable}: name their ARNs in a statement of their own'
            )
        lines = template_lines(path)
        problems += [
            f'line {line + 1}: Resource "*" needs a "# why" comment on the same line: {lines[line].strip()!r}'
            for line in statement.star_lines
            if not _COMMENT.search(lines[line])
        ]
        if not statement.star_lines:
            problems.append(
                'Resource "*" is not written as a plain "*" item, so its comment cannot be checked'
            )
    scoped = [item for item in items if item != "*"]
    doc = template(path)
    for parameters in _scenarios(path):
        resolver = fabricating_resolver(doc, parameters)
        for item in scoped:
            for arn in _as_list(resolver.resolve(item)):
                if arn == "":  # AWS::NoValue: the item is dropped
                    continue
                problems += [f"{parameters or 'defaults'}: {p}" for p in _arn_problems(str(arn))]
    return problems


def _arn_problems(arn: str) -> list[str]:
    match = _ARN.match(arn)
    if not match:
        return [f"Resource {arn!r} is not an ARN"]
    problems = []
    if match["account"] == "*" or (
        match["region"] == "*" and match["service"] not in ("iam", "route53", "s3")
    ):
        problems.append(f"Resource {arn!r} leaves the account or region open")
    rest = match["rest"]
    if rest in ("*", "") or rest.startswith("*"):
        problems.append(f"Resource {arn!r} names no resource (everything of the service)")
    return problems


@pytest.mark.parametrize(("path", "statement"), STATEMENTS)
def test_allow_statement_is_scoped_to_arns(path: Path, statement: Statement) -> None:
    if statement.data.get("Effect") != "Allow":
        pytest.skip("Deny statements only narrow access")
    problems = _resource_problems(path, statement)
    assert not problems, f"{template_id(path)} {statement.resource}:\n  " + "\n  ".join(problems)


# Roles known to attach AWS managed policies (strict xfail: fixing one makes its entry fail until removed).
# The compute instance role's finding was fixed by scoping its own statements to the cluster.
KNOWN_MANAGED_POLICY_FINDINGS: dict[str, str] = {}


def _roles() -> list[Any]:
    params = []
    for path in template_files():
        for name, resource in template(path)["Resources"].items():
            if resource.get("Type") != "AWS::IAM::Role":
                continue
            key = f"{template_id(path)}:{name}"
            reason = KNOWN_MANAGED_POLICY_FINDINGS.get(key)
            marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)] if reason else []
            params.append(pytest.param(path, name, id=key, marks=marks))
    return params


@pytest.mark.parametrize(("path", "role"), _roles())
def test_role_attaches_no_aws_managed_policy(path: Path, role: str) -> None:
    """AWS managed policies grant Resource "*" for actions we could scope (and change without notice)."""
    arns = template(path)["Resources"][role].get("Properties", {}).get("ManagedPolicyArns", [])
    resolver = fabricating_resolver(template(path))
    resolved = [str(resolver.resolve(arn)) for arn in arns]
    assert not [arn for arn in resolved if ":iam::aws:policy/" in arn], (
        f"{role} attaches AWS managed policies {resolved}: copy the statements it needs, scoped to ARNs"
    )


def test_every_role_statement_was_collected() -> None:
    # Guards the statement walk: each function role in template.yaml contributes its statements
    ids = {param.id for param in STATEMENTS}
    for role in ("StartSystemRole", "InstanceStateChangeRole", "CrashLoopBreakerRole"):
        assert any(f"template.yaml:{role}:" in i for i in ids), role
    assert any(param.values[1].star_lines for param in STATEMENTS), "no commented '*' found: walk broken?"


def test_the_start_request_tag_the_roles_may_touch_is_the_one_the_functions_write() -> None:
    """One source per fact: the tag key in the template's aws:TagKeys conditions is cm_common's constant."""
    from cm_common.starting import START_REQUEST_TAG

    # Given the roles that tag the group (start-system writes, instance-state-change clears)
    resources = template(ROOT_TEMPLATE)["Resources"]
    tagging = {
        role: statement
        for role in ("StartSystemRole", "InstanceStateChangeRole")
        for policy in resources[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Action"] in ("autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags")
    }
    # Then each may touch exactly that one key, and only on the container's group
    assert set(tagging) == {"StartSystemRole", "InstanceStateChangeRole"}
    for statement in tagging.values():
        assert statement["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": [START_REQUEST_TAG]}}
        assert "autoScalingGroupName/container-manager-${ContainerId}" in str(statement["Resource"])
