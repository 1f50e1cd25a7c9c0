"""`cm timeline ID`: the last start (and the stop after it), reconstructed from AWS's own records.

Each phase is read from the service that recorded it - never from our own clocks - so the waterfall measures
what a player waited for. Records AWS no longer keeps become notes naming the retention, not errors:

* scaling activities: six weeks ("all the activities from the past six weeks", DescribeScalingActivities,
  EC2 Auto Scaling API reference);
* stopped ECS tasks: at least an hour after they stop, then gone ("Amazon ECS stopped task errors", ECS
  developer guide); container instances likewise once deregistered;
* a terminated EC2 instance: visible for about an hour ("Terminate Amazon EC2 instances", EC2 user guide);
* alarm history: two weeks (CloudWatch CLI reference, mon-describe-alarm-history);
* 1-minute metric datapoints (the activity agent's player count): 15 days (CloudWatch concepts, "Metrics
  retention");
* log lines: the log group's retention - query log QueryLogRetentionDays (3 days by default, infra/dns.yaml),
  the functions' logs LogRetentionDays (14 by default, template.yaml).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from container_manager.aws import Aws
from container_manager.deployment import INSTANCE_STATE_CHANGE, START_SYSTEM, Deployment
from container_manager.errors import CmError, call
from container_manager.names import EDGE_REGION
from container_manager.waterfall import SpanBuilder, Waterfall, waterfall

# infra/watchdog.yaml PlayersMetricNamespacePrefix / PlayersMetricName defaults (a test keeps them equal).
PLAYERS_NAMESPACE_PREFIX = "ContainerManager/Agent"
PLAYERS_METRIC = "Players"

# Phase names, shared with the rehearsal's simulated waterfall (rehearsal/rehearsal_timeline.py).
QUERY_TO_DECISION = "DNS query -> start-system"
DECISION_TO_LAUNCH = "desired 1 -> launch"
BOOT = "instance boot -> InService"
DNS_TO_INSTANCE = "DNS record -> instance"

RETENTION = {
    "activities": "Auto Scaling keeps scaling activities for six weeks (DescribeScalingActivities)",
    "task": "ECS shows a stopped task for about an hour after it stops (ECS guide, 'stopped task errors')",
    "container_instance": "ECS forgets a deregistered container instance soon after the instance is gone",
    "instance": "EC2 shows a terminated instance for about an hour (EC2 guide, 'Terminate instances')",
    "alarm": "CloudWatch keeps alarm history for two weeks (mon-describe-alarm-history)",
    "metric": "CloudWatch keeps 1-minute datapoints for 15 days ('Metrics retention')",
    "query_log": "the query log keeps QueryLogRetentionDays (default 3) days of lines",
    "function_log": "function logs keep LogRetentionDays (default 14) days",
}
_AT = re.compile(r"^At (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
_ALARM = re.compile(r"monitor alarm (\S+) in state ALARM")
_INSTANCE = re.compile(r"\b(i-[0-9a-f]{8,17})\b")


@dataclass(frozen=True)
class Activity:
    """One Auto Scaling activity, as DescribeScalingActivities returns it."""

    kind: str  # launch | terminate
    instance_id: str
    start: datetime
    end: datetime | None
    status: str
    cause: str

    @property
    def requested(self) -> datetime | None:
        """When the desired capacity changed: the cause starts 'At <time> a user request ... / a monitor alarm'."""
        found = _AT.match(self.cause)
        return _parse(found.group(1)) if found else None

    @property
    def alarm(self) -> str | None:
        found = _ALARM.search(self.cause)
        return found.group(1) if found else None


@dataclass(frozen=True)
class Timelines:
    start: Waterfall
    stop: Waterfall | None
    instance_id: str | None


def activities(clients: Aws, deployment: Deployment) -> list[Activity]:
    """The group's recent launch/terminate activities, newest first."""
    api = clients.autoscaling(deployment.region)
    raw = call(
        "reading the scaling activities",
        deployment.region,
        lambda: api.describe_scaling_activities(AutoScalingGroupName=deployment.name, MaxRecords=100)[
            "Activities"
        ],
    )
    found = []
    for item in raw:
        description = item.get("Description", "")
        match = _INSTANCE.search(description)
        if match is None:
            continue
        kind = "launch" if description.startswith("Launching") else "terminate"
        if not description.startswith(("Launching", "Terminating")):
            continue
        found.append(
            Activity(
                kind,
                match.group(1),
                _utc(item["StartTime"]),
                _utc(item["EndTime"]) if item.get("EndTime") else None,
                str(item.get("StatusCode", "")),
                str(item.get("Cause", "")),
            )
        )
    found.sort(key=lambda a: a.start, reverse=True)
    return found


