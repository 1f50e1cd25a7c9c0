"""instance-state-change against moto, with the environment template.yaml sets (Given/When/Then).

The container lives in eu-west-1 (DeployPart=container, the function beside its group); the hosted zone is
Route 53's, which is global. Instances come from the real group via SetDesiredCapacity; lifecycle states moto
cannot reach on its own (Pending:Wait, Terminating:Wait) are set on moto's backend in the Given steps.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.autoscaling.models import autoscaling_backends

from cm_common.starting import StartRequest
from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver
from container_manager.matching.event_pattern import EventPattern
from support.deployed import (
    ACCOUNT,
    EDGE_REGION,
    PLACEHOLDER,
    ROOT,
    SERVER_NAME,
    Deployed,
    a_record,
    deploy,
    event,
    invoke,
    invoke_without_change,
    log_lines,
    metric_names,
    point_record,
    record_api_calls,
    record_start_request,
    set_lifecycle,
    start_request,
    state,
    template_env,
)
from support.deployed import load_handler as _load

FUNCTION = "InstanceStateChangeFunction"
PACKAGE = "instance_state_change"
SAMPLE_INSTANCE = "i-0a3f5c7e9b1d24680"  # the id the files in events/instance-state-change carry


def container_env(deployed: Deployed, **parameters: str) -> dict[str, str]:
    """The function's environment in a container stack, which gets the zone id from the edge stack."""
    return template_env(
        FUNCTION,
        deployed,
        function_region=deployed.region,
        parameters={"DeployPart": "container", "HostedZoneId": deployed.zone_id, **parameters},
    )


