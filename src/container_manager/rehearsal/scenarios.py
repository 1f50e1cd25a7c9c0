"""The rehearsal's scenarios, as data, and the driver that plays them on one deployed world.

A scenario is a list of steps (something a player, a bot or the container does, or time passing) and
expectations (``Expect``), checked where they stand. Every expectation becomes one row of the summary table.
Values may name a template parameter (``"param:IdleMinutes"``), so the expectations follow the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from container_manager.rehearsal.aws_parts import GOOGLE_PUBLIC_DNS_EGRESS, Cloud, Tracked
from container_manager.rehearsal.deletion import StackDeletion, delete_stack, root_of
from container_manager.rehearsal.lambdas import Invocation
from container_manager.rehearsal.world import GroupSpec, World, ZoneSpec


# ------------------------------------------------------------------------------------------------------ steps
@dataclass(frozen=True)
class Resolve:
    """Someone resolves ``name`` ({server}, {domain}, {id} are filled in)."""

    name: str
    qtype: str = "A"
    who: str = "player"
    resolver_ip: str = "192.0.2.44"


@dataclass(frozen=True)
class Wait:
    minutes: float | str  # or "param:<Name>[+extra]"


@dataclass(frozen=True)
class Players:
    """Player traffic from now on, in bytes per second (0: everyone left), and the players the activity agent
    counts: ``tcp`` established connections and ``udp`` peers. Left out, each is 1 while there is traffic: one
    player on whichever protocol the game serves (the agent only counts the protocols of the game's ports)."""

    bytes_per_second: float
    tcp: int | None = None
    udp: int | None = None


@dataclass(frozen=True)
class AgentSilent:
    """The activity agent stops publishing (``silent``) or comes back."""

    silent: bool = True


@dataclass(frozen=True)
class CrashLoop:
    """The running task's essential container exits ``exit_code``, and so does each replacement: ``times`` in all."""

    times: int = 2
    exit_code: int = 1


@dataclass(frozen=True)
class Hold:
    """EventBridge delays events of ``detail_type`` until ``Release`` (a slow delivery)."""

    detail_type: str


@dataclass(frozen=True)
class Release:
    detail_type: str


@dataclass(frozen=True)
class IngestionDelay:
    """CloudWatch makes datapoints put from now on visible to alarms ``seconds`` late (``None``: the usual
    1-3 minutes, ``aws_parts.MetricStore``)."""

    seconds: float | None


@dataclass(frozen=True)
class Mark:
    """Remember now: the A record's value and the time, for ``record == marked`` and ``stopped_after_mark``."""


@dataclass(frozen=True)
class MountsFail:
    """The next ``instances`` instances cannot mount their volumes: the user data makes the ECS agent join
    another cluster, so ECS never knows them."""

    instances: int = 1


@dataclass(frozen=True)
class DeleteStack:
    """``sam delete``: CloudFormation deletes the stack that holds the server's group, nested stacks included."""


@dataclass(frozen=True)
class Expect:
    """``what``: deployed | record | desired | invoked | started | last_outcome | alerts | alarm_entered |
    stopped_after_mark | no_stop_since_mark | task | logged_name_case | released | billed |
    gone_after_delete | stack_deleted | outcome_seen (some invocation of ``function`` this scenario had that
    action) | max_instances (of the group at once) | max_mounts (of one EFS world at once)."""

    what: str
    value: Any = None
    function: str | None = None
    alarm: str | None = None
    label: str = ""


@dataclass(frozen=True)
class UntilDraining:
    """Time passes until an instance of the group drains (Terminating*): the moment a knock must not double it."""

    max_minutes: float = 60


@dataclass(frozen=True)
class TerminateOutsideHook:
    """The serving instance is terminated from EC2 (an admin, the console): no termination hook runs."""


Step = (
    Resolve
    | Wait
    | Players
    | AgentSilent
    | CrashLoop
    | Hold
    | Release
    | IngestionDelay
    | Mark
    | MountsFail
    | DeleteStack
    | Expect
    | UntilDraining
    | TerminateOutsideHook
)


@dataclass(frozen=True)
class Scenario:
    title: str
    steps: tuple[Step, ...]


LAUNCH = "EC2 Instance-terminate Lifecycle Action"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "1 deploy",
        (
            Expect("deployed", label="functions, event sources, alarms from the templates"),
            Expect("record", "placeholder", label="A record holds the placeholder"),
            Expect("desired", 0, label="group starts at 0"),
        ),
    ),
    Scenario(
        "2 bots resolve other names",
        (
            Resolve("other.{domain}", who="bot", resolver_ip="198.51.100.7"),
            Resolve("x.{server}", who="bot", resolver_ip="198.51.100.7"),
            Resolve("{server}", "TXT", who="bot", resolver_ip="198.51.100.7"),
            Wait(1),
            # The filter forwards the sub-zone's A queries whatever the name (letter case, below); start-system's
            # exact-name check ignores x.{server}. Names outside the sub-zone never reach its query log.
            Expect("started", 0, function="start-system", label="no bot query starts the server"),
            Expect("desired", 0, label="server stays stopped"),
        ),
    ),
    Scenario(
        "3 a player starts the server",
        (
            Resolve("{server}"),
            Expect("last_outcome", "started", function="start-system", label="start-system starts it"),
            Expect("desired", 1, label="desired capacity 1"),
            Wait(3),
            Expect(
                "last_outcome", "dns_updated", function="instance-state-change", label="launch event handled"
            ),
            Expect("record", "instance", label="A record = instance address"),
            Expect("task", "RUNNING", label="game task running"),
        ),
    ),
    Scenario(
        "4 players play, leave: idle stop",
        (
            Players(40_000),
            Wait(30),
            Expect("desired", 1, label="no stop while players play"),
            Players(0),
            Mark(),
            Wait("param:IdleMinutes+5"),
            Expect("stopped_after_mark", "param:IdleMinutes", label="scale to 0 after the idle minutes"),
            Expect("alarm_entered", 1, alarm="IdleAlarm", label="idle alarm entered ALARM once"),
            Expect("record", "placeholder", label="A record reset"),
            Expect("desired", 0, label="desired capacity 0"),
            Expect("invoked", 0, function="crash-loop-breaker", label="normal stop is not a crash"),
        ),
    ),
    Scenario(
        "4b a player behind Google Public DNS (0x20 case) knocks; the knock datapoint lands 3 min late",
        (
            IngestionDelay(180),  # the slowest ingestion played: the idle alarm sees the knock last
            Resolve("{server}", resolver_ip=GOOGLE_PUBLIC_DNS_EGRESS),
            Expect("logged_name_case", "mixed", label="the query log holds the name in 0x20 mixed case"),
            Expect("last_outcome", "started", function="start-system", label="start-system starts it"),
            IngestionDelay(None),
            Mark(),
            Wait(3),
            Expect("record", "instance", label="A record = instance address"),
            Wait("param:StartupGraceMinutes+-3"),
            Expect("desired", 1, label="still up through the startup grace (a stale ALARM undoes nothing)"),
            Expect("no_stop_since_mark", label="no scale-in since the knock"),
        ),
    ),
    Scenario(
        "5 crash loop",
        (
            Resolve("{server}"),
            Wait(3),
            Expect("record", "instance", label="server up again"),
            CrashLoop(times=2, exit_code=1),
            Wait(3),
            Expect("invoked", 2, function="crash-loop-breaker", label="breaker invoked per crash"),
            Expect("desired", 0, label="capacity 0"),
            Expect("alerts", 1, alarm="CrashLoopAlarm", label="one crash-loop alert"),
            Expect("record", "placeholder", label="A record reset"),
        ),
    ),
    Scenario(
        "6 race: late terminate event, new instance Pending",
        (
            Wait(16),  # the crash-loop alarm's window passes
            Resolve("{server}"),
            Wait(3),
            Expect("record", "instance", label="server up"),
            Hold(LAUNCH),
            # nobody joins: the stop comes after the startup grace and the idle minutes
            Wait("param:StartupGraceMinutes+param:IdleMinutes"),
            Expect("desired", 0, label="idle stop"),
            Mark(),
            Resolve("{server}"),
            Wait(0.5),
            Release(LAUNCH),
            Expect(
                "last_outcome", "no_change", function="instance-state-change", label="late event: no change"
            ),
            Expect("record", "marked", label="DNS untouched by the late event"),
            Wait(3),
            Expect("record", "instance", label="A record = new instance"),
        ),
    ),
)

