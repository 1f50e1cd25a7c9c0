"""Typed configuration from the environment: every problem named at once."""

from __future__ import annotations

import pytest

from cm_common.config import ConfigError, EnvReader, normalize_dns_name
from start_system.settings import Settings

GOOD = {
    "CONTAINER_ID": "minecraft",
    "SERVER_NAME": "Minecraft.Example.com.",
    "QUERY_LOG_GROUP": "/aws/route53/minecraft.example.com",
    "CONTAINER_REGION": "eu-west-1",
    "ASG_NAME": "container-manager-minecraft",
    "KNOCK_METRIC_NAMESPACE": "ContainerManager",
    "KNOCK_METRIC_NAME": "DnsQueries",
}


def test_good_environment_gives_typed_normalised_settings() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.server_name == "minecraft.example.com"
    assert settings.start_query_types == ("A",)  # default


def test_query_types_are_parsed_deduplicated_and_uppercased() -> None:
    assert Settings.from_env({**GOOD, "START_QUERY_TYPES": "a, AAAA a"}).start_query_types == ("A", "AAAA")


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("CONTAINER_REGION", "Europe", "CONTAINER_REGION='Europe'"),
        ("SERVER_NAME", "under_score.example.com", "SERVER_NAME='under_score.example.com'"),
        ("CONTAINER_ID", "Mine Craft", "CONTAINER_ID='Mine Craft'"),
        ("START_QUERY_TYPES", "A,PTRX", "unknown value(s) ['PTRX']"),
        ("ASG_NAME", "", "ASG_NAME is missing"),
    ],
)
def test_each_bad_value_is_named_with_its_fix(key: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**GOOD, key: value})
    assert words in str(error.value)
    assert len(error.value.problems) == 1


def test_all_problems_reported_together() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({})
    missing = {p.split()[0] for p in error.value.problems}
    assert missing == {
        "CONTAINER_ID",
        "SERVER_NAME",
        "QUERY_LOG_GROUP",
        "CONTAINER_REGION",
        "ASG_NAME",
        "KNOCK_METRIC_NAMESPACE",
        "KNOCK_METRIC_NAME",
    }


@pytest.mark.parametrize(("raw", "ok"), [("30", True), ("0", False), ("301", False), ("thirty", False)])
def test_integer_bounds(raw: str, ok: bool) -> None:
    reader = EnvReader({"TTL": raw})
    reader.integer("TTL", low=1, high=300, fix="seconds")
    if ok:
        reader.finish()
    else:
        with pytest.raises(ConfigError, match="TTL="):
            reader.finish()


def test_ipv4_rejects_names_and_ipv6() -> None:
    reader = EnvReader({"A": "::1", "B": "localhost"})
    reader.ipv4("A", fix="an IPv4 address")
    reader.ipv4("B", fix="an IPv4 address")
    with pytest.raises(ConfigError) as error:
        reader.finish()
    assert len(error.value.problems) == 2


def test_dns_names_normalise() -> None:
    assert normalize_dns_name(" MineCraft.Example.COM. ") == "minecraft.example.com"
