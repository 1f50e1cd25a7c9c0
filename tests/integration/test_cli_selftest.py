"""`cm selftest` against moto, a loopback authoritative DNS server and a scripted cloud (fake clock).

Given a deployed-like container (support/verified.py), when the selftest runs, then every step passes on a
working deployment, and each way a deployment can be broken fails the step that names it, with exit code 6.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from container_manager import operations as ops
from container_manager.aws import Aws
from container_manager.cli import main
from container_manager.deployment import discover
from container_manager.errors import CHECK_FAILED, CREDENTIALS, OK, USAGE, CmError
from container_manager.matching import cases
from container_manager.rehearsal.aws_events import query_log_line
from container_manager.selftest import (
    FAIL,
    PASS,
    SKIPPED,
    Dns,
    Instruments,
    SelfTest,
    randomise_case,
    tcp_open,
)
from container_manager.verify import run, timeouts
from support.deployed import (
    CONTAINER_ID,
    CONTAINER_REGION,
    EDGE_REGION,
    PLACEHOLDER,
    SERVER_NAME,
    set_lifecycle,
)
from support.dns_server import LoopbackDns, loopback_dns
from support.verified import Complete, ScriptedCloud, delegate, deploy_complete, steady_tasks


@pytest.fixture
def dns_server() -> Iterator[LoopbackDns]:
    with loopback_dns({SERVER_NAME: PLACEHOLDER}) as server:
        yield server


@pytest.fixture
def complete(aws: None) -> Iterator[Complete]:
    with steady_tasks():
        yield deploy_complete()


def selftest(
    complete: Complete,
    cloud: ScriptedCloud,
    *,
    stop: Any = None,
    keep_running: bool = False,
    dns_timeout: float = 0.5,
    **limits: float,
) -> tuple[Any, str]:
    """Run the selftest with the scripted cloud's clock, sleep and TCP probe; returns (report, progress)."""
    target = ops.Target(CONTAINER_ID, complete.deployed.region)
    clients = Aws(boto3.session.Session())
    instruments = Instruments(
        dns=Dns(port=cloud.dns.port, timeout=dns_timeout, address_of=lambda host: ["127.0.0.1"]),
        tcp=cloud.tcp,
        clock=cloud.clock,
        sleep=cloud.sleep,
        interval=5.0,
        rng=random.Random(7),
    )
    progress = io.StringIO()
    test = SelfTest(
        clients,
        discover(clients, target),
        stop=stop or (lambda: ops.set_desired(clients, target, 0)),
        keep_running=keep_running,
        timeouts={k.replace("_", "-"): v for k, v in limits.items()} or None,
        instruments=instruments,
        progress=progress,
    )
    return test.run(), progress.getvalue()


def by_name(report: Any) -> dict[str, Any]:
    return {step.name: step for step in report.steps}


# ------------------------------------------------------------------------------------------------ happy path
def test_a_working_deployment_passes_every_step(complete: Complete, dns_server: LoopbackDns) -> None:
    # Given a complete deployment and a cloud that does its part
    cloud = ScriptedCloud(complete, dns_server)
    # When
    report, progress = selftest(complete, cloud)
    # Then every step passed, in the order of the lifecycle
    assert report.ok, [(s.name, s.observed) for s in report.steps if s.status != PASS]
    names = [s.name for s in report.steps]
    assert names[:3] == ["stacks", "delegation", "query logging"]
    assert names[-4:] == ["stop (cm stop)", "A record reset", "instance terminated", "no Terminating:Wait"]
    # the plain name, then the 0x20 name, were asked of the authoritative server
    assert dns_server.questions[0] == SERVER_NAME
    assert dns_server.questions[1] != SERVER_NAME
    assert dns_server.questions[1].lower() == SERVER_NAME
    # progress names the phase and the elapsed time while waiting
    assert "waiting for" in progress
    assert "phase " in progress
    # the query log had no line with the 0x20 name (nothing wrote one here): said, not failed
    assert by_name(report)["0x20 case in the query log"].status == "info"
    # and the stop really happened: capacity 0, record on the placeholder
    assert cloud.group()["DesiredCapacity"] == 0
    assert by_name(report)["A record reset"].status == PASS


def test_the_two_stack_flow_passes_too(aws: None, dns_server: LoopbackDns) -> None:
    # Given the container in eu-west-1 and its edge stack (zone, query log, start-system) in us-east-1
    with steady_tasks():
        complete = deploy_complete(region=CONTAINER_REGION)
        report, _ = selftest(complete, ScriptedCloud(complete, dns_server))
    # Then both stacks were found and every step passed
    assert report.ok, [(s.name, s.observed) for s in report.steps if s.status != PASS]
    assert "container-manager-minecraft-edge CREATE_COMPLETE" in by_name(report)["stacks"].observed


