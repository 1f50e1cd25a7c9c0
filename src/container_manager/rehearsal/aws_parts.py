"""The parts of AWS that moto does not play, played from what the templates declare. Every line it prints is
marked "simulated".

* ``Route53QueryLog`` - Route 53 answers a query and writes the documented query-log line to the log group of the
  zone's ``QueryLoggingConfig`` (really written to moto's log group).
* ``SubscriptionFilters`` - CloudWatch Logs applies each subscription's ``FilterPattern`` (``matching.
  filter_pattern``) and invokes its function with the documented ``awslogs`` payload.
* ``EventBus`` - EventBridge matches each event against every deployed rule's pattern (``matching.
  event_pattern``) and delivers to the rule's targets (Lambda, SNS with the rule's input transformer, a state
  machine run by ``stepfunctions``).
* ``AutoScaling`` - the group's instance lifecycle over time: Pending -> InService ("EC2 Instance Launch
  Successful"), scale-in through the template's termination lifecycle hooks (Terminating:Wait, one "EC2
  Instance-terminate Lifecycle Action" per hook, until each action is completed or times out: ``lifecycle``),
  then terminated ("EC2 Instance Terminate Successful"); group metrics listed in the template's
  ``MetricsCollection``.
* ``Ecs`` - the container instances of the cluster and the DAEMON service's task on each ("ECS Task State
  Change": RUNNING, STOPPED on drain or on a crash, restarted by the scheduler); managed draining completes its
  hook for registered instances while the capacity provider exists.
* ``Traffic`` - the metrics AWS publishes for a running server: EC2 ``NetworkIn`` per group (when the launch
  template enables detailed monitoring) and EFS ``DataReadIOBytes``.
* ``ActivityAgent`` (agent.py) - the launch template's activity agent, its player count per minute.
* ``CloudWatch`` - the alarms of the templates evaluated once a minute (``alarms``) over moto's stored
  datapoints, each visible only after an ingestion delay; on a state change their actions run (a Lambda function
  is invoked with the documented alarm payload if its resource policy allows the alarm, an SNS topic gets the
  notification), and an Auto Scaling policy is executed again every minute the alarm stays in ALARM.
"""

from __future__ import annotations

import bisect
import contextlib
import ipaddress
import itertools
import json
import random
import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from container_manager import awslogs
from container_manager.matching.event_pattern import EventPattern
from container_manager.matching.filter_pattern import FilterPattern
from container_manager.rehearsal import aws_events
from container_manager.rehearsal.agent import ActivityAgent
from container_manager.rehearsal.alarms import AlarmEvaluator, Datapoint, MetricKey
from container_manager.rehearsal.lambdas import Invocation, LambdaService
from container_manager.rehearsal.lifecycle import LifecycleActions
from container_manager.rehearsal.occupancy import Occupancy
from container_manager.rehearsal.stepfunctions import StepFunctions
from container_manager.rehearsal.world import (
    ACCOUNT,
    EDGE_REGION,
    AlarmSpec,
    FunctionSpec,
    GroupSpec,
    Rule,
    ServiceSpec,
    World,
    ZoneSpec,
)
from container_manager.selftest import randomise_case

# Simulated durations (seconds): how long AWS takes, from documentation and experience, not from the templates.
BOOT_SECONDS = 95  # ECS-optimized AMI: instance running and agent registered
TASK_START_SECONDS = 40  # image pull (prefer-cached) and container start
TASK_RESTART_SECONDS = 10  # the service scheduler places a replacement task
DRAIN_NOTICE_SECONDS = 15  # ECS sees the termination hook and sets the container instance DRAINING
DRAIN_SECONDS = 60  # managed draining: task stopped (StopTimeout), ECS completes the hook


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_ids = itertools.count(1)


def _uuid(prefix: int) -> str:
    n = next(_ids)
    return f"{prefix:08x}-{n:04x}-4{n:03x}-8{n:03x}-{n:012x}"


def describe_outcome(invocation: Invocation) -> str:
    if invocation.ok:
        reason = str(invocation.result.get("reason", ""))
        return f"{invocation.action}: {reason}"
    last = invocation.attempts[-1]
    tries = len(invocation.attempts)
    tail = " -> failed-events queue" if invocation.dead_lettered else ""
    return f"FAILED after {tries} attempt(s): {last.error}{tail}"


