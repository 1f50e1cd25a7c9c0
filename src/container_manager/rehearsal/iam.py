"""Run code as a moto IAM role holding exactly a template role's statements, with IAM enforcement on.

Shared by the rehearsal (every handler invocation) and the IAM proof tests (tests/support/iam_proof.py).

What moto 5.2.5 can and cannot evaluate (read from moto/core/authorization.py and moto/iam/access_control.py):

- Enforcement: every request is authenticated and authorized once ``ActionAuthenticatorMixin.request_count``
  reaches ``settings.INITIAL_NO_AUTH_ACTION_COUNT`` (default infinity = off). ``moto.core.enable_iam_authentication``
  sets that count to 0 for the ``with`` block and restores both values after it, so setup and assertions run
  unauthenticated and only the handler's own calls are judged.
- Resource: outside S3 every request is checked against resource ``*``, so an Allow scoped to an ARN is a false
  denial. The copy widens every Resource to ``*``; the scoping is proven by reading the template
  (tests/templates/test_template_iam.py).
- Condition: moto passes no request context to the evaluator, so an unknown operator (e.g.
  ``ForAllValues:StringEquals``) is skipped and a known one (``StringEquals``) compares against no values: every
  condition is satisfied, whatever it says. The copy drops Conditions so that is explicit, not silent; the
  conditions are evaluated offline instead (``request_context`` + ``condition_holds``).
- Action: moto names the action ``<SigV4 signing name>:<Operation>``. For CloudWatch the signing name is
  ``monitoring``, not the IAM prefix ``cloudwatch``: the copy spells CloudWatch actions moto's way (a rename of the
  same action, not a widening).
- Route 53 ``GET`` requests fail moto's signature re-computation for any identity; ``POST`` (e.g.
  ChangeResourceRecordSets) works. Our handlers make no Route 53 ``GET``.
- Errors: the identity's denial reaches botocore as ``AccessDenied`` for query protocols, but as code ``403``
  (with the XML error in the message) for CloudWatch's CBOR protocol and as an empty code for Route 53's REST-XML:
  ``is_access_denied`` accepts all three shapes, and only with HTTP status 403.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.core import enable_iam_authentication

from container_manager.intrinsics import Resolver
from container_manager.rehearsal.templates import strip_no_value

# IAM action prefix -> the prefix moto checks (its request's SigV4 signing name), where they differ.
MOTO_ACTION_PREFIX = {"cloudwatch": "monitoring"}
# botocore client service name -> IAM action prefix, where they differ.
IAM_PREFIX_OF_CLIENT: dict[str, str] = {"stepfunctions": "states"}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass(frozen=True)
class TemplateStatement:
    sid: str
    actions: tuple[str, ...]
    data: Mapping[str, Any]  # resolved, exactly as CloudFormation would deploy it


def role_statements(role: str, resolver: Resolver) -> list[TemplateStatement]:
    """The identity-policy statements ``role`` gets, resolved: its inline policies and the AWS::IAM::Policy
    resources attached to it. A managed policy would hold statements this proof cannot see: it fails instead."""
    resources = resolver.template["Resources"]
    properties = resources[role]["Properties"]
    assert not properties.get("ManagedPolicyArns"), f"{role}: managed policies are outside this proof"
    documents = [policy["PolicyDocument"] for policy in resolver.resolve(properties.get("Policies", []))]
    for resource in resources.values():
        attached = resource.get("Properties", {}).get("Roles", [])
        if resource.get("Type") == "AWS::IAM::Policy" and {"Ref": role} in attached:
            documents.append(resolver.resolve(resource["Properties"]["PolicyDocument"]))
    return statements_of(strip_no_value(documents))


def statements_of(documents: list[Mapping[str, Any]]) -> list[TemplateStatement]:
    statements = []
    for document in documents:
        items = document["Statement"]
        for index, statement in enumerate(items if isinstance(items, list) else [items]):
            actions = statement["Action"]
            statements.append(
                TemplateStatement(
                    sid=statement.get("Sid", f"statement{index}"),
                    actions=tuple(actions if isinstance(actions, list) else [actions]),
                    data=statement,
                )
            )
    return statements


def moto_copy(statements: list[TemplateStatement]) -> dict[str, Any]:
    """A policy document moto can judge: the template's statements, Resource widened to "*", Condition dropped
    (moto would treat it as satisfied anyway), CloudWatch actions spelled as moto checks them."""
    copied = []
    for statement in statements:
        data = {k: copy.deepcopy(v) for k, v in statement.data.items() if k not in ("Resource", "Condition")}
        assert "NotAction" not in data, f"{statement.sid}: NotAction is not modelled here"
        assert "NotResource" not in data, f"{statement.sid}: NotResource is not modelled here"
        data["Action"] = [_moto_action(action) for action in statement.actions]
        data["Resource"] = "*"
        copied.append(data)
    return {"Version": "2012-10-17", "Statement": copied}


def _moto_action(action: str) -> str:
    prefix, _, name = action.partition(":")
    return f"{MOTO_ACTION_PREFIX.get(prefix, prefix)}:{name}"


@dataclass(frozen=True)
class RoleSession:
    role_arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """Where a handler's botocore session reads its credentials, as in Lambda."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


def create_role(name: str, policy: Mapping[str, Any], trust: Mapping[str, Any] = LAMBDA_TRUST) -> str:
    """Create moto role ``name`` holding ``policy`` as its only policy; returns the role ARN."""
    iam = boto3.client("iam", region_name="us-east-1")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    return arn


