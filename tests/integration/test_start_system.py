"""start-system against moto, with the environment template.yaml sets (Given/When/Then)."""

from __future__ import annotations

import base64
import gzip
import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.autoscaling.models import autoscaling_backends

from container_manager.awslogs import decode, encode
from support.deployed import (
    ACCOUNT,
    CONTAINER_REGION,
    EDGE_REGION,
    SERVER_NAME,
    Deployed,
    deploy,
    desired,
    event,
    invoke,
    invoke_without_change,
    log_lines,
    metric_names,
    record_api_calls,
    start_request,
    state,
    template_env,
)
from support.deployed import load_handler as _load


@pytest.fixture
def handler(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> ModuleType:
    # capsys first: Powertools' Logger binds sys.stdout when the handler module is imported.
    env = template_env("StartSystemFunction", deployed, function_region=EDGE_REGION)
    return _load("start_system", env, monkeypatch)


def knock_datapoints(region: str) -> float:
    stats = boto3.client("cloudwatch", region_name=region).get_metric_statistics(
        Namespace="ContainerManager",
        MetricName="DnsQueries",
        Dimensions=[{"Name": "ContainerId", "Value": "minecraft"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(d["Sum"] for d in stats)


# ------------------------------------------------------------------------------------------ the happy path
def test_player_query_starts_server_in_container_region(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server is stopped (desired 0) in eu-west-1
    assert desired(deployed) == 0
    # When a player's resolver asks for minecraft.example.com A (twice, one batch)
    result = invoke(handler, event("start-system/player_query_a.json"))
    # Then the group in the container's region wants one instance
    assert result["action"] == "started"
    assert desired(deployed) == 1
    # And the knock datapoint landed in the container's region, where the idle alarm reads it
    assert knock_datapoints(CONTAINER_REGION) == 2
    assert knock_datapoints(EDGE_REGION) == 0
    # And the log names the resolver and EDNS subnet that caused the start
    started = [line for line in log_lines(capsys.readouterr().out) if line.get("action") == "started"]
    assert started[0]["resolver_ip"] == "172.253.11.9"
    assert started[0]["edns_client_subnet"] == "203.0.113.0/24"
    assert started[0]["correlation_id"] == "37915522871040339876151226063624466716219497371287552000"


def test_mixed_batch_starts_once_and_counts_the_rest(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a batch with one A query for the server among AAAA, TXT and other names
    # When it is delivered
    result = invoke(handler, event("start-system/player_query_mixed_batch.json"))
    # Then the server starts once, and every other line is counted with a reason
    assert result["action"] == "started"
    assert result["matched_queries"] == 1
    out = capsys.readouterr().out
    reasons = {line["ignore_reason"]: line["count"] for line in log_lines(out) if "ignore_reason" in line}
    assert reasons == {"other_type": 2, "other_name": 1}
    assert metric_names(out)["QueriesIgnored"] == 3


def test_name_matches_case_insensitively_with_trailing_dot(deployed: Deployed, handler: ModuleType) -> None:
    # Given a resolver that randomises case (DNS 0x20) and sends the root's trailing dot
    # When its query is logged
    result = invoke(handler, event("start-system/player_query_mixed_case_trailing_dot.json"))
    # Then it still starts the server
    assert result["action"] == "started"
    assert desired(deployed) == 1


def test_aaaa_query_does_not_start_with_default_types(deployed: Deployed, handler: ModuleType) -> None:
    # Given the default start types (A only) - When only an AAAA query arrives
    with record_api_calls() as calls:
        result = invoke(handler, event("start-system/ipv6_only_query.json"))
    # Then nothing is called at all
    assert result["action"] == "ignored"
    assert calls.calls == []
    assert desired(deployed) == 0


def test_aaaa_query_starts_when_template_enables_ipv6(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack was deployed with StartOnIpv6Queries=true
    env = template_env(
        "StartSystemFunction",
        deployed,
        function_region=EDGE_REGION,
        parameters={"StartOnIpv6Queries": "true"},
    )
    handler = _load("start_system", env, monkeypatch)
    # When an AAAA query arrives - Then the server starts
    assert invoke(handler, event("start-system/ipv6_only_query.json"))["action"] == "started"
    assert desired(deployed) == 1


# ------------------------------------------------------------------------------------------ idempotency and races
def test_duplicate_start_changes_nothing_harmful(deployed: Deployed, handler: ModuleType) -> None:
    # Given a first knock started the server
    invoke(handler, event("start-system/player_query_a.json"))
    instances_before = state(deployed)["instances"]
    # When a second knock arrives while it is starting
    with record_api_calls() as calls:
        result = invoke(handler, event("start-system/player_query_a.json"))
    # Then the group is left alone (only the knock metric is written)
    assert result["action"] == "no_change"
    assert "already starting or running" in result["reason"]
    assert calls.mutations == [("cloudwatch", "PutMetricData")]
    assert desired(deployed) == 1
    assert state(deployed)["instances"] == instances_before


def _draining(deployed: Deployed, handler: ModuleType) -> str:
    """Given: the server ran and the idle alarm just scaled it to 0; its instance is still draining."""
    invoke(handler, event("start-system/player_query_a.json"))
    group = autoscaling_backends[ACCOUNT][CONTAINER_REGION].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    group.instance_states[0].lifecycle_state = "Terminating:Wait"
    return str(group.instance_states[0].instance.id)


def test_knock_during_drain_is_deferred_never_a_second_instance(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _draining(deployed, handler)
    # When a player knocks during the drain
    with record_api_calls() as calls:
        result = invoke(handler, event("start-system/player_query_a.json"))
    # Then no second instance is asked for: desired stays 0 and the group holds only the draining one
    assert result["action"] == "deferred"
    assert "SetDesiredCapacity" not in calls.operations()
    assert desired(deployed) == 0
    assert state(deployed)["instances"] == [old]
    # And the knock is recorded on the group, in the container's region, with Route 53's time of the query,
    # naming the instance it waits for (not propagated to instances)
    assert start_request(deployed) == f"2026-11-20T19:42:07Z {old}"
    tag = boto3.client("autoscaling", region_name=CONTAINER_REGION).describe_tags()["Tags"][0]
    assert tag["PropagateAtLaunch"] is False
    assert calls.mutations == [
        ("cloudwatch", "PutMetricData"),
        ("autoscaling", "CreateOrUpdateTags"),
    ]
    # And the log and the metric say so, naming the draining instance
    out = capsys.readouterr().out
    deferred = [line for line in log_lines(out) if line.get("action") == "deferred"]
    assert f"{old}:Terminating:Wait is draining" in deferred[0]["message"]
    assert metric_names(out)["OutcomeDeferred"] == 1


def test_a_second_knock_during_the_drain_refreshes_the_request(
    deployed: Deployed, handler: ModuleType
) -> None:
    old = _draining(deployed, handler)
    invoke(handler, event("start-system/player_query_a.json"))
    # When the player's client asks again a minute later
    later = decode(event("start-system/player_query_a.json"))
    for line in later["logEvents"]:
        line["message"] = line["message"].replace("2026-11-20T19:42:07", "2026-11-20T19:43:09")
    assert invoke(handler, encode(later))["action"] == "deferred"
    # Then the request carries the latest knock: the drain's end honours a player still at the door
    assert start_request(deployed) == f"2026-11-20T19:43:09Z {old}"
    assert desired(deployed) == 0


def test_drain_that_ends_while_the_knock_is_recorded_starts_here(
    deployed: Deployed, handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the old instance drains when start-system reads the group, but is gone by the time the knock is
    # recorded (its "Terminate Successful" already found no request)
    old = _draining(deployed, handler)
    group = autoscaling_backends[ACCOUNT][CONTAINER_REGION].autoscaling_groups[deployed.asg_name]
    tag_group = handler.GROUPS.tag_group

    def drain_ends_meanwhile(*args: Any) -> None:
        tag_group(*args)
        group.instance_states = []

    monkeypatch.setattr(handler.GROUPS, "tag_group", drain_ends_meanwhile)
    # When the knock is handled - Then it looks again and starts the server itself: the knock is not lost
    result = invoke(handler, event("start-system/player_query_a.json"))
    assert result["action"] == "started"
    assert "the drain ended meanwhile" in result["reason"]
    assert desired(deployed) == 1
    assert old not in state(deployed)["instances"]


def test_start_in_single_region_flow(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given everything deployed in us-east-1 (DeployPart=all)
    deployed = deploy(EDGE_REGION)
    env = template_env("StartSystemFunction", deployed, function_region=EDGE_REGION)
    assert env["CONTAINER_REGION"] == EDGE_REGION
    handler = _load("start_system", env, monkeypatch)
    # When a player knocks - Then the server starts
    assert invoke(handler, event("start-system/player_query_a.json"))["action"] == "started"
    assert desired(deployed) == 1


# ------------------------------------------------------------------------------------------ bad input: zero mutations
def _raw(data: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


def _batch(**changes: Any) -> dict[str, Any]:
    decoded = decode(event("start-system/player_query_a.json"))
    decoded.update(changes)
    return encode(decoded)


def _gzip_json(value: Any) -> dict[str, Any]:
    return _raw(gzip.compress(json.dumps(value).encode()))


HOSTILE: dict[str, tuple[Any, str]] = {
    "control message": (event("start-system/control_message.json"), "CONTROL_MESSAGE"),
    "truncated gzip": (event("start-system/malformed_truncated_gzip.json"), "gzip"),
    "invalid base64": (event("start-system/malformed_invalid_base64.json"), "base64"),
    "not gzip": (event("start-system/malformed_not_gzip.json"), "gzip"),
    "no awslogs key": ({"Records": []}, "awslogs.data is missing"),
    "awslogs not an object": ({"awslogs": "x"}, "awslogs.data is missing"),
    "event is a list": ([1, 2, 3], "awslogs.data is missing"),
    "gzip of non-JSON": (_raw(gzip.compress(b"\xff\xfe not json")), "JSON"),
    "JSON array payload": (_gzip_json([{"message": "x"}]), "expected an object"),
    "unknown messageType": (_batch(messageType="DATA"), "unknown messageType"),
    "logEvents not a list": (_batch(logEvents={"message": "x"}), "no logEvents list"),
    "other log group": (event("start-system/query_from_other_log_group.json"), "is not"),
    "lookalike names only": (event("start-system/bot_lookalike_names.json"), "no query"),
    "malformed lines only": (event("start-system/malformed_query_lines.json"), "no query"),
    "gzip bomb": (_raw(gzip.compress(b" " * (9 * 1024 * 1024))), "more than"),
    "huge batch of other names": (
        _batch(
            logEvents=[
                {
                    "id": str(i),
                    "timestamp": 0,
                    "message": f"1.0 t Z1 bot{i}.example.com A NOERROR UDP FRA6 1.2.3.4 -",
                }
                for i in range(20_000)
            ]
        ),
        "no query",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_bad_input_is_explained_and_changes_nothing(
    case: str, deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    payload, expected_words = HOSTILE[case]
    # Given the stopped server - When a malformed or foreign delivery arrives
    # Then no AWS API mutates anything, and nothing changed
    result, _ = invoke_without_change(handler, payload, deployed)
    # And it is rejected or ignored with a reason that says why
    assert result["action"] in {"rejected", "ignored"}
    assert expected_words in result["reason"]
    logged = log_lines(capsys.readouterr().out)
    assert any(expected_words in line["message"] for line in logged)


def test_missing_group_is_an_error_not_a_crash(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the container stack was deleted but the edge stack still runs
    deployed = deploy(CONTAINER_REGION)
    boto3.client("autoscaling", region_name=CONTAINER_REGION).delete_auto_scaling_group(
        AutoScalingGroupName=deployed.asg_name, ForceDelete=True
    )
    handler = _load(
        "start_system",
        template_env("StartSystemFunction", deployed, function_region=EDGE_REGION),
        monkeypatch,
    )
    # When a player knocks - Then the outcome says the group is missing, and nothing is scaled
    with record_api_calls() as calls:
        result = invoke(handler, event("start-system/player_query_a.json"))
    assert result["action"] == "rejected"
    assert "not found in eu-west-1" in result["reason"]
    assert "SetDesiredCapacity" not in calls.operations()


# ------------------------------------------------------------------------------------------ configuration
def test_cold_start_fails_naming_every_bad_variable(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the template's environment with two broken values and one missing
    env = template_env("StartSystemFunction", deployed, function_region=EDGE_REGION)
    env.update({"SERVER_NAME": "not a name", "START_QUERY_TYPES": "A BOGUS"})
    monkeypatch.delenv("ASG_NAME", raising=False)
    del env["ASG_NAME"]
    # When the function cold-starts - Then import fails with one message naming all three
    from cm_common.config import ConfigError

    with pytest.raises(ConfigError) as error:
        _load("start_system", env, monkeypatch)
    message = str(error.value)
    assert "SERVER_NAME='not a name'" in message
    assert "START_QUERY_TYPES='A BOGUS'" in message
    assert "ASG_NAME is missing" in message


def test_server_name_comes_from_template(deployed: Deployed) -> None:
    env = template_env("StartSystemFunction", deployed, function_region=EDGE_REGION)
    assert env["SERVER_NAME"] == SERVER_NAME
    assert env["QUERY_LOG_GROUP"] == deployed.query_log_group
