"""Run a handler as a moto IAM role holding exactly a template role's statements, with IAM enforcement on.

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
  condition is satisfied, whatever it says. The copy drops Conditions so that is explicit, not silent.
- Action: moto names the action ``<SigV4 signing name>:<Operation>``. For CloudWatch the signing name is
  ``monitoring``, not the IAM prefix ``cloudwatch``: the copy spells CloudWatch actions moto's way (a rename of the
  same action, not a widening).
- Route 53 ``GET`` requests fail moto's signature re-computation for any identity; ``POST`` (e.g.
  ChangeResourceRecordSets) works. Our handlers make no Route 53 ``GET``.
- Errors: a denial reaches botocore as ``AccessDenied`` for query protocols (Auto Scaling, EC2), as code ``403``
  with the XML error in the message for CloudWatch's CBOR protocol, and with an empty code and message for Route
  53's REST-XML (moto writes the query-protocol error body). ``is_access_denied`` accepts the three shapes, only with
  HTTP 403. The empty Route 53 shape is also what a signature mismatch gives; the proof tells them apart because the
  same kind of identity's ChangeResourceRecordSets succeeds when it holds every statement.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import pytest
from botocore.exceptions import ClientError
from moto.core import enable_iam_authentication

from container_manager import cfn
from container_manager.intrinsics import Resolver
from support.deployed import ACCOUNT, ROOT, Deployed

# IAM action prefix -> the prefix moto checks (its request's SigV4 signing name), where they differ.
STACK_NAME = "container-manager-minecraft"
MOTO_ACTION_PREFIX = {"cloudwatch": "monitoring"}
# botocore client service name -> IAM action prefix, where they differ (none of ours do; kept explicit).
IAM_PREFIX_OF_CLIENT: dict[str, str] = {}
_NO_VALUE = object()


def load_template(path: Path) -> dict[str, Any]:
    """``cfn.load_template``, parsed once per version of the file (other sessions edit template.yaml while tests
    run; a changed file is parsed again)."""
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


@functools.cache
def _parsed(path: Path, mtime_ns: int) -> dict[str, Any]:
    return cfn.load_template(path)


@functools.cache
def _shared_loader(search_paths: Any = None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(search_paths)


def fast_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed only, no behaviour: skip moto's ~28,000 stock AMIs (seconds per region; the launch template's AMI is
    not one of them), let every botocore session share one loader of the service models (each handler load
    otherwise parses the multi-MB EC2 model again), and parse template.yaml once per version."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr("botocore.session.create_loader", _shared_loader)
    monkeypatch.setattr("support.deployed.load_template", load_template)


@dataclass(frozen=True)
class TemplateStatement:
    sid: str
    actions: tuple[str, ...]
    data: Mapping[str, Any]  # resolved, exactly as CloudFormation would deploy it


def deployment_resolver(
    deployed: Deployed, *, function_region: str, parameters: Mapping[str, str]
) -> Resolver:
    """template.yaml's intrinsics resolved for this deployment, in the function's stack and region: nested-stack
    outputs from ``deployed``, and names and ARNs shaped as CloudFormation and AWS build them."""
    template = load_template(ROOT / "template.yaml")
    params = dict(parameters)
    if deployed.region != function_region:
        params.setdefault("ContainerRegion", deployed.region)
    refs = _Refs(template, function_region)
    resolver = Resolver(
        template, parameters=params, refs=refs, attributes=_Attributes(template, deployed, refs)
    )
    refs.resolver = resolver
    return resolver


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
    statements = []
    for document in _strip_no_value(documents):
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


def lambda_service_targets(function: str, resolver: Resolver) -> dict[str, str]:
    """What the Lambda service itself writes to with the function's role: the function's log group (as the ARN
    an IAM statement names it by) and its on-failure destination."""
    properties = resolver.template["Resources"][function]["Properties"]
    region = resolver.ref("AWS::Region")
    log_group = resolver.resolve(properties["LoggingConfig"]["LogGroup"])
    return {
        "logs": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{log_group}:*",
        "sqs": resolver.resolve(
            properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]
        ),
    }


class _Refs(Mapping[str, Any]):
    """Ref values: pseudo parameters, a log group's real name, a queue's URL, ``<logical>-physical-id`` else."""

    def __init__(self, template: Mapping[str, Any], region: str) -> None:
        self._resources = template["Resources"]
        self.region = region
        self.resolver: Resolver | None = None
        self._pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": STACK_NAME,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }

    def queue_name(self, logical: str) -> str:
        return f"{STACK_NAME}-{logical}-1QW2E3R4T5Y6U"  # CloudFormation's generated name

    def __getitem__(self, key: str) -> Any:
        if key in self._pseudo:
            return self._pseudo[key]
        resource = self._resources[key]
        if resource["Type"] == "AWS::Logs::LogGroup" and self.resolver is not None:
            return self.resolver.resolve(resource["Properties"]["LogGroupName"])
        if resource["Type"] == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{self.queue_name(key)}"
        return f"{key}-physical-id"

    def __contains__(self, key: object) -> bool:
        return key in self._pseudo or key in self._resources

    def __iter__(self) -> Iterator[str]:
        return iter([*self._pseudo, *self._resources])

    def __len__(self) -> int:
        return len(self._pseudo) + len(self._resources)


class _Attributes(Mapping[str, Any]):
    """GetAtt values: the deployment's nested-stack outputs, and ARNs shaped as AWS builds them."""

    def __init__(self, template: Mapping[str, Any], deployed: Deployed, refs: _Refs) -> None:
        self._resources = template["Resources"]
        self._known = deployed.attributes()
        self._refs = refs

    def __getitem__(self, key: str) -> Any:
        if key in self._known:
            return self._known[key]
        logical, _, attribute = key.partition(".")
        kind = self._resources.get(logical, {}).get("Type", "")
        where = f"{self._refs.region}:{ACCOUNT}"
        if attribute == "Arn" and kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{where}:log-group:{self._refs[logical]}:*"
        if attribute == "Arn" and kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{where}:{self._refs.queue_name(logical)}"
        if attribute == "Arn":
            service = kind.split("::")[1].lower() if kind.count("::") == 2 else "service"
            return f"arn:aws:{service}:{where}:{logical}"
        return f"{logical}-{attribute}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and "." in key

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def _strip_no_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_strip_no_value(v) for v in value if v is not _NO_VALUE]
    if isinstance(value, dict):
        return {k: _strip_no_value(v) for k, v in value.items() if v is not _NO_VALUE}
    return value


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


