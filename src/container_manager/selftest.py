"""`cm selftest CONFIG_OR_ID`: prove a deployed container works end to end, on the real account.

1. Static checks, no cost: the parent zone delegates the sub-zone, the sub-zone logs its queries to the log
   group the start filter reads, the filter invokes this container's start-system, the rules and alarms exist
   and are enabled, and the server is stopped with the placeholder in its A record.
2. A real start, as a player causes it: ``<id>.<domain> A`` asked directly of the sub-zone's authoritative name
   servers (plain case, then 0x20-randomised case), then waiting - each wait its own phase with a timeout -
   for the desired capacity, the instance InService, the A record on its public address, the ECS task RUNNING
   and the game's TCP port accepting a connection (UDP-only games: not probed).
3. A real stop through `cm stop`'s code path (unless ``--keep-running``): the record back on the placeholder,
   the instance terminated, nothing left in ``Terminating:Wait``. A failed start still stops the server.

Then the steps table and the timeline (`cm timeline`'s reconstruction of this very start). Exit 0 only when
every step passed (docs/cli.md, docs/verify.md). Clocks, sleeps, the DNS client and the TCP probe are
parameters, so tests run every path in milliseconds against moto and a loopback DNS server.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from container_manager.aws import Aws
from container_manager.deployment import (
    CRASH_LOOP_BREAKER,
    INSTANCE_STATE_CHANGE,
    START_SYSTEM,
    Deployment,
    find_function,
)
from container_manager.errors import CmError, aws_errors, call
from container_manager.matching.filter_pattern import FilterPattern, FilterPatternError
from container_manager.names import ALARM_SUFFIXES, EDGE_REGION
from container_manager.rehearsal.aws_events import query_log_line
from container_manager.waterfall import Waterfall

# Seconds each waiting phase may take before the test gives up on it (override: --timeout PHASE=SECONDS).
TIMEOUTS: dict[str, float] = {
    "start-decision": 120,  # query log delivery + start-system: desired capacity 1
    "instance": 600,  # launch, boot, InService
    "dns": 180,  # instance-state-change points the A record at the instance
    "task": 900,  # ECS places the task, pulls the image, starts the container
    "port": 600,  # the game listens (a first start may generate its world)
    "dns-reset": 600,  # managed draining gives the container its stop timeout first
    "terminate": 1200,  # drain, lifecycle hook completes, instance terminated
}
PASS, FAIL, INFO, SKIPPED = "pass", "fail", "info", "skipped"
MARKS = {PASS: "✓", FAIL: "✗", INFO: "i", SKIPPED: "-"}


@dataclass
class Step:
    phase: str  # static | start | stop
    name: str
    expected: str
    observed: str
    status: str
    seconds: float | None = None  # since the test began, when observed

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "step": self.name,
            "expected": self.expected,
            "observed": self.observed,
            "status": self.status,
            "ok": self.status in (PASS, INFO),
            "seconds": None if self.seconds is None else round(self.seconds, 1),
        }


@dataclass(frozen=True)
class DnsAnswer:
    server: str
    qname: str  # as sent (0x20 case kept)
    rcode: str
    authoritative: bool
    addresses: tuple[str, ...]

    def describe(self) -> str:
        flags = "aa" if self.authoritative else "not authoritative"
        return f"{self.rcode} {flags} A {', '.join(self.addresses) or '(none)'} from {self.server}"


class Dns:
    """Asks an authoritative name server directly (no recursion), as a resolver on a player's behalf does."""

    def __init__(
        self,
        *,
        port: int = 53,
        timeout: float = 3.0,
        address_of: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.port = port
        self.timeout = timeout
        self.address_of = address_of or _system_addresses

    def query_a(self, name: str, server: str) -> DnsAnswer:
        address = self.address_of(server.rstrip("."))[0]
        query = dns.message.make_query(name, dns.rdatatype.A)
        query.flags &= ~dns.flags.RD  # an authoritative question: what Route 53 itself answers and logs
        response = dns.query.udp(query, address, timeout=self.timeout, port=self.port)
        found: list[str] = []
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.A:
                found.extend(item.to_text() for item in rrset)
        return DnsAnswer(
            server.rstrip("."),
            name,
            dns.rcode.to_text(response.rcode()),
            bool(response.flags & dns.flags.AA),
            tuple(found),
        )


def _system_addresses(host: str) -> list[str]:
    return sorted(
        {str(info[4][0]) for info in socket.getaddrinfo(host, 53, socket.AF_INET, socket.SOCK_DGRAM)}
    )


def tcp_open(host: str, port: int, timeout: float) -> bool:
    """True when a TCP connection to host:port is accepted (then closed at once)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def randomise_case(name: str, rng: random.Random) -> str:
    """``MiNeCrAfT.eXample.COM``: DNS 0x20, as some public resolvers send it; never the all-lower-case name."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if not letters:
        return name
    chars = [c.upper() if rng.random() < 0.5 else c.lower() for c in name]
    if "".join(chars) == name.lower():
        chars[letters[0]] = chars[letters[0]].upper()
    return "".join(chars)


@dataclass
class Instruments:
    """Everything that touches time or the network outside boto3 - replaceable in tests."""

    dns: Dns = field(default_factory=Dns)
    tcp: Callable[[str, int, float], bool] = tcp_open
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    interval: float = 5.0
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Report:
    deployment: Deployment
    steps: list[Step] = field(default_factory=list)
    timelines: list[Waterfall] = field(default_factory=list)
    started_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.status in (PASS, INFO) for s in self.steps)

    @property
    def failed(self) -> list[Step]:
        return [s for s in self.steps if s.status == FAIL]


