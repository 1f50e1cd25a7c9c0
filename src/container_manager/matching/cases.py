"""Every (pattern, input, expected verdict) our offline matchers are tested on - one collection for two users:

* the offline tests (tests/templates/test_template_rules.py, test_template_start_filter.py) assert our matchers
  give the expected verdict;
* `make aws-contract` (container_manager.contract) asks AWS itself - EventBridge ``TestEventPattern``, CloudWatch
  Logs ``TestMetricFilter`` - and fails on any case where AWS and our matcher disagree.

Patterns are the templates' own, resolved as CloudFormation would for the sample stack; inputs are the sample
events in ``events/`` and the documented-shape builders of ``rehearsal.aws_events`` (near-misses included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver
from container_manager.rehearsal import aws_events as ev

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
NAME = "minecraft.example.com"
# The events/ files' own stack (account 111122223333, eu-west-1); the builders' is aws_events' defaults.
FILES_CLUSTER = "arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft"

CRASH = "CrashLoopBreakerFunction.TaskCrashed"
INSTANCE = "InstanceStateChangeFunction.InstanceLaunchedOrTerminating"
SERVER_UP = "Watchdog.ServerUpNotice"
SERVER_STOPPED = "Watchdog.ServerStoppedNotice"
RULES = (CRASH, INSTANCE, SERVER_UP, SERVER_STOPPED)


@dataclass(frozen=True)
class RuleCase:
    rule: str
    name: str
    event: dict[str, Any]
    expected: bool
    cluster: str = ev.CLUSTER_ARN  # which stack the rule is resolved for

    @property
    def id(self) -> str:
        return f"{self.rule.split('.')[-1]}:{self.name}"

    @property
    def pattern(self) -> dict[str, Any]:
        return rule_pattern(self.rule, self.cluster)


@dataclass(frozen=True)
class FilterCase:
    aaaa: bool  # StartOnIpv6Queries
    name: str
    line: str
    expected: bool
    container: str = "minecraft"
    domain: str = "example.com"

    @property
    def id(self) -> str:
        return f"{'a+aaaa' if self.aaaa else 'a'}:{self.name}"

    @property
    def pattern(self) -> str:
        return start_filter(self.aaaa, self.container, self.domain)


# ------------------------------------------------------------------------------------------------ patterns
@cache
def rule_pattern(rule: str, cluster: str = ev.CLUSTER_ARN) -> dict[str, Any]:
    """The rule's EventPattern as CloudFormation deploys it for the sample container (group, cluster)."""
    owner, logical = rule.split(".")
    if owner == "Watchdog":
        doc = load_template(ROOT / "infra" / "watchdog.yaml")
        resolver = Resolver(
            doc, parameters={"AutoScalingGroupName": ev.GROUP_NAME, "ContainerId": "minecraft"}
        )
        pattern = doc["Resources"][logical]["Properties"]["EventPattern"]
    else:
        doc = load_template(ROOT / "template.yaml")
        event = doc["Resources"][owner]["Properties"]["Events"][logical]
        attributes = {
            "Compute.Outputs.ClusterArn": cluster,
            "Compute.Outputs.AutoScalingGroupName": ev.GROUP_NAME,
        }
        resolver = Resolver(doc, parameters={"DeployPart": "all"}, attributes=attributes)
        pattern = event["Properties"]["Pattern"]
    resolved: dict[str, Any] = resolver.resolve(pattern)
    return resolved


@cache
def start_filter(aaaa: bool, container: str = "minecraft", domain: str = "example.com") -> str:
    """start-system's subscription FilterPattern as deployed for ``container``.``domain``."""
    doc = load_template(ROOT / "template.yaml")
    events = doc["Resources"]["StartSystemFunction"]["Properties"]["Events"]
    (subscription,) = [e for e in events.values() if e["Type"] == "CloudWatchLogs"]
    parameters = {"ContainerId": container, "DomainName": domain, "StartOnIpv6Queries": str(aaaa).lower()}
    return str(Resolver(doc, parameters=parameters).resolve(subscription["Properties"]["FilterPattern"]))


# ------------------------------------------------------------------------------------------- rule cases
def _sample(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / path).read_text(encoding="utf-8"))
    return data