# The watchdog's own story (issue 6, docs/watchdog.md), played on a UDP game (examples/factorio.yaml): mode
# connections, where the activity agent's player count - not the traffic - decides.
WATCHDOG_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "W1 players connect and leave: stop M minutes later",
        (
            Resolve("{server}"),
            Wait(3),
            Expect("record", "instance", label="server up"),
            Players(300, tcp=0, udp=3),  # three players, traffic far under the threshold
            Wait("param:StartupGraceMinutes+30"),
            Expect("desired", 1, label="no stop while 3 players are connected (traffic under the threshold)"),
            Players(0, tcp=0, udp=0),
            Mark(),
            Wait("param:IdleMinutes+3"),
            Expect(
                "stopped_after_mark", "param:IdleMinutes", label="scale to 0 the idle minutes after they left"
            ),
            Expect("alerts", 0, alarm="AgentSilentAlarm", label="the agent reported every minute"),
        ),
    ),
    Scenario(
        "W2 slow boot inside the grace; nobody comes: stop after grace + M",
        (
            Resolve("{server}"),
            Mark(),
            Wait("param:StartupGraceMinutes+-1"),
            Expect("desired", 1, label="not stopped during the startup grace (no players, no traffic)"),
            Wait("param:IdleMinutes+3"),
            Expect(
                "stopped_after_mark",
                "param:StartupGraceMinutes+param:IdleMinutes",
                label="scale to 0 after the grace and the idle minutes",
            ),
        ),
    ),
    Scenario(
        "W3 the agent goes silent: traffic decides, an alert says so",
        (
            Resolve("{server}"),
            Wait(3),
            Players(40_000, tcp=0, udp=6),
            AgentSilent(),
            Wait(15),  # 10 silent minutes, visible to the alarm after CloudWatch's 1-3 minute ingestion delay
            Expect("alerts", 1, alarm="AgentSilentAlarm", label="one agent-silent alert"),
            Wait(30),
            Expect("desired", 1, label="no stop while the traffic shows players"),
            Players(0, tcp=0, udp=0),
            Mark(),
            Wait("param:IdleMinutes+3"),
            Expect(
                "stopped_after_mark",
                "param:IdleMinutes",
                label="traffic fallback stops it the idle minutes later",
            ),
            AgentSilent(False),
        ),
    ),
    Scenario(
        "W4 UDP-only game with steady players is never stopped",
        (
            Resolve("{server}"),
            Wait(3),
            Players(250, tcp=0, udp=6),
            Wait(180),
            Expect("desired", 1, label="6 UDP players for 3 hours at 250 B/s: still up"),
            Expect("alarm_entered", 0, alarm="IdleAlarm", label="idle alarm never entered ALARM"),
        ),
    ),
)