class SelfTest:
    def __init__(
        self,
        clients: Aws,
        deployment: Deployment,
        *,
        stop: Callable[[], Any],
        keep_running: bool = False,
        timeouts: Mapping[str, float] | None = None,
        instruments: Instruments | None = None,
        progress: TextIO | None = None,
        timeline: Callable[[datetime], list[Waterfall]] | None = None,
    ) -> None:
        self.clients = clients
        self.d = deployment
        self.stop_server = stop
        self.keep_running = keep_running
        self.timeouts = {**TIMEOUTS, **(timeouts or {})}
        self.io = instruments or Instruments()
        self.progress = progress
        self.timeline = timeline
        self.report = Report(deployment)
        self._began = self.io.clock()
        self._ip: str | None = None
        self._instance: str | None = None
        self._mixed: tuple[str, datetime] | None = None  # the 0x20 name asked, and when

    # -------------------------------------------------------------------------------------------- plumbing
    def _elapsed(self) -> float:
        return self.io.clock() - self._began

    def _step(self, phase: str, name: str, expected: str, observed: str, ok: bool | str) -> bool:
        status = ok if isinstance(ok, str) else (PASS if ok else FAIL)
        self.report.steps.append(Step(phase, name, expected, observed, status, self._elapsed()))
        if self.progress is not None:
            print(
                f"[{self._elapsed():6.0f} s] {MARKS[status]} {phase}: {name}: {observed}", file=self.progress
            )
        return status in (PASS, INFO)

    def _skip(self, phase: str, names: list[tuple[str, str]], why: str) -> None:
        for name, expected in names:
            self.report.steps.append(Step(phase, name, expected, f"not run: {why}", SKIPPED))

    def _wait(self, phase: str, what: str, probe: Callable[[], tuple[bool, str]]) -> tuple[bool, str]:
        """Poll ``probe`` until it says done or the phase's timeout passes; progress on stderr meanwhile."""
        limit = self.timeouts[phase]
        began = self.io.clock()
        while True:
            done, observed = probe()
            waited = self.io.clock() - began
            if done:
                return True, f"{observed} after {waited:.0f} s"
            if waited >= limit:
                return (
                    False,
                    f"phase {phase!r} did not finish in {limit:.0f} s: {what} - last seen: {observed}",
                )
            if self.progress is not None:
                print(
                    f"[{self._elapsed():6.0f} s] waiting for {what} (phase {phase}, {waited:.0f}/{limit:.0f} s): {observed}",
                    file=self.progress,
                    flush=True,
                )
            self.io.sleep(self.io.interval)

    # ------------------------------------------------------------------------------------------------- run
    def run(self) -> Report:
        self.report.started_at = self.io.wall()
        if not self._static():
            self._skip("start", [(n, e) for n, e, _ in self._start_plan()], "a static check failed")
            self._skip("stop", [(n, e) for n, e in self._stop_plan()], "a static check failed")
            return self.report
        started = self._start()
        self._case_in_query_log()
        if self.keep_running:
            self._step(
                "stop", "stop", "left running (--keep-running)", "not stopped: `cm stop` when done", INFO
            )
        else:
            self._stop(started)
        if self.timeline is not None:
            self.report.timelines = self.timeline(self.report.started_at)
        return self.report

    # ----------------------------------------------------------------------------------------------- static
    def _static(self) -> bool:
        results = [
            self._stacks(),
            self._delegation(),
            self._query_logging_and_filter(),
            self._rules(),
            self._alarms(),
            self._stopped(),
        ]
        return all(results)

    def _stacks(self) -> bool:
        bad = [
            f"{n} ({r}) {s}" for n, r, s in self.d.stacks if not s.endswith("_COMPLETE") or "ROLLBACK" in s
        ]
        observed = ", ".join(f"{n} {s}" for n, _, s in self.d.stacks)
        return self._step("static", "stacks", "every stack *_COMPLETE", observed, not bad)

    def _name_servers(self) -> list[str]:
        if not self.d.zone_id:
            return []
        zone = call(
            "reading the sub-zone",
            EDGE_REGION,
            lambda: self.clients.route53().get_hosted_zone(Id=self.d.zone_id or ""),
        )
        return sorted(_host(n) for n in zone.get("DelegationSet", {}).get("NameServers", []))

    def _delegation(self) -> bool:
        expected = "the parent zone's NS record = the sub-zone's name servers"
        ours = self._name_servers()
        if not ours:
            return self._step(
                "static", "delegation", expected, f"sub-zone of {self.d.server_name} not found", False
            )
        if not self.d.parent_zone_id:
            return self._step(
                "static", "delegation", expected, "no ParentHostedZoneId on the edge stack", False
            )
        delegated = sorted(_host(v) for v in self._values(self.d.parent_zone_id, "NS"))
        if not delegated:
            observed = f"zone not delegated: no NS record for {self.d.server_name} in {self.d.parent_zone_id}"
        elif delegated != ours:
            observed = f"NS {', '.join(delegated)} != the sub-zone's {', '.join(ours)}"
        else:
            observed = f"{len(ours)} name servers match ({ours[0]}, ...)"
        return self._step("static", "delegation", expected, observed, bool(delegated) and delegated == ours)

    def _query_logging_and_filter(self) -> bool:
        expected_group = self.d.query_log_group
        route53 = self.clients.route53()
        # All of the account's configs, then ours: a zone has at most one (Route 53 developer guide, "Logging
        # DNS queries"); listing without HostedZoneId also works where a zone filter is not supported (moto).
        pages = route53.get_paginator("list_query_logging_configs").paginate()
        configs = [
            c
            for page in call("reading the query logging configs", EDGE_REGION, lambda: list(pages))
            for c in page["QueryLoggingConfigs"]
            if self.d.zone_id and c["HostedZoneId"].rsplit("/", 1)[-1] == self.d.zone_id
        ]
        groups = [_log_group_of(c["CloudWatchLogsLogGroupArn"]) for c in configs]
        logging_ok = self._step(
            "static",
            "query logging",
            f"the sub-zone logs queries to {expected_group}",
            f"logs to {groups[0]}" if groups else "query logging is off for the sub-zone",
            groups == [expected_group],
        )
        group = groups[0] if groups else expected_group
        logs = self.clients.logs(EDGE_REGION)
        try:
            filters = call(
                "reading the subscription filters",
                EDGE_REGION,
                lambda: logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"],
            )
        except CmError as error:  # no such log group: no filter either
            if "ResourceNotFoundException" not in error.message:
                raise
            filters = []
        start = find_function(self.clients, self.d, START_SYSTEM)
        start_arn = start["FunctionArn"] if start else None
        expected = f"a subscription filter on {group} invokes {self.d.container_id}'s start-system"
        if not filters:
            return self._step("static", "start filter", expected, f"filter missing: none on {group}", False)
        mine = [f for f in filters if start_arn and f.get("destinationArn") == start_arn]
        if not mine:
            targets = ", ".join(str(f.get("destinationArn", "?")).rsplit(":", 1)[-1] for f in filters)
            why = "start-system not found" if start_arn is None else f"filters invoke {targets}"
            return self._step("static", "start filter", expected, f"wrong target: {why}", False)
        pattern = str(mine[0].get("filterPattern", ""))
        filter_ok = self._step(
            "static",
            "start filter",
            expected,
            f"{mine[0]['filterName']} -> {start_arn.rsplit(':', 1)[-1] if start_arn else '?'}",
            True,
        )
        return self._pattern(pattern) and filter_ok and logging_ok

    def _pattern(self, pattern: str) -> bool:
        """Offline: the deployed pattern passes a player's query line and no look-alike (matching.filter_pattern)."""
        name = self.d.server_name
        try:
            parsed = FilterPattern.parse(pattern)
        except FilterPatternError as error:
            return self._step(
                "static", "filter pattern", "our matcher understands it", f"{pattern!r}: {error}", False
            )
        passes = parsed.matches(query_log_line(name, "A"))
        mixed = parsed.matches(query_log_line(randomise_case(name, random.Random(0x20)), "A"))  # noqa: S311
        other_type = parsed.matches(query_log_line(name, "TXT"))
        return self._step(
            "static",
            "filter pattern",
            f"passes '{name} A' in any letter case, not '{name} TXT'",
            f"{pattern!r}: player {'passes' if passes else 'DROPPED'}, 0x20 case "
            f"{'passes' if mixed else 'DROPPED'}, TXT {'PASSES' if other_type else 'dropped'}",
            passes and mixed and not other_type,
        )

    def _rules(self) -> bool:
        ok = True
        for function in (INSTANCE_STATE_CHANGE, CRASH_LOOP_BREAKER):
            config = find_function(self.clients, self.d, function)
            expected = f"an ENABLED EventBridge rule invokes {function}"
            if config is None:
                ok = (
                    self._step(
                        "static", f"{function} rule", expected, f"function {function} not found", False
                    )
                    and ok
                )
                continue
            events = self.clients.events(self.d.region)
            with aws_errors("reading the rules", self.d.region):
                names = events.list_rule_names_by_target(TargetArn=config["FunctionArn"])["RuleNames"]
                states = {n: events.describe_rule(Name=n).get("State", "?") for n in names}
            enabled = [n for n, s in states.items() if s == "ENABLED"]
            observed = ", ".join(f"{n} {s}" for n, s in states.items()) or "no rule targets it"
            ok = self._step("static", f"{function} rule", expected, observed, bool(enabled)) and ok
        return ok

    def _alarms(self) -> bool:
        names = [f"{self.d.name}-{suffix}" for suffix in ALARM_SUFFIXES]
        cloudwatch = self.clients.cloudwatch(self.d.region)
        found = call(
            "reading the alarms",
            self.d.region,
            lambda: cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"],
        )
        by_name = {a["AlarmName"]: a for a in found}
        missing = [n.removeprefix(f"{self.d.name}-") for n in names if n not in by_name]
        disabled = [n for n, a in by_name.items() if not a.get("ActionsEnabled", True)]
        observed = (
            f"missing: {', '.join(missing)}"
            if missing
            else f"actions disabled: {', '.join(disabled)}"
            if disabled
            else f"{len(by_name)} alarms, actions enabled ({', '.join(_alarm_states(self.d.name, by_name))})"
        )
        return self._step(
            "static",
            "alarms",
            f"{', '.join(ALARM_SUFFIXES)} exist with actions enabled",
            observed,
            not missing and not disabled,
        )

    def _group(self) -> dict[str, Any]:
        api = self.clients.autoscaling(self.d.region)
        groups = call(
            "reading the group",
            self.d.region,
            lambda: api.describe_auto_scaling_groups(AutoScalingGroupNames=[self.d.name])[
                "AutoScalingGroups"
            ],
        )
        return dict(groups[0]) if groups else {}

    def _values(self, zone_id: str, record_type: str) -> list[str]:
        """The values of the server name's record of ``record_type`` in ``zone_id`` (empty: no such record)."""
        route53 = self.clients.route53()
        records = call(
            f"reading the {record_type} record",
            EDGE_REGION,
            lambda: route53.list_resource_record_sets(
                HostedZoneId=zone_id,
                StartRecordName=self.d.server_name,
                StartRecordType=record_type,  # type: ignore[arg-type]
                MaxItems="1",
            )["ResourceRecordSets"],
        )
        for record in records:
            if record["Type"] == record_type and _host(record["Name"]) == self.d.server_name:
                return [r["Value"] for r in record.get("ResourceRecords", [])]
        return []

    def _record(self) -> str | None:
        values = self._values(self.d.zone_id, "A") if self.d.zone_id else []
        return values[0] if values else None

    def _stopped(self) -> bool:
        group = self._group()
        instances = [f"{i['InstanceId']} {i.get('LifecycleState')}" for i in group.get("Instances", [])]
        record = self._record()
        ok = (
            bool(group)
            and group.get("DesiredCapacity") == 0
            and not instances
            and record == self.d.placeholder
        )
        observed = (
            f"no group {self.d.name}"
            if not group
            else f"desired {group.get('DesiredCapacity')}, instances {', '.join(instances) or 'none'}, A {record}"
        )
        if not ok and group and (instances or group.get("DesiredCapacity")):
            observed += " - stop it first (`cm stop`) and wait until the instance is gone"
        return self._step(
            "static", "stopped", f"desired 0, no instance, A {self.d.placeholder}", observed, ok
        )

    # ------------------------------------------------------------------------------------------------ start
    def _start_plan(self) -> list[tuple[str, str, str]]:
        """(step, expected, phase) of the start, in order."""
        return [
            ("DNS query, plain case", f"NOERROR aa A {self.d.placeholder}", ""),
            ("DNS query, 0x20 case", f"NOERROR aa A {self.d.placeholder}", ""),
            ("start-system starts it", "desired capacity 1", "start-decision"),
            ("instance InService", "an instance InService", "instance"),
            ("A record -> instance", "A = the instance's public IPv4", "dns"),
            ("authoritative answer", "name server answers the instance's IPv4", ""),
            ("task RUNNING", "the game's ECS task RUNNING", "task"),
            ("game port", "TCP port accepts a connection", "port"),
        ]

    def _start(self) -> bool:
        plan = self._start_plan()
        servers = self._name_servers()
        name = self.d.server_name
        plain = self._ask(servers, name)
        self._step("start", plan[0][0], plan[0][1], plain[1], plain[0])
        mixed_name = randomise_case(name, self.io.rng)
        self._mixed = (mixed_name, self.io.wall())
        mixed = self._ask(servers, mixed_name)
        self._step("start", plan[1][0], plan[1][1], f"{mixed_name}: {mixed[1]}", mixed[0])
        steps: list[Callable[[], bool]] = [
            self._started_by_query,
            self._in_service,
            self._record_points_at_instance,
            self._authoritative_instance,
            self._task_running,
            self._game_port,
        ]
        for index, check in enumerate(steps):
            if not check():
                rest = plan[index + 3 :]
                self._skip("start", [(n, e) for n, e, _ in rest], f"{plan[index + 2][0]} failed")
                return False
        return True

    def _ask(
        self, servers: list[str], name: str, expected: tuple[str, ...] | None = None
    ) -> tuple[bool, str]:
        """Ask the sub-zone's name servers in turn until one answers; ok when it answers ``expected``."""
        want = expected or (self.d.placeholder,)
        problems = []
        for server in servers:
            try:
                answer = self.io.dns.query_a(name, server)
            except (
                OSError,
                dns.exception.DNSException,
            ) as error:  # no answer (timeout, refused): the next one
                problems.append(f"{server}: {type(error).__name__}")
                continue
            ok = answer.rcode == "NOERROR" and answer.authoritative and answer.addresses == want
            return ok, answer.describe()
        return False, "no name server answered: " + ("; ".join(problems) or "the sub-zone has none")

    def _started_by_query(self) -> bool:
        def probe() -> tuple[bool, str]:
            desired = self._group().get("DesiredCapacity")
            return desired == 1, f"desired {desired}"

        ok, observed = self._wait("start-decision", "start-system to set the desired capacity to 1", probe)
        return self._step("start", "start-system starts it", "desired capacity 1", observed, ok)

    def _in_service(self) -> bool:
        def probe() -> tuple[bool, str]:
            members = self._group().get("Instances", [])
            ready = [i for i in members if i.get("LifecycleState") == "InService"]
            if ready:
                self._instance = str(ready[0]["InstanceId"])
            states = (
                ", ".join(f"{i['InstanceId']} {i.get('LifecycleState')}" for i in members)
                or "no instance yet"
            )
            return bool(ready), states

        ok, observed = self._wait("instance", "the instance to be InService", probe)
        return self._step("start", "instance InService", "an instance InService", observed, ok)

    def _public_ip(self) -> str | None:
        if self._instance is None:
            return None
        ec2 = self.clients.ec2(self.d.region)
        reservations = call(
            "reading the instance",
            self.d.region,
            lambda: ec2.describe_instances(InstanceIds=[self._instance or ""])["Reservations"],
        )
        for reservation in reservations:
            for instance in reservation["Instances"]:
                return instance.get("PublicIpAddress")
        return None

    def _record_points_at_instance(self) -> bool:
        self._ip = self._public_ip()

        def probe() -> tuple[bool, str]:
            record = self._record()
            return (
                self._ip is not None and record == self._ip,
                f"A {record} (instance {self._ip or 'has no public IPv4'})",
            )

        ok, observed = self._wait("dns", "the A record to point at the instance", probe)
        return self._step("start", "A record -> instance", "A = the instance's public IPv4", observed, ok)

    def _authoritative_instance(self) -> bool:
        expected = f"name server answers {self._ip}"
        answered, observed = self._ask(self._name_servers(), self.d.server_name, (self._ip or "?",))
        return self._step("start", "authoritative answer", expected, observed, answered)

    def _task_running(self) -> bool:
        ecs = self.clients.ecs(self.d.region)

        def probe() -> tuple[bool, str]:
            arns = ecs.list_tasks(cluster=self.d.name, desiredStatus="RUNNING")["taskArns"]
            if not arns:
                return False, "no task yet"
            tasks = ecs.describe_tasks(cluster=self.d.name, tasks=arns)["tasks"]
            statuses = [str(t.get("lastStatus")) for t in tasks]
            return "RUNNING" in statuses, f"task {', '.join(statuses)}"

        ok, observed = self._wait("task", "the game's task to be RUNNING", probe)
        return self._step("start", "task RUNNING", "the game's ECS task RUNNING", observed, ok)

    def _game_port(self) -> bool:
        tcp = [p.number for p in self.d.ports if p.protocol == "tcp"]
        if not tcp:
            udp = ", ".join(f"udp/{p.number}" for p in self.d.ports) or "no ports"
            return self._step(
                "start",
                "game port",
                "TCP port accepts a connection",
                f"not probed: UDP-only game ({udp})",
                INFO,
            )
        address = self._ip or ""

        def probe() -> tuple[bool, str]:
            open_ports = [port for port in tcp if self.io.tcp(address, port, 3.0)]
            return len(open_ports) == len(tcp), f"{address}: open {open_ports or 'none'} of {tcp}"

        ok, observed = self._wait("port", "the game to accept TCP connections", probe)
        return self._step(
            "start", "game port", f"TCP {', '.join(map(str, tcp))} accepts a connection", observed, ok
        )

    def _case_in_query_log(self) -> None:
        """Informational: did Route 53 log the 0x20 query with its case? (Its docs do not say; the start filter
        is case-sensitive, so only a lower-case line can start the server - see docs/verify.md.)"""
        if self._mixed is None:
            return
        name, asked = self._mixed
        logs = self.clients.logs(EDGE_REGION)
        start = int(asked.timestamp() * 1000) - 60_000
        try:
            with aws_errors("reading the query log", EDGE_REGION):
                lines = logs.filter_log_events(
                    logGroupName=self.d.query_log_group, filterPattern=f'" {name} A "', startTime=start
                )["events"]
        except CmError as error:
            if "ResourceNotFoundException" not in error.message:
                raise
            lines = []
        observed = (
            f"logged as asked: {str(lines[0]['message'])[:90]}"
            if lines
            else f"no line with {name} (Route 53 may log it lower-cased, or the line is still on its way)"
        )
        self._step("start", "0x20 case in the query log", "informational", observed, INFO)

    # ------------------------------------------------------------------------------------------------- stop
    def _stop_plan(self) -> list[tuple[str, str]]:
        return [
            ("stop (cm stop)", "desired capacity 0"),
            ("A record reset", f"A = {self.d.placeholder}"),
            ("instance terminated", "no instance left in the group"),
            ("no Terminating:Wait", "nothing waiting in a lifecycle hook"),
        ]

    def _stop(self, started: bool) -> None:
        plan = self._stop_plan()
        group = self._group()
        if not started and not group.get("DesiredCapacity") and not group.get("Instances"):
            self._skip("stop", plan, "the server never started")
            return
        result = self.stop_server()
        before = result.get("desired_before") if isinstance(result, dict) else "?"
        self._step("stop", plan[0][0], plan[0][1], f"desired {before} -> 0", True)

        def reset() -> tuple[bool, str]:
            record = self._record()
            return record == self.d.placeholder, f"A {record}"

        ok, observed = self._wait("dns-reset", "the A record to be reset to the placeholder", reset)
        self._step("stop", plan[1][0], plan[1][1], observed, ok)
        last: list[str] = []

        def gone() -> tuple[bool, str]:
            members = self._group().get("Instances", [])
            last[:] = [f"{i['InstanceId']} {i.get('LifecycleState')}" for i in members]
            return not members, ", ".join(last) or "none"

        ok, observed = self._wait("terminate", "the instance to be terminated", gone)
        self._step("stop", plan[2][0], plan[2][1], observed, ok)
        waiting = [m for m in last if m.endswith("Terminating:Wait")]
        self._step(
            "stop",
            plan[3][0],
            plan[3][1],
            f"still in Terminating:Wait: {', '.join(waiting)} (the drain's lifecycle hook)"
            if waiting
            else "none",
            not waiting,
        )


