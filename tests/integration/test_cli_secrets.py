"""`cm secrets put/list` against moto: the value goes from stdin or a variable into an SSM SecureString at the
very name the task definition reads, in the container's region, and never comes back out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
import yaml

from container_manager.cfn import load_template
from container_manager.cli import main
from container_manager.errors import OK, USAGE
from container_manager.render import render_to

ROOT = Path(__file__).resolve().parents[2]
VALUE = "correct horse battery staple"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The Palworld example, in eu-central-1, with its admin password as a Secrets reference."""
    data = yaml.safe_load((ROOT / "examples" / "palworld.yaml").read_text())
    data["Region"] = "eu-central-1"
    data["Container"]["Secrets"] = {"ADMIN_PASSWORD": "admin-password", "SERVER_PASSWORD": "server-password"}
    path = tmp_path / "palworld.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))  # not a terminal: read, no prompt


def parameter(name: str, region: str) -> dict[str, object]:
    ssm = boto3.client("ssm", region_name=region)
    found: dict[str, object] = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return found


def test_put_from_stdin_stores_a_securestring_where_the_task_reads_it(
    aws: None,
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a config whose task reads SERVER_PASSWORD from the reference server-password
    stdin(monkeypatch, VALUE + "\n")
    # When the value is piped in
    code = main(["secrets", "put", str(config_file), "server-password", "--json"])
    printed = capsys.readouterr()
    # Then it is a SecureString in the container's region (eu-central-1), trailing newline dropped
    assert code == OK
    stored = parameter("/container-manager/palworld/server-password", "eu-central-1")
    assert (stored["Type"], stored["Value"], stored["Version"]) == ("SecureString", VALUE, 1)
    assert json.loads(printed.out)["action"] == "created"
    assert VALUE not in printed.out + printed.err
    with pytest.raises(boto3.client("ssm", region_name="us-east-1").exceptions.ParameterNotFound):
        parameter("/container-manager/palworld/server-password", "us-east-1")
    # And that name is exactly the one the rendered task definition's ValueFrom points at
    rendered = render_to(config_file, tmp_path / "out")
    compute = load_template(rendered.out_dir / "infra" / "compute.yaml")
    (server,) = compute["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    value_from = next(s["ValueFrom"] for s in server["Secrets"] if s.get("Name") == "SERVER_PASSWORD")
    assert value_from["Fn::Sub"].endswith(":parameter/container-manager/${ContainerId}/server-password")


def test_put_from_an_environment_variable_then_update(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PALWORLD_PASSWORD", VALUE)
    assert main(["secrets", "put", "palworld", "server-password", "--from-env", "PALWORLD_PASSWORD"]) == OK
    monkeypatch.setenv("PALWORLD_PASSWORD", "second")
    assert main(["secrets", "put", "palworld", "server-password", "--from-env", "PALWORLD_PASSWORD"]) == OK
    out = capsys.readouterr().out
    stored = parameter("/container-manager/palworld/server-password", "us-east-1")
    assert (stored["Value"], stored["Version"]) == ("second", 2)
    assert "created /container-manager/palworld/server-password" in out
    assert "updated /container-manager/palworld/server-password" in out
    tags = boto3.client("ssm", region_name="us-east-1").list_tags_for_resource(
        ResourceType="Parameter", ResourceId="/container-manager/palworld/server-password"
    )["TagList"]
    assert {"Key": "container-manager:container-id", "Value": "palworld"} in tags


@pytest.mark.parametrize(
    ("args", "stdin_text", "words"),
    [
        (["--from-env", "NOT_SET_ANYWHERE"], "", ["NOT_SET_ANYWHERE is not set", "nothing stored"]),
        ([], "", ["empty", "nothing stored"]),
        ([], "\n", ["empty"]),
    ],
)
def test_put_refuses_a_missing_value_and_stores_nothing(
    aws: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin_text: str,
    words: list[str],
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    stdin(monkeypatch, stdin_text)
    assert main(["secrets", "put", "palworld", "server-password", *args]) == USAGE
    err = capsys.readouterr().err
    assert all(word in err for word in words), err
    assert boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"] == []


def test_put_refuses_a_name_outside_the_containers_prefix(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, VALUE)
    assert main(["secrets", "put", "palworld", "/other-app/password"]) == USAGE
    assert "/container-manager/palworld/" in capsys.readouterr().err
    assert boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"] == []


def test_the_value_is_never_an_argument() -> None:
    # argparse has no place for it: a third positional is a usage error
    with pytest.raises(SystemExit) as caught:
        main(["secrets", "put", "palworld", "server-password", VALUE])
    assert caught.value.code == USAGE


def test_list_shows_names_never_values_and_what_the_config_still_needs(
    aws: None, config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one of the config's two secrets stored, and a parameter of another container
    stdin(monkeypatch, VALUE)
    assert main(["secrets", "put", str(config_file), "server-password"]) == OK
    boto3.client("ssm", region_name="eu-central-1").put_parameter(
        Name="/container-manager/other/server-password", Value="x", Type="SecureString"
    )
    capsys.readouterr()
    # When listed, as JSON and for humans
    assert main(["secrets", "list", str(config_file), "--json"]) == OK
    listed = json.loads(capsys.readouterr().out)
    assert main(["secrets", "list", str(config_file)]) == OK
    human = capsys.readouterr()
    # Then only this container's names, the missing one flagged, and no value anywhere
    assert [s["name"] for s in listed["secrets"]] == ["server-password"]
    assert listed["missing"] == ["admin-password"]
    assert listed["region"] == "eu-central-1"
    assert "admin-password" in human.out
    assert "MISSING" in human.out
    assert f"cm secrets put {config_file} admin-password" in human.err
    assert VALUE not in json.dumps(listed) + human.out + human.err


def test_list_of_a_container_without_secrets(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "list", "minecraft", "--region", "eu-west-1"]) == OK
    assert "no secrets under /container-manager/minecraft/ in eu-west-1" in capsys.readouterr().out