# ----------------------------------------------------------------------------------------------------- driver
@dataclass
class Driver:
    world: World
    cloud: Cloud
    parameters: Mapping[str, str]
    scenario: str = ""
    started_at: int = 0  # index into the invocation list where the scenario began
    alerts_from: datetime | None = None
    mark_time: datetime | None = None
    mark_record: str | None = None
    began: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))  # this scenario's start
    names: dict[str, str] = field(default_factory=dict)
    deletion: StackDeletion | None = None

    def __post_init__(self) -> None:
        container, domain = self.parameters["ContainerId"], self.parameters["DomainName"]
        self.names = {"id": container, "domain": domain, "server": f"{container}.{domain}"}

    # ------------------------------------------------------------------------------------------------ values
    def param(self, value: Any) -> Any:
        """'param:IdleMinutes+5', 'param:StartupGraceMinutes+param:IdleMinutes', 'param:X+-1': the sum."""
        if isinstance(value, str) and value.startswith("param:"):
            terms = value.split("+")
            return sum(
                float(self.parameters[t.removeprefix("param:")]) if t.startswith("param:") else float(t)
                for t in terms
            )
        return value

    @property
    def group(self) -> GroupSpec:
        (group,) = self.world.groups.values()
        return group

    @property
    def zone(self) -> ZoneSpec:
        server = self.names["server"]
        return next(z for z in self.world.zones.values() if z.name == server)

    def record(self) -> str | None:
        return self.world.a_record(self.zone, self.names["server"])

    def invocations(self, function: str | None = None) -> list[Invocation]:
        found = self.cloud.lambdas.invocations[self.started_at :]
        return [i for i in found if function is None or function in (i.function.short, i.function.logical)]

    # ------------------------------------------------------------------------------------------------- play
    def play(self, scenario: Scenario) -> None:
        self.scenario = scenario.title
        self.started_at = len(self.cloud.lambdas.invocations)
        self.alerts_from = self.began = self.world.clock.now
        self.world.timeline.heading(scenario.title)
        for step in scenario.steps:
            self.step(step)
        failed = [i for i in self.invocations() if not i.ok]
        self.verdict(
            "no failed invocations",
            "none"
            if not failed
            else "; ".join(f"{i.function.short}: {i.attempts[-1].error}" for i in failed),
            not failed,
        )

    def step(self, step: Step) -> None:
        match step:
            case Resolve(name, qtype, who, resolver_ip):
                full = name.format(**self.names)
                self.world.timeline.note("dns client", f"a {who} resolves {full} {qtype}")
                self.cloud.route53.query(full, qtype, resolver_ip)
            case Wait(minutes):
                self.cloud.advance(float(self.param(minutes)) * 60)
            case Players(rate, tcp, udp):
                self.cloud.traffic.player_bytes_per_second = rate
                present = 1 if rate else 0
                tcp_count = present if tcp is None else tcp
                udp_count = present if udp is None else udp
                if self.cloud.agent is not None:
                    self.cloud.agent.tcp, self.cloud.agent.udp = tcp_count, udp_count
                self.world.timeline.note(
                    "players",
                    f"{rate:g} B/s of player traffic, {tcp_count} TCP connection(s), {udp_count} UDP peer(s)"
                    " on the game's ports"
                    if rate or tcp_count or udp_count
                    else "everyone left",
                )
            case AgentSilent(silent):
                if self.cloud.agent is not None:
                    self.cloud.agent.silent = silent
                self.world.timeline.note(
                    "scenario",
                    "the activity agent stops publishing" if silent else "the activity agent is back",
                )
            case CrashLoop(times, exit_code):
                running = [t for t in self.cloud.autoscaling.active(self.group) if t.phase == "InService"]
                if not running or not self.cloud.ecs.crash_loop(running[0].instance_id, times, exit_code):
                    self.verdict("crash loop starts", "no running task to crash", False)
            case Hold(detail_type):
                self.cloud.bus.holding.add(detail_type)
                self.world.timeline.note("scenario", f'EventBridge will hold "{detail_type}"')
            case Release(detail_type):
                self.cloud.bus.release(detail_type)
            case IngestionDelay(seconds):
                self.cloud.cloudwatch.store.forced_delay = seconds
                self.world.timeline.note(
                    "scenario",
                    f"CloudWatch ingests datapoints {seconds:g} s late"
                    if seconds is not None
                    else "CloudWatch ingestion back to its usual delay",
                )
            case Mark():
                self.mark_time, self.mark_record = self.world.clock.now, self.record()
            case MountsFail(instances):
                self.cloud.ecs.mount_failures += instances
                self.world.timeline.note(
                    "scenario", f"the next {instances} instance(s) cannot mount the volumes"
                )
            case DeleteStack():
                stack = root_of(self.world, self.group.name).name
                self.world.timeline.note("operator", f"sam delete --stack-name {stack} (the server is up)")
                self.deletion = delete_stack(self.cloud, stack)
            case UntilDraining(max_minutes):
                self._until_draining(max_minutes)
            case TerminateOutsideHook():
                serving = [t for t in self.cloud.autoscaling.active(self.group) if t.phase == "InService"]
                if serving:
                    self.world.timeline.note(
                        "admin", f"terminates {serving[0].instance_id} from the EC2 console"
                    )
                    self.cloud.autoscaling.terminate_outside_hook(serving[0])
                else:
                    self.verdict("an instance to terminate", "none in service", False)
            case Expect():
                self.expect(step)

    def verdict(self, expected: str, observed: str, ok: bool) -> None:
        self.world.timeline.verdict(self.scenario, expected, observed, ok)

    # ------------------------------------------------------------------------------------------ expectations
    def expect(self, e: Expect) -> None:
        value = self.param(e.value)
        label = e.label or f"{e.what} {value}"
        match e.what:
            case "deployed":
                self.verdict(label, *self._deployed())
            case "record":
                self.verdict(label, *self._record(str(value)))
            case "desired":
                desired = int(self.world.group_state(self.group).get("DesiredCapacity", -1))
                self.verdict(label, f"desired {desired}", desired == int(value))
            case "invoked":
                count = len(self.invocations(e.function))
                self.verdict(label, f"{e.function} invoked {count}x", count == int(value))
            case "started":
                count = sum(1 for i in self.invocations(e.function) if i.action == "started")
                self.verdict(label, f"{e.function} started it {count}x", count == int(value))
            case "logged_name_case":
                line = self.cloud.route53.lines[-1] if self.cloud.route53.lines else ""
                name = line.split()[3] if len(line.split()) > 3 else ""
                mixed = name != name.lower() and name != name.upper()
                self.verdict(label, f"logged {name or 'nothing'}", mixed == (value == "mixed"))
            case "no_stop_since_mark":
                stops = [
                    w for w, g in self.cloud.autoscaling.scale_ins if self.mark_time and w >= self.mark_time
                ]
                self.verdict(label, f"{len(stops)} scale-in(s) since the mark", not stops)
            case "last_outcome":
                found = self.invocations(e.function)
                action = found[-1].action if found else "not invoked"
                self.verdict(label, f"{e.function}: {action}", action == value)
            case "alerts":
                name = self._alarm_name(e.alarm)
                alerts = [a for a in self.cloud.cloudwatch.alerts(self.alerts_from) if a.alarm == name]
                self.verdict(label, f"{len(alerts)} alert(s) from {name}", len(alerts) == int(value))
            case "alarm_entered":
                name = self._alarm_name(e.alarm)
                entered = [
                    a
                    for a in self.cloud.cloudwatch.evaluators[str(e.alarm)].transitions("ALARM")
                    if self.alerts_from is not None and a.at >= self.alerts_from
                ]
                self.verdict(label, f"{name} entered ALARM {len(entered)}x", len(entered) == int(value))
            case "stopped_after_mark":
                self.verdict(label, *self._stopped_after(float(value)))
            case "released" | "billed" | "gone_after_delete" | "stack_deleted":
                self.verdict(label, *self._lifecycle(e.what, value))
            case "task":
                running = [
                    t
                    for t in self.cloud.autoscaling.active(self.group)
                    if self.cloud.ecs.running(t.instance_id)
                ]
                state = "RUNNING" if running else "none running"
                self.verdict(label, f"task {state}", state == value)
            case "outcome_seen":
                actions = [i.action for i in self.invocations(e.function)]
                self.verdict(label, f"{e.function}: {', '.join(actions) or 'not invoked'}", value in actions)
            case "max_instances" | "max_mounts":
                self.verdict(label, *self._peak(e.what, int(value)))
            case _:
                self.verdict(label, f"unknown expectation {e.what!r}", False)

    def _until_draining(self, max_minutes: float) -> None:
        deadline = self.world.clock.now + timedelta(minutes=max_minutes)
        while not any(t.phase.startswith("Terminating") for t in self._group_instances()):
            if self.world.clock.now >= deadline:
                self.verdict("an instance drains", f"none within {max_minutes:g} min", False)
                return
            self.cloud.advance(5)

    def _group_instances(self) -> list[Any]:
        return [t for t in self.cloud.autoscaling.instances.values() if t.group is self.group]

    def _peak(self, what: str, most: int) -> tuple[str, bool]:
        """The most instances of the group, or mounts of one of its file systems, at once this scenario."""
        occupancy, since, now = self.cloud.autoscaling.occupancy, self.began, self.world.clock.now
        if what == "max_instances":
            peak = occupancy.peak(self.group.name, since, now)
            return f"at most {peak} instance(s) at once", peak <= most
        systems = [fs for fs, region in self.world.file_systems if region == self.group.region]
        peaks = {fs: occupancy.peak(fs, since, now) for fs in systems}
        shown = ", ".join(f"{fs}: {n}" for fs, n in peaks.items()) or "no file system"
        return f"most mounts at once: {shown}", bool(peaks) and max(peaks.values()) <= most

    def _alarm_name(self, logical: str | None) -> str:
        return next((a.definition.name for a in self.world.alarms if a.logical == logical), f"{logical}?")

    def _deployed(self) -> tuple[str, bool]:
        functions = sorted(f.short for f in self.world.functions.values())
        needed = {"start-system", "instance-state-change", "crash-loop-breaker"}
        created = sum(len(s.created) for s in self.world.stacks)
        observed = (
            f"{created} resources in moto from {len(self.world.stacks)} templates; functions {', '.join(functions)}; "
            f"{len(self.world.subscriptions)} subscription filter(s), {len(self.world.rules)} rule(s), "
            f"{len(self.world.alarms)} alarm(s)"
        )
        ok = needed <= set(functions) and bool(self.world.subscriptions) and bool(self.world.alarms)
        return observed, ok

    def _record(self, expected: str) -> tuple[str, bool]:
        record = self.record()
        if expected == "placeholder":
            # What instance-state-change resets to; scenario 1 proves the DNS template deploys the same value.
            placeholder = self.world.function("instance-state-change").environment.get("PLACEHOLDER_IP")
            return f"A {record}", record == placeholder
        if expected == "marked":
            return f"A {record} (was {self.mark_record})", record == self.mark_record
        if expected == "instance":
            active = self.cloud.autoscaling.active(self.group)
            ips = {t.ip for t in active if t.phase == "InService"}
            return f"A {record} (instances {', '.join(sorted(str(i) for i in ips)) or 'none'})", record in ips
        return f"unknown record expectation {expected!r}", False

    def _stopped_after(self, minutes: float) -> tuple[str, bool]:
        if self.mark_time is None:
            return "no Mark before this expectation", False
        after = [
            w for w, g in self.cloud.autoscaling.scale_ins if w >= self.mark_time and g == self.group.name
        ]
        if not after:
            return "no scale-in since the mark", False
        delay = (after[0] - self.mark_time).total_seconds() / 60
        # CloudWatch judges whole minutes: the stop comes within the minute after the last idle one.
        return f"stopped {delay:.1f} min after players left", minutes <= delay <= minutes + 1.5

    # --------------------------------------------------------------- terminating instances (issue 9 item 4)
    def release_bound_seconds(self) -> float:
        """Every terminating instance is released within StopTimeoutSeconds + 2 minutes."""
        return float(self.parameters["StopTimeoutSeconds"]) + 120

    def _instances_since_start(self, field_name: str) -> list[Tracked]:
        start = self.alerts_from
        return [
            t
            for t in self.cloud.autoscaling.instances.values()
            if getattr(t, field_name) is not None and start is not None and getattr(t, field_name) >= start
        ]

    def _lifecycle(self, what: str, value: Any) -> tuple[str, bool]:
        now, bound = self.world.clock.now, self.release_bound_seconds()
        if what == "released":
            stopped = self._instances_since_start("terminating_at")
            if not stopped:
                return "no instance terminated in this scenario", False
            parts, ok = [], True
            for t in stopped:
                assert t.terminating_at is not None
                waited = ((t.terminated_at or now) - t.terminating_at).total_seconds()
                state = "released" if t.terminated_at else f"still {t.phase}"
                parts.append(f"{t.instance_id} {state} after {waited / 60:.1f} min in Terminating")
                ok = ok and t.terminated_at is not None and waited <= bound
            return f"{'; '.join(parts)} (bound {bound / 60:.0f} min)", ok
        if what == "billed":
            launched = self._instances_since_start("launched_at")
            if not launched:
                return "no instance launched in this scenario", False
            billed = [((t.terminated_at or now) - t.launched_at).total_seconds() / 60 for t in launched]
            parts = [
                f"{t.instance_id} {b:.1f} min{'' if t.terminated_at else ' so far, ' + t.phase}"
                for t, b in zip(launched, billed, strict=True)
            ]
            ok = all(t.terminated_at is not None for t in launched) and max(billed) <= float(value)
            return f"{'; '.join(parts)} (at most {float(value):g})", ok
        deletion = self.deletion
        if deletion is None or deletion.started is None:
            return "no DeleteStack before this expectation", False
        if what == "gone_after_delete":
            started = deletion.started
            up = [
                t
                for t in self.cloud.autoscaling.instances.values()
                if t.launched_at <= started and (t.terminated_at is None or t.terminated_at >= started)
            ]
            if not up:
                return "no instance was up at the delete", False
            parts, ok = [], True
            for t in up:
                after = ((t.terminated_at or now) - started).total_seconds()
                state = "terminated" if t.terminated_at else f"still {t.phase}"
                parts.append(f"{t.instance_id} {state} {after / 60:.1f} min after the delete")
                ok = ok and t.terminated_at is not None and after <= bound
            return f"{'; '.join(parts)} (bound {bound / 60:.0f} min)", ok
        resources = deletion.all_resources()
        retained = sorted(r.logical for r in resources if r.retained)
        if deletion.finished is None:
            waiting = sorted(r.logical for r in resources if r.finished is None)
            return f"still DELETE_IN_PROGRESS: {', '.join(waiting)}", False
        took = (deletion.finished - deletion.started).total_seconds() / 60
        observed = f"DELETE_COMPLETE after {took:.1f} min, {len(resources)} resources; retained {retained}"
        return observed, took <= float(value)


