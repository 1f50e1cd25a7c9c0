"""`cm deploy` up to the `sam` calls it makes (no AWS account here): a fake runner records each command line.

The two-region flow reads HostedZoneId from the edge stack's output, so that stack exists in moto with the
output a real edge deploy leaves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from container_manager.cli import main
from container_manager.errors import CREDENTIALS, FAILURE, OK, USAGE
from container_manager.render import SOURCE_ROOT

ROOT = Path(__file__).resolve().parents[2]
ZONE = "Z07432391BT2QKN8RXK1F"


class FakeSam:
    def __init__(self, exit_codes: list[int] | None = None) -> None:
        self.calls: list[tuple[list[str], Path]] = []
        self.exit_codes = exit_codes or []

    def __call__(self, args: list[str], cwd: Path) -> int:
        self.calls.append((args, cwd))
        return self.exit_codes.pop(0) if self.exit_codes else 0

    def deploys(self) -> list[list[str]]:
        return [args for args, _ in self.calls if args[1] == "deploy"]


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def overrides(args: list[str]) -> dict[str, str]:
    start = args.index("--parameter-overrides") + 1
    end = args.index("--tags")
    return dict(word.split("=", 1) for word in args[start:end])


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_us_east_1_container_is_one_build_and_one_deploy_of_everything(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the Minecraft example (us-east-1)
    sam = FakeSam()
    # When
    code = main(["deploy", str(ROOT / "examples" / "minecraft.yaml"), "-o", str(tmp_path)], runner=sam)
    # Then sam builds the rendered template with the checkout's function code, then deploys one stack
    assert code == OK
    build, deploy = (args for args, _ in sam.calls)
    assert build[1:] == [
        "build",
        "--template-file",
        str(tmp_path / "template.yaml"),
        "--build-dir",
        str(tmp_path / ".aws-sam" / "build"),
        "--base-dir",
        str(SOURCE_ROOT),
    ]
    assert option(deploy, "--template-file") == str(tmp_path / ".aws-sam" / "build" / "template.yaml")
    assert option(deploy, "--stack-name") == "container-manager-minecraft"
    assert option(deploy, "--region") == "us-east-1"
    assert "--no-confirm-changeset" in deploy
    assert deploy[deploy.index("--capabilities") + 1 : deploy.index("--capabilities") + 3] == [
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
    ]
    params = overrides(deploy)
    assert params["DeployPart"] == "all"
    assert params["ContainerId"] == "minecraft"
    assert params["IdleMinutes"] == "7"
    assert params["ActivityThresholdBytesPerSecond"] == "2000"
    assert "HostedZoneId" not in params
    assert deploy[deploy.index("--tags") + 1 :] == ["project=container-manager", "container-id=minecraft"]
    assert all(cwd == tmp_path for _, cwd in sam.calls)
    assert "deployed minecraft.example.com" in capsys.readouterr().out


def test_other_region_deploys_edge_then_container_with_the_edge_zone_id(aws: None, tmp_path: Path) -> None:
    # Given the Valheim example (eu-central-1) and the edge stack the first deploy leaves in us-east-1
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="container-manager-valheim-edge",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"HostedZoneId": {"Value": ZONE}},
            }
        ),
    )
    sam = FakeSam()
    # When
    code = main(
        ["deploy", str(ROOT / "examples" / "valheim.yaml"), "-o", str(tmp_path), "--json"], runner=sam
    )
    # Then edge (us-east-1) goes first, then the container in its region with the edge's zone id
    assert code == OK
    edge, container = sam.deploys()
    assert (option(edge, "--stack-name"), option(edge, "--region")) == (
        "container-manager-valheim-edge",
        "us-east-1",
    )
    assert overrides(edge)["DeployPart"] == "edge"
    assert overrides(edge)["ContainerRegion"] == "eu-central-1"
    assert (option(container, "--stack-name"), option(container, "--region")) == (
        "container-manager-valheim",
        "eu-central-1",
    )
    assert overrides(container)["DeployPart"] == "container"
    assert overrides(container)["HostedZoneId"] == ZONE
    assert option(container, "--config-env") == "container"


def test_missing_edge_output_stops_before_the_container_deploy(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sam = FakeSam()
    code = main(["deploy", str(ROOT / "examples" / "valheim.yaml"), "-o", str(tmp_path)], runner=sam)
    assert code == FAILURE
    assert len(sam.deploys()) == 1  # the edge deploy only
    assert "HostedZoneId" in capsys.readouterr().err


def test_a_failed_sam_build_stops_the_deploy_with_its_exit_code(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sam = FakeSam(exit_codes=[1])
    code = main(["deploy", str(ROOT / "examples" / "minecraft.yaml"), "-o", str(tmp_path)], runner=sam)
    assert code == FAILURE
    assert len(sam.calls) == 1
    assert "sam build failed" in capsys.readouterr().err


def test_an_invalid_config_never_reaches_sam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("Container: {Image: x, Ports: [{TCP: 99999}]}\n")
    sam = FakeSam()
    code = main(["deploy", str(bad), "-o", str(tmp_path / "out")], runner=sam)
    assert code == USAGE
    assert sam.calls == []
    assert "Container.Ports[0].TCP" in capsys.readouterr().err


def test_without_credentials_deploy_says_how_to_configure_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    sam = FakeSam()
    code = main(["deploy", str(ROOT / "examples" / "minecraft.yaml"), "-o", str(tmp_path)], runner=sam)
    assert code == CREDENTIALS
    assert sam.calls == []
    assert "aws configure" in capsys.readouterr().err


def _on(instance_type: str, tmp_path: Path) -> Path:
    """The Minecraft example on another instance type."""
    text = (ROOT / "examples" / "minecraft.yaml").read_text()
    path = tmp_path / "minecraft.yaml"
    path.write_text(text.replace("InstanceType: t4g.medium", f"InstanceType: {instance_type}"))
    return path


def test_deploy_reads_the_instance_type_from_aws_and_passes_its_facts(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a type the offline table does not know (r3.large, previous generation)
    sam = FakeSam()
    code = main(["deploy", str(_on("r3.large", tmp_path)), "-o", str(tmp_path / "out"), "--json"], runner=sam)
    printed = capsys.readouterr()
    # Then DescribeInstanceTypes (moto's) supplied architecture and memory, and sam got them as parameters
    assert code == OK, printed.err
    (deploy,) = sam.deploys()
    given = overrides(deploy)
    assert {k: given[k] for k in ("InstanceType", "InstanceArchitecture", "InstanceMemoryMiB")} == {
        "InstanceType": "r3.large",
        "InstanceArchitecture": "x86_64",
        "InstanceMemoryMiB": "15360",
    }
    assert (given["ReservationMiB"], given["HeapMiB"]) == (str(15360 - 1920), str(15360 - 1920 - 2048))
    facts = json.loads(printed.out)["instance_type"]
    assert facts["source"] == "DescribeInstanceTypes in us-east-1"
    assert "reading its architecture and memory from AWS" in printed.err


def test_deploy_refuses_a_type_aws_describes_as_too_small_before_sam(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given t1.micro: unknown offline (so validation lets it through), 0.6 GiB according to AWS
    sam = FakeSam()
    code = main(["deploy", str(_on("t1.micro", tmp_path)), "-o", str(tmp_path / "out")], runner=sam)
    # Then the deploy stops with a usage error naming the key, before any sam call
    assert code == USAGE
    assert sam.calls == []
    err = capsys.readouterr().err
    assert "Ec2.InstanceType: 't1.micro' has 0.6" in err
    assert "DescribeInstanceTypes in us-east-1" in err


def test_deploy_of_a_type_aws_does_not_know_is_a_usage_error(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sam = FakeSam()
    code = main(["deploy", str(_on("zz9.large", tmp_path)), "-o", str(tmp_path / "out")], runner=sam)
    assert code == USAGE
    assert sam.calls == []
    assert "'zz9.large' is not an instance type AWS offers in us-east-1" in capsys.readouterr().err


@pytest.mark.parametrize("instance_type", ["m5.large", "m6i.xlarge", "c6g.large", "t3.2xlarge"])
def test_types_of_the_issue_validate_and_render_offline(
    instance_type: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no moto at all (a call to AWS would hit the test-wide network guard) - When validated and rendered
    config = _on(instance_type, tmp_path)
    assert main(["validate", str(config)]) == OK
    assert main(["render", str(config), "-o", str(tmp_path / "out"), "--json"]) == OK
    printed = capsys.readouterr()
    # Then both succeed from the offline table, with no note
    assert "note:" not in printed.out
    summary = json.loads(printed.out[printed.out.index("{") :])
    assert summary["instance_type"]["source"] == "the offline table"
    assert summary["deployments"][0]["parameters"]["InstanceType"] == instance_type


def test_a_type_unknown_offline_validates_with_a_note_and_renders_from_aws(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _on("r3.large", tmp_path)
    assert main(["validate", str(config), "--json"]) == OK
    (result,) = json.loads(capsys.readouterr().out)["files"]
    assert result["ok"] is True
    (note,) = result["notes"]
    assert "unknown offline" in note
    assert "cm deploy" in note
    assert main(["validate", str(config)]) == OK
    assert "  note: Ec2.InstanceType: 'r3.large' is unknown offline" in capsys.readouterr().out
    assert main(["render", str(config), "-o", str(tmp_path / "out")]) == OK
    out = capsys.readouterr().out
    assert "instance type r3.large: x86_64, 15360 MiB (DescribeInstanceTypes in us-east-1)" in out
