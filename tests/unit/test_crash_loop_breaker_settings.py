"""crash-loop-breaker configuration: typed once, every problem named at cold start."""

from __future__ import annotations

import pytest

from cm_common.config import ConfigError
from crash_loop_breaker.settings import Settings

GOOD = {
    "CONTAINER_ID": "minecraft",
    "ASG_NAME": "container-manager-minecraft",
    "CLUSTER_ARN": "arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft",
}


def test_reads_the_environment_and_takes_the_region_from_the_cluster() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.asg_name == "container-manager-minecraft"
    assert settings.region == "eu-west-1"


def test_every_bad_variable_is_named_at_once() -> None:
    env = {**GOOD, "CLUSTER_ARN": "container-manager-minecraft", "CONTAINER_ID": "Mine Craft"}
    del env["ASG_NAME"]
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    message = str(error.value)
    assert "CLUSTER_ARN='container-manager-minecraft' is invalid" in message
    assert "CONTAINER_ID='Mine Craft' is invalid" in message
    assert "ASG_NAME is missing" in message