@pytest.fixture
def handler(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> ModuleType:
    # capsys first: Powertools' Logger binds sys.stdout when the handler module is imported.
    return _load(PACKAGE, container_env(deployed), monkeypatch)


def scenario(name: str, instance_id: str) -> dict[str, Any]:
    """A sample event from events/instance-state-change, about moto's instance instead of the sample's."""
    raw = copy.deepcopy(event(f"instance-state-change/{name}.json"))
    raw["detail"]["EC2InstanceId"] = instance_id
    raw["resources"] = [r.replace(SAMPLE_INSTANCE, instance_id) for r in raw["resources"]]
    return raw


def scale_to(deployed: Deployed, capacity: int) -> list[str]:
    """Set desired capacity as the start Lambda or the idle alarm would; return the group's instance ids."""
    client = boto3.client("autoscaling", region_name=deployed.region)
    client.update_auto_scaling_group(AutoScalingGroupName=deployed.asg_name, MaxSize=max(capacity, 1))
    client.set_desired_capacity(AutoScalingGroupName=deployed.asg_name, DesiredCapacity=capacity)
    return state(deployed)["instances"]


def public_ip(deployed: Deployed, instance_id: str) -> str:
    reservations = boto3.client("ec2", region_name=deployed.region).describe_instances(
        InstanceIds=[instance_id]
    )
    address: str = reservations["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    return address


def running_server(deployed: Deployed, handler: ModuleType) -> str:
    """Given: a knock started the server and its launch event already pointed the record at it."""
    (instance,) = scale_to(deployed, 1)
    assert invoke(handler, scenario("launch_successful", instance))["action"] == "dns_updated"
    return instance


# ------------------------------------------------------------------------------------------ launch
def test_launch_points_record_at_instance_with_template_ttl(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack deployed with DnsRecordTtl=7 (not the placeholder's 30, so the TTL is provably ours)
    handler = _load(PACKAGE, container_env(deployed, DnsRecordTtl="7"), monkeypatch)
    # And a knock made the group launch an instance
    (instance,) = scale_to(deployed, 1)
    assert a_record(deployed) == (PLACEHOLDER, 30)
    # When its "EC2 Instance Launch Successful" event arrives
    launch = scenario("launch_successful", instance)
    with record_api_calls() as calls:
        result = invoke(handler, launch)
    # Then the A record points at the instance's public IPv4 with the template's TTL
    assert result["action"] == "dns_updated"
    assert a_record(deployed) == (public_ip(deployed, instance), 7)
    # And the only mutation is that one UPSERT (no lifecycle action, no scaling)
    assert calls.mutations == [("route53", "ChangeResourceRecordSets")]
    change = next(params for _, op, params in calls.calls if op == "ChangeResourceRecordSets")
    assert change["ChangeBatch"]["Changes"][0]["Action"] == "UPSERT"
    # And the log line carries the event id as correlation id, and the outcome is counted
    out = capsys.readouterr().out
    updated = [line for line in log_lines(out) if line.get("action") == "dns_updated"]
    assert updated[0]["correlation_id"] == launch["id"]
    assert updated[0]["address"] == public_ip(deployed, instance)
    assert metric_names(out)["OutcomeDnsUpdated"] == 1


@pytest.mark.parametrize("name", ["launch_successful_from_warm_pool", "launch_successful_legacy_shape"])
def test_launch_from_warm_pool_and_legacy_shape_also_point_record(
    name: str, deployed: Deployed, handler: ModuleType
) -> None:
    # Given an instance entering the group (from the warm pool, or described in the pre-Origin shape)
    (instance,) = scale_to(deployed, 1)
    # When its launch event arrives - Then the record points at it
    assert invoke(handler, scenario(name, instance))["action"] == "dns_updated"
    assert a_record(deployed)[0] == public_ip(deployed, instance)


def test_duplicate_launch_event_is_idempotent(deployed: Deployed, handler: ModuleType) -> None:
    # Given the launch event was handled once (EventBridge delivers at least once)
    instance = running_server(deployed, handler)
    after_first = state(deployed)
    # When the same event is delivered again
    result = invoke(handler, scenario("launch_successful", instance))
    # Then the record still holds the same address and TTL, and nothing else changed
    assert result["action"] == "dns_updated"
    assert state(deployed) == after_first
    assert a_record(deployed) == (public_ip(deployed, instance), 30)


def test_launch_event_for_instance_already_terminated_changes_nothing(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the instance started and was stopped again before its launch event was delivered
    (instance,) = scale_to(deployed, 1)
    scale_to(deployed, 0)
    before = state(deployed)
    # When the late launch event arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario("launch_successful", instance))
    # Then the record keeps the placeholder: players are not sent to a dead address
    assert result["action"] == "no_change"
    assert "already terminated" in result["reason"]
    assert calls.mutations == []
    assert state(deployed) == before
    assert a_record(deployed) == (PLACEHOLDER, 30)
    assert any("already terminated" in line["message"] for line in log_lines(capsys.readouterr().out))


def test_launch_event_for_instance_the_group_is_draining_changes_nothing(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given EC2 still runs the instance but the group is draining it (stop began before the event arrived)
    (instance,) = scale_to(deployed, 1)
    set_lifecycle(deployed, instance, "Terminating:Wait")
    # When the late launch event arrives - Then nothing changes
    with record_api_calls() as calls:
        result = invoke(handler, scenario("launch_successful", instance))
    assert result["action"] == "no_change"
    assert "Terminating:Wait" in result["reason"]
    assert calls.mutations == []
    assert a_record(deployed) == (PLACEHOLDER, 30)


def test_instance_without_public_ip_is_a_clear_error_and_changes_nothing(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the subnet hands out no public addresses (a broken network setup)
    boto3.client("ec2", region_name=deployed.region).modify_subnet_attribute(
        SubnetId=deployed.subnet_id, MapPublicIpOnLaunch={"Value": False}
    )
    (instance,) = scale_to(deployed, 1)
    before = state(deployed)
    # When its launch event arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario("launch_successful", instance))
    # Then it is an error an admin sees (log + metric), it returns normally, and nothing changed
    assert result["action"] == "rejected"
    assert "no public IPv4 address" in result["reason"]
    out = capsys.readouterr().out
    errors = [line for line in log_lines(out) if line["level"] == "ERROR"]
    assert "no public IPv4 address" in errors[0]["message"]
    assert metric_names(out)["OutcomeRejected"] == 1
    assert calls.mutations == []
    assert state(deployed) == before


# ------------------------------------------------------------------------------------------ terminate
@pytest.mark.parametrize("name", ["terminate_lifecycle_action", "terminate_lifecycle_action_into_warm_pool"])
def test_terminate_with_no_other_instance_resets_placeholder(
    name: str, deployed: Deployed, handler: ModuleType
) -> None:
    # Given the server runs and the record points at it
    instance = running_server(deployed, handler)
    assert a_record(deployed)[0] != PLACEHOLDER
    # And the idle alarm scaled the group to 0; ECS managed draining holds the instance in Terminating:Wait
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    set_lifecycle(deployed, instance, "Terminating:Wait")
    # When the terminate lifecycle action event arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario(name, instance))
    # Then the record points at the placeholder again, with the template's TTL
    assert result["action"] == "dns_updated"
    assert a_record(deployed) == (PLACEHOLDER, 30)
    # And the lifecycle action is left to ECS managed draining: only the UPSERT is a mutation
    assert calls.mutations == [("route53", "ChangeResourceRecordSets")]
    assert "CompleteLifecycleAction" not in calls.operations()


def test_race_terminate_while_successor_pending_leaves_dns_alone(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server ran on A; the idle alarm stopped it, and a knock during the stop launched B
    old = running_server(deployed, handler)
    new = next(i for i in scale_to(deployed, 2) if i != old)
    set_lifecycle(deployed, old, "Terminating:Wait")
    set_lifecycle(deployed, new, "Pending:Wait")
    before = state(deployed)
    # When A's terminate lifecycle action event arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario("terminate_lifecycle_action", old))
    # Then DNS is left alone, the reason names B, and the handler returned normally
    assert result["action"] == "no_change"
    assert f"{new}:Pending:Wait" in result["reason"]
    assert calls.mutations == []
    assert state(deployed) == before
    assert any(new in line["message"] for line in log_lines(capsys.readouterr().out))
    # And when B's launch event follows, the record moves to B
    assert invoke(handler, scenario("launch_successful", new))["action"] == "dns_updated"
    assert a_record(deployed)[0] == public_ip(deployed, new)


def test_race_terminate_while_another_in_service_leaves_dns_alone(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given B already serves and the record points at it; A is being replaced
    old = running_server(deployed, handler)
    new = next(i for i in scale_to(deployed, 2) if i != old)
    invoke(handler, scenario("launch_successful", new))
    set_lifecycle(deployed, old, "Terminating:Wait")
    # When A's terminate event arrives late - Then B keeps the record
    with record_api_calls() as calls:
        result = invoke(handler, scenario("terminate_lifecycle_action", old))
    assert result["action"] == "no_change"
    assert f"{new}:InService" in result["reason"]
    assert calls.mutations == []
    assert a_record(deployed)[0] == public_ip(deployed, new)


# ------------------------------------------------------------------------------------------ safety nets
def terminated(deployed: Deployed, instance: str) -> None:
    """The group let the instance go (with or without its hook) and EC2 terminated it; desired is 0."""
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    group.instance_states = [s for s in group.instance_states if s.instance.id != instance]
    boto3.client("ec2", region_name=deployed.region).terminate_instances(InstanceIds=[instance])


def test_instance_terminated_outside_the_hook_resets_the_record(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given the server runs and the record points at it
    instance = running_server(deployed, handler)
    # And it is terminated from EC2 (no termination hook runs: no lifecycle action event ever comes)
    terminated(deployed, instance)
    # When Auto Scaling's "EC2 Instance Terminate Successful" arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario("terminate_successful_outside_hook", instance))
    # Then the record no longer points at the dead address
    assert result["action"] == "dns_updated"
    assert "was terminated" in result["reason"]
    assert a_record(deployed) == (PLACEHOLDER, 30)
    # And nothing is started: nobody knocked
    assert calls.mutations == [("route53", "ChangeResourceRecordSets")]
    assert state(deployed)["desired"] == 0


def test_terminate_successful_after_the_hook_path_is_idempotent(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given the terminate lifecycle action already reset the record
    instance = running_server(deployed, handler)
    set_lifecycle(deployed, instance, "Terminating:Wait")
    autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name].desired_capacity = 0
    invoke(handler, scenario("terminate_lifecycle_action", instance))
    terminated(deployed, instance)
    before = state(deployed)
    # When the instance is gone and "Terminate Successful" follows (and is delivered twice)
    results = [invoke(handler, scenario("terminate_successful", instance)) for _ in range(2)]
    # Then the same UPSERT is written again, harmlessly: the record holds the placeholder, nothing else moved
    assert [r["action"] for r in results] == ["dns_updated", "dns_updated"]
    assert state(deployed) == before


def test_late_terminate_successful_leaves_a_serving_successor_alone(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given A was replaced and B already serves with the record
    old = running_server(deployed, handler)
    new = next(i for i in scale_to(deployed, 2) if i != old)
    invoke(handler, scenario("launch_successful", new))
    terminated(deployed, old)
    # When A's "Terminate Successful" arrives - Then B keeps the record
    with record_api_calls() as calls:
        result = invoke(handler, scenario("terminate_successful", old))
    assert result["action"] == "no_change"
    assert calls.mutations == []
    assert a_record(deployed)[0] == public_ip(deployed, new)


def test_failed_launch_resets_the_record_and_logs_why(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the record was left on an address (say the last stop's events were lost) and no instance exists
    point_record(deployed.zone_id, "54.216.33.107")
    # When a launch fails for want of capacity (no instance was created: EC2InstanceId "")
    result = invoke(handler, event("instance-state-change/launch_unsuccessful.json"))
    # Then the record goes back to the placeholder, and the log carries AWS's reason
    assert result["action"] == "dns_updated"
    assert "a launch failed (no instance was created)" in result["reason"]
    assert a_record(deployed) == (PLACEHOLDER, 30)
    logged = [line for line in log_lines(capsys.readouterr().out) if line.get("action") == "dns_updated"]
    assert "sufficient t4g.medium capacity" in logged[0]["status_message"]


def test_failed_launch_leaves_a_serving_instance_alone(deployed: Deployed, handler: ModuleType) -> None:
    instance = running_server(deployed, handler)
    with record_api_calls() as calls:
        result = invoke(handler, event("instance-state-change/launch_unsuccessful.json"))
    assert result["action"] == "no_change"
    assert calls.mutations == []
    assert a_record(deployed)[0] == public_ip(deployed, instance)


# ------------------------------------------------------------------------------------------ the deferred knock
TERMINATED_AT = datetime(2026, 11, 20, 21, 16, 40, tzinfo=UTC)  # terminate_successful.json's time


def knock_deferred(deployed: Deployed, waiting_for: str, minutes_before: float = 1) -> str:
    """Given: start-system recorded a knock on the group while ``waiting_for`` drained."""
    value = StartRequest(TERMINATED_AT - timedelta(minutes=minutes_before), (waiting_for,)).tag_value()
    record_start_request(deployed, value)
    return value


def test_knock_deferred_during_the_drain_starts_the_server_once_the_instance_is_gone(
    deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the server ran, the idle alarm stopped it, and a player knocked while it drained
    old = running_server(deployed, handler)
    knock_deferred(deployed, old)
    terminated(deployed, old)
    # When the old instance's "Terminate Successful" arrives
    with record_api_calls() as calls:
        result = invoke(handler, scenario("terminate_successful", old))
    # Then the record is reset first, then the server is started, then the request is cleared
    assert calls.mutations == [
        ("route53", "ChangeResourceRecordSets"),
        ("autoscaling", "SetDesiredCapacity"),
        ("autoscaling", "DeleteTags"),
    ]
    assert result["action"] == "started"
    assert f"{old} is gone: starting the server for the knock of 2026-11-20T21:15:40Z" in result["reason"]
    assert a_record(deployed) == (PLACEHOLDER, 30)
    # And one new instance comes up for the player, who knocked only once; no request is left behind
    assert state(deployed)["desired"] == 1
    (new,) = state(deployed)["instances"]
    assert new != old
    assert start_request(deployed) is None
    assert metric_names(capsys.readouterr().out)["OutcomeStarted"] == 1
    # And a second delivery of the same event starts nothing more and leaves the coming instance's record alone
    with record_api_calls() as again:
        repeat = invoke(handler, scenario("terminate_successful", old))
    assert repeat["action"] == "no_change"
    assert again.mutations == []
    assert state(deployed)["instances"] == [new]


def test_a_stale_deferred_knock_is_dropped(deployed: Deployed, handler: ModuleType) -> None:
    # Given the knock was recorded 20 minutes before the drain ended (the player gave up long ago)
    old = running_server(deployed, handler)
    knock_deferred(deployed, old, minutes_before=20)
    terminated(deployed, old)
    # When the instance is gone - Then the server is not started, and the request is cleared with a reason
    result = invoke(handler, scenario("terminate_successful", old))
    assert result["action"] == "dns_updated"
    assert "dropped" in result["start_request"]
    assert state(deployed)["desired"] == 0
    assert start_request(deployed) is None


def test_a_deferred_knock_waiting_for_another_instance_is_kept(
    deployed: Deployed, handler: ModuleType
) -> None:
    # Given the request waits for another instance (not this one)
    instance = running_server(deployed, handler)
    value = knock_deferred(deployed, "i-0123456789abcdef0")
    terminated(deployed, instance)
    # When this instance's termination arrives - Then nothing starts and the request stays
    result = invoke(handler, scenario("terminate_successful", instance))
    assert result["action"] == "dns_updated"
    assert state(deployed)["desired"] == 0
    assert start_request(deployed) == value


# ------------------------------------------------------------------------------------------ failures and setup
def test_aws_errors_propagate_so_lambda_retries(
    deployed: Deployed, handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the hosted zone the template names does not exist (deleted edge stack)
    env = container_env(deployed, HostedZoneId="Z0000000000000000000")
    broken = _load(PACKAGE, env, monkeypatch)
    (instance,) = scale_to(deployed, 1)
    # When a launch event arrives - Then the Route 53 error is raised, not swallowed (Lambda retries it)
    with pytest.raises(ClientError, match="NoSuchHostedZone"):
        invoke(broken, scenario("launch_successful", instance))


def test_single_region_deploy_uses_the_same_zone(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given everything in us-east-1 (DeployPart=all): the zone id comes from the Dns nested stack
    deployed = deploy(EDGE_REGION)
    env = template_env(FUNCTION, deployed, function_region=EDGE_REGION)
    assert env["HOSTED_ZONE_ID"] == deployed.zone_id
    handler = _load(PACKAGE, env, monkeypatch)
    # When a launch event arrives - Then the record points at the instance
    (instance,) = scale_to(deployed, 1)
    assert invoke(handler, scenario("launch_successful", instance))["action"] == "dns_updated"
    assert a_record(deployed)[0] == public_ip(deployed, instance)


def test_environment_comes_from_template(deployed: Deployed) -> None:
    env = container_env(deployed)
    assert env["ASG_NAME"] == deployed.asg_name
    assert env["HOSTED_ZONE_ID"] == deployed.zone_id
    assert env["RECORD_NAME"] == SERVER_NAME
    assert env["PLACEHOLDER_IP"] == PLACEHOLDER
    assert env["RECORD_TTL"] == "30"
    assert env["POWERTOOLS_SERVICE_NAME"] == "instance-state-change"


def test_cold_start_fails_naming_every_bad_variable(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the template's environment with two broken values and one missing
    env = container_env(deployed)
    env.update({"RECORD_TTL": "0", "PLACEHOLDER_IP": "not-an-ip"})
    del env["HOSTED_ZONE_ID"]
    monkeypatch.delenv("HOSTED_ZONE_ID", raising=False)
    # When the function cold-starts - Then import fails with one message naming all three
    from cm_common.config import ConfigError

    with pytest.raises(ConfigError) as error:
        _load(PACKAGE, env, monkeypatch)
    message = str(error.value)
    assert "RECORD_TTL='0'" in message
    assert "PLACEHOLDER_IP='not-an-ip'" in message
    assert "HOSTED_ZONE_ID is missing" in message


# ------------------------------------------------------------------------------------------ bad input: zero mutations
def _edit(name: str, instance: str, **detail: Any) -> dict[str, Any]:
    raw = scenario(name, instance)
    raw["detail"].update(detail)
    return raw


def _drop(name: str, instance: str, key: str) -> dict[str, Any]:
    raw = scenario(name, instance)
    del raw["detail"][key]
    return raw


def _top(instance: str, **top: Any) -> dict[str, Any]:
    raw = scenario("launch_successful", instance)
    raw.update(top)
    return raw


def _outsider(deployed: Deployed) -> str:
    """A running instance with a public address that the group does not own."""
    reservation = boto3.client("ec2", region_name=deployed.region).run_instances(
        LaunchTemplate={"LaunchTemplateId": deployed.launch_template_id},
        MinCount=1,
        MaxCount=1,
        SubnetId=deployed.subnet_id,
    )
    return reservation["Instances"][0]["InstanceId"]


# case -> (build the event from the group's instance and the deployment, words the reason and log must hold)
HOSTILE: dict[str, tuple[Any, str]] = {
    "event is a list": (lambda i, d: [scenario("launch_successful", i)], "event is a list"),
    "event is a string": (lambda i, d: "EC2 Instance Launch Successful", "event is a str"),
    "event is empty": (lambda i, d: {}, "source None is not 'aws.autoscaling'"),
    "wrong source": (lambda i, d: _top(i, source="aws.ec2"), "source 'aws.ec2' is not"),
    "terminate unsuccessful": (
        lambda i, d: _top(i, **{"detail-type": "EC2 Instance Terminate Unsuccessful"}),
        "Terminate Unsuccessful' is not handled",
    ),
    "launch lifecycle action": (
        lambda i, d: scenario("launch_lifecycle_action", i),
        "Instance-launch Lifecycle Action' is not handled",
    ),
    "other group": (lambda i, d: scenario("other_group_launch_successful", i), "'container-manager-valheim'"),
    "missing detail": (lambda i, d: {k: v for k, v in _top(i).items() if k != "detail"}, "detail is None"),
    "detail is a list": (lambda i, d: _top(i, detail=[{"EC2InstanceId": i}]), "expected an object"),
    "missing EC2InstanceId": (
        lambda i, d: _drop("launch_successful", i, "EC2InstanceId"),
        "EC2InstanceId is missing",
    ),
    "instance id not a string": (
        lambda i, d: _edit("terminate_lifecycle_action", i, EC2InstanceId=[i]),
        "EC2InstanceId is a list",
    ),
    "instance id malformed": (
        lambda i, d: _edit("launch_successful", i, EC2InstanceId="i-xyz"),
        "does not match",
    ),
    "unknown instance id": (
        lambda i, d: _edit("launch_successful", i, EC2InstanceId="i-0123456789abcdef0"),
        "unknown to EC2",
    ),
    "instance outside the group": (
        lambda i, d: scenario("launch_successful", _outsider(d)),
        "is not in group",
    ),
    "warm-pool destination": (lambda i, d: scenario("launch_successful_into_warm_pool", i), "warm pool"),
    "forged terminate transition": (
        lambda i, d: _edit(
            "terminate_lifecycle_action", i, LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING"
        ),
        "contradicts",
    ),
    "huge instance id": (
        lambda i, d: _edit("launch_successful", i, EC2InstanceId=i + "0" * 1_000_000),
        "chars)",
    ),
    "huge group name": (
        lambda i, d: _edit("launch_successful", i, AutoScalingGroupName="g" * 1_000_000),
        "chars)",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_bad_input_is_explained_and_changes_nothing(
    case: str, deployed: Deployed, handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    build, words = HOSTILE[case]
    # Given a running instance whose launch event has not been handled yet (record still the placeholder),
    # so a wrong UPSERT of either address would show
    (instance,) = scale_to(deployed, 1)
    payload = build(instance, deployed)
    # When a malformed, foreign or hostile event arrives - Then no AWS API mutated anything, state as before
    result, _ = invoke_without_change(handler, payload, deployed)
    assert a_record(deployed) == (PLACEHOLDER, 30)
    # And it returns normally, rejected or ignored, with a reason that says why
    assert result["action"] in {"rejected", "ignored"}
    assert words in result["reason"]
    out = capsys.readouterr().out
    logged = [line for line in log_lines(out) if words in line["message"]]
    assert logged, f"no log line says {words!r}"
    assert len(logged[0]["message"]) < 1000  # garbage is previewed, never echoed whole
    expected_level, expected_metric = (
        ("ERROR", "OutcomeRejected") if result["action"] == "rejected" else ("INFO", "OutcomeIgnored")
    )
    assert logged[0]["level"] == expected_level
    assert metric_names(out)[expected_metric] == 1


# ------------------------------------------------------------------------------------------ the rule and the handler agree
DELIVERED = {
    "launch_successful",
    "launch_successful_from_warm_pool",
    "launch_successful_into_warm_pool",
    "launch_successful_legacy_shape",
    "terminate_lifecycle_action",
    "terminate_lifecycle_action_into_warm_pool",
    "terminate_successful",
    "terminate_successful_outside_hook",
    "launch_unsuccessful",
}
SAMPLES = sorted(p.stem for p in (ROOT / "events" / "instance-state-change").glob("*.json"))


@pytest.mark.parametrize("name", SAMPLES)
def test_template_rule_and_handler_agree_on_every_sample(
    name: str, deployed: Deployed, handler: ModuleType
) -> None:
    # Given the rule pattern as the template resolves it for this deployment, and a running instance
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(
        template,
        refs={"AWS::Region": deployed.region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"},
        attributes=deployed.attributes(),
    )
    rule = template["Resources"][FUNCTION]["Properties"]["Events"]["InstanceLaunchedOrTerminating"]
    pattern = EventPattern(resolver.resolve(rule["Properties"]["Pattern"]))
    (instance,) = scale_to(deployed, 1)
    sample = scenario(name, instance)
    # When the sample is offered to the rule and to the handler
    delivered = pattern.matches(sample)
    result = invoke(handler, sample)
    # Then the rule delivers exactly the events the function handles, and the handler accepts exactly those
    assert delivered is (name in DELIVERED)
    assert (result["action"] != "rejected") is delivered, result["reason"]
