"""Load CloudFormation/SAM templates (with their short-form intrinsic tags) as plain data.

`!Ref X` becomes ``{"Ref": "X"}``, `!GetAtt A.B` becomes ``{"Fn::GetAtt": ["A", "B"]}``, every other
`!Fn` becomes ``{"Fn::Fn": value}`` - the same shape as the JSON form, so tests and the local rehearsal read
templates exactly as CloudFormation does.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_FUNCTIONS = [
    "And",
    "Base64",
    "Cidr",
    "Condition",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "ToJsonString",
    "Length",
    "ForEach",
]


# libyaml's C parser when PyYAML has it: the root template parses ~10x faster, and tests parse it often.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """SafeLoader that understands CloudFormation's short-form tags."""


def _construct(tag: str) -> Any:
    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if tag == "Ref" or tag == "Condition":
            return {tag: value}
        if tag == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{tag}": value}

    return build


_TemplateLoader.add_constructor("!Ref", _construct("Ref"))
_TemplateLoader.add_constructor("!GetAtt", _construct("GetAtt"))
for _name in _FUNCTIONS:
    _TemplateLoader.add_constructor(f"!{_name}", _construct(_name))


def function_environment(template: Mapping[str, Any], function: Mapping[str, Any]) -> dict[str, Any]:
    """A function resource's environment variables as deployed (still unresolved).

    For a SAM function, ``Globals.Function`` variables overridden by the function's own, as the SAM transform
    merges them; a plain ``AWS::Lambda::Function`` has only its own.
    """
    merged: dict[str, Any] = {}
    if function.get("Type") == "AWS::Serverless::Function":
        merged.update(
            template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
    merged.update(function.get("Properties", {}).get("Environment", {}).get("Variables", {}))
    return merged


def function_property(template: Mapping[str, Any], function: Mapping[str, Any], name: str) -> Any:
    """A function resource's property as deployed (still unresolved), None when unset.

    For a SAM function, its own value, else ``Globals.Function``'s, as the SAM transform merges scalar
    properties; a plain ``AWS::Lambda::Function`` has only its own.
    """
    own = function.get("Properties", {})
    if name in own or function.get("Type") != "AWS::Serverless::Function":
        return own.get(name)
    return template.get("Globals", {}).get("Function", {}).get(name)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse one template file into JSON-form data (a fresh copy: callers may change it)."""
    stat = os.stat(path)
    return copy.deepcopy(_parsed(Path(path).resolve(), stat.st_mtime_ns, stat.st_size))


def parse_template_text(text: str) -> Any:
    """Parse template text - a whole template or a piece of one - into JSON-form data."""
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass with CFN tags only


@functools.lru_cache(maxsize=128)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """Parse once per version of a file: a changed file (new mtime or size) is parsed again."""
    data = parse_template_text(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources section)")
    return data
