"""IAM proof per function (issue 3): the template's role statements are exactly what each handler needs.

For each function, its role's statements are read from template.yaml (resolved for a realistic two-region
deployment) and copied into a moto role - Resource widened to "*", Condition dropped, CloudWatch actions spelled
moto's way (support/iam_proof.py says why: moto judges every call against "*" and evaluates no condition). The
handler then runs as that role, with moto's IAM enforcement on, on the events that exercise all its API calls:

- with every statement, it succeeds and the moto state shows its effect;
- with any one statement it uses removed, it is denied (AccessDenied) and its effect does not happen;
- every action it calls is granted by some statement, and every granted action is one it calls (least privilege),
  except the statements only the Lambda service uses (EXEMPT_ACTIONS), which must name exactly the function's own
  log group and on-failure destination;
- every call it makes is admitted by the template's Conditions, evaluated offline on the request context AWS
  documents for the call (moto would admit anything).

Which ARNs scope each statement is proven by reading the template: tests/templates/test_template_iam.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.autoscaling.models import autoscaling_backends

from cm_common.starting import StartRequest, parse_time
from container_manager.intrinsics import Resolver
from support.deployed import (
    ACCOUNT,
    EDGE_REGION,
    PLACEHOLDER,
    SERVER_NAME,
    ZONE_ID,
    ApiCalls,
    Deployed,
    LambdaContext,
    a_record,
    deploy,
    event,
    load_handler,
    point_record,
    record_api_calls,
    record_start_request,
    start_request,
    state,
    template_env,
)
from support.iam_proof import (
    TemplateStatement,
    assume_role_with,
    condition_holds,
    deployment_resolver,
    fast_moto,
    grants,
    iam_action,
    iam_enforced,
    is_access_denied,
    lambda_service_targets,
    moto_copy,
    request_context,
    role_statements,
)

CONTAINER_REGION = "eu-west-1"

# Actions the Lambda service performs with the function's role, never the handler: no handler run can prove them.
EXEMPT_ACTIONS = {
    "logs:CreateLogStream": "Lambda writes the function's stdout to its log group",
    "logs:PutLogEvents": "Lambda writes the function's stdout to its log group",
    "sqs:SendMessage": "Lambda sends a failed asynchronous invocation to the on-failure destination",
}

# Which part of support.deployed.state() each mutating operation can change.
TOUCHES = {
    "PutMetricData": {"metrics"},
    "SetDesiredCapacity": {"desired", "instances"},
    "ChangeResourceRecordSets": {"records"},
    "CreateOrUpdateTags": {"tags"},
    "DeleteTags": {"tags"},
}


# ----------------------------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class Step:
    """One invocation: ``given`` prepares moto (unauthenticated) and returns the event; ``then`` checks the
    effect; ``undone`` checks the effect did not happen (after a denial)."""

    name: str
    given: Callable[[Deployed], dict[str, Any]]
    then: Callable[[Deployed, dict[str, Any]], None]
    undone: Callable[[Deployed], None]


@dataclass(frozen=True)
class Proof:
    function: str  # logical id in template.yaml
    role: str
    package: str
    function_region: str
    parameters: Callable[[Deployed], dict[str, str]]
    steps: tuple[Step, ...]


def desired(deployed: Deployed) -> int:
    return int(state(deployed)["desired"])


# start-system: a player's A query, the server stopped -> knock metric in the container region, desired 1.
def _knock(deployed: Deployed) -> dict[str, Any]:
    assert desired(deployed) == 0
    return event("start-system/player_query_a.json")


def _started(deployed: Deployed, result: dict[str, Any]) -> None:
    assert result["action"] == "started"
    assert desired(deployed) == 1
    assert [m["MetricName"] for m in state(deployed)["metrics"]] == ["DnsQueries"]


def _not_started(deployed: Deployed) -> None:
    assert desired(deployed) == 0


def _draining(deployed: Deployed) -> str:
    """The group's one instance (launched if need be), which the idle alarm's scale to 0 now drains."""
    instance = _instance(deployed)
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    (member,) = group.instance_states
    member.lifecycle_state = "Terminating:Wait"
    return instance


# start-system, knock during a drain: no second instance, the knock recorded on the group instead.
def _knock_during_drain(deployed: Deployed) -> dict[str, Any]:
    _draining(deployed)
    return event("start-system/player_query_a.json")


def _deferred(deployed: Deployed, result: dict[str, Any]) -> None:
    assert result["action"] == "deferred"
    assert desired(deployed) == 0
    assert start_request(deployed) is not None


def _not_deferred(deployed: Deployed) -> None:
    assert desired(deployed) == 0
    assert start_request(deployed) is None


# instance-state-change: launch successful -> record at the instance; terminate lifecycle action -> placeholder.
SAMPLE_INSTANCE = "i-0a3f5c7e9b1d24680"  # the id the files in events/instance-state-change carry


def _asg_event(name: str, instance_id: str) -> dict[str, Any]:
    raw = copy.deepcopy(event(f"instance-state-change/{name}.json"))
    raw["detail"]["EC2InstanceId"] = instance_id
    raw["resources"] = [r.replace(SAMPLE_INSTANCE, instance_id) for r in raw["resources"]]
    return raw


def _instance(deployed: Deployed) -> str:
    """The group's one instance, launched as a knock would (SetDesiredCapacity 1) if there is none yet."""
    if not state(deployed)["instances"]:
        boto3.client("autoscaling", region_name=deployed.region).set_desired_capacity(
            AutoScalingGroupName=deployed.asg_name, DesiredCapacity=1
        )
    (instance,) = state(deployed)["instances"]
    return str(instance)