# --------------------------------------------------------------------------------------------- Route 53 + Logs
class SubscriptionFilters:
    def __init__(self, world: World, lambdas: LambdaService) -> None:
        self.world = world
        self.lambdas = lambdas

    def deliver(self, region: str, log_group: str, stream: str, line: str) -> list[Invocation]:
        invoked = []
        for sub in self.world.subscriptions:
            if sub.region != region or sub.log_group != log_group:
                continue
            passed = FilterPattern.parse(sub.pattern).matches(line)
            self.world.timeline.simulated(
                "logs subscription",
                f"filter {sub.pattern!r} on {log_group}: {'match -> ' + sub.function.short if passed else 'no match'}",
            )
            if not passed:
                continue
            stamp = int(self.world.clock.now.timestamp() * 1000)
            payload = {
                "messageType": "DATA_MESSAGE",
                "owner": ACCOUNT,
                "logGroup": log_group,
                "logStream": stream,
                "subscriptionFilters": [sub.name],
                "logEvents": [{"id": f"{stamp:0>56}", "timestamp": stamp, "message": line}],
            }
            invocation = self.lambdas.invoke(
                sub.function, awslogs.encode(payload), f"subscription {sub.name}"
            )
            invoked.append(invocation)
        return invoked


# Resolvers that randomise the letter case of the names they send to authoritative servers (DNS 0x20): Google
# Public DNS does so for almost all UDP queries since 2023 ("Security benefits: randomize case of query names",
# https://developers.google.com/speed/public-dns/docs/security#randomize_case). Its egress ranges, from the list
# it publishes (https://www.gstatic.com/ipranges/publicdns.json), include these.
DNS_0X20_RESOLVERS = tuple(
    ipaddress.ip_network(n) for n in ("172.253.0.0/16", "74.125.0.0/16", "2404:6800:4000::/48")
)
GOOGLE_PUBLIC_DNS_EGRESS = "172.253.206.35"  # a resolver address of that list, for scenarios


class Route53QueryLog:
    """Route 53 (public zones) logs each query it answers to the zone's query-logging log group.

    The name is logged as the resolver sent it. Route 53's query-logging docs ("Public DNS query logging",
    Route 53 Developer Guide) do not say whether a 0x20-randomised name keeps its case in the log; the worst case
    they allow is that it does, so that is what is written here for queries from ``DNS_0X20_RESOLVERS``."""

    EDGES = ("IAD12", "FRA6", "LHR61", "NRT57")

    def __init__(self, world: World, filters: SubscriptionFilters) -> None:
        self.world = world
        self.filters = filters
        self.lines: list[str] = []  # every line written, for the scenarios' checks
        self._case = random.Random(0x20)  # noqa: S311 - letter case of a simulated query, not a secret

    def zone_for(self, name: str) -> ZoneSpec | None:
        name = name.rstrip(".").lower()
        owners = [z for z in self.world.zones.values() if name == z.name or name.endswith("." + z.name)]
        return max(owners, key=lambda z: len(z.name), default=None)

    def query(self, name: str, qtype: str, resolver_ip: str) -> list[Invocation]:
        if any(ipaddress.ip_address(resolver_ip) in net for net in DNS_0X20_RESOLVERS):
            name = randomise_case(name, self._case)
        zone = self.zone_for(name)
        if zone is None:
            self.world.timeline.simulated("route53", f"{name} {qtype}: no zone of this deployment answers")
            return []
        exists = any(
            r["Name"].rstrip(".").lower() == name.rstrip(".").lower()  # DNS names match case-insensitively
            for r in self.world.client("route53", EDGE_REGION).list_resource_record_sets(
                HostedZoneId=zone.id
            )["ResourceRecordSets"]
        )
        rcode = "NOERROR" if exists else "NXDOMAIN"
        if zone.query_log_group is None:
            self.world.timeline.simulated(
                "route53", f"{name} {qtype} {rcode} answered by zone {zone.name}: it has no query logging"
            )
            return []
        line = aws_events.query_log_line(
            name,
            qtype,
            response=rcode,
            edge=self.EDGES[len(name) % len(self.EDGES)],
            resolver_ip=resolver_ip,
            zone_id=zone.id,
            time=iso_ms(self.world.clock.now),
        )
        stream = f"{zone.id}/{self.EDGES[len(name) % len(self.EDGES)]}"
        logs = self.world.client("logs", EDGE_REGION)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=zone.query_log_group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=zone.query_log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(self.world.clock.now.timestamp() * 1000), "message": line}],
        )
        self.lines.append(line)
        self.world.timeline.simulated("route53 query log", line)
        return self.filters.deliver(EDGE_REGION, zone.query_log_group, stream, line)


# ------------------------------------------------------------------------------------------------- EventBridge
@dataclass
class Notification:
    at: datetime
    topic: str
    message: str
    origin: str