def run_scenarios(driver: Driver, scenarios: Sequence[Scenario] = SCENARIOS) -> None:
    for scenario in scenarios:
        driver.play(scenario)


# Terminating instances (issue 9 item 4, docs/architecture.md "Compute"): whatever ECS does, an instance that
# terminates is released within StopTimeoutSeconds + 2 minutes - one that never joined the cluster, and one
# whose stack is deleted while it runs. Played on a world of their own: L2 deletes the stack.
LIFECYCLE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "L1 an instance that never joins the cluster is released",
        (
            MountsFail(),
            Resolve("{server}"),
            Wait(3),
            Expect("task", "none running", label="no task: the agent joined another cluster"),
            Wait("param:StartupGraceMinutes+param:IdleMinutes+2"),
            Expect("desired", 0, label="the idle alarm stops it"),
            Wait(5),
            Expect("released", label="released within StopTimeoutSeconds + 2 min, not at the hook's timeout"),
            Expect(
                "billed",
                "param:StartupGraceMinutes+param:IdleMinutes+8",
                label="billed minutes: boot, startup grace, idle minutes, release",
            ),
        ),
    ),
    Scenario(
        "L2 stack delete while the server runs",
        (
            Resolve("{server}"),
            Wait(3),
            Expect("task", "RUNNING", label="server up"),
            DeleteStack(),
            Wait(6),
            Expect(
                "gone_after_delete",
                label="instance terminated within StopTimeoutSeconds + 2 min of the delete",
            ),
            Expect("released", label="released within StopTimeoutSeconds + 2 min in Terminating"),
            Expect("billed", 12, label="billed minutes: boot, play, delete"),
            Expect("stack_deleted", 10, label="the whole stack deletes; the world's file system is retained"),
        ),
    ),
)


