"""Shared helpers for the template tests: find the templates, resolve their intrinsics, walk their statements.

Everything reads the real files through ``container_manager.cfn`` and ``container_manager.intrinsics``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[2]
ROOT_TEMPLATE = ROOT / "template.yaml"
_SKIP_DIRS = {
    ".git",
    ".venv",
    ".venv-checkov",
    ".aws-sam",
    "node_modules",
    "tests",
    "events",
    "build",
    "docs",
}

ACCOUNT = "123456789012"
NESTED_STACK_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def template_files() -> list[Path]:
    """template.yaml and every other CloudFormation template in the repository (infra/, a base template...)."""
    found = [ROOT_TEMPLATE]
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIP_DIRS and not d.startswith("."))
        for file in sorted(files):
            path = Path(directory) / file
            if path == ROOT_TEMPLATE or path.suffix not in (".yaml", ".yml") or file.startswith("samconfig"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if "Resources:" in text and ("AWSTemplateFormatVersion" in text or "Transform:" in text):
                found.append(path)
    return found


def template_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@cache
def template(path: Path) -> dict[str, Any]:
    return load_template(path)


@cache
def template_lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def region_for(parameters: Mapping[str, str]) -> str:
    """The region a stack with these parameters is deployed to: us-east-1 unless it is a container part."""
    return "eu-west-1" if parameters.get("DeployPart") == "container" else "us-east-1"


def pseudo_refs(region: str) -> dict[str, str]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::StackName": "container-manager-minecraft",
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/container-manager-minecraft/0f1e2d3c",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": "",
    }


def sample_parameters(doc: Mapping[str, Any], given: Mapping[str, str] | None = None) -> dict[str, str]:
    """``given``, plus a sample value for every parameter without a default (nested templates get theirs from
    the parent stack): its first allowed value, its minimum, or a placeholder naming it."""
    values = dict(given or {})
    for name, spec in doc.get("Parameters", {}).items():
        if name in values or "Default" in spec:
            continue
        if spec.get("AllowedValues"):
            values[name] = str(spec["AllowedValues"][0])
        elif "MinValue" in spec:
            values[name] = str(spec["MinValue"])
        elif spec.get("Type", "String").startswith("List<") or spec.get("Type") == "CommaDelimitedList":
            values[name] = f"{name.lower()}-1,{name.lower()}-2"
        else:
            values[name] = f"sample-{name.lower()}"
    return values


class FabricatedAttributes(Mapping[str, Any]):
    """GetAtt values for any ``Logical.Attribute``: ARNs for ``*Arn``, plausible ids otherwise."""

    def __init__(self, region: str) -> None:
        self.region = region

    def __getitem__(self, key: str) -> Any:
        logical, _, attribute = key.partition(".")
        last = attribute.rsplit(".", 1)[-1]
        if last.endswith("Arn"):
            return f"arn:aws:service:{self.region}:{ACCOUNT}:resource/{logical}-{last}"
        if last.endswith("Ids") or last.endswith("List"):
            return [f"{logical}-{last}-1", f"{logical}-{last}-2"]
        return f"{logical}-{last}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and "." in key

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def fabricating_resolver(doc: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> Resolver:
    """A Resolver that knows every resource's Ref (its logical id, suffixed) and fabricates every GetAtt."""
    params = sample_parameters(doc, parameters)
    region = region_for(params)
    refs: dict[str, Any] = {name: f"{name}-physical-id" for name in doc.get("Resources", {})}
    refs.update(pseudo_refs(region))
    return Resolver(doc, parameters=params, refs=refs, attributes=FabricatedAttributes(region))


# ------------------------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Reference:
    kind: str  # "Ref" or "GetAtt"
    target: str  # "Name" or "Logical.Attribute"


def references(value: Any, resolver: Resolver) -> Iterator[Reference]:
    """Every Ref/GetAtt (including ${...} in Sub) that CloudFormation evaluates in ``value`` for the resolver's
    parameters: only the taken branch of each Fn::If is followed."""
    if isinstance(value, list):
        for item in value:
            yield from references(item, resolver)
        return
    if not isinstance(value, dict):
        return
    if len(value) != 1:
        for item in value.values():
            yield from references(item, resolver)
        return
    ((key, arg),) = value.items()
    if key == "Ref":
        yield Reference("Ref", arg)
    elif key == "Fn::GetAtt":
        yield Reference("GetAtt", ".".join(arg) if isinstance(arg, list) else arg)
    elif key == "Fn::If":
        condition, yes, no = arg
        yield from references(yes if resolver.condition(condition) else no, resolver)
    elif key == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        yield from references(list(local.values()), resolver)
        for name in _sub_variables(text):
            if name in local:
                continue
            yield Reference("GetAtt", name) if "." in name else Reference("Ref", name)
    else:
        yield from references(arg, resolver)


def _sub_variables(text: str) -> list[str]:
    names = []
    rest = text
    while "${" in rest:
        start = rest.index("${") + 2
        end = rest.index("}", start)
        name = rest[start:end]
        if not name.startswith("!"):
            names.append(name)
        rest = rest[end + 1 :]
    return names


# ----------------------------------------------------------------------------------------------- IAM


@dataclass(frozen=True)
class Statement:
    resource: str  # logical id of the Role/Policy holding it
    index: int  # position among this resource's identity-policy statements, in document order
    data: Mapping[str, Any]
    star_lines: tuple[int, ...]  # 0-based source lines where a Resource item is the literal "*"


IAM_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def iam_statements(path: Path) -> list[Statement]:
    """The identity-policy statements of every IAM role/policy in the template (trust policies excluded)."""
    doc = template(path)
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    resource_nodes = dict(_mapping_items(_mapping_get(node, "Resources")))
    statements = []
    for name, resource in doc["Resources"].items():
        if resource.get("Type") not in IAM_POLICY_TYPES:
            continue
        props = {k: v for k, v in resource.get("Properties", {}).items() if k != "AssumeRolePolicyDocument"}
        prop_nodes = [
            value
            for key, value in _mapping_items(_mapping_get(resource_nodes[name], "Properties"))
            if key != "AssumeRolePolicyDocument"
        ]
        data = list(_statement_dicts(props))
        nodes = [n for prop in prop_nodes for n in _statement_nodes(prop)]
        assert len(data) == len(nodes), f"{name}: statement walk mismatch ({len(data)} vs {len(nodes)})"
        for index, (stmt, stmt_node) in enumerate(zip(data, nodes, strict=True)):
            statements.append(Statement(name, index, stmt, _star_lines(stmt_node)))
    return statements


def _statement_dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, dict):
        if "Effect" in value:
            yield value
            return
        for item in value.values():
            yield from _statement_dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _statement_dicts(item)


def _statement_nodes(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        if any(key == "Effect" for key, _ in _mapping_items(node)):
            yield node
            return
        for _, value in _mapping_items(node):
            yield from _statement_nodes(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _statement_nodes(item)


def _star_lines(statement: yaml.MappingNode) -> tuple[int, ...]:
    resource = _mapping_get(statement, "Resource")
    items = resource.value if isinstance(resource, yaml.SequenceNode) else [resource]
    return tuple(
        item.start_mark.line
        for item in items
        if isinstance(item, yaml.ScalarNode) and item.value == "*" and item.tag == "tag:yaml.org,2002:str"
    )


def _mapping_items(node: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(key.value, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)]


def _mapping_get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    return dict(_mapping_items(node)).get(key)
