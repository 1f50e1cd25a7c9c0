"""crash-loop-breaker against moto, with the environment template.yaml sets (Given/When/Then)."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.autoscaling.models import autoscaling_backends

from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver
from container_manager.matching.event_pattern import EventPattern
from crash_loop_breaker.decision import judge_task
from crash_loop_breaker.taskevent import parse_task_event
from support.deployed import (
    ACCOUNT,
    ROOT,
    Deployed,
    desired,
    event,
    invoke,
    invoke_without_change,
    log_lines,
    metric_names,
    record_api_calls,
    state,
    template_env,
)
from support.deployed import load_handler as _load

# The cluster ARN the sample events carry; tests swap in the one moto created.
SAMPLE_CLUSTER = "arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft"


@pytest.fixture
def handler(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> ModuleType:
    # capsys first: Powertools' Logger binds sys.stdout when the handler module is imported.
    env = template_env("CrashLoopBreakerFunction", deployed, function_region=deployed.region)
    return _load("crash_loop_breaker", env, monkeypatch)


def task_event(name: str, deployed: Deployed) -> dict[str, Any]:
    """A sample from events/crash-loop-breaker/, its cluster ARN moved onto moto's cluster.

    A sibling cluster whose name starts with ours keeps its suffix, so it stays a lookalike of moto's ARN.
    """
    raw = copy.deepcopy(event(f"crash-loop-breaker/{name}.json"))
    cluster = raw["detail"]["clusterArn"]
    if cluster.startswith(SAMPLE_CLUSTER):
        raw["detail"]["clusterArn"] = deployed.cluster_arn + cluster.removeprefix(SAMPLE_CLUSTER)
    return raw


def server_running(deployed: Deployed, lifecycle_state: str = "InService") -> None:
    """Put the group where a knock leaves it: desired 1, one instance in ``lifecycle_state``."""
    boto3.client("autoscaling", region_name=deployed.region).set_desired_capacity(
        AutoScalingGroupName=deployed.asg_name, DesiredCapacity=1
    )
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.instance_states[0].lifecycle_state = lifecycle_state


def logged(capsys: pytest.CaptureFixture[str], action: str) -> dict[str, Any]:
    lines = [line for line in log_lines(capsys.readouterr().out) if line.get("action") == action]
    assert len(lines) == 1, f"expected one {action!r} log line, got {lines}"
    return lines[0]


# ------------------------------------------------------------------------------------------ crashes stop the server
def test_crash_during_start_stops_the_pending_instance(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a knock started the server and its instance is still Pending
    server_running(deployed, "Pending")
    payload = task_event("task_failed_to_start", deployed)
    # When the task fails to start (image pull refused)
    with record_api_calls() as calls:
        result = invoke(handler, payload)
    # Then the group is set to 0, by exactly one mutation
    assert result["action"] == "stopped"
    assert desired(deployed) == 0
    assert calls.mutations == [("autoscaling", "SetDesiredCapacity")]
    # And the log explains the crash: stop code, reason, container, task and startup timeline
    line = logged(capsys, "stopped")
    assert line["level"] == "INFO"
    assert line["correlation_id"] == payload["id"]
    assert line["stop_code"] == "TaskFailedToStart"
    assert line["stopped_reason"].startswith("CannotPullContainerError")
    assert line["containers"][0]["name"] == "minecraft"
    assert line["task_arn"] == payload["detail"]["taskArn"]
    assert line["timeline"] == {
        key: payload["detail"][key]
        for key in ("createdAt", "pullStartedAt", "pullStoppedAt", "stoppingAt", "stoppedAt")
    }
    assert "Pending" in line["reason"]


def test_crash_while_running_stops_the_server(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server is up (InService)
    server_running(deployed)
    # When its essential container exits 1
    result = invoke(handler, task_event("essential_container_exited_nonzero", deployed))
    # Then the group is set to 0, and the exit code and start time are in the log and the metrics
    assert result["action"] == "stopped"
    assert desired(deployed) == 0
    out = capsys.readouterr().out
    line = next(line for line in log_lines(out) if line.get("action") == "stopped")
    assert line["containers"] == [{"name": "minecraft", "exit_code": 1, "reason": None}]
    assert line["timeline"]["startedAt"] == "2026-03-14T19:12:59.771Z"
    assert metric_names(out) == {"TaskCrashes": 1, "OutcomeStopped": 1}


def test_out_of_memory_kill_is_a_crash(deployed: Deployed, handler: ModuleType) -> None:
    server_running(deployed)
    result = invoke(handler, task_event("essential_container_exited_oom", deployed))
    assert result["action"] == "stopped"
    assert result["containers"][0]["reason"].startswith("OutOfMemoryError")
    assert desired(deployed) == 0


def test_second_crash_event_changes_nothing(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a first crash event stopped the server (moto terminates its instance at once)
    server_running(deployed)
    payload = task_event("essential_container_exited_nonzero", deployed)
    invoke(handler, payload)
    assert desired(deployed) == 0
    capsys.readouterr()
    before = state(deployed)
    # When the same event is delivered again (EventBridge or Lambda retry)
    with record_api_calls() as calls:
        result = invoke(handler, payload)
    # Then only reads happen, and the log says why
    assert result["action"] == "no_change"
    assert calls.mutations == []
    assert calls.operations() == ["DescribeAutoScalingGroups"]
    assert state(deployed) == before
    assert "already stopped or stopping" in logged(capsys, "no_change")["message"]


# ------------------------------------------------------------------------------------------ normal stops: no action
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("essential_container_exited_zero", "exited cleanly"),
        ("service_scale_in", "ServiceSchedulerInitiated"),
        ("user_initiated_stop", "UserInitiated"),
        ("task_running", "task is RUNNING"),
        ("spot_interruption", "task is RUNNING"),
        ("other_cluster", "another cluster"),
    ],
)
def test_normal_stops_and_foreign_tasks_change_nothing(
    name: str, words: str, deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server is running
    server_running(deployed)
    before = state(deployed)
    # When a task event that is not our crash arrives
    with record_api_calls() as calls:
        result = invoke(handler, task_event(name, deployed))
    # Then no AWS API is called at all, and the log says why
    assert result["action"] == "ignored"
    assert calls.calls == []
    assert state(deployed) == before
    assert desired(deployed) == 1
    line = logged(capsys, "ignored")
    assert words in line["message"]
    assert line["level"] == "INFO"


# ------------------------------------------------------------------------------------------ bad input: zero mutations
def _crash(**detail_changes: Any) -> dict[str, Any]:
    """The crash sample (it would stop the server) with some of its detail broken."""
    raw = copy.deepcopy(event("crash-loop-breaker/essential_container_exited_nonzero.json"))
    raw["detail"].update(detail_changes)
    return raw


def _without(key: str) -> dict[str, Any]:
    raw = _crash()
    del raw[key]
    return raw


def _container(**changes: Any) -> dict[str, Any]:
    raw = _crash()
    raw["detail"]["containers"][0].update(changes)
    return raw


HOSTILE: dict[str, tuple[Any, str]] = {
    "event is a list": ([_crash()], "event is a list"),
    "event is a string": ("STOPPED", "event is a str"),
    "event is null": (None, "event is a NoneType"),
    "wrong source": ({**_crash(), "source": "custom.attacker"}, "source 'custom.attacker' is not 'aws.ecs'"),
    "wrong detail-type": (
        {**_crash(), "detail-type": "ECS Container Instance State Change"},
        "detail-type 'ECS Container Instance State Change' is not handled (expected one of ['ECS Task State Change'])",
    ),
    "no detail": (_without("detail"), "detail is None, expected an object"),
    "detail is a list": ({**_crash(), "detail": [_crash()["detail"]]}, "detail is [{'attributes'"),
    "clusterArn missing": (_crash(clusterArn=None), "detail.clusterArn is missing"),
    "lastStatus a number": (_crash(lastStatus=4), "detail.lastStatus is int 4"),
    "stopCode a list": (_crash(stopCode=["TaskFailedToStart"]), "detail.stopCode is list"),
    "containers not a list": (
        _crash(containers={"exitCode": 1}),
        "detail.containers is dict, expected a list",
    ),
    "container not an object": (_crash(containers=[1]), "detail.containers[0] is int"),
    "exitCode a string": (_container(exitCode="1"), "detail.containers[0].exitCode is str '1'"),
    "exitCode a boolean": (_container(exitCode=True), "exitCode is bool True"),
    "container name missing": (_container(name=None), "detail.containers[0].name is missing"),
    "timestamp a number": (_crash(startedAt=1773515579), "detail.startedAt is int"),
    "huge containers list": (
        _crash(containers=[{"name": f"c{i}", "exitCode": 1} for i in range(5000)]),
        "detail.containers has 5000 entries",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_bad_input_is_explained_and_changes_nothing(
    case: str, deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    payload, expected_words = HOSTILE[case]
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, dict) and detail.get("clusterArn") == SAMPLE_CLUSTER:
        payload = copy.deepcopy(payload)
        payload["detail"]["clusterArn"] = deployed.cluster_arn  # so only the defect stands in the way
    # Given a running server, which a crash event would stop
    server_running(deployed)
    # When a malformed or hostile event arrives - Then no AWS API is touched, and nothing changed
    result, calls = invoke_without_change(handler, payload, deployed)
    assert calls.calls == []
    assert desired(deployed) == 1
    # And it is rejected with a reason that says what is wrong, logged as an error and counted
    assert result["action"] == "rejected"
    assert expected_words in result["reason"]
    out = capsys.readouterr().out
    errors = [line for line in log_lines(out) if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert expected_words in errors[0]["message"]
    assert metric_names(out) == {"OutcomeRejected": 1}


def test_rejected_event_keeps_its_id_for_tracing(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = _container(exitCode="1")
    invoke(handler, payload)
    assert logged(capsys, "rejected")["correlation_id"] == payload["id"]


# ------------------------------------------------------------------------------------------ failures and configuration
def test_missing_group_is_an_error_not_a_crash(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the group was deleted behind the stack's back
    boto3.client("autoscaling", region_name=deployed.region).delete_auto_scaling_group(
        AutoScalingGroupName=deployed.asg_name, ForceDelete=True
    )
    # When a crash event arrives - Then it is reported as a problem, nothing is scaled, and no retry is caused
    with record_api_calls() as calls:
        result = invoke(handler, task_event("task_failed_to_start", deployed))
    assert result["action"] == "rejected"
    assert "not found in eu-west-1" in result["reason"]
    assert calls.mutations == []
    assert logged(capsys, "rejected")["level"] == "ERROR"


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_aws_errors_propagate_so_the_event_is_retried(
    deployed: Deployed, handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Auto Scaling throttles the stop call
    server_running(deployed)

    def throttled(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "SetDesiredCapacity")

    monkeypatch.setattr(handler.GROUPS._clients.autoscaling, "set_desired_capacity", throttled)
    # When a crash event arrives - Then the error escapes, so Lambda retries and the DLQ keeps it
    with pytest.raises(ClientError, match="Throttling"):
        invoke(handler, task_event("essential_container_exited_nonzero", deployed))
    assert desired(deployed) == 1


def test_cold_start_fails_naming_every_bad_variable(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cm_common.config import ConfigError

    env = template_env("CrashLoopBreakerFunction", deployed, function_region=deployed.region)
    env["CLUSTER_ARN"] = "container-manager-minecraft"
    monkeypatch.delenv("ASG_NAME", raising=False)
    del env["ASG_NAME"]
    with pytest.raises(ConfigError) as error:
        _load("crash_loop_breaker", env, monkeypatch)
    assert "CLUSTER_ARN='container-manager-minecraft' is invalid" in str(error.value)
    assert "ASG_NAME is missing" in str(error.value)


def test_template_gives_the_function_our_cluster_and_group(deployed: Deployed) -> None:
    env = template_env("CrashLoopBreakerFunction", deployed, function_region=deployed.region)
    assert env["CLUSTER_ARN"] == deployed.cluster_arn
    assert env["ASG_NAME"] == deployed.asg_name
    assert env["POWERTOOLS_SERVICE_NAME"] == "crash-loop-breaker"


# ------------------------------------------------------------------------------------------ the rule and the handler agree
CRASHES = {"task_failed_to_start", "essential_container_exited_nonzero", "essential_container_exited_oom"}
SAMPLES = sorted(p.stem for p in (ROOT / "events" / "crash-loop-breaker").glob("*.json"))


def test_template_rule_routes_exactly_the_crashes(deployed: Deployed) -> None:
    # Given the TaskCrashed rule pattern as the template resolves it for this deployment
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(
        template,
        refs={"AWS::Region": deployed.region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"},
        attributes=deployed.attributes(),
    )
    rule = template["Resources"]["CrashLoopBreakerFunction"]["Properties"]["Events"]["TaskCrashed"]
    pattern = EventPattern(resolver.resolve(rule["Properties"]["Pattern"]))
    # When each sample is offered to the rule and to the handler's judgement
    routed = {name for name in SAMPLES if pattern.matches(task_event(name, deployed))}
    judged = {
        name
        for name in SAMPLES
        if judge_task(parse_task_event(task_event(name, deployed)), deployed.cluster_arn).crash
    }
    # Then exactly the crashes reach the function, and the function agrees with the rule on every sample
    assert routed == CRASHES
    assert judged == routed