def _public_ip(deployed: Deployed, instance: str) -> str:
    reservations = boto3.client("ec2", region_name=deployed.region).describe_instances(InstanceIds=[instance])
    return str(reservations["Reservations"][0]["Instances"][0]["PublicIpAddress"])


def _launch(deployed: Deployed) -> dict[str, Any]:
    instance = _instance(deployed)
    assert a_record(deployed)[0] == PLACEHOLDER
    return _asg_event("launch_successful", instance)


def _record_at_instance(deployed: Deployed, result: dict[str, Any]) -> None:
    assert result["action"] == "dns_updated"
    assert a_record(deployed)[0] == _public_ip(deployed, _instance(deployed))


def _record_at_placeholder(deployed: Deployed, result: dict[str, Any] | None = None) -> None:
    if result is not None:
        assert result["action"] == "dns_updated"
    assert a_record(deployed)[0] == PLACEHOLDER


def _record_not_at_placeholder(deployed: Deployed) -> None:
    assert a_record(deployed)[0] != PLACEHOLDER


def _terminate(deployed: Deployed) -> dict[str, Any]:
    """The server runs and the record points at it (set here, so this step stands alone); the idle alarm scaled
    the group to 0 and ECS managed draining holds the instance in Terminating:Wait."""
    instance = _instance(deployed)
    point_record(deployed.zone_id, _public_ip(deployed, instance))
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    (member,) = group.instance_states
    member.lifecycle_state = "Terminating:Wait"
    return _asg_event("terminate_lifecycle_action", instance)


# instance-state-change, the drain is over: record reset, the deferred knock starts the server, request cleared.
def _terminated_with_knock(deployed: Deployed) -> dict[str, Any]:
    instance = _draining(deployed)
    point_record(deployed.zone_id, _public_ip(deployed, instance))
    sample = _asg_event("terminate_successful", instance)
    terminated_at = parse_time(sample["time"])
    assert terminated_at is not None
    knocked = StartRequest(terminated_at - timedelta(minutes=1), (instance,))
    record_start_request(deployed, knocked.tag_value())
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.instance_states = []
    boto3.client("ec2", region_name=deployed.region).terminate_instances(InstanceIds=[instance])
    return sample


def _started_for_the_knock(deployed: Deployed, result: dict[str, Any]) -> None:
    assert result["action"] == "started"
    assert a_record(deployed)[0] == PLACEHOLDER
    assert desired(deployed) == 1
    assert start_request(deployed) is None


def _knock_kept(deployed: Deployed) -> None:
    """A denial never loses the player's knock: the request stays for the retry."""
    assert start_request(deployed) is not None