def test_a_0x20_line_in_the_query_log_is_reported_as_logged_with_its_case(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    # Given Route 53 logs the 0x20 query as asked (the line the selftest looks for)
    cloud = ScriptedCloud(complete, dns_server)
    mixed = randomise_case(SERVER_NAME, random.Random(7))
    logs = boto3.client("logs", region_name=EDGE_REGION)
    group = complete.deployed.query_log_group
    # (the filter is off while the line is written: moto would try to run start-system in Docker for it)
    (subscription,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    logs.delete_subscription_filter(logGroupName=group, filterName=complete.filter_name)
    logs.create_log_stream(logGroupName=group, logStreamName="edge")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="edge",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": query_log_line(mixed, "A")}],
    )
    logs.put_subscription_filter(
        logGroupName=group,
        filterName=complete.filter_name,
        filterPattern=subscription["filterPattern"],
        destinationArn=subscription["destinationArn"],
    )
    # When
    report, _ = selftest(complete, cloud)
    # Then the informational step shows the line
    step = by_name(report)["0x20 case in the query log"]
    assert step.observed.startswith("logged as asked")
    assert mixed in step.observed


def test_keep_running_leaves_the_server_up(complete: Complete, dns_server: LoopbackDns) -> None:
    cloud = ScriptedCloud(complete, dns_server)
    report, _ = selftest(complete, cloud, keep_running=True)
    assert report.ok
    assert cloud.group()["DesiredCapacity"] == 1
    assert by_name(report)["stop"].observed.startswith("not stopped")


def test_a_udp_only_game_reports_the_port_as_not_probed(aws: None, dns_server: LoopbackDns) -> None:
    with steady_tasks():
        complete = deploy_complete(ports="udp/34197")
        report, _ = selftest(complete, ScriptedCloud(complete, dns_server))
    step = by_name(report)["game port"]
    assert step.status == "info"
    assert "not probed" in step.observed
    assert report.ok


# -------------------------------------------------------------------------------------------- static failures
# Every static check runs, whatever the others found: one deployment broken several ways at once shows each
# check naming its own cause (and keeps the suite fast: one moto deployment per combination).
def test_no_delegation_no_filter_a_disabled_rule_and_a_missing_alarm_each_fail_and_nothing_starts(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    # Given the parent zone lost its NS record for the sub-zone, the start filter is gone, the crash rule is
    # disabled and the idle alarm deleted
    route53 = boto3.client("route53", region_name=EDGE_REGION)
    record = next(
        r
        for r in route53.list_resource_record_sets(HostedZoneId=complete.parent_zone_id)["ResourceRecordSets"]
        if r["Type"] == "NS" and r["Name"].rstrip(".") == SERVER_NAME
    )
    route53.change_resource_record_sets(
        HostedZoneId=complete.parent_zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
    )
    boto3.client("logs", region_name=EDGE_REGION).delete_subscription_filter(
        logGroupName=complete.deployed.query_log_group, filterName=complete.filter_name
    )
    boto3.client("events", region_name=EDGE_REGION).disable_rule(
        Name=f"container-manager-{CONTAINER_ID}-crash-loop-breaker-rule"
    )
    boto3.client("cloudwatch", region_name=EDGE_REGION).delete_alarms(
        AlarmNames=[f"container-manager-{CONTAINER_ID}-idle"]
    )
    cloud = ScriptedCloud(complete, dns_server)
    # When
    report, _ = selftest(complete, cloud)
    # Then each broken piece fails its own step, naming the cause
    steps = by_name(report)
    assert steps["delegation"].status == FAIL
    assert "zone not delegated" in steps["delegation"].observed
    assert steps["start filter"].status == FAIL
    assert "filter missing" in steps["start filter"].observed
    assert steps["crash-loop-breaker rule"].status == FAIL
    assert "DISABLED" in steps["crash-loop-breaker rule"].observed
    assert steps["alarms"].status == FAIL
    assert "missing: idle" in steps["alarms"].observed
    # the intact pieces still pass
    assert steps["instance-state-change rule"].status == PASS
    assert steps["query logging"].status == PASS
    # and the live phases never ran: no query asked, nothing started
    assert all(s.status == SKIPPED for s in report.steps if s.phase != "static")
    assert dns_server.questions == []
    assert cloud.group()["DesiredCapacity"] == 0


def test_other_name_servers_a_filter_on_another_function_no_query_log_and_a_running_server_fail(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    # Given the parent delegates to other name servers, the filter invokes another function, query logging is
    # off and the server is already running
    delegate(complete.parent_zone_id, ["ns-1.example.net", "ns-2.example.org"])
    boto3.client("logs", region_name=EDGE_REGION).put_subscription_filter(
        logGroupName=complete.deployed.query_log_group,
        filterName=complete.filter_name,
        filterPattern=cases.start_filter(False),  # the template's own, resolved
        destinationArn=complete.functions["crash-loop-breaker"],
    )
    route53 = boto3.client("route53", region_name=EDGE_REGION)
    for config in route53.list_query_logging_configs()["QueryLoggingConfigs"]:
        route53.delete_query_logging_config(Id=config["Id"])
    ops.set_desired(Aws(boto3.session.Session()), ops.Target(CONTAINER_ID, EDGE_REGION), 1)
    # When
    report, _ = selftest(complete, ScriptedCloud(complete, dns_server))
    # Then
    steps = by_name(report)
    assert steps["delegation"].status == FAIL
    assert "!=" in steps["delegation"].observed
    assert steps["start filter"].status == FAIL
    assert "wrong target" in steps["start filter"].observed
    assert steps["query logging"].status == FAIL
    assert "query logging is off" in steps["query logging"].observed
    assert steps["stopped"].status == FAIL
    assert "cm stop" in steps["stopped"].observed
    assert not report.ok


# ---------------------------------------------------------------------------------------------- live failures
def test_instance_never_in_service_times_out_naming_the_phase_and_still_stops(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    # Given an instance that never leaves Pending
    cloud = ScriptedCloud(complete, dns_server, boots=False)
    # When
    report, progress = selftest(complete, cloud, instance=60)
    # Then the instance step fails naming its phase; later start steps are skipped; the stop still ran
    step = by_name(report)["instance InService"]
    assert step.status == FAIL
    assert "phase 'instance' did not finish in 60 s" in step.observed
    assert "Pending" in step.observed
    assert by_name(report)["task RUNNING"].status == SKIPPED
    assert by_name(report)["stop (cm stop)"].status == PASS
    assert cloud.group()["DesiredCapacity"] == 0
    assert "phase instance" in progress


def test_no_start_when_start_system_does_nothing(complete: Complete, dns_server: LoopbackDns) -> None:
    cloud = ScriptedCloud(complete, dns_server, starts=False)
    report, _ = selftest(complete, cloud, start_decision=20)
    step = by_name(report)["start-system starts it"]
    assert step.status == FAIL
    assert "start-decision" in step.observed
    assert by_name(report)["stop (cm stop)"].status == SKIPPED  # nothing was started, nothing to stop


def test_port_never_open_fails_the_port_step(complete: Complete, dns_server: LoopbackDns) -> None:
    cloud = ScriptedCloud(complete, dns_server, opens_port=False)
    report, _ = selftest(complete, cloud, port=30)
    step = by_name(report)["game port"]
    assert step.status == FAIL
    assert "phase 'port' did not finish in 30 s" in step.observed
    assert by_name(report)["A record reset"].status == PASS  # the stop still ran


def test_record_never_reset_fails_the_reset_step(complete: Complete, dns_server: LoopbackDns) -> None:
    cloud = ScriptedCloud(complete, dns_server, resets_dns=False)
    report, _ = selftest(complete, cloud, dns_reset=40)
    step = by_name(report)["A record reset"]
    assert step.status == FAIL
    assert "dns-reset" in step.observed
    assert not report.ok


def test_an_instance_stuck_in_terminating_wait_is_reported(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    cloud = ScriptedCloud(complete, dns_server)

    def stop_into_the_hook() -> dict[str, Any]:
        # The drain's lifecycle hook never completes: the instance stays in Terminating:Wait
        instance = cloud.group()["Instances"][0]["InstanceId"]
        set_lifecycle(complete.deployed, instance, "Terminating:Wait")
        return {"desired_before": 1}

    report, _ = selftest(complete, cloud, stop=stop_into_the_hook, terminate=30, dns_reset=10)
    assert by_name(report)["instance terminated"].status == FAIL
    step = by_name(report)["no Terminating:Wait"]
    assert step.status == FAIL
    assert "Terminating:Wait" in step.observed


def test_a_name_server_that_never_answers_fails_the_query(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    dns_server.silent = True
    cloud = ScriptedCloud(complete, dns_server, starts=False)
    report, _ = selftest(complete, cloud, dns_timeout=0.05, start_decision=5)
    step = by_name(report)["DNS query, plain case"]
    assert step.status == FAIL
    assert "no name server answered" in step.observed


# --------------------------------------------------------------------------------------------- the command
def test_credentials_missing_exit_4_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no credentials at all (and no moto: nothing may be reached)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # When
    code = main(["selftest", CONTAINER_ID, "--json"])
    # Then
    assert code == CREDENTIALS
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == CREDENTIALS
    assert "credentials" in data["error"]


def test_the_command_prints_json_and_exits_6_on_a_failed_step(
    complete: Complete, dns_server: LoopbackDns
) -> None:
    # Given the start filter is missing, When `cm selftest --json` runs, Then exit 6 and the JSON says which
    boto3.client("logs", region_name=EDGE_REGION).delete_subscription_filter(
        logGroupName=complete.deployed.query_log_group, filterName=complete.filter_name
    )
    args = argparse.Namespace(command="selftest", json=True, keep_running=False, timeout=[])
    cloud = ScriptedCloud(complete, dns_server)
    instruments = Instruments(
        dns=Dns(port=dns_server.port, address_of=lambda h: ["127.0.0.1"]),
        clock=cloud.clock,
        sleep=cloud.sleep,
    )
    out = io.StringIO()
    code = run(
        args,
        ops.Target(CONTAINER_ID, EDGE_REGION),
        Aws(boto3.session.Session()),
        out,
        io.StringIO(),
        instruments=instruments,
    )
    assert code == CHECK_FAILED
    data = json.loads(out.getvalue())
    assert data["ok"] is False
    assert data["exit_code"] == CHECK_FAILED
    failed = [s["step"] for s in data["steps"] if s["status"] == FAIL]
    assert failed == ["start filter"]


def test_the_command_passes_with_its_timeline(complete: Complete, dns_server: LoopbackDns) -> None:
    # Given a working deployment, When the whole command runs (text output), Then exit 0 and the timeline
    # follows the table (moto keeps no scaling activities: the timeline says which record is missing)
    cloud = ScriptedCloud(complete, dns_server)
    args = argparse.Namespace(command="selftest", json=False, keep_running=False, timeout=["task=100"])
    instruments = Instruments(
        dns=Dns(port=dns_server.port, address_of=lambda h: ["127.0.0.1"]),
        tcp=cloud.tcp,
        clock=cloud.clock,
        sleep=cloud.sleep,
    )
    out, err = io.StringIO(), io.StringIO()
    code = run(
        args,
        ops.Target(CONTAINER_ID, EDGE_REGION),
        Aws(boto3.session.Session()),
        out,
        err,
        instruments=instruments,
    )
    text = out.getvalue()
    assert code == OK, text
    assert "selftest PASSED" in text
    assert "✓" in text
    assert "last start of" in text or "start of" in text


def test_bad_timeout_argument_is_a_usage_error() -> None:
    with pytest.raises(CmError, match="PHASE=SECONDS") as caught:
        timeouts(["instance=soon"])
    assert caught.value.code == USAGE
    assert timeouts(["instance=30", "port=5"]) == {"instance": 30.0, "port": 5.0}


# ------------------------------------------------------------------------------------------------ instruments
def test_randomised_case_differs_from_the_plain_name_but_resolves_the_same() -> None:
    for seed in range(20):
        mixed = randomise_case(SERVER_NAME, random.Random(seed))
        assert mixed != SERVER_NAME
        assert mixed.lower() == SERVER_NAME


def test_the_tcp_probe_sees_a_listener_and_a_closed_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert tcp_open("127.0.0.1", port, 1.0)
    assert not tcp_open("127.0.0.1", port, 0.5)


def test_the_dns_client_reads_aa_and_the_answer(dns_server: LoopbackDns) -> None:
    client = Dns(port=dns_server.port, timeout=1.0, address_of=lambda host: ["127.0.0.1"])
    answer = client.query_a("MineCraft.Example.COM", "ns-1.awsdns-01.org.")
    assert answer.rcode == "NOERROR"
    assert answer.authoritative
    assert answer.addresses == (PLACEHOLDER,)
    assert dns_server.questions == ["MineCraft.Example.COM"]  # sent as given, case kept
    assert client.query_a("other.example.com", "ns-1").rcode == "NXDOMAIN"
