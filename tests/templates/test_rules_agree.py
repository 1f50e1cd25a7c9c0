"""One rule, three places: the template's parameter patterns, the functions' env checks and `cm`'s config model.

The Lambda code and the CLI package ship separately and cannot import each other, so each keeps its copy; these
tests fail when a copy drifts from the template, which is what a deploy enforces.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cm_common import config as function_config
from container_manager import config as cli_config
from container_manager.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS = load_template(ROOT / "template.yaml")["Parameters"]


@pytest.mark.parametrize(
    ("parameter", "copies"),
    [
        ("ContainerId", [function_config.CONTAINER_ID_RE, cli_config.CONTAINER_ID_PATTERN]),
        ("DomainName", [cli_config.DOMAIN_PATTERN]),
        ("ParentHostedZoneId", [function_config.HOSTED_ZONE_ID_RE, cli_config.ZONE_ID_PATTERN]),
    ],
)
def test_copies_of_a_parameter_rule_equal_the_template(parameter: str, copies: list[object]) -> None:
    pattern = PARAMETERS[parameter]["AllowedPattern"]
    for copy in copies:
        assert getattr(copy, "pattern", None) == pattern, f"{copy} drifted from {parameter}'s AllowedPattern"


@pytest.mark.parametrize("value", ["minecraft", "a", "x" * 32, "valheim-2"])
def test_ids_the_template_accepts_pass_every_check(value: str) -> None:
    assert function_config.CONTAINER_ID_RE.fullmatch(value)
    assert cli_config.CONTAINER_ID_PATTERN.fullmatch(value)


@pytest.mark.parametrize("value", ["x" * 33, "-minecraft", "Minecraft", "mine_craft", ""])
def test_ids_the_template_refuses_fail_every_check(value: str) -> None:
    assert not function_config.CONTAINER_ID_RE.fullmatch(value)
    assert not cli_config.CONTAINER_ID_PATTERN.fullmatch(value)


@pytest.mark.parametrize(
    "parameter",
    ["PlayersMetricNamespacePrefix", "PlayersMetricName", "KnockMetricNamespace", "KnockMetricName"],
)
def test_dashboard_plots_the_metrics_the_watchdog_alarms_on(parameter: str) -> None:
    watchdog = load_template(ROOT / "infra" / "watchdog.yaml")["Parameters"]
    dashboard = load_template(ROOT / "infra" / "dashboard.yaml")["Parameters"]
    assert dashboard[parameter]["Default"] == watchdog[parameter]["Default"]
