"""End-to-end: the `make demo` rehearsal under pytest (issue 5).

The bundled example is rendered (`cm render examples/minecraft.yaml`), deployed into moto and played through all
scenarios; then the final state of every resource the lifecycle touches is asserted. The mutation tests break
one thing in a rendered copy of the templates each and prove the rehearsal reports the failure where it
should - so a green rehearsal means the templates really carry the chain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.autoscaling.models import autoscaling_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.logs.models import logs_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from container_manager.rehearsal.aws_parts import BOOT_SECONDS, TASK_START_SECONDS
from container_manager.rehearsal.rehearsal_timeline import start_waterfall
from container_manager.rehearsal.runner import Report, Source, rehearse
from container_manager.rehearsal.scenarios import SCENARIOS
from container_manager.rehearsal.world import ACCOUNT, EDGE_REGION
from container_manager.waterfall import render
from support.mutations import replace_once, sub_once


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Source:
    return Source.rendered(tmp_path_factory.mktemp("rendered"))


class _State:
    """moto's backends as the rehearsal left them (read inside the run, before the mock is torn down)."""

    groups: dict[str, tuple[int, list[tuple[str, str]]]]
    queue_messages: dict[str, int]
    topic_messages: int
    query_log_lines: list[str]
    knock_datapoints: int
    record: str | None


@pytest.fixture(scope="module")
def baseline(rendered: Source) -> tuple[Report, _State]:
    state = _State()

    def capture(report: Report) -> None:
        world = report.world
        assert world is not None
        state.groups = {
            name: (
                int(group.desired_capacity or 0),
                [(s.instance.id, s.lifecycle_state) for s in group.instance_states],
            )
            for name, group in autoscaling_backends[ACCOUNT][EDGE_REGION].autoscaling_groups.items()
        }
        state.queue_messages = {
            name: len(queue._messages) for name, queue in sqs_backends[ACCOUNT][EDGE_REGION].queues.items()
        }
        state.topic_messages = sum(
            len(getattr(topic, "sent_notifications", []))
            for topic in sns_backends[ACCOUNT][EDGE_REGION].topics.values()
        )
        zone = next(z for z in world.zones.values() if z.name == "minecraft.example.com")
        state.record = world.a_record(zone, "minecraft.example.com")
        group = logs_backends[ACCOUNT][EDGE_REGION].groups["/aws/route53/minecraft.example.com"]
        state.query_log_lines = [e.message for s in group.streams.values() for e in s.events]
        state.knock_datapoints = sum(
            1
            for d in cloudwatch_backends[ACCOUNT][EDGE_REGION].metric_data
            if d.namespace == "ContainerManager" and d.name == "DnsQueries"
        )

    report = rehearse(rendered, on_finish=capture)
    return report, state


def test_rehearsal_of_the_bundled_example(baseline: tuple[Report, _State]) -> None:
    """One rehearsal, four aspects (one test, so parallel workers do not each replay it)."""
    all_green(baseline)
    final_state_of_every_resource(baseline)
    output_marks_simulated_steps(baseline)
    start_prints_as_a_simulated_waterfall(baseline)


def start_prints_as_a_simulated_waterfall(baseline: tuple[Report, _State]) -> None:
    # Scenario 3's start in `cm timeline`'s format: every phase found in the rehearsal's entries, labelled
    fall = start_waterfall(baseline[0].timeline)
    assert fall is not None
    assert fall.label == "simulated"
    assert [s.seconds is not None for s in fall.spans] == [True] * len(fall.spans), render(fall)
    assert fall.total_seconds == BOOT_SECONDS + TASK_START_SECONDS


def all_green(baseline: tuple[Report, _State]) -> None:
    report, _ = baseline
    assert report.deploy_error is None
    assert report.failed() == []
    assert report.ok
    scenarios = {v.scenario.split(" ", 1)[0] for v in report.timeline.verdicts}
    assert scenarios == {"1", "2", "3", "4", "4b", "5", "6"}


