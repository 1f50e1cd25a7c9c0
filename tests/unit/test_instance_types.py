"""Any instance type: the offline table is what the generator writes, the memory formula lives once in Python
and reproduces the retired 22-row mapping, the templates list no types, and DescribeInstanceTypes (moto) is
read at deploy time for types the table does not know."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from container_manager import instance_type_table
from container_manager.cfn import load_template
from container_manager.config import ConfigError, instance_type_note, parse_config
from container_manager.errors import USAGE, CmError
from container_manager.instance_types import (
    DEFAULT_INSTANCE_TYPE,
    INSTANCE_TYPE_PATTERN,
    MIN_MEMORY_MIB,
    SUPPORTED_ARCHITECTURES,
    InstanceSpec,
    describe,
    describe_fit,
    offline,
)
from container_manager.render import container_parameters

ROOT = Path(__file__).resolve().parents[2]
MINIMAL: dict[str, Any] = {
    "Domain": {"Name": "example.com", "ParentHostedZoneId": "Z0000000000EXAMPLE0000"},
    "Container": {"Image": "itzg/minecraft-server", "Ports": [{"TCP": 25565}]},
    "Volumes": {"data": {"Paths": [{"Path": "/data"}]}},
}

# The InstanceTypes mapping infra/compute.yaml carried before any type was allowed (name: arch, memory,
# reservation, heap), copied here verbatim: the formula must give every deployed server the same numbers.
RETIRED_MAPPING = {
    "t4g.small": ("arm64", 2048, 1536, 1024),
    "t4g.medium": ("arm64", 4096, 3584, 2560),
    "t4g.large": ("arm64", 8192, 7168, 5632),
    "t4g.xlarge": ("arm64", 16384, 14336, 12288),
    "m7g.medium": ("arm64", 4096, 3584, 2560),
    "m7g.large": ("arm64", 8192, 7168, 5632),
    "m7g.xlarge": ("arm64", 16384, 14336, 12288),
    "c7g.large": ("arm64", 4096, 3584, 2560),
    "c7g.xlarge": ("arm64", 8192, 7168, 5632),
    "r7g.medium": ("arm64", 8192, 7168, 5632),
    "r7g.large": ("arm64", 16384, 14336, 12288),
    "t3.small": ("x86_64", 2048, 1536, 1024),
    "t3.medium": ("x86_64", 4096, 3584, 2560),
    "t3.large": ("x86_64", 8192, 7168, 5632),
    "t3.xlarge": ("x86_64", 16384, 14336, 12288),
    "t3a.medium": ("x86_64", 4096, 3584, 2560),
    "t3a.large": ("x86_64", 8192, 7168, 5632),
    "m7i.large": ("x86_64", 8192, 7168, 5632),
    "m7i.xlarge": ("x86_64", 16384, 14336, 12288),
    "c7i.large": ("x86_64", 4096, 3584, 2560),
    "c7i.xlarge": ("x86_64", 8192, 7168, 5632),
    "r7i.large": ("x86_64", 16384, 14336, 12288),
}


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_instance_types", ROOT / "scripts" / "make_instance_types.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config_with(instance_type: str) -> Any:
    data = {**MINIMAL, "Ec2": {"InstanceType": instance_type}}
    return parse_config(yaml.safe_dump(data), default_id="minecraft")


# ---------------------------------------------------------------- the offline table and the formula


def test_bundled_table_is_exactly_what_the_generator_writes() -> None:
    # Given the generator and moto's DescribeInstanceTypes records - When it renders the table in memory
    make = generator()
    text = make.table_text(make.moto_records(), make.source_label())
    # Then the committed file is byte-identical (regenerate with `python scripts/make_instance_types.py`)
    assert (ROOT / "src" / "container_manager" / "instance_type_table.py").read_text() == text


def test_table_covers_current_families_and_leaves_out_previous_generation() -> None:
    families = {name.split(".", 1)[0] for name in instance_type_table.TABLE}
    # Current general purpose, compute, memory, burstable, storage and accelerated families of each CPU maker
    assert {
        "m5",
        "m6i",
        "m7i",
        "m8g",
        "c6g",
        "c7a",
        "r6i",
        "r8g",
        "t3",
        "t3a",
        "t4g",
        "i4i",
        "g6",
        "x2idn",
    } <= families
    assert families.isdisjoint(generator().PREVIOUS_GENERATION)
    assert instance_type_table.FAMILIES == len(families) > 150


@pytest.mark.parametrize("name", sorted(RETIRED_MAPPING))
def test_formula_reproduces_the_retired_mapping(name: str) -> None:
    # Given one of the 22 rows the template used to map - When the offline table and the formula describe it
    arch, memory, reservation, heap = RETIRED_MAPPING[name]
    spec = offline(name)
    # Then architecture, memory, reservation and heap are the numbers servers were deployed with
    assert spec is not None
    assert (spec.arch, spec.memory_mib, spec.reservation_mib, spec.heap_mib) == (
        arch,
        memory,
        reservation,
        heap,
    )


@pytest.mark.parametrize(
    ("name", "arch", "memory"),
    [
        ("m5.large", "x86_64", 8192),
        ("m6i.xlarge", "x86_64", 16384),
        ("c6g.large", "arm64", 4096),
        ("t3.2xlarge", "x86_64", 32768),
    ],
)
def test_types_of_the_issue_validate_and_become_parameters(name: str, arch: str, memory: int) -> None:
    # Given a config on a type the old 22-row table refused - When validated and turned into parameters
    config = config_with(name)
    parameters = container_parameters(config)
    # Then it validates without a note and the parameters carry AWS's facts and the formula's numbers
    assert instance_type_note(config) is None
    spec = InstanceSpec(name, arch, memory, "test")
    assert {k: parameters[k] for k in spec.parameters()} == spec.parameters()
    assert parameters["InstanceArchitecture"] == arch
    assert parameters["ReservationMiB"] == str(memory - max(512, memory // 8))


def test_small_and_mac_types_are_refused_offline_naming_the_key() -> None:
    for name, words in (("t4g.small", ["2 GiB", "3 GiB"]), ("mac2-m2.metal", ["arm64_mac", "x86_64"])):
        with pytest.raises(ConfigError) as caught:
            config_with(name)
        problem = next(p for p in caught.value.problems if p.startswith("Ec2.InstanceType:"))
        assert all(word in problem for word in words), problem


def test_a_type_unknown_offline_validates_with_a_checked_at_deploy_note() -> None:
    # Given a well-formed type the table leaves out (previous generation) - When validated
    config = config_with("r3.large")
    # Then it is not an error, and the note says AWS decides at deploy time
    note = instance_type_note(config)
    assert note is not None
    assert note.startswith("Ec2.InstanceType: 'r3.large' is unknown offline")
    assert "cm deploy" in note
    assert "DescribeInstanceTypes in us-east-1" in note


def test_rendering_a_type_unknown_offline_without_aws_facts_is_a_usage_error() -> None:
    with pytest.raises(CmError) as caught:
        container_parameters(config_with("r3.large"))
    assert caught.value.code == USAGE
    assert "unknown offline" in caught.value.message


# ---------------------------------------------------------------- DescribeInstanceTypes (moto)


@mock_aws
def test_describe_reads_architecture_and_memory_from_aws() -> None:
    # Given moto's EC2 (its DescribeInstanceTypes records) - When a type absent from the offline table is read
    ec2 = boto3.Session(region_name="eu-central-1").client("ec2")
    spec = describe_fit(ec2, "r3.large", "eu-central-1")
    # Then AWS's facts come back, labelled with where they came from
    assert offline("r3.large") is None
    assert (spec.arch, spec.memory_mib) == ("x86_64", 15360)
    assert spec.source == "DescribeInstanceTypes in eu-central-1"
    assert spec.parameters()["ReservationMiB"] == str(15360 - 1920)


@mock_aws
def test_describe_refuses_unknown_small_and_paravirtual_types() -> None:
    ec2 = boto3.Session(region_name="us-east-1").client("ec2")
    with pytest.raises(CmError) as unknown:
        describe(ec2, "zz9.large", "us-east-1")
    assert unknown.value.code == USAGE
    assert "not an instance type AWS offers in us-east-1" in unknown.value.message
    with pytest.raises(CmError) as small:
        describe_fit(ec2, "t3.micro", "us-east-1")
    assert small.value.code == USAGE
    assert "1 GiB" in small.value.message


def test_describe_refuses_a_paravirtual_only_type() -> None:
    # Given a DescribeInstanceTypes answer (documented shape) for a type without HVM - moto has none such
    class Ec2:
        def describe_instance_types(self, **_: Any) -> dict[str, Any]:
            record = {
                "InstanceType": "m1.small",
                "SupportedVirtualizationTypes": ["paravirtual"],
                "ProcessorInfo": {"SupportedArchitectures": ["i386", "x86_64"]},
                "MemoryInfo": {"SizeInMiB": 1740},
            }
            return {"InstanceTypes": [record]}

    # Then it is refused: the ECS-optimized AMI is an HVM image
    with pytest.raises(CmError) as caught:
        describe(Ec2(), "m1.small", "us-east-1")
    assert caught.value.code == USAGE
    assert "paravirtual" in caught.value.message


# ---------------------------------------------------------------- the templates list no types


@pytest.mark.parametrize("template", ["template.yaml", "infra/compute.yaml"])
def test_templates_list_no_types_and_default_to_the_formula_for_t4g_medium(template: str) -> None:
    loaded = load_template(ROOT / template)
    parameters = loaded["Parameters"]
    # Then no allowed-values list and no mapping of types remain
    assert "AllowedValues" not in parameters["InstanceType"]
    assert "InstanceTypes" not in loaded.get("Mappings", {})
    assert re.compile(parameters["InstanceType"]["AllowedPattern"]).pattern == INSTANCE_TYPE_PATTERN.pattern
    assert parameters["InstanceArchitecture"]["AllowedValues"] == list(SUPPORTED_ARCHITECTURES)
    assert parameters["InstanceMemoryMiB"]["MinValue"] == MIN_MEMORY_MIB
    # And a bare `sam deploy` (defaults only) describes the default type exactly as cm render would
    default = offline(DEFAULT_INSTANCE_TYPE)
    assert default is not None
    assert parameters["InstanceType"]["Default"] == DEFAULT_INSTANCE_TYPE
    assert {k: str(parameters[k]["Default"]) for k in default.parameters()} == default.parameters()
