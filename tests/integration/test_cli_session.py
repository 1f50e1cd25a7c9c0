"""One boto3 Session per `cm` command, its region from the session unless --region says otherwise.

An assume-role or MFA profile resolves credentials (an STS call, or a prompt) once per session; `cm status`
used to build about ten. Given moto and a deployed-like container, when each command runs, then it creates
exactly one session (the offline commands none), and a stray ``boto3.client()`` would count too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from container_manager.cli import main
from container_manager.errors import NOT_FOUND, OK
from support.deployed import CONTAINER_ID, EDGE_REGION, Deployed, create_stack, deploy

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def counting_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[boto3.session.Session]]:
    made: list[boto3.session.Session] = []
    real = boto3.session.Session

    class Counted(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    with monkeypatch.context() as patch:
        patch.setattr(boto3.session, "Session", Counted)
        patch.setattr(boto3, "Session", Counted)
        patch.setattr(boto3, "DEFAULT_SESSION", None)  # so boto3.client() would have to make one
        yield made


@pytest.fixture
def deployed(aws: None) -> Deployed:
    result = deploy(EDGE_REGION)
    create_stack(result.asg_name, EDGE_REGION)
    return result


@pytest.mark.parametrize(
    "command",
    [
        ["status", CONTAINER_ID],
        ["start", CONTAINER_ID],
        ["stop", CONTAINER_ID],
        ["list"],
        ["logs", CONTAINER_ID, "--source", "container"],
        ["delete", CONTAINER_ID, "--yes"],
    ],
    ids=lambda c: c[0],
)
def test_each_aws_command_makes_one_session(
    command: list[str],
    deployed: Deployed,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with counting_sessions(monkeypatch) as made:
        code = main([*command, "--json"])
    assert len(made) == 1, f"cm {command[0]} made {len(made)} boto3 sessions"
    # logs: this container's log groups were never created, so not found - after the one session
    assert code == (NOT_FOUND if command[0] == "logs" else OK), capsys.readouterr()


def test_deploy_makes_one_session(aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a `sam` (its own process, made here) whose edge deploy leaves the stack cm reads HostedZoneId from
    cloudformation = boto3.client("cloudformation", region_name=EDGE_REGION)

    def sam(args: list[str], cwd: Path) -> int:
        if args[1] == "deploy" and "container-manager-valheim-edge" in args:
            cloudformation.create_stack(
                StackName="container-manager-valheim-edge",
                TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"HostedZoneId": {"Value": "Z07432391BT2QKN8RXK1F"}}}',
            )
        return 0

    # When the two-region example deploys, Then cm itself made one session
    with counting_sessions(monkeypatch) as made:
        code = main(["deploy", str(ROOT / "examples" / "valheim.yaml"), "-o", str(tmp_path)], runner=sam)
    assert code == OK
    assert len(made) == 1


@pytest.mark.parametrize("command", [["validate"], ["render", "-o", "OUT"]], ids=["validate", "render"])
def test_offline_commands_make_no_session(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        command[0],
        str(ROOT / "examples" / "minecraft.yaml"),
        *[str(tmp_path) if a == "OUT" else a for a in command[1:]],
    ]
    with counting_sessions(monkeypatch) as made:
        assert main(argv) == OK
    assert made == []


# ---------------------------------------------------------------- the region


@pytest.fixture
def profile_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile whose region is eu-central-1, and no region in the environment."""
    config = tmp_path / "config"
    config.write_text("[profile games]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "games")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")


def _desired(region: str) -> int:
    groups = boto3.client("autoscaling", region_name=region).describe_auto_scaling_groups()
    return int(groups["AutoScalingGroups"][0]["DesiredCapacity"])


def test_the_profiles_region_is_the_default(aws: None, profile_in: None) -> None:
    # Given the container in the profile's region, When `cm start <id>` without --region
    deploy("eu-central-1")
    assert main(["start", CONTAINER_ID]) == OK
    # Then it started there
    assert _desired("eu-central-1") == 1


def test_aws_region_wins_over_the_profile_and_region_wins_over_both(
    aws: None, profile_in: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the container in eu-west-1 and AWS_REGION=eu-west-1 beside the profile's eu-central-1
    deploy("eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    # When --region names another region, Then cm looks there (and finds nothing)
    assert main(["start", CONTAINER_ID, "--region", "us-west-2"]) == NOT_FOUND
    assert "us-west-2" in capsys.readouterr().err
    assert _desired("eu-west-1") == 0
    # When no --region, Then AWS_REGION's region is used
    assert main(["start", CONTAINER_ID]) == OK
    assert _desired("eu-west-1") == 1
