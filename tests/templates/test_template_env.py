"""Every function's environment, as CloudFormation would set it, refers to things that exist and is non-empty.

Given each template and each way it is deployed (template.yaml: DeployPart all / edge / container), when the
function exists in that deployment, then each variable (Globals + the function's own) resolves to a non-empty
value, and each Ref/GetAtt on the evaluated branches names a parameter, a pseudo parameter, a resource that
exists in that deployment, or an output that the nested stack's own template declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    FUNCTION_TYPES,
    NESTED_STACK_TYPES,
    ROOT_TEMPLATE,
    FabricatedAttributes,
    Reference,
    pseudo_refs,
    references,
    region_for,
    sample_parameters,
    template,
    template_files,
    template_id,
)

from container_manager.cfn import function_environment, load_template
from container_manager.intrinsics import Resolver

ROOT_SCENARIOS = {
    "all": {"DeployPart": "all"},
    "edge": {"DeployPart": "edge", "ContainerRegion": "eu-west-1"},
    "container": {"DeployPart": "container", "HostedZoneId": "Z07432391BT2QKN8RXK1F"},
}


@dataclass(frozen=True)
class Case:
    path: Path
    scenario: str
    parameters: dict[str, str]
    function: str

    def __str__(self) -> str:
        return f"{template_id(self.path)}[{self.scenario}]:{self.function}"


def _cases() -> list[Any]:
    cases = []
    for path in template_files():
        doc = template(path)
        scenarios = ROOT_SCENARIOS if path == ROOT_TEMPLATE else {"nested": {}}
        functions = [name for name, res in doc["Resources"].items() if res.get("Type") in FUNCTION_TYPES]
        for scenario, given in scenarios.items():
            for function in functions:
                case = Case(path, scenario, sample_parameters(doc, given), function)
                # Only the functions a deployment has (edge: start-system; container: the others).
                if _in_deployment(case):
                    cases.append(pytest.param(case, id=str(case)))
    return cases


def _in_deployment(case: Case) -> bool:
    function = template(case.path)["Resources"][case.function]
    return "Condition" not in function or _resolver(case).condition(function["Condition"])


def _resolver(case: Case) -> Resolver:
    doc = template(case.path)
    region = region_for(case.parameters)
    refs: dict[str, Any] = {name: f"{name}-physical-id" for name in doc["Resources"]}
    refs.update(pseudo_refs(region))
    return Resolver(doc, parameters=case.parameters, refs=refs, attributes=FabricatedAttributes(region))


CASES = _cases()


def _exists(resolver: Resolver, doc: dict[str, Any], name: str) -> bool:
    resource = doc["Resources"].get(name)
    return resource is not None and ("Condition" not in resource or resolver.condition(resource["Condition"]))


def _problem(reference: Reference, resolver: Resolver, case: Case) -> str | None:
    doc = template(case.path)
    if reference.kind == "Ref":
        name = reference.target
        if name in doc.get("Parameters", {}) or name.startswith("AWS::") or _exists(resolver, doc, name):
            return None
        return f"Ref {name}: no such parameter, or no such resource in this deployment"
    logical, _, attribute = reference.target.partition(".")
    if not _exists(resolver, doc, logical):
        return f"GetAtt {reference.target}: resource {logical} does not exist in this deployment"
    resource = doc["Resources"][logical]
    if not attribute.startswith("Outputs."):
        return None
    if resource["Type"] not in NESTED_STACK_TYPES:
        return f"GetAtt {reference.target}: {logical} is a {resource['Type']}, not a nested stack"
    location = resource.get("Properties", {}).get("TemplateURL") or resource.get("Properties", {}).get(
        "Location"
    )
    if not isinstance(location, str) or location.startswith(("https://", "s3://")):
        return f"GetAtt {reference.target}: {logical} has no local template to check ({location!r})"
    nested = (case.path.parent / location).resolve()
    if not nested.exists():
        return f"GetAtt {reference.target}: {logical}'s template {location} does not exist"
    output = attribute.removeprefix("Outputs.")
    if output not in load_template(nested).get("Outputs", {}):
        return f"GetAtt {reference.target}: {location} declares no output {output}"
    return None


@pytest.mark.parametrize("case", CASES)
def test_function_environment_refers_to_real_things_and_is_non_empty(case: Case) -> None:
    doc = template(case.path)
    resolver = _resolver(case)
    function = doc["Resources"][case.function]
    environment = function_environment(doc, function)
    problems = []
    for variable, expression in environment.items():
        problems += [
            f"{variable}: {problem}"
            for reference in references(expression, resolver)
            if (problem := _problem(reference, resolver, case))
        ]
        value = resolver.resolve(expression)
        if not isinstance(value, str | int | float) or str(value).strip() == "":
            problems.append(f"{variable}: resolves to {value!r}, expected a non-empty value")
    assert not problems, f"{case}:\n  " + "\n  ".join(problems)


def test_every_template_was_found() -> None:
    # Guards the parametrisation itself: the root template, plus infra/ templates once they exist
    found = {template_id(path) for path in template_files()}
    assert "template.yaml" in found
    infra = sorted(template_id(p) for p in (ROOT_TEMPLATE.parent / "infra").glob("*.yaml"))
    assert set(infra) <= found
    assert any(param.values[0].path == ROOT_TEMPLATE for param in CASES)