def assume_role_with(name: str, policy: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Create role ``name`` holding ``policy`` as its only policy, assume it as Lambda would, and put the session's
    credentials where the handler's botocore session reads them (the environment). Returns the role ARN."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = boto3.client("iam", region_name="us-east-1")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=arn, RoleSessionName=f"{name}-session"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    return arn


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
# moto evaluates no condition (module docstring), so the proof checks them here instead: the request context AWS
# builds for a call, derived from the call's parameters as the services document it, against the template's
# Condition block. Only what the templates use is modelled; anything else fails loudly, never passes silently.


def _normalized_record_name(name: str) -> str:
    """Route 53's normalization for ChangeResourceRecordSetsNormalizedRecordNames (Developer Guide, "Normalize
    Route 53 condition key values"): lower case, no trailing dot, other characters than a-z 0-9 - _ . as \\ooo."""
    lowered = name.lower().removesuffix(".")
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else f"\\{ord(c):03o}" for c in lowered)


def request_context(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Service-specific condition keys AWS sets for this call (multi-valued keys as lists)."""
    if (service, operation) == ("cloudwatch", "PutMetricData"):
        return {"cloudwatch:namespace": [params["Namespace"]]}
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


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, list[str]]) -> bool:
    """IAM semantics for StringEquals (a single-valued key equal to one allowed value) and
    ForAllValues:StringEquals (every request value among the allowed ones)."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            allowed = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            assert key in context, f"condition key {key} is not derived by request_context; derive it first"
            values = context[key]
            if operator == "StringEquals":
                if len(values) != 1 or values[0] not in allowed:
                    return False
            elif operator == "ForAllValues:StringEquals":
                if any(v not in allowed for v in values):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here; model it first")
    return True