class EventBus:
    def __init__(self, world: World, lambdas: LambdaService) -> None:
        self.world = world
        self.lambdas = lambdas
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.holding: set[str] = set()
        self.notifications: list[Notification] = []
        self.delivered: list[tuple[str, dict[str, Any]]] = []  # (rule name, event)
        self._compiled: dict[int, EventPattern] = {}
        self.stepfunctions: StepFunctions | None = None

    def _pattern(self, rule: Rule) -> EventPattern:
        key = id(rule)
        if key not in self._compiled:
            self._compiled[key] = EventPattern(rule.pattern)
        return self._compiled[key]

    def put(self, region: str, event: dict[str, Any]) -> None:
        detail_type = str(event.get("detail-type"))
        if detail_type in self.holding:
            self.held.append((region, event))
            self.world.timeline.simulated(
                "eventbridge", f'"{detail_type}" delivery delayed (held by the scenario)'
            )
            return
        self._route(region, event)

    def release(self, detail_type: str) -> None:
        self.holding.discard(detail_type)
        keep = []
        for region, event in self.held:
            if event.get("detail-type") == detail_type:
                self.world.timeline.simulated("eventbridge", f'"{detail_type}" delivered late')
                self._route(region, event)
            else:
                keep.append((region, event))
        self.held = keep

    def _route(self, region: str, event: dict[str, Any]) -> None:
        matched = [r for r in self.world.rules if r.region == region and self._pattern(r).matches(event)]
        subject = event.get("detail", {}).get("EC2InstanceId") or event.get("detail", {}).get(
            "lastStatus", ""
        )
        names = ", ".join(r.origin.split(": ")[-1] for r in matched) or "no rule"
        self.world.timeline.simulated(
            "eventbridge", f'"{event.get("detail-type")}" ({subject}) matches: {names}'
        )
        for rule in matched:
            self.delivered.append((rule.name, event))
            for target in rule.targets:
                if target.function is not None:
                    self.lambdas.invoke(target.function, event, f"rule {rule.name}")
                elif target.arn in self.world.state_machines and self.stepfunctions is not None:
                    self.stepfunctions.start_from_rule(target, event, f"rule {rule.name}")
                elif target.arn in self.world.topics:
                    message = self._transform(event, target.input_paths, target.input_template)
                    self.publish(target.arn, message, f"rule {rule.origin}")
                else:
                    self.world.timeline.simulated("eventbridge", f"target {target.arn} is not emulated")

    @staticmethod
    def _transform(event: dict[str, Any], paths: Any, template: str | None) -> str:
        if template is None:
            return json.dumps(event)
        values = {}
        for name, path in dict(paths).items():
            value: Any = event
            for part in str(path).removeprefix("$.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            values[name] = "" if value is None else str(value)
        text = re.sub(r"<([A-Za-z0-9_.-]+)>", lambda m: values.get(m.group(1), m.group(0)), template)
        return text[1:-1] if text.startswith('"') and text.endswith('"') else text

    def publish(self, topic: str, message: str, origin: str) -> None:
        self.world.client("sns", self.world.topics[topic]).publish(TopicArn=topic, Message=message)
        self.notifications.append(Notification(self.world.clock.now, topic, message, origin))
        self.world.timeline.simulated("sns", f"{topic.rsplit(':', 1)[-1]} <- {message[:110]}")


# ------------------------------------------------------------------------------------------------ Auto Scaling
@dataclass
class Tracked:
    instance_id: str
    group: GroupSpec
    phase: str  # Pending | InService | Terminating:Wait | Terminated
    launched_at: datetime
    ip: str | None = None
    terminating_at: datetime | None = None
    terminated_at: datetime | None = None  # billed from launched_at to here


class AutoScaling:
    """Plays the Auto Scaling service over moto's groups: moto creates the instance on a capacity increase; the
    lifecycle (Pending, hooks, draining, termination) and its events come from here."""

    def __init__(self, world: World, bus: EventBus, ecs: Ecs) -> None:
        self.world = world
        self.bus = bus
        self.ecs = ecs
        self.instances: dict[str, Tracked] = {}
        self.scale_ins: list[tuple[datetime, str]] = []  # (when, group): capacity went to 0 with instances
        self.lifecycle = LifecycleActions(world)
        # Instances alive per group name, and per EFS file system the instances that mount it (occupancy.py).
        self.occupancy = Occupancy()

    def _moto_group(self, group: GroupSpec) -> Any:
        from moto.autoscaling.models import autoscaling_backends

        return autoscaling_backends[ACCOUNT][group.region].autoscaling_groups[group.name]

    def active(self, group: GroupSpec) -> list[Tracked]:
        return [
            t for t in self.instances.values() if t.group is group and t.phase in ("Pending", "InService")
        ]

    def reconcile(self) -> None:
        for group in self.world.groups.values():
            moto_group = self._moto_group(group)
            for state in moto_group.instance_states:
                iid = state.instance.id
                if iid not in self.instances:
                    self._launched(group, state)
            desired = int(moto_group.desired_capacity or 0)
            active = self.active(group)
            if len(active) < desired:
                # Capacity counts Pending and InService only: terminating instances "are detached from the Auto
                # Scaling group" (EC2 Auto Scaling user guide, "Amazon EC2 Auto Scaling instance lifecycle"), and a
                # replacement launches while one terminates ("View the reason for health check failures"). The
                # group fills the gap itself, whatever moto counted when desired changed.
                before = {s.instance.id for s in moto_group.instance_states}
                moto_group.replace_autoscaling_group_instances(
                    desired - len(active), moto_group.get_propagated_tags()
                )
                for state in moto_group.instance_states:
                    if state.instance.id not in before:
                        self._launched(group, state)
            elif len(active) > desired:
                # Default termination policy, simplified: the newest instance first, Pending before InService.
                victims = sorted(active, key=lambda t: (t.phase != "Pending", t.launched_at), reverse=False)
                for tracked in victims[: len(active) - desired]:
                    self._scale_in(tracked)

    def _launched(self, group: GroupSpec, state: Any) -> None:
        iid = state.instance.id
        # moto puts new instances InService at once, and scales them in itself; the lifecycle is ours.
        state.lifecycle_state = "Pending"
        state.protected_from_scale_in = True
        tracked = Tracked(
            iid, group, "Pending", self.world.clock.now, self.world.instance_ip(group.region, iid)
        )
        self.instances[iid] = tracked
        self.occupancy.enter(group.name, iid, self.world.clock.now)
        for fs, region in self.world.file_systems:
            if region == group.region:
                self.occupancy.enter(fs, iid, self.world.clock.now)
        self.world.timeline.simulated(
            "autoscaling", f"{group.name}: launching {iid} (Pending), public IP {tracked.ip or 'none'}"
        )
        self.world.clock.after(BOOT_SECONDS, lambda: self._in_service(tracked), f"{iid} in service")

    def _in_service(self, tracked: Tracked) -> None:
        if tracked.phase != "Pending":
            return
        tracked.phase = "InService"
        self._set_moto_state(tracked, "InService")
        self.world.timeline.simulated("autoscaling", f"{tracked.group.name}: {tracked.instance_id} InService")
        self._emit(tracked, "EC2 Instance Launch Successful")
        self.ecs.instance_joined(tracked)

    def _scale_in(self, tracked: Tracked) -> None:
        group = tracked.group
        self.scale_ins.append((self.world.clock.now, group.name))
        tracked.terminating_at = self.world.clock.now
        self.ecs.instance_draining(tracked)
        if group.termination_hooks:
            tracked.phase = "Terminating:Wait"
            self._set_moto_state(tracked, "Terminating:Wait")
            self.world.timeline.simulated(
                "autoscaling",
                f"{group.name}: {tracked.instance_id} Terminating:Wait (lifecycle hook "
                f"{', '.join(group.termination_hooks)})",
            )
            for action in self.lifecycle.begin(group, tracked.instance_id, lambda: self._terminated(tracked)):
                self._emit(tracked, "EC2 Instance-terminate Lifecycle Action", action.hook.name, action.token)
        else:
            self.world.timeline.simulated(
                "autoscaling",
                f"{group.name}: {tracked.instance_id} terminating (no termination lifecycle hook)",
            )
            self._terminated(tracked)

    def _terminated(self, tracked: Tracked) -> None:
        tracked.phase = "Terminated"
        tracked.terminated_at = self.world.clock.now
        moto_group = self._moto_group(tracked.group)
        moto_group.instance_states = [
            s for s in moto_group.instance_states if s.instance.id != tracked.instance_id
        ]
        self.world.client("ec2", tracked.group.region).terminate_instances(InstanceIds=[tracked.instance_id])
        self.world.timeline.simulated(
            "autoscaling", f"{tracked.group.name}: {tracked.instance_id} terminated"
        )
        self._emit(tracked, "EC2 Instance Terminate Successful")

    def _set_moto_state(self, tracked: Tracked, state: str) -> None:
        for member in self._moto_group(tracked.group).instance_states:
            if member.instance.id == tracked.instance_id:
                member.lifecycle_state = state

    def terminate_outside_hook(self, tracked: Tracked) -> None:
        """EC2 terminates the instance directly (an admin, the console): no termination hook runs. The group's
        health check finds it terminated and takes it out ("EC2 Instance Terminate Successful"), then replaces it
        to keep the desired capacity (EC2 Auto Scaling user guide, "Health checks for instances in an Auto
        Scaling group"); its task dies with it, saving nothing."""
        self.world.timeline.simulated("ec2", f"{tracked.instance_id} terminated outside Auto Scaling")
        self.ecs.tasks.pop(tracked.instance_id, None)
        self._terminated(tracked)

    def _emit(
        self, tracked: Tracked, detail_type: str, hook: str | None = None, token: str | None = None
    ) -> None:
        if detail_type == "EC2 Instance Terminate Successful":
            self.occupancy.leave(tracked.instance_id, self.world.clock.now)  # EC2 terminated it: mounts gone
        event = aws_events.asg_event(
            detail_type,
            group_name=tracked.group.name,
            instance_id=tracked.instance_id,
            region=tracked.group.region,
            account=ACCOUNT,
            time=iso(self.world.clock.now),
            event_id=_uuid(0xA5),
        )
        event["resources"] = [
            tracked.group.arn if r.startswith("arn:aws:autoscaling") else r for r in event["resources"]
        ]
        if hook is not None:  # a lifecycle action: its hook and token
            event["detail"].update(LifecycleHookName=hook, LifecycleActionToken=token)
        self.bus.put(tracked.group.region, event)

    def publish_group_metrics(self) -> None:
        for group in self.world.groups.values():
            if "GroupInServiceInstances" in group.metrics_collection:
                in_service = sum(1 for t in self.active(group) if t.phase == "InService")
                _put(
                    self.world,
                    group.region,
                    "AWS/AutoScaling",
                    "GroupInServiceInstances",
                    {"AutoScalingGroupName": group.name},
                    float(in_service),
                    None,
                )


# ------------------------------------------------------------------------------------------------------- ECS
@dataclass
class Task:
    task_id: str
    instance: Tracked
    status: str = "PENDING"


class Ecs:
    """The DAEMON service of each cluster: one task per active container instance, replaced when it stops, none
    on a DRAINING instance."""

    def __init__(self, world: World, bus: EventBus) -> None:
        self.world = world
        self.bus = bus
        self.tasks: dict[str, Task] = {}  # instance id -> current task
        self.registered: set[str] = set()  # instances whose agent joined the service's cluster
        self.draining: set[str] = set()  # container instances ECS has set DRAINING
        self.mount_failures: int = 0  # how many upcoming instances cannot mount their volumes
        self.crash_next: int = 0  # how many upcoming task starts crash at once (a crash loop)
        self.crash_exit_code: int = 1

    def _daemon(self) -> bool:
        return any(s.scheduling == "DAEMON" for s in self.world.services)

    def instance_joined(self, instance: Tracked) -> None:
        if self.mount_failures > 0:
            # infra/compute.yaml's user data: a volume that cannot be mounted makes the agent join
            # "<cluster>-volumes-not-mounted" instead, so the game never starts on an empty directory.
            self.mount_failures -= 1
            self.world.timeline.simulated(
                "ecs",
                f"{instance.instance_id}: volumes not mounted, its agent joins another cluster: "
                "not a container instance of the service's cluster",
            )
            return
        self.registered.add(instance.instance_id)
        if self._daemon():
            self.world.clock.after(TASK_START_SECONDS, lambda: self._start(instance), "task start")

    def _start(self, instance: Tracked) -> None:
        if instance.phase not in ("InService", "Terminating:Wait") or instance.instance_id in self.draining:
            return
        if not self._daemon():  # the service was deleted meanwhile
            return
        task = Task(f"{next(_ids):032x}"[-32:], instance, "RUNNING")
        self.tasks[instance.instance_id] = task
        self._emit(task, "running", (None,))
        if self.crash_next > 0:
            self.world.clock.after(3, lambda: self._crash_again(task), "container exits")

    def _crash_again(self, task: Task) -> None:
        if self.crash_next > 0 and task.status == "RUNNING":
            self.crash(task.instance.instance_id, "essential_container_exited", self.crash_exit_code)

    def crash_loop(self, instance_id: str, times: int, exit_code: int) -> bool:
        """The running task's essential container exits ``exit_code``, and so does each replacement, ``times``
        times in all."""
        self.crash_next, self.crash_exit_code = times, exit_code
        return self.crash(instance_id, "essential_container_exited", exit_code)

    def running(self, instance_id: str) -> Task | None:
        task = self.tasks.get(instance_id)
        return task if task is not None and task.status == "RUNNING" else None

    def crash(self, instance_id: str, kind: str, exit_code: int) -> bool:
        task = self.running(instance_id)
        if task is None:
            return False
        task.status = "STOPPED"
        self.crash_next = max(0, self.crash_next - 1)
        self._emit(task, kind, (exit_code,))
        self.world.clock.after(TASK_RESTART_SECONDS, lambda: self._start(task.instance), "task restart")
        return True

    def instance_draining(self, instance: Tracked) -> None:
        """Managed draining: ECS notices the hook, sets the instance DRAINING, stops its task (SIGTERM, the
        world saves, exit 0), then completes its hook. ECS drains only what it knows: a container instance of
        the cluster, while the capacity provider that installed the hook exists ("Safely stop Amazon ECS
        workloads running on EC2 instances",
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html)."""
        if instance.instance_id not in self.registered:
            self.world.timeline.simulated(
                "ecs", f"{instance.instance_id} is no container instance of the cluster: nothing drains it"
            )
            return

        def drain() -> None:
            self.draining.add(instance.instance_id)
            task = self.running(instance.instance_id)
            if task is not None:
                task.status = "STOPPED"
                self._emit(task, "service_scheduler_scale_in", (0,))

        self.world.clock.after(DRAIN_NOTICE_SECONDS, drain, "instance draining")
        self.world.clock.after(DRAIN_SECONDS, lambda: self._drained(instance), "instance drained")

    def _drained(self, instance: Tracked) -> None:
        group = instance.group
        for hook in group.hooks.values():
            provider = hook.managed_by
            if provider is None:
                continue
            if self.world.capacity_providers.get(provider) != group.name:
                self.world.timeline.simulated(
                    "ecs", f"capacity provider {provider} is gone: nobody completes {hook.name}"
                )
                continue
            with contextlib.suppress(ClientError):  # no active action left: it ended another way
                self.world.client("autoscaling", group.region).complete_lifecycle_action(
                    AutoScalingGroupName=group.name,
                    LifecycleHookName=hook.name,
                    InstanceId=instance.instance_id,
                    LifecycleActionResult="CONTINUE",
                )

    def service_deleted(self, service: ServiceSpec) -> None:
        """DeleteService: the scheduler stops the service's tasks (SIGTERM, the world saves) and places no more."""
        for task in self.tasks.values():
            if task.status == "RUNNING":
                task.status = "STOPPED"
                self._emit(task, "service_scheduler_scale_in", (0,))
        self.world.services.remove(service)

    def _emit(self, task: Task, kind: str, exit_codes: tuple[int | None, ...]) -> None:
        service = next(s for s in self.world.services)
        event = aws_events.ecs_task_event(
            kind,
            cluster_arn=service.cluster_arn,
            exit_codes=exit_codes,
            time=iso(self.world.clock.now),
            event_id=_uuid(0xEC),
            task_id=task.task_id,
            container_instance_id=f"{abs(hash(task.instance.instance_id)):032x}"[:32],
        )
        self.world.timeline.simulated(
            "ecs",
            f"task {task.task_id[-8:]} on {task.instance.instance_id}: {event['detail']['lastStatus']}"
            + (f" ({event['detail'].get('stopCode')}, exit {exit_codes[0]})" if kind != "running" else ""),
        )
        self.bus.put(service.region, event)


# --------------------------------------------------------------------------------------------- metrics, alarms
def _put(
    world: World, region: str, namespace: str, name: str, dims: dict[str, str], value: float, unit: str | None
) -> None:
    """A datapoint AWS publishes for the minute that just ended (stamped inside that minute)."""
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
        "Value": value,
        "Timestamp": world.clock.now - timedelta(seconds=30),
    }
    if unit:
        datum["Unit"] = unit
    world.client("cloudwatch", region).put_metric_data(Namespace=namespace, MetricData=[datum])


