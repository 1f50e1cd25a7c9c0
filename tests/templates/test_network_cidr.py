"""network.yaml accepts only VPC CIDRs it can carve into its subnets (issue 9, item 8).

Given VpcCidr's AllowedPattern (which the rehearsal's deploy applies) and the subnets' ``!Cidr`` in the same
template, when any candidate CIDR is checked, then every accepted one is a network address that holds all the
blocks ``!Cidr`` asks for - computed by the rehearsal's ``Fn::Cidr`` - and every /16 to /22 network of the
accepted form is accepted; too small prefixes, bad octets and host bits are refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

import pytest
from template_support import ROOT, template

from container_manager.rehearsal.templates import StackResolver

NETWORK = ROOT / "infra" / "network.yaml"


def pattern() -> re.Pattern[str]:
    return re.compile(str(template(NETWORK)["Parameters"]["VpcCidr"]["AllowedPattern"]))


def carvings() -> list[list[Any]]:
    """The ``Fn::Cidr`` arguments the template applies to VpcCidr."""

    def walk(value: Any) -> Iterator[list[Any]]:
        if isinstance(value, dict):
            if list(value) == ["Fn::Cidr"] and value["Fn::Cidr"][0] == {"Ref": "VpcCidr"}:
                yield value["Fn::Cidr"]
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    found = list(walk(template(NETWORK)["Resources"]))
    assert found, "network.yaml no longer carves VpcCidr with Fn::Cidr"
    return found


def carve(cidr: str, arguments: list[Any]) -> list[str]:
    _, count, bits = arguments
    resolver = StackResolver(template(NETWORK), parameters={"ContainerId": "x", "VpcCidr": cidr})
    blocks: list[str] = resolver.resolve({"Fn::Cidr": [{"Ref": "VpcCidr"}, count, bits]})
    return blocks


CANDIDATES = [
    f"{a}.{b}.{c}.{d}/{prefix}"
    for a in (0, 10, 172, 192, 255)
    for b in (0, 16, 42, 168, 255)
    for c in (0, 1, 4, 128, 255)
    for d in (0, 1, 255)
    for prefix in range(8, 33)
]


def test_every_accepted_cidr_holds_every_block_the_template_carves() -> None:
    accepted = [c for c in CANDIDATES if pattern().fullmatch(c)]
    assert accepted
    for cidr in accepted:
        network = ipaddress.ip_network(cidr)  # strict: no host bits set
        for arguments in carvings():
            blocks = carve(cidr, arguments)
            assert len(set(blocks)) == int(arguments[1]), (cidr, blocks)
            assert all(ipaddress.ip_network(b).subnet_of(network) for b in blocks), (cidr, blocks)


@pytest.mark.parametrize("prefix", range(16, 23))
def test_every_prefix_from_16_to_22_is_accepted(prefix: int) -> None:
    assert pattern().fullmatch(f"10.42.0.0/{prefix}")
    assert pattern().fullmatch(f"192.168.0.0/{prefix}")


@pytest.mark.parametrize(
    "cidr",
    [
        "10.42.0.0/23",  # holds two /24s, not four
        "10.42.0.0/24",
        "10.42.0.0/15",  # EC2's largest VPC is a /16
        "300.1.1.1/16",
        "300.1.0.0/16",
        "10.256.0.0/16",
        "10.042.0.0/16",  # leading zero: octal to some parsers
        "10.42.0.1/16",  # host bits set
        "10.42.1.0/16",
        "10.42.0.0",
        "10.42.0.0/16 ",
        "",
    ],
)
def test_what_cannot_work_is_refused(cidr: str) -> None:
    assert not pattern().fullmatch(cidr)


def test_the_rehearsals_cidr_function_refuses_a_block_too_small_to_carve() -> None:
    # Fn::Cidr cannot return fewer blocks than asked for: a /23 carved into four /24s fails the template
    (arguments, *_) = carvings()
    with pytest.raises(ValueError, match="does not hold 4 blocks of /24"):
        carve("10.42.0.0/23", arguments)
