"""Run a handler as a moto IAM role holding exactly a template role's statements, with IAM enforcement on.

The mechanics (what moto can and cannot judge, the widened copy, offline conditions) live in
``container_manager.rehearsal.iam``, shared with the rehearsal; this module adds the test-only pieces: the
deployment resolver of template.yaml, pytest environment handling and speed-ups.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from container_manager import cfn
from container_manager.intrinsics import Resolver
from container_manager.rehearsal.iam import (
    IAM_PREFIX_OF_CLIENT,
    MOTO_ACTION_PREFIX,
    TemplateStatement,
    assume_role,
    condition_holds,
    create_role,
    grants,
    iam_action,
    iam_enforced,
    is_access_denied,
    moto_copy,
    request_context,
    role_statements,
)
from container_manager.rehearsal.runner import shared_loader
from container_manager.rehearsal.templates import NO_VALUE
from support.deployed import ACCOUNT, ROOT, Deployed

STACK_NAME = "container-manager-minecraft"
_NO_VALUE = NO_VALUE
__all__ = [
    "IAM_PREFIX_OF_CLIENT",
    "MOTO_ACTION_PREFIX",
    "TemplateStatement",
    "condition_holds",
    "grants",
    "iam_action",
    "iam_enforced",
    "is_access_denied",
    "moto_copy",
    "request_context",
    "role_statements",
]


def fast_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed only, no behaviour: skip moto's ~28,000 stock AMIs (seconds per region; the launch template's AMI is
    not one of them) and let every botocore session share one loader of the service models (each handler load
    otherwise parses the multi-MB EC2 model again)."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr("botocore.session.create_loader", shared_loader)


def deployment_resolver(
    deployed: Deployed, *, function_region: str, parameters: Mapping[str, str]
) -> Resolver:
    """template.yaml's intrinsics resolved for this deployment, in the function's stack and region: nested-stack
    outputs from ``deployed``, and names and ARNs shaped as CloudFormation and AWS build them."""
    template = cfn.load_template(ROOT / "template.yaml")
    params = dict(parameters)
    if deployed.region != function_region:
        params.setdefault("ContainerRegion", deployed.region)
    refs = _Refs(template, function_region)
    resolver = Resolver(
        template, parameters=params, refs=refs, attributes=_Attributes(template, deployed, refs)
    )
    refs.resolver = resolver
    return resolver


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


def assume_role_with(name: str, policy: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """Create role ``name`` holding ``policy`` as its only policy, assume it as Lambda would, and put the session's
    credentials where the handler's botocore session reads them (the environment). Returns the role ARN."""
    session = assume_role(create_role(name, policy), f"{name}-session")
    for key, value in session.environment().items():
        monkeypatch.setenv(key, value)
    return session.role_arn