# crash-loop-breaker: the essential container exits 1 while the server runs -> desired 0.
SAMPLE_CLUSTER = "arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft"


def _crash(deployed: Deployed) -> dict[str, Any]:
    _instance(deployed)
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.instance_states[0].lifecycle_state = "InService"
    raw = copy.deepcopy(event("crash-loop-breaker/essential_container_exited_nonzero.json"))
    assert raw["detail"]["clusterArn"] == SAMPLE_CLUSTER
    raw["detail"]["clusterArn"] = deployed.cluster_arn
    return raw


def _stopped(deployed: Deployed, result: dict[str, Any]) -> None:
    assert result["action"] == "stopped"
    assert desired(deployed) == 0


def _still_running(deployed: Deployed) -> None:
    assert desired(deployed) == 1


# stop-server: the idle alarm enters ALARM while the server runs -> desired 0.
def _idle_alarm(deployed: Deployed) -> dict[str, Any]:
    _instance(deployed)
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.instance_states[0].lifecycle_state = "InService"
    raw = copy.deepcopy(event("stop-server/idle_alarm_entered_alarm.json"))
    assert raw["region"] == CONTAINER_REGION
    return raw


def _container_stack(deployed: Deployed) -> dict[str, str]:
    return {"DeployPart": "container", "HostedZoneId": deployed.zone_id}


PROOFS = {
    "start-system": Proof(
        function="StartSystemFunction",
        role="StartSystemRole",
        package="start_system",
        function_region=EDGE_REGION,  # the edge stack; the container lives in eu-west-1
        parameters=lambda d: {"DeployPart": "edge"},
        steps=(
            Step("player knock", _knock, _started, _not_started),
            Step("knock during a drain", _knock_during_drain, _deferred, _not_deferred),
        ),
    ),
    "instance-state-change": Proof(
        function="InstanceStateChangeFunction",
        role="InstanceStateChangeRole",
        package="instance_state_change",
        function_region=CONTAINER_REGION,
        parameters=_container_stack,
        steps=(
            Step("launch successful", _launch, _record_at_instance, _record_at_placeholder),
            Step(
                "terminate lifecycle action", _terminate, _record_at_placeholder, _record_not_at_placeholder
            ),
            Step(
                "terminate successful, knock deferred",
                _terminated_with_knock,
                _started_for_the_knock,
                _knock_kept,
            ),
        ),
    ),
    "crash-loop-breaker": Proof(
        function="CrashLoopBreakerFunction",
        role="CrashLoopBreakerRole",
        package="crash_loop_breaker",
        function_region=CONTAINER_REGION,
        parameters=_container_stack,
        steps=(Step("essential container crash", _crash, _stopped, _still_running),),
    ),
    "stop-server": Proof(
        function="StopServerFunction",
        role="StopServerRole",
        package="stop_server",
        function_region=CONTAINER_REGION,
        parameters=_container_stack,
        steps=(Step("idle alarm enters ALARM", _idle_alarm, _stopped, _still_running),),
    ),
}


# ----------------------------------------------------------------------------------------------- running
@dataclass
class StepRun:
    step: Step
    deployed: Deployed
    before: dict[str, Any]
    after: dict[str, Any]
    calls: ApiCalls
    result: dict[str, Any] | None = None
    error: BaseException | None = None


def resolver_for(proof: Proof, deployed: Deployed) -> Resolver:
    return deployment_resolver(
        deployed, function_region=proof.function_region, parameters=proof.parameters(deployed)
    )


def statements_of(proof: Proof, deployed: Deployed) -> list[TemplateStatement]:
    return role_statements(proof.role, resolver_for(proof, deployed))


