"""Evaluate the CloudFormation intrinsic functions our templates use, offline.

Used by tests and the local rehearsal to compute exactly what a template sets (function environments,
rule patterns, filter patterns) for given parameters and for the physical ids of already-created resources.
An expression it cannot evaluate raises ``UnresolvedError`` naming it - never a silent guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class UnresolvedError(KeyError):
    """An intrinsic refers to something the caller did not provide."""


@dataclass
class Resolver:
    """Resolves intrinsics in one template.

    ``refs`` maps a logical id (resource or pseudo parameter) to what ``Ref`` returns; ``attributes`` maps
    ``"Logical.Attribute"`` (e.g. ``"Dns.Outputs.HostedZoneId"``) to what ``GetAtt`` returns. Parameters not
    given in ``parameters`` take the template's ``Default``.
    """

    template: Mapping[str, Any]
    parameters: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._params: dict[str, Any] = {}
        for name, spec in self.template.get("Parameters", {}).items():
            if name in self.parameters:
                self._params[name] = self.parameters[name]
            elif "Default" in spec:
                self._params[name] = str(spec["Default"])
        unknown = set(self.parameters) - set(self.template.get("Parameters", {}))
        if unknown:
            raise UnresolvedError(f"parameters not declared by the template: {sorted(unknown)}")
        self._conditions: dict[str, bool] = {}

    def ref(self, name: str) -> Any:
        if name in self._params:
            return self._params[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedError(f"Ref {name}")

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = self.template.get("Conditions", {}).get(name)
            if spec is None:
                raise UnresolvedError(f"Condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        match key:
            case "Ref":
                return self.ref(arg)
            case "Condition":
                return self.condition(arg)
            case "Fn::GetAtt":
                name = ".".join(arg) if isinstance(arg, list) else arg
                if name not in self.attributes:
                    raise UnresolvedError(f"GetAtt {name}")
                return self.attributes[name]
            case "Fn::Sub":
                return self._sub(arg)
            case "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            case "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(arg[0])
            case "Fn::And":
                return all(self.resolve(a) for a in arg)
            case "Fn::Or":
                return any(self.resolve(a) for a in arg)
            case "Fn::FindInMap":
                mapping, top, second = (self.resolve(a) for a in arg)
                return self.template["Mappings"][mapping][top][second]
            case "Fn::Join":
                sep, items = arg
                return str(sep).join(str(i) for i in self.resolve(items))
            case "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            case "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            case _:
                return {key: self.resolve(arg)}

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {k: self.resolve(v) for k, v in local.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
            return str(self.ref(name))

        return _SUB_VAR.sub(one, text)
