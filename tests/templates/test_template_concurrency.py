"""Reserved concurrency is opt-in (issue 9, item 1): a new account's Lambda quota of 10 allows no reservation.

Given every function of every template, as SAM merges Globals into it, when resolved for the default
parameters, then none reserves concurrency; when ReservedConcurrency is opted in, each SAM function reserves
that many, and 0 never reaches Lambda as a literal 0 (which would throttle the function completely).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from template_support import (
    FUNCTION_TYPES,
    ROOT_TEMPLATE,
    fabricating_resolver,
    template,
    template_files,
    template_id,
)

from container_manager.cfn import function_property
from container_manager.config import RESERVED_CONCURRENCY_RANGE, parse_config
from container_manager.render import container_parameters

NO_VALUE = ""  # what template_support's pseudo parameters give AWS::NoValue


def reservations(path: Path, parameters: dict[str, str] | None = None) -> dict[str, object]:
    doc = template(path)
    resolver = fabricating_resolver(doc, parameters)
    return {
        name: resolver.resolve(function_property(doc, resource, "ReservedConcurrentExecutions"))
        for name, resource in doc["Resources"].items()
        if resource.get("Type") in FUNCTION_TYPES
    }


@pytest.mark.parametrize("path", template_files(), ids=template_id)
def test_no_function_reserves_concurrency_by_default(path: Path) -> None:
    reserved = {name: value for name, value in reservations(path).items() if value not in (None, NO_VALUE)}
    assert reserved == {}, f"{template_id(path)}: reserved by default (fails on a new account): {reserved}"


def test_an_opt_in_reservation_reaches_every_function() -> None:
    assert set(reservations(ROOT_TEMPLATE, {"ReservedConcurrency": "2"}).values()) == {"2"}
    assert set(reservations(ROOT_TEMPLATE, {"ReservedConcurrency": "0"}).values()) == {NO_VALUE}


def test_config_key_reaches_the_parameter_within_the_templates_range() -> None:
    spec = template(ROOT_TEMPLATE)["Parameters"]["ReservedConcurrency"]
    assert (spec["MinValue"], spec["MaxValue"]) == RESERVED_CONCURRENCY_RANGE
    assert str(spec["Default"]) == "0"
    config = parse_config(
        "Domain: {Name: example.com, ParentHostedZoneId: Z0123456789ABCDEFGHIJ}\n"
        "Container: {Image: itzg/minecraft-server, Ports: [{TCP: 25565}]}\n"
        "Volumes: {data: {Paths: [{Path: /data}]}}\n"
        "Functions: {ReservedConcurrency: 3}\n",
        default_id="minecraft",
    )
    assert container_parameters(config)["ReservedConcurrency"] == "3"