def final_state_of_every_resource(baseline: tuple[Report, _State]) -> None:
    report, state = baseline
    world, cloud = report.world, report.cloud
    assert world is not None
    assert cloud is not None
    # The group: scenario 6 ends with the new instance serving; the old one is gone.
    (group,) = world.groups.values()
    desired, members = state.groups[group.name]
    assert desired == 1
    assert [phase for _, phase in members] == ["InService"]
    (serving,) = [t for t in cloud.autoscaling.instances.values() if t.phase == "InService"]
    assert members[0][0] == serving.instance_id
    terminated = [t for t in cloud.autoscaling.instances.values() if t.phase == "Terminated"]
    assert len(terminated) == 3  # scenarios 4, 5 (the server 4b started) and 6 each stopped one server
    # DNS: the record points at the serving instance.
    assert state.record == serving.ip
    # The query log holds every query of the sub-zone (the bot's other.example.com is the parent zone's).
    assert len(state.query_log_lines) == 7  # 2 bot queries of the sub-zone, 5 players' (4b's in 0x20 case)
    assert not any("other.example.com" in line for line in state.query_log_lines)
    # Knock metric: one datapoint per start-system run that saw a player's query. The filter forwards the
    # sub-zone's A queries; the bot's x.minecraft.example.com is ignored by the handler's name check.
    starts = [i for i in cloud.lambdas.invocations if i.function.short == "start-system"]
    actions = [i.action for i in starts]
    assert actions == ["ignored", "started", "started", "no_change", "started", "started"], actions
    assert state.knock_datapoints == 5
    # Crash loop: two crash events, one stop, one alert; no failed delivery anywhere.
    breaker = [i.action for i in cloud.lambdas.invocations if i.function.short == "crash-loop-breaker"]
    assert breaker == ["stopped", "no_change"]
    crash_alerts = [
        a for a in cloud.cloudwatch.alerts() if a.alarm == "container-manager-minecraft-crash-loop"
    ]
    assert len(crash_alerts) == 1
    assert all(count == 0 for count in state.queue_messages.values())
    # Alarms end where the story leaves them: crash loop over, nothing left up. The idle alarm may still be in
    # ALARM (the last knock is 3.5 minutes old and CloudWatch ingests 1-3 minutes late): harmless, since its
    # stop runs only on entering ALARM - every stop-server run was an idle alarm's transition, none a repeat.
    states = {logical: e.state for logical, e in cloud.cloudwatch.evaluators.items()}
    stops = [i for i in cloud.lambdas.invocations if i.function.short == "stop-server"]
    entered = cloud.cloudwatch.evaluators["IdleAlarm"].transitions("ALARM")
    assert len(stops) == len(entered)
    assert all(i.source == "alarm container-manager-minecraft-idle" for i in stops)
    assert states["CrashLoopAlarm"] == "OK"
    assert states["LeftUpAlarm"] == "OK"
    # Notices: 4 "server up" + 3 "stopped" from the rules; every alarm alert reached the topic too.
    origins = [n.origin.rsplit(": ", 1)[-1] for n in cloud.bus.notifications if n.origin.startswith("rule")]
    assert sorted(origins) == ["ServerStoppedNotice"] * 3 + ["ServerUpNotice"] * 4
    assert state.topic_messages == len(cloud.bus.notifications)


def output_marks_simulated_steps(baseline: tuple[Report, _State]) -> None:
    report, _ = baseline
    kinds = {e.kind for e in report.timeline.entries}
    assert {"real", "simulated", "check", "scenario"} <= kinds
    real_actors = {e.actor for e in report.timeline.entries if e.kind == "real"}
    assert {"λ start-system", "λ instance-state-change", "λ crash-loop-breaker"} <= real_actors
    for entry in report.timeline.entries:
        if entry.actor.startswith(("route53", "logs", "eventbridge", "autoscaling", "ecs", "cloudwatch")):
            assert entry.kind == "simulated", entry


# --------------------------------------------------------------------------------------------------- mutations
_replace = replace_once
_sub = sub_once


def _both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for edit in edits:
            edit(root)

    return apply


