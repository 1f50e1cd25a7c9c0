"""Read a directory of templates (root + nested) the way CloudFormation deploys them.

``StackResolver`` extends ``intrinsics.Resolver`` with what a deploy also needs (``Fn::GetAZs``, ``Fn::Cidr``,
``Fn::Base64``, ``AWS::NoValue``), and ``deploy_order`` sorts a template's resources by their references, as
CloudFormation does (``dependencies`` is the graph; stack deletion walks it backwards). ``unresolved`` finds any
intrinsic left over, so nothing is deployed half-resolved.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver, UnresolvedError

NESTED_STACK_TYPES = ("AWS::Serverless::Application", "AWS::CloudFormation::Stack")
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class _NoValue:
    """``AWS::NoValue``: removed from the list or object that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


def strip_no_value(value: Any) -> Any:
    if isinstance(value, list):
        return [strip_no_value(v) for v in value if v is not NO_VALUE]
    if isinstance(value, dict):
        return {k: strip_no_value(v) for k, v in value.items() if v is not NO_VALUE}
    return value


def unresolved(value: Any, where: str = "") -> list[str]:
    """Paths of intrinsic functions still present in ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if len(value) == 1 and (key.startswith("Fn::") or key == "Ref"):
                found.append(f"{where}: {key}")
            found.extend(unresolved(item, f"{where}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unresolved(item, f"{where}[{index}]"))
    return found


class StackResolver(Resolver):
    """A ``Resolver`` for one stack being deployed: the deploy-time intrinsics too."""

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Fn::GetAZs":
                region = self.resolve(arg) or self.ref("AWS::Region")
                return [f"{region}{suffix}" for suffix in "abc"]
            if key == "Fn::Cidr":
                block, count, bits = (self.resolve(a) for a in arg)
                network = ipaddress.ip_network(str(block))  # host bits set: ValueError, not a network
                prefix = network.max_prefixlen - int(bits)
                if prefix < network.prefixlen or 2 ** (prefix - network.prefixlen) < int(count):
                    # CloudFormation cannot return fewer blocks than asked for: the template fails
                    raise ValueError(f"Fn::Cidr: {block} does not hold {count} blocks of /{prefix}")
                return [
                    str(n)
                    for _, n in zip(range(int(count)), network.subnets(new_prefix=prefix), strict=False)
                ]
            if key == "Fn::Base64":
                return base64.b64encode(str(self.resolve(arg)).encode()).decode("ascii")
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(self.resolve(items)[int(self.resolve(index))])
        return super().resolve(value)

    def resolve_clean(self, value: Any, where: str) -> Any:
        """Resolve, drop ``AWS::NoValue``, and refuse anything left unresolved."""
        result = strip_no_value(self.resolve(value))
        left = unresolved(result, where)
        if left:
            raise UnresolvedError(f"cannot resolve {', '.join(left)}")
        return result


def references(value: Any) -> set[str]:
    """Logical ids ``value`` refers to (Ref, GetAtt, Sub variables); pseudo parameters excluded."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg} if "::" not in arg else set()
            if key == "Fn::GetAtt":
                name = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                return {name}
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                found |= references(local)
                for var in _SUB_VAR.findall(text):
                    name = var.split(".", 1)[0]
                    if "::" not in name and name not in local:
                        found.add(name)
                return found
        for item in value.values():
            found |= references(item)
    return found


def dependencies(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """Each resource's dependencies: what it references (Ref, GetAtt, Sub) or DependsOn. CloudFormation creates
    a resource after its dependencies and deletes it before them ("DependsOn attribute",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html)."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    depends: dict[str, set[str]] = {}
    for name, resource in resources.items():
        explicit = resource.get("DependsOn", [])
        needs = references(resource.get("Properties", {})) | set(
            [explicit] if isinstance(explicit, str) else explicit
        )
        depends[name] = {n for n in needs if n in resources and n != name}
    return depends


def deploy_order(template: Mapping[str, Any]) -> list[str]:
    """Resources in an order where each comes after everything it references or DependsOn."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    depends = dependencies(template)
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise ValueError(f"circular reference: {' -> '.join((*path, name))}")
        for dependency in sorted(depends[name]):
            visit(dependency, (*path, name))
        done.add(name)
        order.append(name)

    for name in resources:
        visit(name, ())
    return order


@dataclass(frozen=True)
class TemplateSet:
    """A root template and the nested templates its stacks point at (paths relative to the root's folder)."""

    root: Path
    parameters: Mapping[str, str]

    @property
    def directory(self) -> Path:
        return self.root.parent

    def load(self, path: Path | None = None) -> dict[str, Any]:
        return load_template(path or self.root)  # parsed once per file version, a fresh copy each call

    def nested(self, location: str) -> Path:
        path = (self.directory / location).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"nested template {location} not found under {self.directory}")
        return path

    def files(self) -> Iterator[Path]:
        yield self.root
        for resource in self.load()["Resources"].values():
            if resource.get("Type") in NESTED_STACK_TYPES:
                location = resource["Properties"].get("Location") or resource["Properties"].get("TemplateURL")
                if isinstance(location, str):
                    yield self.nested(location)