def render(report: Report) -> str:
    d = report.deployment
    rows = [("", "phase", "step", "expected", "observed", "at")] + [
        (
            MARKS[s.status],
            s.phase,
            s.name,
            s.expected,
            s.observed,
            "" if s.seconds is None else f"{s.seconds:.0f} s",
        )
        for s in report.steps
    ]
    caps = (1, 6, 24, 44, 90, 7)
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate(caps)]

    def cell(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = [f"selftest of {d.container_id} ({d.server_name}, {d.region})"]
    for index, row in enumerate(rows):
        lines.append("  " + "  ".join(cell(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    passed = sum(1 for s in report.steps if s.status in (PASS, INFO))
    verdict = "PASSED" if report.ok else "FAILED"
    lines.append(f"\nselftest {verdict}: {passed}/{len(report.steps)} steps ok")
    for step in report.failed:
        lines.append(f"  ✗ {step.phase}/{step.name}: {step.observed}")
    return "\n".join(lines)


def _alarm_states(prefix: str, alarms: Mapping[str, Any]) -> list[str]:
    return [f"{name.removeprefix(prefix + '-')} {alarm.get('StateValue')}" for name, alarm in alarms.items()]


def _host(name: str) -> str:
    return name.rstrip(".").lower()


def _log_group_of(arn: str) -> str:
    """arn:aws:logs:us-east-1:123:log-group:/aws/route53/x.example.com:* -> /aws/route53/x.example.com"""
    name = arn.split(":log-group:", 1)[-1]
    return name[:-2] if name.endswith(":*") else name