class Traffic:
    """Per-minute metrics of a running server: EC2 NetworkIn by group, EFS reads."""

    EFS_READ_BYTES_PER_MINUTE = 48_000.0  # the server reading its world; subtracted by the idle alarm

    def __init__(self, world: World, autoscaling: AutoScaling) -> None:
        self.world = world
        self.autoscaling = autoscaling
        self.player_bytes_per_second = 0.0

    def publish(self) -> None:
        for group in self.world.groups.values():
            running = [t for t in self.autoscaling.active(group) if t.phase == "InService"]
            if not running:
                continue
            efs = self.EFS_READ_BYTES_PER_MINUTE
            if group.detailed_monitoring:
                netin = self.player_bytes_per_second * 60 + efs + 3_000.0  # players, NFS reads, agents
                _put(
                    self.world,
                    group.region,
                    "AWS/EC2",
                    "NetworkIn",
                    {"AutoScalingGroupName": group.name},
                    netin,
                    "Bytes",
                )
            for fs, region in self.world.file_systems:
                if region == group.region:
                    _put(self.world, region, "AWS/EFS", "DataReadIOBytes", {"FileSystemId": fs}, efs, "Bytes")


class MetricStore:
    """moto's stored datapoints, indexed by metric identity for the alarm evaluator, each visible to alarms only
    after CloudWatch's ingestion delay.

    The delay: AWS documents none as a bound, only that datapoints can take time to become available and that
    alarms evaluate the latest complete periods ("Evaluating an alarm", CloudWatch User Guide,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html). The rehearsal plays
    1-3 minutes per datapoint (spread deterministically), and ``forced_delay`` lets a scenario play the slowest
    case for what is put from then on."""

    DELAY_SECONDS = (60, 180)

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = list(regions)
        self.forced_delay: float | None = None
        self._seen: dict[str, int] = defaultdict(int)
        self._index: dict[MetricKey, list[Datapoint]] = defaultdict(list)
        self._arriving: list[tuple[float, int, MetricKey, Datapoint]] = []  # (visible at, order, key, point)
        self._order = itertools.count()

    def delay(self, key: MetricKey, stamp: float) -> float:
        if self.forced_delay is not None:
            return self.forced_delay
        low, high = self.DELAY_SECONDS
        return low + zlib.crc32(f"{key}@{stamp}".encode()) % (high - low + 1)

    def refresh(self, now: datetime | None = None) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        arrived = (now or datetime.now(UTC)).timestamp()
        for region in self.regions:
            data = cloudwatch_backends[ACCOUNT][region].metric_data
            for datum in data[self._seen[region] :]:
                if not hasattr(datum, "value"):
                    continue
                key = MetricKey(
                    datum.namespace,
                    datum.name,
                    frozenset((str(d.name), str(d.value)) for d in datum.dimensions),
                )
                stamp = datum.timestamp
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=UTC)
                point = Datapoint(stamp.timestamp(), float(datum.value), datum.unit)
                visible = arrived + self.delay(key, point.timestamp)
                bisect.insort(self._arriving, (visible, next(self._order), key, point))
            self._seen[region] = len(data)
        if now is None:  # no clock: everything is visible (unit tests of the store)
            due, self._arriving = self._arriving, []
        else:
            cut = bisect.bisect_right(self._arriving, (arrived, float("inf")), key=lambda a: (a[0], a[1]))
            due, self._arriving = self._arriving[:cut], self._arriving[cut:]
        for _, _, key, point in due:
            bisect.insort(self._index[key], point, key=lambda p: p.timestamp)

    def datapoints(self, key: MetricKey, start: float, end: float) -> Sequence[Datapoint]:
        points = self._index.get(key, [])
        low = bisect.bisect_left(points, start, key=lambda p: p.timestamp)
        high = bisect.bisect_left(points, end, key=lambda p: p.timestamp)
        return points[low:high]