MUTATIONS = {
    # the instance rule listens for a detail-type AWS never sends
    "wrong detail-type": (
        _replace("template.yaml", "- EC2 Instance Launch Successful\n", "- EC2 Instance Launched\n"),
        "3",
    ),
    # the subscription filter expects a query type Route 53 never logs
    "wrong filter": (
        _replace("template.yaml", """- '" A "'""", """- '" IN A "'"""),
        "3",
    ),
    # the filter names the server again: case-sensitive, so a DNS-0x20 resolver's query never starts it
    "filter on the name (letter case)": (
        _replace("template.yaml", """- '" A "'""", """- !Sub '" ${ContainerId}.${DomainName} A "'"""),
        "4b",
    ),
    # start-system loses an environment variable its settings require
    "missing env var": (
        _sub("template.yaml", r"\n *SERVER_NAME: !Sub \$\{ContainerId\}\.\$\{DomainName\}", ""),
        "2",  # a bot's sub-zone query is the first to reach start-system: its cold start fails there
    ),
    # start-system's role no longer allows the call that starts the server
    "missing IAM action (start)": (
        _sub(
            "template.yaml",
            r"(Sid: StartServer\n\s+Effect: Allow\n\s+Action: )autoscaling:SetDesiredCapacity",
            r"\1autoscaling:UpdateAutoScalingGroup",
        ),
        "3",
    ),
    # instance-state-change's role cannot write the record
    "missing IAM action (dns)": (
        _replace("template.yaml", "Action: route53:ChangeResourceRecordSets", "Action: route53:GetChange"),
        "3",
    ),
    # IAM Conditions and Resources, which moto does not judge, are checked offline before each call
    "IAM condition excludes the record type": (
        _replace(
            "template.yaml",
            "route53:ChangeResourceRecordSetsRecordTypes: [A]",
            "route53:ChangeResourceRecordSetsRecordTypes: [AAAA]",
        ),
        "3",
    ),
    "IAM resource names another group": (
        _sub(
            "template.yaml",
            r"(Sid: StartServer\n(?:[^\n]*\n){3}[^\n]*autoScalingGroupName/)container-manager-",
            r"\1other-",
        ),
        "3",
    ),
    # the crash rule only matches clean exits
    "crash rule misses crashes": (
        _replace("template.yaml", "exitCode: [{ anything-but: 0 }]", "exitCode: [0]"),
        "5",
    ),
    # no termination lifecycle hook and no "Terminate Successful" safety net: the record is never reset
    # (the hook alone missing is survived: tests/e2e/test_demo_drain.py)
    "no managed draining, no safety net": (
        _both(
            _replace("infra/compute.yaml", "ManagedDraining: ENABLED", "ManagedDraining: DISABLED"),
            _replace("template.yaml", "- EC2 Instance Terminate Successful\n", "- EC2 Instance Terminated\n"),
        ),
        "4",
    ),
    # the idle alarm fires but acts on nothing
    "idle alarm without action": (
        _replace("infra/watchdog.yaml", "AlarmActions: [!Ref StopServerFunctionArn]", "AlarmActions: []"),
        "4",
    ),
    # the idle alarm may not invoke stop-server: its permission names another alarm
    "stop permission for another alarm": (
        _replace(
            "infra/watchdog.yaml", "SourceArn: !GetAtt IdleAlarm.Arn", "SourceArn: !GetAtt LeftUpAlarm.Arn"
        ),
        "4",
    ),
    # the old design: an Auto Scaling policy as the idle alarm's action, re-executed every minute the alarm
    # stays in ALARM - so a stale ALARM undoes a player's start (issue 9, item 3)
    "idle stop as a re-executed Auto Scaling action": (
        _sub(
            "infra/watchdog.yaml",
            r"AlarmActions: \[!Ref StopServerFunctionArn\][^\n]*\n",
            "AlarmActions: [!Ref ScaleToZero]\n",
        ),
        "3",  # in ALARM since the deploy (no data = breaching): each minute's re-execution undoes the start
        _replace(
            "infra/watchdog.yaml",
            "  IdleAlarmMayStop:\n",
            "  ScaleToZero:\n    Type: AWS::AutoScaling::ScalingPolicy\n    Properties:\n"
            "      AutoScalingGroupName: !Ref AutoScalingGroupName\n      PolicyType: SimpleScaling\n"
            '      AdjustmentType: ExactCapacity\n      ScalingAdjustment: 0\n      Cooldown: "60"\n\n'
            "  IdleAlarmMayStop:\n",
        ),
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_caught(name: str, tmp_path: Path) -> None:
    mutate, scenario, *more = MUTATIONS[name]
    source = Source.rendered(tmp_path)
    for change in (mutate, *more):
        change(tmp_path)
    # Play up to the scenario that must fail: the earlier ones must still pass.
    report = rehearse(source, scenarios=[s for s in SCENARIOS if s.title.split(" ", 1)[0] <= scenario])
    assert not report.ok, f"{name}: the rehearsal stayed green"
    assert report.failed(scenario), (
        f"{name}: expected scenario {scenario} to fail, failures: {report.failed()}"
    )
    earlier = [f for f in report.failed() if f.split(" ", 1)[0] < scenario]
    assert earlier == [], f"{name}: scenarios before {scenario} should pass: {earlier}"


def test_unparseable_template_fails_the_deploy(tmp_path: Path) -> None:
    source = Source.rendered(tmp_path)
    _replace(
        "infra/dns.yaml",
        "Type: AWS::Route53::HostedZone",
        "Type: AWS::Route53::HostedZone\n    Condition: Nope",
    )(tmp_path)
    report = rehearse(source)
    assert not report.ok
    assert report.deploy_error is not None


def test_main_exits_non_zero_on_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from container_manager.rehearsal.__main__ import main

    Source.rendered(tmp_path)
    _replace("template.yaml", "exitCode: [{ anything-but: 0 }]", "exitCode: [0]")(tmp_path)
    params = json.loads(json.dumps(Source.rendered(tmp_path / "clean").stacks[0].templates.parameters))
    args = ["--quiet", "--templates", str(tmp_path / "template.yaml")]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    assert main(args) == 1
    assert "FAILED" in capsys.readouterr().out
