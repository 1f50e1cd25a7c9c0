"""`cm status/start/stop/list/logs/delete` against moto, on the state a real deploy leaves.

tests/support/deployed.py builds the group, sub-zone, record and cluster under the template's names; these
tests add what a deploy also leaves (the stack, alarms, log groups, a tagged EFS file system) where a command
reads it, run `cm` in-process and assert on its JSON output, exit code and the resulting AWS state.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from container_manager import names
from container_manager import operations as ops
from container_manager.aws import Aws
from container_manager.cli import main
from container_manager.errors import ABORTED, NOT_FOUND, OK, USAGE
from support.deployed import (
    CONTAINER_ID,
    EDGE_REGION,
    PLACEHOLDER,
    SERVER_NAME,
    STUB_TEMPLATE,
    Deployed,
    a_record,
    create_stack,
    deploy,
    point_record,
)


@pytest.fixture
def deployed(aws: None) -> Deployed:
    return deploy()


def cm(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    output = capsys.readouterr().out
    return code, json.loads(output) if output.strip() else None


def desired(deployed: Deployed) -> int:
    group = boto3.client("autoscaling", region_name=deployed.region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[deployed.asg_name]
    )["AutoScalingGroups"][0]
    return int(group["DesiredCapacity"])


# ---------------------------------------------------------------- status


def test_status_of_a_stopped_server_shows_zero_capacity_and_the_placeholder(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployed, stopped container with its stack
    create_stack(deployed.asg_name, EDGE_REGION)
    # When
    code, data = cm(capsys, "status", CONTAINER_ID, "--region", EDGE_REGION)
    # Then
    assert code == OK
    assert data["desired"] == 0
    assert data["running"] == 0
    assert data["instances"] == []
    assert data["dns"]["record"] == SERVER_NAME
    assert data["dns"]["value"] == PLACEHOLDER
    assert data["dns"]["placeholder"] is True
    assert data["stack"]["status"] == "CREATE_COMPLETE"
    assert data["task"] is None
    assert set(data["alarms"]) == {"idle", "left-up", "crash-loop"}


def test_status_after_start_shows_the_instance_and_the_alarm_states(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running server and the watchdog's idle alarm, which fired once (the last stop's reason)
    cloudwatch = boto3.client("cloudwatch", region_name=EDGE_REGION)
    cloudwatch.put_metric_alarm(
        AlarmName=f"{deployed.asg_name}-idle",
        MetricName="NetworkIn",
        Namespace="AWS/EC2",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=7,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
    )
    cloudwatch.set_alarm_state(
        AlarmName=f"{deployed.asg_name}-idle",
        StateValue="ALARM",
        StateReason="Threshold Crossed: idle for 7 minutes",
    )
    assert main(["start", CONTAINER_ID, "--region", EDGE_REGION]) == OK
    capsys.readouterr()
    # When
    code, data = cm(capsys, "status", CONTAINER_ID, "--region", EDGE_REGION)
    # Then
    assert code == OK
    assert data["desired"] == 1
    assert len(data["instances"]) == 1
    assert data["instances"][0]["id"].startswith("i-")
    assert data["alarms"]["idle"]["state"] == "ALARM"
    assert data["alarms"]["crash-loop"] is None  # not created here: reported as absent, not invented
    assert data["last_alarm"]["alarm"] == "idle", "why it stopped last time"
    assert "idle for 7 minutes" in data["last_alarm"]["reason"]


def test_status_of_an_unknown_container_exits_not_found_with_a_next_step(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = cm(capsys, "status", "valheim", "--region", EDGE_REGION)
    assert code == NOT_FOUND
    assert "valheim" in data["error"]
    assert "cm list" in data["next"]


def test_status_in_the_wrong_region_says_so(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = cm(capsys, "status", CONTAINER_ID, "--region", "eu-west-1")
    assert code == NOT_FOUND
    assert "eu-west-1" in data["error"]
    assert "--region" in data["next"]


def test_status_accepts_the_config_file_instead_of_the_id(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    # Given the container's config file (its name gives the id, its Region the region)
    config = tmp_path / f"{CONTAINER_ID}.yaml"
    config.write_text(
        "Domain: {Name: example.com, ParentHostedZoneId: Z0000000000EXAMPLE0000}\n"
        "Container: {Image: itzg/minecraft-server, Ports: [{TCP: 25565}]}\n"
        "Volumes: {data: {Paths: [{Path: /data}]}}\n"
        "Watchdog: {Threshold: 2000}\n"
    )
    code, data = cm(capsys, "status", str(config))
    assert code == OK
    assert data["id"] == CONTAINER_ID
    assert data["region"] == EDGE_REGION


# ---------------------------------------------------------------- start / stop


def test_start_sets_desired_one_and_knocks_so_the_idle_alarm_can_stop_it_later(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = cm(capsys, "start", CONTAINER_ID, "--region", EDGE_REGION)
    assert code == OK
    assert data["desired_before"] == 0
    assert data["desired"] == 1
    assert desired(deployed) == 1
    metrics = boto3.client("cloudwatch", region_name=EDGE_REGION).list_metrics(
        Namespace=names.KNOCK_NAMESPACE, MetricName=names.KNOCK_METRIC
    )["Metrics"]
    assert metrics[0]["Dimensions"] == [{"Name": "ContainerId", "Value": CONTAINER_ID}]


def test_stop_sets_desired_zero(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    main(["start", CONTAINER_ID, "--region", EDGE_REGION])
    capsys.readouterr()
    code, data = cm(capsys, "stop", CONTAINER_ID, "--region", EDGE_REGION)
    assert code == OK
    assert data["desired_before"] == 1
    assert desired(deployed) == 0


def test_start_in_the_container_region_of_a_two_region_deploy(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(region="eu-central-1")
    code, _ = cm(capsys, "start", CONTAINER_ID, "--region", "eu-central-1")
    assert code == OK
    assert desired(deployed) == 1


def test_start_of_an_unknown_container_changes_nothing(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = cm(capsys, "start", "palworld", "--region", EDGE_REGION)
    assert code == NOT_FOUND
    assert desired(deployed) == 0


# ---------------------------------------------------------------- list


def test_list_shows_each_containers_stacks_and_skips_others(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an all-in-one container, a two-region container and unrelated stacks
    create_stack("container-manager-minecraft", EDGE_REGION)
    create_stack("container-manager-valheim-edge", EDGE_REGION, part="edge", container_id="valheim")
    create_stack("container-manager-valheim", "eu-central-1", part="container", container_id="valheim")
    create_stack("container-manager-account", EDGE_REGION)
    boto3.client("cloudformation", region_name=EDGE_REGION).create_stack(
        StackName="someone-else", TemplateBody=STUB_TEMPLATE
    )
    # When
    code, data = cm(capsys, "list", "--region", EDGE_REGION, "--region", "eu-central-1")
    # Then
    assert code == OK
    assert [(c["id"], c["part"], c["region"]) for c in data["containers"]] == [
        ("minecraft", "all", EDGE_REGION),
        ("valheim", "container", "eu-central-1"),
        ("valheim", "edge", EDGE_REGION),
    ]


def test_list_with_nothing_deployed_is_empty_not_an_error(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = cm(capsys, "list", "--region", EDGE_REGION)
    assert code == OK
    assert data["containers"] == []


# ---------------------------------------------------------------- logs


def test_logs_merge_container_and_function_groups_in_time_order(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = boto3.client("logs", region_name=EDGE_REGION)
    now = int(__import__("time").time() * 1000)
    for source, offset, message in (
        ("container", 2, "Done (3.2s)! For help, type help"),
        ("start-system", 0, "starting: query for minecraft.example.com"),
        ("instance-state-change", 1, "record -> 3.120.1.1"),
    ):
        name = names.log_group(CONTAINER_ID, source)
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")
        logs.put_log_events(
            logGroupName=name,
            logStreamName="s",
            logEvents=[{"timestamp": now - 60_000 + offset, "message": message}],
        )
    code = main(["logs", CONTAINER_ID, "--region", EDGE_REGION, "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == OK
    assert [line["group"] for line in lines] == ["start-system", "instance-state-change", "container"]


def test_logs_of_an_unknown_container_exit_not_found(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = cm(capsys, "logs", "nothing", "--region", EDGE_REGION)
    assert code == NOT_FOUND
    assert "--region" in data["next"]


# ---------------------------------------------------------------- delete


def _file_system(region: str) -> str:
    efs = boto3.client("efs", region_name=region)
    return efs.create_file_system(
        CreationToken="data",
        Tags=[{"Key": "container-manager:container-id", "Value": CONTAINER_ID}],
    )["FileSystemId"]


def _running_with_ip(deployed: Deployed) -> None:
    main(["start", CONTAINER_ID, "--region", deployed.region])
    point_record(deployed.zone_id, "3.120.1.1")


def test_delete_stops_resets_dns_deletes_the_stack_and_keeps_the_data(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running server whose record points at its instance, and its world on EFS
    create_stack(deployed.asg_name, EDGE_REGION)
    _running_with_ip(deployed)
    fs = _file_system(EDGE_REGION)
    capsys.readouterr()
    # When
    code, data = cm(capsys, "delete", CONTAINER_ID, "--region", EDGE_REGION, "--yes")
    # Then
    assert code == OK
    assert data["stopped"] is True
    assert desired(deployed) == 0
    assert a_record(deployed) == (PLACEHOLDER, 30), (
        "the record is back at the placeholder before the stack goes"
    )
    assert data["deleted_stacks"] == [{"stack": deployed.asg_name, "region": EDGE_REGION}]
    assert ops.stack(Aws(boto3.session.Session()), deployed.asg_name, EDGE_REGION) is None
    assert data["kept_file_systems"] == [fs]
    assert boto3.client("efs", region_name=EDGE_REGION).describe_file_systems()["FileSystems"]


def test_delete_with_delete_data_removes_the_file_systems(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stack(deployed.asg_name, EDGE_REGION)
    fs = _file_system(EDGE_REGION)
    code, data = cm(capsys, "delete", CONTAINER_ID, "--region", EDGE_REGION, "--yes", "--delete-data")
    assert code == OK
    assert data["deleted_file_systems"] == [fs]
    assert boto3.client("efs", region_name=EDGE_REGION).describe_file_systems()["FileSystems"] == []


def test_delete_of_a_two_region_container_deletes_container_then_edge(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(region="eu-central-1")
    create_stack("container-manager-minecraft", "eu-central-1", part="container")
    create_stack("container-manager-minecraft-edge", EDGE_REGION, part="edge")
    code, data = cm(capsys, "delete", CONTAINER_ID, "--region", "eu-central-1", "--yes")
    assert code == OK
    assert [s["region"] for s in data["deleted_stacks"]] == ["eu-central-1", EDGE_REGION]
    assert desired(deployed) == 0


def test_delete_without_yes_and_without_a_terminal_refuses_and_changes_nothing(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    create_stack(deployed.asg_name, EDGE_REGION)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, data = cm(capsys, "delete", CONTAINER_ID, "--region", EDGE_REGION)
    assert code == USAGE
    assert "--yes" in data["next"]
    assert ops.stack(Aws(boto3.session.Session()), deployed.asg_name, EDGE_REGION) is not None


def test_delete_declined_at_the_prompt_changes_nothing(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    create_stack(deployed.asg_name, EDGE_REGION)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "no")
    code = main(["delete", CONTAINER_ID, "--region", EDGE_REGION])
    assert code == ABORTED
    assert ops.stack(Aws(boto3.session.Session()), deployed.asg_name, EDGE_REGION) is not None


def test_delete_of_an_unknown_container_exits_not_found(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = cm(capsys, "delete", "ghost", "--region", EDGE_REGION, "--yes")
    assert code == NOT_FOUND
    assert "cm list" in data["next"]