# events/ files and the rules meant to deliver them (every other rule must not).
_FILE_VERDICTS: dict[str, tuple[str, ...]] = {
    "crash-loop-breaker/essential_container_exited_nonzero.json": (CRASH,),
    "crash-loop-breaker/essential_container_exited_oom.json": (CRASH,),
    "crash-loop-breaker/essential_container_exited_zero.json": (),
    "crash-loop-breaker/other_cluster.json": (),
    "crash-loop-breaker/service_scale_in.json": (),
    "crash-loop-breaker/spot_interruption.json": (),
    "crash-loop-breaker/task_failed_to_start.json": (CRASH,),
    "crash-loop-breaker/task_running.json": (),
    "crash-loop-breaker/user_initiated_stop.json": (),
    "instance-state-change/launch_lifecycle_action.json": (),
    "instance-state-change/launch_successful.json": (INSTANCE, SERVER_UP),
    "instance-state-change/launch_successful_from_warm_pool.json": (INSTANCE, SERVER_UP),
    # the rule delivers it; the function ignores a launch into the warm pool
    "instance-state-change/launch_successful_into_warm_pool.json": (INSTANCE, SERVER_UP),
    "instance-state-change/launch_successful_legacy_shape.json": (INSTANCE, SERVER_UP),
    "instance-state-change/launch_unsuccessful.json": (INSTANCE,),
    "instance-state-change/other_group_launch_successful.json": (),
    "instance-state-change/terminate_lifecycle_action.json": (INSTANCE,),
    "instance-state-change/terminate_lifecycle_action_into_warm_pool.json": (INSTANCE,),
    "instance-state-change/terminate_successful.json": (INSTANCE, SERVER_STOPPED),
    "instance-state-change/terminate_successful_outside_hook.json": (INSTANCE, SERVER_STOPPED),
}


def _file_cases() -> list[RuleCase]:
    cases = []
    for path, rules in _FILE_VERDICTS.items():
        event = _sample(path)
        for rule in RULES:
            cases.append(RuleCase(rule, f"events/{path}", event, rule in rules, FILES_CLUSTER))
    return cases


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    copy = ev.clone(event)
    for key, value in changes.items():
        copy[key.replace("_", "-")] = value
    return copy


def _crash_cases() -> list[RuleCase]:
    other_cluster = ev.CLUSTER_ARN.replace("container-manager-minecraft", "container-manager-valheim")
    other_account = ev.CLUSTER_ARN.replace(ev.ACCOUNT, "210987654321")
    deactivating = ev.ecs_task_event("essential_container_exited")
    deactivating["detail"]["lastStatus"] = "DEACTIVATING"
    cases = [
        ("task failed to start", ev.ecs_task_event("task_failed_to_start", exit_codes=()), True),
        ("exit 1", ev.ecs_task_event("essential_container_exited", exit_codes=(1,)), True),
        ("exit 137", ev.ecs_task_event("essential_container_exited", exit_codes=(137,)), True),
        ("second container exit 2", ev.ecs_task_event("essential_container_exited", exit_codes=(0, 2)), True),
        ("other cluster", ev.ecs_task_event("essential_container_exited", cluster_arn=other_cluster), False),
        ("other account", ev.ecs_task_event("task_failed_to_start", cluster_arn=other_account), False),
        ("clean exit 0", ev.ecs_task_event("essential_container_exited", exit_codes=(0,)), False),
        ("no exit code", ev.ecs_task_event("essential_container_exited", exit_codes=(None,)), False),
        ("scale-in exit 0", ev.ecs_task_event("service_scheduler_scale_in", exit_codes=(0,)), False),
        ("scale-in SIGTERM 143", ev.ecs_task_event("service_scheduler_scale_in", exit_codes=(143,)), False),
        ("user stop 0", ev.ecs_task_event("user_initiated", exit_codes=(0,)), False),
        ("user stop 137", ev.ecs_task_event("user_initiated", exit_codes=(137,)), False),
        ("spot 143", ev.ecs_task_event("spot_interruption", exit_codes=(143,)), False),
        ("running", ev.ecs_task_event("running", exit_codes=()), False),
        ("deactivating", deactivating, False),
        ("source aws.ec2", _with(ev.ecs_task_event("task_failed_to_start"), source="aws.ec2"), False),
        (
            "spoofed source",
            _with(ev.ecs_task_event("task_failed_to_start"), source="com.example.spoof"),
            False,
        ),
        (
            "container instance change",
            _with(
                ev.ecs_task_event("task_failed_to_start"), detail_type="ECS Container Instance State Change"
            ),
            False,
        ),
    ]
    return [RuleCase(CRASH, name, event, expected) for name, event, expected in cases]


def _instance_cases() -> list[RuleCase]:
    handled = (
        "EC2 Instance Launch Successful",
        "EC2 Instance-terminate Lifecycle Action",
        # the safety nets: a termination outside the hook, a failed launch (issue 9 item 6)
        "EC2 Instance Terminate Successful",
        "EC2 Instance Launch Unsuccessful",
    )
    cases = []
    for detail_type in ev.ASG_DETAIL_TYPES:
        event = ev.asg_event(detail_type)
        cases.append((detail_type, event, detail_type in handled))
    for detail_type in handled:
        for group in (
            "container-manager-valheim",
            "container-manager-minecraft-2",
            "Container-Manager-Minecraft",
        ):
            cases.append((f"{detail_type} of {group}", ev.asg_event(detail_type, group_name=group), False))
    for source in ("aws.ec2", "aws.ecs", "com.example.spoof"):
        cases.append((f"source {source}", ev.asg_event(handled[0], source=source), False))
    return [RuleCase(INSTANCE, name, event, expected) for name, event, expected in cases]