def handler_for(proof: Proof, deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    env = template_env(
        proof.function, deployed, function_region=proof.function_region, parameters=proof.parameters(deployed)
    )
    return load_handler(proof.package, env, monkeypatch)


def run_steps(
    proof: Proof,
    deployed: Deployed,
    handler: ModuleType,
    *,
    enforce: bool,
    check: Callable[[StepRun], None] = lambda run: None,
) -> list[StepRun]:
    """Invoke the handler on each step's event, ``check`` each run before the next step's Given; an error is
    kept (not raised) so the caller can judge it."""
    runs = []
    for step in proof.steps:
        payload = step.given(deployed)
        before = state(deployed)
        run = StepRun(step, deployed, before, before, ApiCalls())
        with record_api_calls() as run.calls:
            try:
                with iam_enforced() if enforce else nullcontext():
                    run.result = handler.lambda_handler(payload, LambdaContext())
            except Exception as exc:  # judged by the caller
                run.error = exc
        run.after = state(deployed)
        check(run)
        runs.append(run)
    return runs


def run_as(
    proof: Proof,
    statements: list[TemplateStatement],
    deployed: Deployed,
    monkeypatch: pytest.MonkeyPatch,
    check: Callable[[StepRun], None],
) -> list[StepRun]:
    """Given a role holding exactly ``statements`` (moto's copy), when the handler runs as it, enforced."""
    assume_role_with(f"{proof.package.replace('_', '-')}-role", moto_copy(statements), monkeypatch)
    return run_steps(proof, deployed, handler_for(proof, deployed, monkeypatch), enforce=True, check=check)


def handler_statements(statements: list[TemplateStatement]) -> list[TemplateStatement]:
    """The Allow statements the handler's own calls depend on (a statement of exempt actions only is not one)."""
    return [
        s
        for s in statements
        if s.data["Effect"] == "Allow" and not all(a in EXEMPT_ACTIONS for a in s.actions)
    ]


def _effect(run: StepRun) -> None:
    """The step did what its scenario is for, so the calls recorded are those of the path under proof."""
    assert run.error is None, f"{run.step.name}: {run.error!r}"
    assert run.result is not None
    run.step.then(run.deployed, run.result)


def called_actions(runs: list[StepRun]) -> set[str]:
    return {iam_action(service, op) for run in runs for service, op, _ in run.calls.calls}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    fast_moto(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def deployed(aws: Any) -> Deployed:
    return deploy(CONTAINER_REGION)


def _collection_statements(name: str) -> list[TemplateStatement]:
    """The role's statements at collection time (no moto yet): ids only matter here."""
    stand_in = Deployed(
        region=CONTAINER_REGION,
        asg_name="container-manager-minecraft",
        zone_id=ZONE_ID,
        cluster_arn=f"arn:aws:ecs:{CONTAINER_REGION}:{ACCOUNT}:cluster/container-manager-minecraft",
        query_log_group=f"/aws/route53/{SERVER_NAME}",
        launch_template_id="lt-0123456789abcdef0",
        subnet_id="subnet-0123456789abcdef0",
    )
    return statements_of(PROOFS[name], stand_in)


REMOVALS = [
    pytest.param(name, statement.sid, id=f"{name}-without-{statement.sid}")
    for name in PROOFS
    for statement in handler_statements(_collection_statements(name))
]


# ----------------------------------------------------------------------------------------------- the proof
@pytest.mark.parametrize("name", PROOFS)
def test_handler_succeeds_under_exactly_the_template_statements(
    name: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = PROOFS[name]
    # Given a role holding exactly the template's statements for this function (moto's copy)
    statements = statements_of(proof, deployed)

    # When the handler runs as that role, with moto's IAM enforcement on, on each event of its scenario
    # Then every invocation succeeds and moto's state shows its effect
    # And each invocation made AWS calls, all of them authorized under enforcement
    def succeeded(run: StepRun) -> None:
        _effect(run)
        assert run.calls.calls, f"{run.step.name}: no AWS call, so nothing was proven"

    runs = run_as(proof, statements, deployed, monkeypatch, succeeded)
    assert len(runs) == len(proof.steps)


@pytest.mark.parametrize(("name", "sid"), REMOVALS)
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")  # the denied invocation's
def test_removing_any_statement_the_handler_uses_denies_it(
    name: str,
    sid: str,
    deployed: Deployed,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proof = PROOFS[name]
    # Given a role holding the template's statements except this one
    statements = statements_of(proof, deployed)
    (removed,) = [s for s in statements if s.sid == sid]

    # When the handler runs as that role on each event of its scenario
    # Then an invocation that got through called nothing the removed statement grants
    # And a denied one was denied AccessDenied, on a call the removed statement grants, and its effect did not
    # happen: nothing changed but what the calls allowed before the denial did (start-system's knock datapoint)
    def judged(run: StepRun) -> None:
        if run.error is None:
            assert not any(grants(p, a) for p in removed.actions for a in called_actions([run]))
            return
        assert is_access_denied(run.error), f"{run.step.name}: {run.error!r}"
        service, operation, _ = run.calls.calls[-1]
        assert any(grants(p, iam_action(service, operation)) for p in removed.actions), run.calls.operations()
        run.step.undone(deployed)
        allowed = {part for _, op, _ in run.calls.calls[:-1] for part in TOUCHES.get(op, set())}
        changed = {part for part in run.before if run.before[part] != run.after[part]}
        assert changed <= allowed, f"{run.step.name}: {sorted(changed - allowed)} changed despite the denial"

    runs = run_as(proof, [s for s in statements if s is not removed], deployed, monkeypatch, judged)
    # And at least one invocation was denied: the handler needs the statement
    assert any(run.error is not None for run in runs), f"never needed {sid} ({', '.join(removed.actions)})"


@pytest.mark.parametrize("name", PROOFS)
def test_every_action_the_handler_calls_is_granted_by_the_template(
    name: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = PROOFS[name]
    # Given the handler's scenario run without IAM enforcement, recording every call
    runs = run_steps(proof, deployed, handler_for(proof, deployed, monkeypatch), enforce=False, check=_effect)
    # When its actions are compared with the template's statements
    granted = [pattern for s in statements_of(proof, deployed) for pattern in s.actions]
    missing = sorted(a for a in called_actions(runs) if not any(grants(p, a) for p in granted))
    # Then none is missing
    assert missing == []


@pytest.mark.parametrize("name", PROOFS)
def test_every_action_the_template_grants_is_called_by_the_handler(
    name: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = PROOFS[name]
    # Given the handler's scenario run without IAM enforcement, recording every call
    runs = run_steps(proof, deployed, handler_for(proof, deployed, monkeypatch), enforce=False, check=_effect)
    called = called_actions(runs)
    # When the template's granted actions are compared with them
    statements = statements_of(proof, deployed)
    extra = sorted(
        f"{s.sid}: {pattern}"
        for s in statements
        for pattern in s.actions
        if pattern not in EXEMPT_ACTIONS and not any(grants(pattern, a) for a in called)
    )
    # Then the role grants nothing the handler does not call (least privilege), the exempt actions aside
    assert extra == []
    # And the exempt actions are granted only on what the Lambda service itself writes: the function's own log
    # group and its on-failure destination
    resolver = resolver_for(proof, deployed)
    targets = lambda_service_targets(proof.function, resolver)
    for statement in statements:
        for action in (a for a in statement.actions if a in EXEMPT_ACTIONS):
            resource = statement.data["Resource"]
            assert (resource if isinstance(resource, list) else [resource]) == [targets[action.split(":")[0]]]


@pytest.mark.parametrize("name", PROOFS)
def test_the_template_conditions_admit_every_call_the_handler_makes(
    name: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto treats every Condition as satisfied; this is where a too-narrow condition (a trailing dot in a record
    name, the wrong metric namespace) is caught."""
    proof = PROOFS[name]
    # Given the handler's scenario run without IAM enforcement, recording every call and its parameters
    runs = run_steps(proof, deployed, handler_for(proof, deployed, monkeypatch), enforce=False, check=_effect)
    statements = statements_of(proof, deployed)
    # When each call's request context is evaluated against the conditions of the statements granting it
    refused = []
    for run in runs:
        for service, operation, params in run.calls.calls:
            action = iam_action(service, operation)
            context = request_context(service, operation, params)
            granting = [s for s in statements if any(grants(p, action) for p in s.actions)]
            if not any(condition_holds(s.data.get("Condition", {}), context) for s in granting):
                refused.append(f"{run.step.name}: {action} {context}")
    # Then every call is admitted by some statement, condition included
    assert refused == []
