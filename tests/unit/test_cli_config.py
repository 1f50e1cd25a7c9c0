"""The container config file: defaults, the file-name id, and one invalid config per rule, each message naming
the exact key path, the bad value and the fix - all problems at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from container_manager.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

MINIMAL: dict[str, Any] = {
    "Domain": {"Name": "example.com", "ParentHostedZoneId": "Z0000000000EXAMPLE0000"},
    "Container": {"Image": "itzg/minecraft-server", "Ports": [{"TCP": 25565}]},
    "Volumes": {"data": {"Paths": [{"Path": "/data"}]}},
    "Watchdog": {"Threshold": 2000},
}


def with_(change: dict[str, Any]) -> dict[str, Any]:
    """MINIMAL with ``change`` merged in (nested mappings merge; None deletes a key)."""

    def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in update.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, dict) and value and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out

    return merge(MINIMAL, change)


def problems(data: dict[str, Any], default_id: str = "minecraft") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(data, sort_keys=False), default_id=default_id)
    return caught.value.problems


# ---------------------------------------------------------------- valid files and defaults


def test_minimal_file_gets_every_documented_default() -> None:
    # Given the smallest valid file, When it is parsed
    config = parse_config(yaml.safe_dump(MINIMAL), default_id="minecraft")
    # Then the defaults from the issue (and the templates) apply
    assert config.Id == "minecraft"
    assert config.Region == "us-east-1"
    assert config.Ec2.InstanceType == "t4g.medium"
    assert config.Watchdog.MinutesWithoutConnections == 7
    assert config.Watchdog.InstanceLeftUp.DurationHours == 8
    assert config.Watchdog.InstanceLeftUp.ShouldStop is False
    assert config.Volumes["data"].EnableBackups is True
    assert config.Volumes["data"].KeepOnDelete is True
    assert config.Volumes["data"].Paths[0].ReadOnly is False
    assert config.Dashboard.Enabled is True
    assert config.Dashboard.IntervalMinutes == 30
    assert config.AlertSubscription.emails == []
    assert (config.Container.Uid, config.Container.Gid, config.Container.StopTimeoutSeconds) == (
        1000,
        1000,
        120,
    )


def test_file_name_gives_the_id_and_id_overrides_it(tmp_path: Path) -> None:
    path = tmp_path / "my-server.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    assert load_config(path).Id == "my-server"
    path.write_text(yaml.safe_dump(with_({"Id": "other"})))
    assert load_config(path).Id == "other"


def test_environment_booleans_and_numbers_become_strings() -> None:
    config = parse_config(
        yaml.safe_dump(with_({"Container": {"Environment": {"EULA": True, "OFF": False, "N": 3, "F": 1.5}}})),
        default_id="x",
    )
    assert config.Container.Environment == {"EULA": "true", "OFF": "false", "N": "3", "F": "1.5"}


def test_domain_and_zone_are_normalised() -> None:
    config = parse_config(
        yaml.safe_dump(
            with_({"Domain": {"Name": "Example.COM.", "ParentHostedZoneId": "/hostedzone/Z123ABC"}})
        ),
        default_id="x",
    )
    assert (config.Domain.Name, config.Domain.ParentHostedZoneId) == ("example.com", "Z123ABC")


def test_every_example_validates() -> None:
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert len(examples) >= 5
    for path in examples:
        assert load_config(path).Id == path.stem


# ---------------------------------------------------------------- invalid files: exact key paths

INVALID = [
    # (change, key path that must lead a message, words the message must contain)
    (
        {"Container": {"Ports": [{"TCP": 25565}, {"UDP": 70000}]}},
        "Container.Ports[1].UDP",
        ["70000", "65535"],
    ),
    ({"Container": {"Ports": [{"TCP": 0}]}}, "Container.Ports[0].TCP", ["0", "1-65535"]),
    (
        {"Container": {"Ports": [{"TCP": 25565}, {"TCP": 25565}]}},
        "Container.Ports[1].TCP",
        ["repeats", "Ports[0]"],
    ),
    ({"Container": {"Ports": [{"TCP": 1, "UDP": 1}]}}, "Container.Ports[0]", ["exactly one"]),
    ({"Container": {"Ports": [{"SCTP": 1}]}}, "Container.Ports[0].SCTP", ["unknown key"]),
    ({"Container": {"Ports": []}}, "Container.Ports", ["at least 1"]),
    ({"Container": {"Ports": [{"TCP": "http"}]}}, "Container.Ports[0].TCP", ["'http'", "whole number"]),
    ({"Ec2": {"InstanceType": "t4g.small"}}, "Ec2.InstanceType", ["2 GiB", "t4g.medium"]),
    (
        {"Ec2": {"InstanceType": "mac2.metal"}},
        "Ec2.InstanceType",
        ["mac2.metal", "arm64_mac", "arm64 and x86_64"],
    ),
    (
        {"Ec2": {"InstanceType": "T4G-medium"}},
        "Ec2.InstanceType",
        ["not an EC2 instance type", "family.size"],
    ),
    ({"Id": "My_Server"}, "Id", ["My_Server", "DNS-safe"]),
    (
        {"Watchdog": {"MinutesWithoutConnections": 2000}},
        "Watchdog.MinutesWithoutConnections",
        ["2000", "one day"],
    ),
    ({"Watchdog": {"MinutesWithoutConnections": 2}}, "Watchdog.MinutesWithoutConnections", ["2", "booting"]),
    (
        {"Watchdog": {"InstanceLeftUp": {"DurationHours": 5}}},
        "Watchdog.InstanceLeftUp.DurationHours",
        ["4 or 6"],
    ),
    (
        {"Watchdog": {"InstanceLeftUp": {"DurationHours": 200}}},
        "Watchdog.InstanceLeftUp.DurationHours",
        ["168"],
    ),
    ({"Watchdog": {"Mode": "traffic", "Threshold": None}}, "Watchdog", ["traffic needs Threshold", "bytes"]),
    ({"Watchdog": {"Mode": "players"}}, "Watchdog.Mode", ["'connections'", "'traffic'"]),
    ({"Watchdog": {"StartupGraceMinutes": 500}}, "Watchdog.StartupGraceMinutes", ["500", "never stopped"]),
    (
        {"Watchdog": {"InstanceLeftUp": {"ForceStopHours": 5}}},
        "Watchdog.InstanceLeftUp.ForceStopHours",
        ["4 or 6"],
    ),
    (
        {"Watchdog": {"InstanceLeftUp": {"DurationHours": 12, "ForceStopHours": 8}}},
        "Watchdog.InstanceLeftUp",
        ["shorter than DurationHours 12", "ForceStop: false"],
    ),
    ({"Watchdog": {"Threshold": -5}}, "Watchdog.Threshold", ["-5", "bytes per second"]),
    ({"Container": {"Environment": {"1BAD": "x"}}}, "Container.Environment", ["'1BAD'", "letters, digits"]),
    ({"Container": {"Environment": {"EMPTY": None}}}, "Container.Environment", ["EMPTY", "no value"]),
    (
        {"Container": {"Secrets": {"PASS": "/elsewhere/pass"}}},
        "Container.Secrets.PASS",
        ["/container-manager/minecraft/"],
    ),
    (
        {
            "Container": {
                "Secrets": {"PASS": "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/pass-AbCdEf"}
            }
        },
        "Container.Secrets.PASS",
        ["container-manager/minecraft/"],
    ),
    (
        {
            "Container": {
                "Secrets": {
                    "PASS": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:container-manager/minecraft/p-AbCdEf"
                }
            }
        },
        "Container.Secrets.PASS",
        ["eu-west-1", "us-east-1", "replicate"],
    ),
    (
        {"Container": {"Environment": {"PASS": "x"}, "Secrets": {"PASS": "pass"}}},
        "Container.Secrets.PASS",
        ["also set in Container.Environment"],
    ),
    ({"Volumes": {"Data_1": {"Paths": [{"Path": "/data"}]}}}, "Volumes", ["'Data_1'", "lower-case"]),
    (
        {"Volumes": {"data": {"Paths": [{"Path": "data"}]}}},
        "Volumes.data.Paths[0].Path",
        ["'data'", "absolute"],
    ),
    (
        {"Volumes": {"data": {"Paths": [{"Path": "/data"}]}, "more": {"Paths": [{"Path": "/data"}]}}},
        "Volumes.more.Paths[0].Path",
        ["also mounted by Volumes.data.Paths[0]"],
    ),
    (
        {"Volumes": {"data": {"Paths": [{"Path": "/data"}], "KeepOnDelete": "yes"}}},
        "Volumes.data.KeepOnDelete",
        ["true or false"],
    ),
    ({"Volumes": {}}, "Volumes", ["at least 1"]),
    ({"AlertSubscription": {"Email": "a@example.com, b@example.com"}}, "AlertSubscription.Email", ["spaces"]),
    (
        {"AlertSubscription": {"Email": "a@x.io b@x.io c@x.io d@x.io"}},
        "AlertSubscription.Email",
        ["at most 3"],
    ),
    ({"Region": "Frankfurt"}, "Region", ["'Frankfurt'", "eu-central-1"]),
    ({"Domain": {"Name": "localhost"}}, "Domain.Name", ["'localhost'", "example.com"]),
    (
        {"Domain": {"ParentHostedZoneId": "12345"}},
        "Domain.ParentHostedZoneId",
        ["'12345'", "list-hosted-zones"],
    ),
    ({"Domain": None}, "Domain", ["missing", "ParentHostedZoneId"]),
    ({"Network": {"ExistingVpcId": "vpc-0123456789abcdef0"}}, "Network", ["ExistingSubnetIds", "together"]),
    ({"Logs": {"RetentionDays": 10}}, "Logs.RetentionDays", ["10", "14"]),
    ({"Functions": {"ReservedConcurrency": 500}}, "Functions.ReservedConcurrency", ["500", "quota", "100"]),
    ({"Container": {"StopTimeoutSeconds": 300}}, "Container.StopTimeoutSeconds", ["300", "2-120"]),
]


@pytest.mark.parametrize(("change", "path", "words"), INVALID, ids=[case[1] for case in INVALID])
def test_invalid_config_names_the_key_path_value_and_fix(
    change: dict[str, Any], path: str, words: list[str]
) -> None:
    # Given a valid file with one mistake, When it is validated
    found = problems(with_(change))
    # Then exactly one message leads with that key path and says what is wrong and what to do
    matching = [p for p in found if p.startswith(f"{path}:")]
    assert matching, f"no message for {path} in {found}"
    for word in words:
        assert word in matching[0], f"{word!r} missing from {matching[0]!r}"


def test_unknown_key_suggests_the_closest_one_with_its_full_path() -> None:
    found = problems(with_({"Watchdog": {"MinutesWithoutConnection": 5}, "Contianer": {}}))
    assert any(
        p.startswith("Watchdog.MinutesWithoutConnection:")
        and "did you mean Watchdog.MinutesWithoutConnections?" in p
        for p in found
    )
    assert any(p.startswith("Contianer:") and "did you mean Container?" in p for p in found)


def test_unknown_key_inside_a_list_item_and_a_volume_gets_a_suggestion() -> None:
    found = problems(with_({"Volumes": {"data": {"Paths": [{"Path": "/data", "Readonly": True}]}}}))
    assert any(
        p.startswith("Volumes.data.Paths[0].Readonly:")
        and "did you mean Volumes.data.Paths[0].ReadOnly?" in p
        for p in found
    )


def test_all_problems_are_reported_at_once() -> None:
    # Given a file with five independent mistakes
    found = problems(
        with_(
            {
                "Ec2": {"InstanceType": "t3.small"},
                "Container": {"Ports": [{"UDP": 70000}, {"TCP": 1}, {"TCP": 1}]},
                "Watchdog": {"Threshold": 0, "Minutes": 3},
            }
        )
    )
    # Then every one is listed in one run
    assert {p.split(":", 1)[0] for p in found} >= {
        "Ec2.InstanceType",
        "Container.Ports[0].UDP",
        "Container.Ports[2].TCP",
        "Watchdog.Threshold",
        "Watchdog.Minutes",
    }


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("Container:\n  Image: [unclosed\n", default_id="x")
    assert "line" in caught.value.problems[0]


def test_a_bad_file_name_is_reported_as_the_id() -> None:
    found = problems(MINIMAL, default_id="My Server")
    assert found[0].startswith("Id:")
    assert "rename the file or set Id" in found[0]