@dataclass
class AlarmAction:
    at: datetime
    alarm: str
    state: str
    target: str
    repeated: bool = False  # an Auto Scaling action run again while the alarm stays in ALARM


# Lambda alarm actions: the principal a function's resource policy must name ("Lambda alarm actions",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-actions-Lambda.html).
ALARM_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"


def cloudwatch_time(moment: datetime) -> str:
    """The alarm payload's timestamp format, e.g. ``2023-08-04T12:36:15.490+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class CloudWatch:
    """Alarm evaluation once a minute, and the alarm actions as CloudWatch runs them ("Alarm actions",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html): "Except for Auto Scaling
    actions, the actions happen only on state transitions"; an Auto Scaling action is invoked again every minute
    the alarm remains in ALARM."""

    def __init__(self, world: World, bus: EventBus, store: MetricStore, lambdas: LambdaService) -> None:
        self.world = world
        self.bus = bus
        self.store = store
        self.lambdas = lambdas
        self.evaluators = {a.logical: AlarmEvaluator(a.definition) for a in world.alarms}
        self.actions: list[AlarmAction] = []

    def evaluate(self) -> None:
        self.store.refresh(self.world.clock.now)
        for spec in self.world.alarms:
            evaluator = self.evaluators[spec.logical]
            previous = evaluator.state
            result = evaluator.evaluate(self.store, self.world.clock.now)
            if result.changed:
                self.world.timeline.simulated(
                    "cloudwatch alarm",
                    f"{spec.definition.name} -> {result.state}: {result.describe(spec.definition)}",
                )
                for target in result.actions:
                    self._act(spec, result.state, previous, target, result.describe(spec.definition))
            elif result.state == "ALARM":
                for target in spec.definition.alarm_actions:
                    if target in self.world.policies:
                        self._act(spec, result.state, previous, target, "still in ALARM", repeated=True)

    def _act(
        self,
        spec: AlarmSpec,
        state: str,
        previous: str,
        target: str,
        reason: str,
        repeated: bool = False,
    ) -> None:
        alarm = spec.definition.name
        self.actions.append(AlarmAction(self.world.clock.now, alarm, state, target, repeated))
        function = next((f for f in self.world.functions.values() if f.arn == target), None)
        if target in self.world.policies:
            group, policy, region = self.world.policies[target]
            again = " again (Auto Scaling actions repeat while in ALARM)" if repeated else ""
            self.world.timeline.simulated(
                "cloudwatch alarm", f"{alarm} executes scaling policy {policy}{again}"
            )
            self.world.client("autoscaling", region).execute_policy(
                AutoScalingGroupName=group, PolicyName=policy, HonorCooldown=False
            )
        elif target in self.world.topics:
            self.bus.publish(target, f"ALARM: {alarm} is now {state}", f"alarm {alarm}")
        elif function is not None:
            self._invoke(spec, function, state, previous, reason)
        else:
            self.world.timeline.simulated(
                "cloudwatch alarm", f"{alarm}: action target {target} is not deployed"
            )

    def _invoke(
        self, spec: AlarmSpec, function: FunctionSpec, state: str, previous: str, reason: str
    ) -> None:
        alarm = spec.definition.name
        arn = f"arn:aws:cloudwatch:{spec.region}:{ACCOUNT}:alarm:{alarm}"
        if not any(p.allows(function, ALARM_PRINCIPAL, arn) for p in self.world.lambda_permissions):
            # No resource policy lets the alarm in: CloudWatch's invocation is denied and nothing runs.
            self.world.timeline.simulated(
                "cloudwatch alarm",
                f"{alarm}: invoking {function.short} DENIED - no permission for {ALARM_PRINCIPAL} from {arn}",
            )
            return
        stamp = cloudwatch_time(self.world.clock.now)
        payload = {
            "source": "aws.cloudwatch",
            "alarmArn": arn,
            "accountId": ACCOUNT,
            "time": stamp,
            "region": spec.region,
            "alarmData": {
                "alarmName": alarm,
                "state": {"value": state, "reason": reason, "timestamp": stamp},
                "previousState": {"value": previous, "reason": "", "timestamp": stamp},
                "configuration": {"description": "", "metrics": []},
            },
        }
        self.world.timeline.simulated("cloudwatch alarm", f"{alarm} invokes {function.short} (Lambda action)")
        self.lambdas.invoke(function, payload, f"alarm {alarm}")

    def alerts(self, since: datetime | None = None) -> list[AlarmAction]:
        return [a for a in self.actions if a.target in self.world.topics and (since is None or a.at >= since)]


@dataclass
class Cloud:
    """All simulated parts, wired together; ``tick`` runs once per simulated minute."""

    world: World
    lambdas: LambdaService
    filters: SubscriptionFilters
    route53: Route53QueryLog
    bus: EventBus
    ecs: Ecs
    autoscaling: AutoScaling
    traffic: Traffic
    cloudwatch: CloudWatch
    ticks: int = field(default=0)
    agent: ActivityAgent | None = None  # the user data's activity agent on each instance (agent.py)
    stepfunctions: StepFunctions | None = None  # the state machines' executions (stepfunctions.py)

    @classmethod
    def build(cls, world: World) -> Cloud:
        lambdas = LambdaService(world)
        filters = SubscriptionFilters(world, lambdas)
        bus = EventBus(world, lambdas)
        ecs = Ecs(world, bus)
        autoscaling = AutoScaling(world, bus, ecs)
        regions = sorted(
            {a.region for a in world.alarms} | {g.region for g in world.groups.values()} | {EDGE_REGION}
        )
        cloud = cls(
            world=world,
            lambdas=lambdas,
            filters=filters,
            route53=Route53QueryLog(world, filters),
            bus=bus,
            ecs=ecs,
            autoscaling=autoscaling,
            traffic=Traffic(world, autoscaling),
            cloudwatch=CloudWatch(world, bus, MetricStore(regions), lambdas),
        )
        lambdas._on_invoked = cloud._after_invocation
        cloud.agent = ActivityAgent(world, autoscaling)
        cloud.stepfunctions = bus.stepfunctions = StepFunctions(world)
        return cloud

    def _after_invocation(self, invocation: Invocation) -> None:
        self.world.timeline.real(
            f"λ {invocation.function.short}", describe_outcome(invocation), ok=invocation.ok
        )
        self.autoscaling.reconcile()

    def tick(self, now: datetime) -> None:
        """Once a minute: AWS's metrics for the minute that ended, then the alarms."""
        self.ticks += 1
        self.autoscaling.reconcile()
        self.traffic.publish()
        if self.agent is not None:
            self.agent.publish()
        self.autoscaling.publish_group_metrics()
        self.cloudwatch.evaluate()
        self.autoscaling.reconcile()

    def advance(self, seconds: float) -> None:
        self.world.clock.advance(seconds, self.tick)
        self.autoscaling.reconcile()