# Issue 9 items 5 and 6 (docs/architecture.md, "Compute"): a knock while the old instance still saves the world,
# and an instance terminated where no hook can see it. Played on a world of their own (`make demo`).
DRAIN_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "D1 knock during a drain: one instance at a time, the server back after it",
        (
            Resolve("{server}"),
            Wait(3),
            Expect("record", "instance", label="server up"),
            UntilDraining(),  # nobody joins: the idle stop; the instance drains (Terminating:Wait)
            Resolve("{server}"),
            Expect(
                "last_outcome",
                "deferred",
                function="start-system",
                label="the knock is recorded, not a second instance",
            ),
            Expect("desired", 0, label="desired stays 0 while the old instance drains"),
            Wait(4),
            Expect(
                "outcome_seen",
                "started",
                function="instance-state-change",
                label="the drain's end starts the server: no second knock",
            ),
            Expect("record", "instance", label="A record = the new instance"),
            Expect("max_instances", 1, label="never two instances at once"),
            Expect("max_mounts", 1, label="the world never mounted twice"),
        ),
    ),
    Scenario(
        "D2 instance terminated outside its hook: record reset, group replaces it",
        (
            Resolve("{server}"),  # up already after D1 (no change); started here when played alone
            Wait(3),
            Expect("record", "instance", label="server up"),
            TerminateOutsideHook(),
            Expect(
                "last_outcome",
                "dns_updated",
                function="instance-state-change",
                label='"Terminate Successful" handled (no lifecycle action came)',
            ),
            Expect("record", "placeholder", label="A record reset: never a dead address"),
            Wait(3),
            Expect("record", "instance", label="A record = the replacement"),
            Expect("max_mounts", 1, label="the world never mounted twice"),
        ),
    ),
)