def collect(
    clients: Aws, deployment: Deployment, *, now: datetime, since: datetime | None = None
) -> Timelines:
    """The last start (launched at or after ``since``) and the stop that followed it, if any."""
    server = deployment.server_name
    recent = activities(clients, deployment)
    launch = next(
        (
            a
            for a in recent
            if a.kind == "launch" and (since is None or a.start >= since - timedelta(minutes=1))
        ),
        None,
    )
    if launch is None:
        empty = waterfall(
            f"last start of {server}: no launch found",
            [],
            [f"no launch activity of group {deployment.name}: {RETENTION['activities']}"],
        )
        return Timelines(empty, None, None)
    terminate = next(
        (
            a
            for a in reversed(recent)
            if a.kind == "terminate" and a.instance_id == launch.instance_id and a.start >= launch.start
        ),
        None,
    )
    reader = _Reader(clients, deployment, launch, terminate, now)
    return Timelines(reader.start(), reader.stop() if terminate else None, launch.instance_id)


class _Reader:
    def __init__(
        self,
        clients: Aws,
        deployment: Deployment,
        launch: Activity,
        terminate: Activity | None,
        now: datetime,
    ) -> None:
        self.clients = clients
        self.d = deployment
        self.launch = launch
        self.terminate = terminate
        self.now = now
        self._task: dict[str, Any] | None = None
        self._task_read = False
        self._dns: list[tuple[datetime, dict[str, Any]]] | None = None

    # ------------------------------------------------------------------------------------------------ start
    def start(self) -> Waterfall:
        out = SpanBuilder()
        launch = self.launch
        decision = self._start_decision(out)
        query = self._query(out, decision[0] if decision else launch.requested or launch.start)
        out.add(
            QUERY_TO_DECISION,
            query,
            decision[0] if decision else None,
            "query log, start-system log",
            "" if decision else "no 'started' line in start-system's log (or the start came from `cm start`)",
        )
        requested = launch.requested or (decision[0] if decision else None)
        out.add(DECISION_TO_LAUNCH, requested, launch.start, "scaling activity")
        out.add(BOOT, launch.start, launch.end, "scaling activity", launch.status)
        launched_at, registered = self._instance(out)
        out.add("ECS agent registers", launched_at, registered, "EC2, ECS container instance")
        task = self._read_task(out)
        if task:
            out.add("task placed", registered, task.get("createdAt") and _utc(task["createdAt"]), "ECS task")
            out.add("image pull", _opt(task, "pullStartedAt"), _opt(task, "pullStoppedAt"), "ECS task")
            out.add(
                "container start",
                _opt(task, "pullStoppedAt") or _opt(task, "createdAt"),
                _opt(task, "startedAt"),
                "ECS task",
            )
        dns = self._dns_change(out, after=launch.start, placeholder=False)
        out.add(DNS_TO_INSTANCE, launch.end, dns, "instance-state-change log, Route 53")
        ready = _opt(task, "startedAt") if task else launch.end
        first = self._first_player(out, ready)
        if first is not None:
            out.add(
                "first player",
                ready,
                first,
                "activity agent metric",
                "minute resolution; not in the total",
                in_total=False,
            )
        title = (
            f"start of {self.d.server_name} at {launch.start:%Y-%m-%d %H:%M:%S} UTC ({launch.instance_id})"
        )
        return waterfall(title, out.spans, out.notes)

    def _start_decision(self, out: SpanBuilder) -> tuple[datetime, dict[str, Any]] | None:
        anchor = self.launch.requested or self.launch.start
        lines = self._function_log(
            out, START_SYSTEM, anchor - timedelta(minutes=10), anchor + timedelta(minutes=1)
        )
        started = [
            (at, line)
            for at, line in lines
            if line.get("action") == "started" and at <= anchor + timedelta(seconds=30)
        ]
        return started[-1] if started else None

    def _query(self, out: SpanBuilder, before: datetime) -> datetime | None:
        logs = self.clients.logs(EDGE_REGION)
        try:
            events = call(
                "reading the query log",
                EDGE_REGION,
                lambda: logs.filter_log_events(
                    logGroupName=self.d.query_log_group,
                    filterPattern=self.d.start_filter_pattern,
                    startTime=_ms(before - timedelta(minutes=5)),
                    endTime=_ms(before + timedelta(seconds=1)),
                )["events"],
            )
        except CmError as error:  # a missing log group is a missing record, not a failed command
            if not _not_found(error):
                raise
            events = []
        # The filter matches the type only (names may come in DNS-0x20 case): keep the server's own name.
        events = [e for e in events if _query_name(str(e.get("message", ""))) == self.d.server_name]
        if not events:
            out.missing(
                f"no query-log line for {self.d.server_name} A before the start: {RETENTION['query_log']}"
            )
            return None
        line = str(events[-1]["message"]).split()
        return _parse(line[1]) if len(line) > 1 else _from_ms(int(events[-1]["timestamp"]))

    def _instance(self, out: SpanBuilder) -> tuple[datetime | None, datetime | None]:
        region = self.d.region
        launched: datetime | None = None
        try:
            reservations = self.clients.ec2(region).describe_instances(InstanceIds=[self.launch.instance_id])[
                "Reservations"
            ]
            for reservation in reservations:
                for instance in reservation["Instances"]:
                    launched = _utc(instance["LaunchTime"]) if instance.get("LaunchTime") else None
        except ClientError as error:
            if "NotFound" not in error.response.get("Error", {}).get("Code", ""):
                raise
        if launched is None:
            out.missing(f"instance {self.launch.instance_id}: {RETENTION['instance']}")
        registered = None
        ecs = self.clients.ecs(region)
        try:
            arns = ecs.list_container_instances(cluster=self.d.name)["containerInstanceArns"]
            if arns:
                described = ecs.describe_container_instances(cluster=self.d.name, containerInstances=arns)
                for item in described["containerInstances"]:
                    if item.get("ec2InstanceId") == self.launch.instance_id and item.get("registeredAt"):
                        registered = _utc(item["registeredAt"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in (
                "ClusterNotFoundException",
                "ClientException",
            ):
                raise
        if registered is None:
            out.missing(f"ECS registration of {self.launch.instance_id}: {RETENTION['container_instance']}")
        return launched, registered

    def _read_task(self, out: SpanBuilder) -> dict[str, Any] | None:
        if self._task_read:
            return self._task
        self._task_read = True
        ecs = self.clients.ecs(self.d.region)
        arns: list[str] = []
        try:
            for status in ("RUNNING", "STOPPED"):
                arns += ecs.list_tasks(cluster=self.d.name, desiredStatus=status)["taskArns"]
            tasks = ecs.describe_tasks(cluster=self.d.name, tasks=arns[:100])["tasks"] if arns else []
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in (
                "ClusterNotFoundException",
                "ClientException",
            ):
                raise
            tasks = []
        # The task of this start: created after the launch, the earliest such (a crash loop has more).
        mine = sorted(
            (dict(t) for t in tasks if t.get("createdAt") and _utc(t["createdAt"]) >= self.launch.start),
            key=lambda t: _utc(t["createdAt"]),
        )
        self._task = mine[0] if mine else None
        if self._task is None:
            out.missing(f"the game task of this start: {RETENTION['task']}")
        return self._task

    def _dns_changes(self, out: SpanBuilder) -> list[tuple[datetime, dict[str, Any]]]:
        if self._dns is None:
            end = (self.terminate.end or self.now) if self.terminate else self.now
            lines = self._function_log(
                out, INSTANCE_STATE_CHANGE, self.launch.start, end + timedelta(minutes=10)
            )
            self._dns = [(at, line) for at, line in lines if line.get("action") == "dns_updated"]
        return self._dns

    def _dns_change(self, out: SpanBuilder, *, after: datetime, placeholder: bool) -> datetime | None:
        for at, line in self._dns_changes(out):
            is_placeholder = line.get("address") == self.d.placeholder
            if at >= after and is_placeholder == placeholder:
                self._change_note(out, line.get("change_id"))
                return at
        what = "reset to the placeholder" if placeholder else "pointed at the instance"
        out.missing(f"no instance-state-change line with the record {what}: {RETENTION['function_log']}")
        return None

    def _change_note(self, out: SpanBuilder, change_id: Any) -> None:
        if not isinstance(change_id, str):
            return
        try:
            info = self.clients.route53().get_change(Id=change_id)["ChangeInfo"]
        except ClientError:
            return  # Route 53 keeps change records only for a while; the log line is the record that counts
        out.notes.append(f"Route 53 change {change_id.rsplit('/', 1)[-1]}: {info['Status']}")

    def _first_player(self, out: SpanBuilder, since: datetime | None) -> datetime | None:
        if since is None:
            return None
        until = (self.terminate.start if self.terminate else self.now) + timedelta(minutes=1)
        result = self.clients.cloudwatch(self.d.region).get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "players",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": f"{PLAYERS_NAMESPACE_PREFIX}/{self.d.container_id}",
                            "MetricName": PLAYERS_METRIC,
                            "Dimensions": [{"Name": "ContainerId", "Value": self.d.container_id}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=since - timedelta(minutes=1),
            EndTime=until,
            ScanBy="TimestampAscending",
        )
        for series in result["MetricDataResults"]:
            for stamp, value in zip(series.get("Timestamps", []), series.get("Values", []), strict=False):
                if value > 0:
                    return _utc(stamp)
        out.missing(f"no player seen by the activity agent in this run ({RETENTION['metric']})")
        return None

    # ------------------------------------------------------------------------------------------------- stop
    def stop(self) -> Waterfall:
        assert self.terminate is not None
        out = SpanBuilder()
        stop = self.terminate
        alarm = stop.alarm
        if alarm:
            entered = self._alarm_entered(out, alarm)
            out.add(f"alarm {alarm.rsplit('-', 1)[-1]} -> scale-in", entered, stop.requested, "alarm history")
        else:
            out.notes.append(
                "stopped by a request (`cm stop`, the crash-loop breaker or the console), not an alarm"
            )
        out.add("desired 0 -> terminating", stop.requested, stop.start, "scaling activity")
        task = self._read_task(out)
        if task:
            out.add("drain: container stops", _opt(task, "stoppingAt"), _opt(task, "stoppedAt"), "ECS task")
        reset = self._dns_change(out, after=stop.start - timedelta(minutes=1), placeholder=True)
        out.add("DNS reset", stop.start, reset, "instance-state-change log, Route 53")
        out.add("terminate (hook, then gone)", stop.start, stop.end, "scaling activity", stop.status)
        title = f"stop of {self.d.server_name} at {stop.start:%Y-%m-%d %H:%M:%S} UTC ({stop.instance_id})"
        return waterfall(title, out.spans, out.notes)

    def _alarm_entered(self, out: SpanBuilder, alarm: str) -> datetime | None:
        assert self.terminate is not None
        items = self.clients.cloudwatch(self.d.region).describe_alarm_history(
            AlarmName=alarm,
            HistoryItemType="StateUpdate",
            StartDate=self.launch.start,
            EndDate=self.terminate.start + timedelta(minutes=1),
        )["AlarmHistoryItems"]
        entered = [
            _utc(i["Timestamp"])
            for i in items
            if "to ALARM" in i.get("HistorySummary", "") and _utc(i["Timestamp"]) <= self.terminate.start
        ]
        if not entered:
            out.missing(f"{alarm} entering ALARM: {RETENTION['alarm']}")
            return None
        return max(entered)

    # ------------------------------------------------------------------------------------------------- logs
    def _function_log(
        self, out: SpanBuilder, function: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, dict[str, Any]]]:
        region = self.d.function_region(function)
        name = self.d.log_group(function)
        logs = self.clients.logs(region)
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=name, startTime=_ms(start), endTime=_ms(end)
            )
            events = [
                e for page in call(f"reading {name}", region, lambda: list(pages)) for e in page["events"]
            ]
        except CmError as error:
            if not _not_found(error):
                raise
            out.missing(f"log group {name} not found in {region}")
            return []
        return list(_json_lines(events))


def _json_lines(events: Iterable[Any]) -> Iterable[tuple[datetime, dict[str, Any]]]:
    """Powertools JSON lines (the functions log with LogFormat JSON); other lines are skipped."""
    for event in events:
        try:
            data = json.loads(event["message"])
        except (ValueError, TypeError):
            continue
        if isinstance(data, dict):
            yield _from_ms(int(event["timestamp"])), data


def _not_found(error: BaseException) -> bool:
    cause = error.__cause__ if error.__cause__ is not None else error
    return (
        isinstance(cause, ClientError)
        and cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
    )


def _opt(record: dict[str, Any] | None, key: str) -> datetime | None:
    value = (record or {}).get(key)
    return _utc(value) if value else None


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return _parse(str(value))


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp / 1000, UTC)


def _query_name(message: str) -> str:
    """The query name of a Route 53 query-log line (field 4), as DNS compares names: any case, no root dot."""
    fields = message.split()
    return fields[3].rstrip(".").lower() if len(fields) > 3 else ""