def assume_role(arn: str, session_name: str) -> RoleSession:
    """Assume ``arn`` as the Lambda service does for a function (unauthenticated setup call)."""
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=arn, RoleSessionName=session_name
    )["Credentials"]
    return RoleSession(
        arn, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


@contextmanager
def iam_enforced() -> Iterator[None]:
    """Every request inside the block is authenticated and authorized by moto; none outside it."""
    with enable_iam_authentication():
        yield


def is_access_denied(error: BaseException) -> bool:
    if not isinstance(error, ClientError):
        return False
    response: Any = error.response
    if response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 403:
        return False
    code = response.get("Error", {}).get("Code", "")
    message = response.get("Error", {}).get("Message", "")
    return code in ("AccessDenied", "AccessDeniedException", "", "403") and (
        code != "403" or "<Code>AccessDenied</Code>" in message
    )


def iam_action(service: str, operation: str) -> str:
    """The IAM action a botocore call is authorized as."""
    return f"{IAM_PREFIX_OF_CLIENT.get(service, service)}:{operation}"


def grants(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


# ------------------------------------------------------------------------------ conditions, evaluated offline
# moto evaluates no condition (module docstring), so they are checked here instead: the request context AWS builds
# for a call, derived from the call's parameters as the services document it, against the template's Condition
# block. Only what the templates use is modelled; anything else fails loudly, never passes silently.


def _normalized_record_name(name: str) -> str:
    """Route 53's normalization for ChangeResourceRecordSetsNormalizedRecordNames (Developer Guide, "Normalize
    Route 53 condition key values"): lower case, no trailing dot, other characters than a-z 0-9 - _ . as \\ooo."""
    lowered = name.lower().removesuffix(".")
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else f"\\{ord(c):03o}" for c in lowered)


def request_context(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Service-specific condition keys AWS sets for this call (multi-valued keys as lists)."""
    if (service, operation) == ("cloudwatch", "PutMetricData"):
        return {"cloudwatch:namespace": [params["Namespace"]]}
    if (service, operation) in (("autoscaling", "CreateOrUpdateTags"), ("autoscaling", "DeleteTags")):
        # "Control access to tags" (EC2 Auto Scaling user guide): aws:TagKeys holds the request's tag keys.
        return {"aws:TagKeys": [str(t["Key"]) for t in params["Tags"]]}
    if (service, operation) == ("route53", "ChangeResourceRecordSets"):
        changes = params["ChangeBatch"]["Changes"]
        return {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                _normalized_record_name(c["ResourceRecordSet"]["Name"]) for c in changes
            ],
            "route53:ChangeResourceRecordSetsRecordTypes": [c["ResourceRecordSet"]["Type"] for c in changes],
            "route53:ChangeResourceRecordSetsActions": [c["Action"] for c in changes],
        }
    return {}


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's ArnEquals/ArnLike: each of the six colon-separated parts compared on its own, case-sensitive,
    with ``*`` and ``?`` wildcards (IAM User Guide, "IAM JSON policy elements: Condition operators")."""
    parts, wanted = arn.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(wanted) == 6 and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=True)
    )


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, list[str]]) -> bool:
    """IAM semantics for StringEquals (a single-valued key equal to one allowed value), ArnEquals/ArnLike
    (a single-valued key matching one allowed ARN) and ForAllValues:StringEquals (every request value among the
    allowed ones)."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            allowed = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            assert key in context, f"condition key {key} is not derived by request_context; derive it first"
            values = context[key]
            if operator == "StringEquals":
                if len(values) != 1 or values[0] not in allowed:
                    return False
            elif operator in ("ArnEquals", "ArnLike"):
                if len(values) != 1 or not any(arn_matches(a, values[0]) for a in allowed):
                    return False
            elif operator == "ForAllValues:StringEquals":
                if any(v not in allowed for v in values):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here; model it first")
    return True


def statements_allowing(
    statements: list[TemplateStatement], service: str, operation: str, params: Mapping[str, Any]
) -> list[TemplateStatement]:
    """Statements granting this call's action whose Condition (if any) holds for its request context."""
    action = iam_action(service, operation)
    context = request_context(service, operation, params)
    return [
        s
        for s in statements
        if s.data.get("Effect") == "Allow"
        and any(grants(p, action) for p in s.actions)
        and condition_holds(s.data.get("Condition", {}), context)
    ]


def resource_matches(pattern: str, arn: str) -> bool:
    """IAM resource matching: ``*`` and ``?`` wildcards, case-sensitive."""
    return fnmatch.fnmatchcase(arn, pattern)


def offline_denial(
    statements: list[TemplateStatement],
    service: str,
    operation: str,
    params: Mapping[str, Any],
    arn: str | None,
) -> str | None:
    """What moto cannot judge, judged here: is some Allow statement of the template granting this call's action
    with its Condition holding for the call's request context, and its Resource matching ``arn`` (the resource the
    call acts on; ``None`` when the operation's resource is not modelled, then only action and condition count)?
    Returns why not, or ``None`` when allowed."""
    candidates = statements_allowing(statements, service, operation, params)
    if not candidates:
        return f"no statement allows {iam_action(service, operation)} with its condition met"
    if arn is None:
        return None
    for statement in candidates:
        resources = statement.data.get("Resource", [])
        for pattern in resources if isinstance(resources, list) else [resources]:
            if resource_matches(str(pattern), arn):
                return None
    sids = ", ".join(s.sid for s in candidates)
    return f"{iam_action(service, operation)} on {arn} is outside the Resource of {sids}"
