"""instance-state-change settings: typed at cold start, every problem named at once."""

from __future__ import annotations

import pytest

from cm_common.config import ConfigError
from instance_state_change.settings import Settings

GOOD = {
    "CONTAINER_ID": "minecraft",
    "AWS_REGION": "eu-west-1",
    "ASG_NAME": "container-manager-minecraft",
    "HOSTED_ZONE_ID": "Z07432391BT2QKN8RXK1F",
    "RECORD_NAME": "Minecraft.Example.com.",
    "RECORD_TTL": "30",
    "PLACEHOLDER_IP": "0.0.0.0",
}


def test_good_environment_is_typed_and_normalised() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.record_name == "minecraft.example.com"
    assert settings.record_ttl == 30
    assert settings.placeholder_ip == "0.0.0.0"
    assert settings.region == "eu-west-1"


def test_every_bad_variable_is_named_at_once() -> None:
    env = dict(
        GOOD, RECORD_TTL="3600", PLACEHOLDER_IP="nowhere", HOSTED_ZONE_ID="/hostedzone/Z1", RECORD_NAME="x"
    )
    del env["ASG_NAME"]
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    message = str(error.value)
    assert "RECORD_TTL='3600'" in message
    assert "PLACEHOLDER_IP='nowhere'" in message
    assert "HOSTED_ZONE_ID='/hostedzone/Z1'" in message
    assert "RECORD_NAME='x'" in message
    assert "ASG_NAME is missing" in message
    assert len(error.value.problems) == 5


@pytest.mark.parametrize("ttl", ["0", "-5", "thirty", "301"])
def test_ttl_outside_the_template_range_is_refused(ttl: str) -> None:
    with pytest.raises(ConfigError, match="RECORD_TTL"):
        Settings.from_env(dict(GOOD, RECORD_TTL=ttl))
