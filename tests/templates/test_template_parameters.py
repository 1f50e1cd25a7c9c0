"""Every parameter a user answers (`sam deploy --guided`, the CloudFormation console) explains itself.

The templates users deploy directly - template.yaml (the container) and infra/account.yaml (the account
base) - give every parameter a Description, a Default that its own constraints accept (pressing Enter through
`sam deploy --guided` yields a deployable set), and, where it is constrained, a ConstraintDescription:
CloudFormation shows that text instead of "must match pattern ^(?=.{4,200}$)..." when a value is refused
("Parameters", AWS CloudFormation User Guide,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
Nested templates are left out: their values come from the parent stack, never from a person.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from template_support import ROOT, ROOT_TEMPLATE, template, template_id

from container_manager.rehearsal.world import parameter_problems

DEPLOYED_DIRECTLY = [ROOT_TEMPLATE, ROOT / "infra" / "account.yaml"]
CONSTRAINTS = ("AllowedPattern", "AllowedValues", "MinValue", "MaxValue", "MinLength", "MaxLength")


def _parameters() -> list[Any]:
    cases = []
    for path in DEPLOYED_DIRECTLY:
        parameters = template(path)["Parameters"]
        assert parameters, f"{template_id(path)} declares no parameters"
        cases += [pytest.param(path, name, id=f"{template_id(path)}:{name}") for name in parameters]
    return cases


@pytest.mark.parametrize(("path", "name"), _parameters())
def test_parameter_explains_itself_and_defaults_to_a_valid_value(path: Path, name: str) -> None:
    spec = template(path)["Parameters"][name]
    # Given the parameter as a user meets it - Then it says what it is for
    assert str(spec.get("Description", "")).strip(), f"{name}: add a Description"
    # And pressing Enter at its prompt gives a value CloudFormation accepts
    assert "Default" in spec, f"{name}: add a Default (or document why a user must answer it)"
    assert parameter_problems(spec, str(spec["Default"])) == [], (
        f"{name}: its Default breaks its own constraints"
    )
    constrained = [key for key in CONSTRAINTS if key in spec]
    if not constrained:
        return
    # And a refused value is explained in words, naming the allowed values and bounds themselves
    explanation = str(spec.get("ConstraintDescription", ""))
    assert explanation.strip(), f"{name}: add a ConstraintDescription ({', '.join(constrained)})"
    words = set(re.findall(r"[\w-]+(?:\.[\w-]+)*", explanation))  # "false." -> "false", "t4g.medium" stays
    named = [str(v) for v in spec.get("AllowedValues", [])]
    named += [str(spec[key]) for key in ("MinValue", "MaxValue", "MinLength", "MaxLength") if key in spec]
    missing = [value for value in named if value not in words]
    assert missing == [], f"{name}: its ConstraintDescription does not mention {missing}"
