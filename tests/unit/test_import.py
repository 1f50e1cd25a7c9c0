"""`cm import`: the older tool's five published examples come over in one command each - every key mapped or
noted, comments kept, secrets turned into references whose values are never written - and `cm validate`
points such a file at `cm import`, naming the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from container_manager.cli import main
from container_manager.config import load_config
from container_manager.errors import OK, USAGE
from container_manager.importer import dns_safe_id, dns_safe_volume_id, is_secret_name
from container_manager.render import render_to

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "older-tool"
ZONE = "Z0123456789ABCDEFGHIJ"
SECRET_VALUE = "s3cr3t-Value-that-must-not-leak"
# What the older tool's vars.env.example defines for its examples (values of our choosing).
OLDER_ENV = {
    "PALWORLD_PASSWORD": SECRET_VALUE,
    "VALHEIM_SERVER_PASS": SECRET_VALUE,
    "VALHEIM_SERVER_NAME": "Vikings of Example",
    "VALHEIM_TYPE": "BepInEx",
    "VALHEIM_MODS": "",
    "TIMEZONE": "Europe/Berlin",
}


@pytest.fixture
def older_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OLDER_ENV.items():
        monkeypatch.setenv(name, value)


def run_import(tmp_path: Path, name: str, *extra: str) -> tuple[int, Path]:
    target = tmp_path / f"{Path(name).stem}.new.yaml"
    code = main(
        ["import", str(FIXTURES / name), "--domain", "example.com", "--zone", ZONE, "-o", str(target), *extra]
    )
    return code, target


# Per example: the id, instance type, ports, volume ids -> paths, watchdog, environment samples, secrets.
EXPECTED: dict[str, dict[str, Any]] = {
    "Minecraft.java.example.yaml": {
        "id": "minecraft-java",
        "type": "m5.large",
        "ports": [("tcp", 25565), ("udp", 19132)],
        "volumes": {"data": (["/data"], True, True)},
        "watchdog": (1175, 8, False),
        "env": {
            "EULA": "true",
            "TYPE": "PAPER",
            "MEMORY": "80%",
            "MODRINTH_DOWNLOAD_DEPENDENCIES": "required",
        },
        "secrets": {},
    },
    "Minecraft.lifeshare.example.yaml": {
        "id": "minecraft-lifeshare",
        "type": "m5.large",
        "ports": [("tcp", 25565)],
        "volumes": {"data": (["/data"], True, True)},
        "watchdog": (1400, 8, False),
        "env": {"TYPE": "FABRIC", "DIFFICULTY": "hard", "ENABLE_RCON": "false"},
        "secrets": {},
    },
    "Palworld.example.yaml": {
        "id": "palworld",
        "type": "m5.2xlarge",
        "ports": [("udp", 8211), ("udp", 27015)],
        "volumes": {"palworld": (["/palworld"], True, True)},
        "watchdog": (5750, 8, True),
        "env": {
            "SERVER_NAME": "Christian Minecraft Server",
            "PLAYERS": "32",
            "PAL_EGG_DEFAULT_HATCHING_TIME": "1.0",
        },
        "secrets": {"SERVER_PASSWORD": ("server-password", "PALWORLD_PASSWORD")},
    },
    "Valheim.lloesche.example.yaml": {
        "id": "valheim-lloesche",
        "type": "m5.large",
        "ports": [("udp", 2456), ("udp", 2457), ("udp", 2458)],
        "volumes": {"config": (["/config"], True, True), "download": (["/opt/valheim"], False, False)},
        "watchdog": (400, 8, True),
        "env": {
            "SERVER_NAME": "Vikings of Example",
            "WORLD_NAME": "Valhalla",
            "UPDATE_CRON": "",
            "PUID": "1000",
        },
        "secrets": {"SERVER_PASS": ("server-pass", "VALHEIM_SERVER_PASS")},
    },
    "Valheim.mbround18.example.yaml": {
        "id": "valheim-mbround18",
        "type": "m5.large",
        "ports": [("udp", 2456), ("udp", 2457), ("udp", 2458)],
        "volumes": {
            "config": (["/home/steam/.config/unity3d/IronGate/Valheim"], True, True),
            "download": (
                [
                    "/home/steam/valheim",
                    "/home/steam/backups",
                    "/home/steam/Steam",
                    "/home/steam/.steam",
                    "/home/steam/.local/share/Steam",
                    "/home/steam/steamcmd",
                ],
                False,
                False,
            ),
        },
        "watchdog": (1000, 8, True),
        "env": {
            "TYPE": "BepInEx",
            "NAME": "Vikings of Example",
            "MODS": "",
            "TZ": "Europe/Berlin",
            "PUBLIC": "0",
        },
        "secrets": {"PASSWORD": ("password", "VALHEIM_SERVER_PASS")},
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_published_example_imports_validates_and_renders(
    name: str, tmp_path: Path, older_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an older-tool example and the variables its !ENV values read - When imported with one command
    code, target = run_import(tmp_path, name)
    printed = capsys.readouterr()
    assert code == OK, printed.err
    expected = EXPECTED[name]
    # Then the new file validates, and every mapped key holds the older file's value
    config = load_config(target)
    assert config.Id == expected["id"]
    assert (config.Domain.Name, config.Domain.ParentHostedZoneId) == ("example.com", ZONE)
    assert config.Ec2.InstanceType == expected["type"]
    assert [(p.protocol, p.number) for p in config.Container.Ports] == expected["ports"]
    volumes = {
        volume_id: ([p.Path for p in v.Paths], v.EnableBackups, v.KeepOnDelete)
        for volume_id, v in config.Volumes.items()
    }
    assert volumes == expected["volumes"]
    watchdog = config.Watchdog
    assert (
        watchdog.Threshold,
        watchdog.InstanceLeftUp.DurationHours,
        watchdog.InstanceLeftUp.ShouldStop,
    ) == (expected["watchdog"])
    assert watchdog.MinutesWithoutConnections == 7  # the older tool's default, and ours
    assert {k: config.Container.Environment[k] for k in expected["env"]} == expected["env"]
    assert dict(config.Container.Secrets.items()) == {k: v[0] for k, v in expected["secrets"].items()}
    assert not set(config.Container.Secrets) & set(config.Container.Environment)
    # And each secret's `cm secrets put` command is printed, reading the older variable
    for env_name, (ssm_name, variable) in expected["secrets"].items():
        assert (
            f"cm secrets put {config.Id} {ssm_name} --from-env {variable} --region us-east-1" in printed.out
        )
        assert env_name in printed.out
    # And it renders (the offline table knows m5.large and m5.2xlarge)
    rendered = render_to(target, tmp_path / "render")
    assert rendered.parameters["InstanceArchitecture"] == "x86_64"
    assert main(["validate", str(target)]) == OK


def test_comments_are_kept_and_every_change_is_commented(tmp_path: Path, older_env: None) -> None:
    code, target = run_import(tmp_path, "Valheim.mbround18.example.yaml")
    assert code == OK
    text = target.read_text()
    original = (FIXTURES / "Valheim.mbround18.example.yaml").read_text()
    # The older file's own comments survive, full-line and end-of-line
    for comment in (
        "# Docs here: https://github.com/mbround18/valheim-docker",
        "# World Modifiers list:",
        "# False: We do that ourselves",
        "## Other persistent paths. Also stop SteamCLI from thinking it's out of space on disk:",
    ):
        assert comment in original
        assert comment in text
    # And the converted lines say where their values came from
    assert "TZ: Europe/Berlin" in text
    assert "read from $TIMEZONE at import (was !ENV ${TIMEZONE})" in text
    assert "# BepInEx or Vanilla - cm import: read from $VALHEIM_TYPE" in text
    assert "config:  # cm import: was Config" in text
    assert "!ENV" not in text.split("\nId:", 1)[1].replace("(was !ENV", "").replace("was !ENV $", "")


def test_a_secret_value_is_never_written_anywhere(
    tmp_path: Path, older_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given PALWORLD_PASSWORD holds a value - When Palworld is imported (human output, then JSON, then stdout)
    code, target = run_import(tmp_path, "Palworld.example.yaml")
    assert code == OK
    json_code = main(
        [
            "import",
            str(FIXTURES / "Palworld.example.yaml"),
            "--domain",
            "example.com",
            "--zone",
            ZONE,
            "-o",
            "-",
            "--json",
        ]
    )
    stdout_code = main(
        [
            "import",
            str(FIXTURES / "Palworld.example.yaml"),
            "--domain",
            "example.com",
            "--zone",
            ZONE,
            "-o",
            "-",
        ]
    )
    printed = capsys.readouterr()
    assert (json_code, stdout_code) == (OK, OK)
    # Then the value is in no file and in no output; the reference and the variable's name are
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [target]
    for content in (target.read_text(), printed.out, printed.err):
        assert SECRET_VALUE not in content
    assert "SERVER_PASSWORD: server-password" in target.read_text()
    assert "PALWORLD_PASSWORD" in target.read_text()
    start = printed.out.index("{\n")
    document = json.loads(printed.out[start : printed.out.index("\n}\n", start) + 3])
    assert document["secrets"] == [
        {
            "env": "SERVER_PASSWORD",
            "name": "server-password",
            "variable": "PALWORLD_PASSWORD",
            "command": "cm secrets put palworld server-password --from-env PALWORLD_PASSWORD --region us-east-1",
        }
    ]


def test_an_unset_variable_is_an_error_naming_it_and_nothing_is_written(
    tmp_path: Path, older_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given TIMEZONE (read by TZ: !ENV ${TIMEZONE}) is not set
    monkeypatch.delenv("TIMEZONE")
    code, target = run_import(tmp_path, "Valheim.mbround18.example.yaml")
    err = capsys.readouterr().err
    # Then the import fails with the variable and the key named, and writes nothing
    assert code == USAGE
    assert "Container.Environment.TZ" in err
    assert "environment variable TIMEZONE, which is not set" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_an_unset_secret_variable_is_not_needed_at_import(
    tmp_path: Path, older_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the password's variable is unset: import never reads a secret's value
    monkeypatch.delenv("PALWORLD_PASSWORD")
    code, _ = run_import(tmp_path, "Palworld.example.yaml")
    # Then it imports, and says to set the variable before running the put command
    assert code == OK
    assert "set PALWORLD_PASSWORD first" in capsys.readouterr().out


def test_the_domain_must_be_given_and_nothing_is_written_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.yaml"
    code = main(["import", str(FIXTURES / "Minecraft.java.example.yaml"), "-o", str(target)])
    assert code == USAGE
    assert "--domain example.com --zone" in capsys.readouterr().err
    assert not target.exists()


def test_domain_and_zone_default_to_the_older_tools_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOMAIN_NAME", "Example.org")
    monkeypatch.setenv("HOSTED_ZONE_ID", "/hostedzone/ZABCDEF1234567")
    target = tmp_path / "mc.yaml"
    assert main(["import", str(FIXTURES / "Minecraft.java.example.yaml"), "-o", str(target)]) == OK
    config = load_config(target)
    assert (config.Domain.Name, config.Domain.ParentHostedZoneId) == ("example.org", "ZABCDEF1234567")


def test_an_existing_output_is_not_overwritten_without_force(tmp_path: Path, older_env: None) -> None:
    target = tmp_path / "minecraft-java.yaml"
    target.write_text("mine\n")
    args = [
        "import",
        str(FIXTURES / "Minecraft.java.example.yaml"),
        "--domain",
        "example.com",
        "--zone",
        ZONE,
    ]
    assert main([*args, "-o", str(target)]) == USAGE
    assert target.read_text() == "mine\n"
    assert main([*args, "-o", str(target), "--force"]) == OK
    assert load_config(target).Id == "minecraft-java"


def test_default_output_is_the_id_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["import", str(FIXTURES / "Minecraft.lifeshare.example.yaml"), "--domain", "example.com"]
    assert main([*args, "--zone", ZONE, "--id", "lifeshare", "--region", "eu-central-1"]) == OK
    config = load_config(tmp_path / "lifeshare.yaml")
    assert (config.Id, config.Region) == ("lifeshare", "eu-central-1")


def test_older_spellings_and_out_of_range_values_are_mapped_with_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given keys the older tool accepted that this project spells or bounds differently
    monkeypatch.setenv("ADMIN_TOKEN", SECRET_VALUE)
    older = tmp_path / "My_Game.example.yaml"
    older.write_text(
        "Ec2:\n  InstanceType: M6I.Large\n"
        "Container:\n  Image: Example/Game\n  Ports:\n    - tcp: '7777'\n"
        "  Environment:\n    API_KEY: !ENV ${ADMIN_TOKEN}\n    GREETING: !ENV 'hi ${NOBODY_SETS_THIS:there}'\n"
        "Volumes:\n  WorldSaves:\n    Type: efs\n    Paths:\n      - Path: /saves\n"
        "Watchdog:\n  Threshold: 300\n  MinutesWithoutConnections: 3\n  InstanceLeftUp:\n    DurationHours: 5\n"
        "Dashboard:\n  ShowContainerLogTimestamp: false\n  IntervalMinutes: 60\n"
        "AlertSubscription:\n  Email:\n"
    )
    target = tmp_path / "new.yaml"
    code = main(["import", str(older), "--domain", "example.com", "--zone", ZONE, "-o", str(target)])
    out = capsys.readouterr().out
    assert code == OK, out
    config = load_config(target)
    # Then each is mapped to this project's form, and each change is noted
    assert config.Id == "my-game"
    assert config.Ec2.InstanceType == "m6i.large"
    assert config.Container.Image == "example/game"
    assert [(p.protocol, p.number) for p in config.Container.Ports] == [("tcp", 7777)]
    assert config.Container.Secrets == {"API_KEY": "api-key"}
    assert config.Container.Environment == {"GREETING": "hi there"}
    assert list(config.Volumes) == ["world-saves"]
    assert config.Watchdog.MinutesWithoutConnections == 5
    assert config.Watchdog.InstanceLeftUp.DurationHours == 6
    assert config.Dashboard.IntervalMinutes == 60
    assert config.AlertSubscription.Email == ""
    for note in (
        "Volumes.WorldSaves.Type: dropped",
        "Volumes.WorldSaves -> Volumes.world-saves",
        "Watchdog.MinutesWithoutConnections: 3 -> 5",
        "Watchdog.InstanceLeftUp.DurationHours: 5 -> 6",
        "Dashboard.ShowContainerLogTimestamp: dropped",
        "Container.Ports[0].tcp: written TCP: 7777",
        "Ec2.InstanceType: 'M6I.Large' -> 'm6i.large'",
        "AlertSubscription: Email was empty",
    ):
        assert note in out
    assert SECRET_VALUE not in target.read_text() + out


def test_a_file_that_is_not_an_older_tool_config_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.yaml"
    code = main(
        [
            "import",
            str(ROOT / "examples" / "minecraft.yaml"),
            "--domain",
            "example.com",
            "--zone",
            ZONE,
            "-o",
            str(target),
        ]
    )
    assert code == USAGE
    assert "already looks like a Container Manager config" in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("Minecraft.java.example", "minecraft-java"),
        ("Palworld.example", "palworld"),
        ("Valheim.mbround18.example", "valheim-mbround18"),
        ("My Server", "my-server"),
        ("x" * 40, "x" * 32),
    ],
)
def test_ids_are_made_dns_safe(stem: str, expected: str) -> None:
    assert dns_safe_id(stem) == expected


@pytest.mark.parametrize(
    ("volume_id", "expected"),
    [
        ("Data", "data"),
        ("DownloadCache", "download-cache"),
        ("Palworld", "palworld"),
        ("1Saves", "v-1-saves"),
    ],
)
def test_volume_ids_are_made_dns_safe(volume_id: str, expected: str) -> None:
    assert dns_safe_volume_id(volume_id) == expected


def test_secret_looking_names() -> None:
    for name in (
        "SERVER_PASSWORD",
        "SERVER_PASS",
        "PASSWORD",
        "RCON_PASSWORD",
        "API_KEY",
        "DISCORD_TOKEN",
        "ADMINPASSWORD",
    ):
        assert is_secret_name(name), name
    for name in ("TZ", "TIMEZONE", "MODS", "NAME", "SERVER_NAME", "TYPE", "WORLD", "PUBLIC", "MONKEY"):
        assert not is_secret_name(name), name


# ---------------------------------------------------------------- cm validate on an older-tool file


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_points_an_older_tool_file_at_cm_import(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an older-tool example as it is - When validated
    code = main(["validate", str(FIXTURES / name)])
    printed = capsys.readouterr()
    # Then it fails with the hint to run cm import, naming the older keys, without a traceback
    assert code == USAGE
    assert f"this looks like an older-tool config: run `cm import {FIXTURES / name}`" in printed.out
    assert f"next: convert it: `cm import {FIXTURES / name}`" in printed.err
    assert "Traceback" not in printed.out + printed.err
    expected_key = "Volumes.Data:" if name.startswith("Minecraft") else None
    if name.startswith("Palworld"):
        expected_key = "Container.Environment.SERVER_PASSWORD: `!ENV ${PALWORLD_PASSWORD}`"
    if name.startswith("Valheim"):
        expected_key = (
            "Container.Environment.SERVER_NAME: `!ENV ${VALHEIM_SERVER_NAME}`"
            if "lloesche" in name
            else "Container.Environment.TZ: `!ENV ${TIMEZONE}`"
        )
    assert expected_key in printed.out


def test_validate_json_lists_the_older_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--json", str(FIXTURES / "Minecraft.java.example.yaml")])
    (result,) = json.loads(capsys.readouterr().out)["files"]
    assert code == USAGE
    assert result["problems"][0].startswith("this looks like an older-tool config")
    assert "Volumes.Data.Type: the older tool's volume type (every volume here is EFS)" in result["problems"]