def _notice_cases() -> list[RuleCase]:
    cases = []
    for detail_type in ev.ASG_DETAIL_TYPES:
        event = ev.asg_event(detail_type)
        cases.append(RuleCase(SERVER_UP, detail_type, event, detail_type == "EC2 Instance Launch Successful"))
        cases.append(
            RuleCase(SERVER_STOPPED, detail_type, event, detail_type == "EC2 Instance Terminate Successful")
        )
    return cases


@cache
def rule_cases() -> tuple[RuleCase, ...]:
    return tuple(_crash_cases() + _instance_cases() + _notice_cases() + _file_cases())


# ----------------------------------------------------------------------------------------- filter cases
LOOKALIKES = (
    "other.example.com",
    "x.minecraft.example.com",
    "_minecraft._tcp.minecraft.example.com",
    "minecraft.example.com.evil.com",
    "minecraft-example.com",
    "minecraft.example.co",
    "xminecraft.example.com",
    "example.com",
)
OTHER_TYPES = ("TXT", "ANY", "MX", "NS", "SOA", "CNAME", "HTTPS", "SRV", "AA", "A6")


def _start_system_fixture_lines() -> list[tuple[str, str]]:
    lines = []
    for path in sorted((EVENTS / "start-system").glob("*.decoded.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for index, event in enumerate(data.get("logEvents", [])):
            if isinstance(event, dict) and isinstance(event.get("message"), str):
                lines.append((f"events/start-system/{path.name}[{index}]", event["message"]))
    return lines


def _starts_by_type(line: str, aaaa: bool) -> bool:
    """The filter's verdict: a quoted phrase matches where it occurs in the line, case-sensitively ("Filter and
    pattern syntax", CloudWatch Logs User Guide), and the filter's phrases are the starting query types with a
    space each side (template.yaml: a name filter would drop DNS-0x20 queries; start-system judges the name and
    the layout, so a malformed line holding " A " passes the filter and is rejected there)."""
    return any(f" {kind} " in line for kind in (("A", "AAAA") if aaaa else ("A",)))


def _filter_cases(aaaa: bool) -> list[FilterCase]:
    line = ev.query_log_line
    cases = [
        FilterCase(aaaa, "A over UDP", line(NAME, "A", protocol="UDP"), True),
        FilterCase(aaaa, "A over TCP", line(NAME, "A", protocol="TCP"), True),
        FilterCase(
            aaaa,
            "A from an IPv6 resolver with client subnet",
            line(NAME, "A", resolver_ip="2001:db8::1234", client_subnet="2001:db8:abcd::/48"),
            True,
        ),
        FilterCase(aaaa, "AAAA", line(NAME, "AAAA"), aaaa),
        # Letter case cannot matter: a 0x20-randomised or trailing-dot name passes (the handler compares names
        # case-insensitively), and so does any other name of the sub-zone (the handler ignores it).
        FilterCase(aaaa, "0x20 case", line("MineCraft.Example.COM", "A"), True),
        FilterCase(aaaa, "trailing dot", line(f"{NAME}.", "A"), True),
        FilterCase(aaaa, "0x20 case AAAA", line("mInEcRaFt.eXaMpLe.CoM", "AAAA"), aaaa),
    ]
    cases += [FilterCase(aaaa, f"sub-zone name {n}", line(n, "A"), True) for n in LOOKALIKES]
    cases += [FilterCase(aaaa, f"type {t}", line(NAME, t), False) for t in OTHER_TYPES]
    cases += [
        FilterCase(aaaa, f"0x20 case, type {t}", line("MINEcraft.example.COM", t), False) for t in OTHER_TYPES
    ]
    for index, documented in enumerate(ev.ROUTE53_DOCUMENTED_LINES):
        cases.append(
            FilterCase(aaaa, f"documented line {index}", documented, _starts_by_type(documented, aaaa))
        )
    for name, message in _start_system_fixture_lines():
        cases.append(FilterCase(aaaa, name, message, _starts_by_type(message, aaaa)))
    return cases


@cache
def filter_cases() -> tuple[FilterCase, ...]:
    other = (
        FilterCase(
            False,
            "other container's filter, its own name",
            ev.query_log_line("valheim.games.example.org", "A"),
            True,
            "valheim",
            "games.example.org",
        ),
    )
    return tuple(_filter_cases(False) + _filter_cases(True)) + other
