"""Watchdog keys of the container config (docs/configuration.md, docs/watchdog.md): a new config needs no
threshold, mode traffic still does, the runaway guard is on by default, and `cm render` passes every key to the
template parameter that carries it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from container_manager.cfn import load_template
from container_manager.config import LeftUpSettings, parse_config
from container_manager.render import container_parameters

ROOT = Path(__file__).resolve().parents[2]
NO_THRESHOLD: dict[str, Any] = {
    "Domain": {"Name": "example.com", "ParentHostedZoneId": "Z0000000000EXAMPLE0000"},
    "Container": {"Image": "ghcr.io/example/factorio", "Ports": [{"UDP": 34197}, {"TCP": 27015}]},
    "Volumes": {"data": {"Paths": [{"Path": "/factorio"}]}},
}


def test_a_new_config_needs_no_watchdog_section_and_no_threshold() -> None:
    config = parse_config(yaml.safe_dump(NO_THRESHOLD), default_id="factorio")
    watchdog = config.Watchdog
    assert (watchdog.Mode, watchdog.Threshold, watchdog.StartupGraceMinutes) == ("connections", None, 10)
    assert watchdog.InstanceLeftUp.ForceStop is True
    assert watchdog.InstanceLeftUp.force_stop_hours == 24


def test_render_passes_mode_grace_ports_and_force_stop() -> None:
    parameters = container_parameters(parse_config(yaml.safe_dump(NO_THRESHOLD), default_id="factorio"))
    assert parameters["WatchdogMode"] == "connections"
    assert parameters["StartupGraceMinutes"] == "10"
    assert parameters["ActivityPorts"] == "udp/34197 tcp/27015"
    assert parameters["ForceStopHours"] == "24"
    # no threshold given: the template's default backs the fallback for minutes without an agent report
    assert "ActivityThresholdBytesPerSecond" not in parameters
    root = load_template(ROOT / "template.yaml")["Parameters"]
    assert set(parameters) <= set(root), set(parameters) - set(root)
    assert root["ActivityThresholdBytesPerSecond"]["Default"] == 2048


def test_render_traffic_mode_with_threshold_and_force_stop_off() -> None:
    data = {
        **NO_THRESHOLD,
        "Watchdog": {"Mode": "traffic", "Threshold": 1500, "InstanceLeftUp": {"ForceStop": False}},
    }
    parameters = container_parameters(parse_config(yaml.safe_dump(data), default_id="factorio"))
    assert parameters["WatchdogMode"] == "traffic"
    assert parameters["ActivityThresholdBytesPerSecond"] == "1500"
    assert parameters["ForceStopHours"] == "off"


@pytest.mark.parametrize(
    ("duration", "explicit", "expected"),
    [
        (1, None, 24),
        (8, None, 24),
        (24, None, 48),
        (48, None, 72),
        (168, None, 168),  # CloudWatch's 7-day window: the stop comes with the alert
        (8, 12, 12),
        (24, 24, 24),
    ],
)
def test_force_stop_hours_default_follows_the_alert(
    duration: int, explicit: int | None, expected: int
) -> None:
    settings = LeftUpSettings(DurationHours=duration, ForceStopHours=explicit)
    assert settings.force_stop_hours == expected


def test_every_force_stop_value_is_one_the_template_allows() -> None:
    allowed = load_template(ROOT / "infra" / "watchdog.yaml")["Parameters"]["ForceStopHours"]["AllowedValues"]
    for duration in (1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168):
        assert str(LeftUpSettings(DurationHours=duration).force_stop_hours) in allowed
    root = load_template(ROOT / "template.yaml")["Parameters"]["ForceStopHours"]["AllowedValues"]
    assert root == allowed
