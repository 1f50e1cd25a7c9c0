"""CloudWatch alarm windows stay within CloudWatch's limits for every parameter value a template allows.

CloudWatch rejects an alarm whose Period x EvaluationPeriods exceeds one day when the period is under an hour,
or seven days otherwise (REFERENCE.md "CloudWatch alarms"; PutMetricAlarm API reference). The period must be
10, 20, 30 or a multiple of 60 seconds, and DatapointsToAlarm must be between 1 and EvaluationPeriods.
Given each alarm, when every parameter its window depends on takes each of its extreme allowed values
(MinValue, MaxValue, each AllowedValue, Default), then the window is valid.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    ROOT,
    pseudo_refs,
    sample_parameters,
    template,
    template_files,
    template_id,
)

from container_manager.intrinsics import Resolver
from container_manager.rehearsal.alarms import AlarmDefinition, AlarmEvaluator, Datapoint, MetricKey
from container_manager.rehearsal.templates import NO_VALUE, strip_no_value

ONE_DAY = 24 * 3600
SEVEN_DAYS = 7 * ONE_DAY
MAX_COMBINATIONS = 500


def _alarms() -> list[Any]:
    found = []
    for path in template_files():
        for name, resource in template(path)["Resources"].items():
            if resource.get("Type") == "AWS::CloudWatch::Alarm":
                found.append(pytest.param(path, name, id=f"{template_id(path)}:{name}"))
    return found


ALARMS = _alarms()


def _parameter_names(value: Any, doc: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """Parameters ``value`` depends on, through Ref, ${} in Sub, and the conditions of Fn::If."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if isinstance(value, list):
        for item in value:
            names |= _parameter_names(item, doc, seen)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                names.add(arg)
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                names |= {part.split("}")[0] for part in text.split("${")[1:]}
                names |= _parameter_names(arg if isinstance(arg, str) else arg[1], doc, seen)
            elif key in ("Fn::If", "Condition"):
                condition = arg[0] if key == "Fn::If" else arg
                if condition not in seen:
                    seen.add(condition)
                    names |= _parameter_names(doc.get("Conditions", {}).get(condition), doc, seen)
                names |= _parameter_names(arg[1:] if key == "Fn::If" else [], doc, seen)
            else:
                names |= _parameter_names(arg, doc, seen)
    return names & set(doc.get("Parameters", {}))


def _extremes(name: str, spec: dict[str, Any]) -> list[str]:
    if spec.get("AllowedValues"):
        return [str(v) for v in spec["AllowedValues"]]
    values = {str(spec[key]) for key in ("MinValue", "MaxValue", "Default") if key in spec}
    if "MaxValue" not in spec:
        pytest.fail(
            f"parameter {name} shapes an alarm window but has no MaxValue/AllowedValues: "
            "no bound proves the window stays within CloudWatch's limits"
        )
    return sorted(values)


def _combinations(doc: dict[str, Any], names: set[str]) -> Iterator[dict[str, str]]:
    ordered = sorted(names)
    choices = [_extremes(name, doc["Parameters"][name]) for name in ordered]
    combos = list(itertools.islice(itertools.product(*choices), MAX_COMBINATIONS + 1))
    assert len(combos) <= MAX_COMBINATIONS, f"too many parameter combinations for {ordered}"
    for combo in combos:
        yield dict(zip(ordered, combo, strict=True))


def _periods(metrics: Any) -> list[Any]:
    """Every Period in a Metrics list, in both branches of any Fn::If around an entry."""
    found: list[Any] = []
    items = metrics if isinstance(metrics, list) else [metrics]
    for item in items:
        if not isinstance(item, dict):
            continue
        if "Fn::If" in item:
            found += _periods(item["Fn::If"][1:])
            continue
        if "Period" in item:
            found.append(item["Period"])
        if "Period" in item.get("MetricStat", {}):
            found.append(item["MetricStat"]["Period"])
    return found


def _if_conditions(value: Any) -> list[str]:
    if isinstance(value, list):
        return [c for item in value for c in _if_conditions(item)]
    if isinstance(value, dict):
        found = [value["Fn::If"][0]] if "Fn::If" in value else []
        return found + [c for item in value.values() for c in _if_conditions(item)]
    return []


def _window(properties: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
    """The expressions that shape the alarm's evaluation window (and the conditions that choose them)."""
    periods = [properties["Period"]] if "Period" in properties else []
    periods += _periods(properties.get("Metrics", []))
    conditions = _if_conditions(properties.get("Metrics", [])) + ([condition] if condition else [])
    return {
        "periods": periods,
        "evaluation": properties.get("EvaluationPeriods"),
        "datapoints": properties.get("DatapointsToAlarm", properties.get("EvaluationPeriods")),
        "conditions": [{"Condition": c} for c in conditions],
    }


def resolved_alarm(path: Path, alarm: str, parameters: dict[str, str]) -> dict[str, Any] | None:
    """The alarm's properties as CloudFormation would create them, or None when its Condition is false."""
    doc = template(path)
    resource = doc["Resources"][alarm]
    refs: dict[str, Any] = {name: f"{name}-physical-id" for name in doc["Resources"]}
    refs.update(pseudo_refs("eu-west-1"))
    refs["AWS::NoValue"] = NO_VALUE
    resolver = Resolver(doc, parameters=sample_parameters(doc, parameters), refs=refs)
    if "Condition" in resource and not resolver.condition(resource["Condition"]):
        return None
    return dict(strip_no_value(resolver.resolve(resource["Properties"])))


@pytest.mark.skipif(not ALARMS, reason="no AWS::CloudWatch::Alarm in any template yet")
@pytest.mark.parametrize(("path", "alarm"), ALARMS or [pytest.param(None, None, id="none")])
def test_alarm_window_within_cloudwatch_limits_for_all_allowed_values(path: Path, alarm: str) -> None:
    doc = template(path)
    resource = doc["Resources"][alarm]
    window = _window(resource.get("Properties", {}), resource.get("Condition"))
    assert window["periods"], f"{alarm}: no Period (alarm or MetricStat)"
    assert window["evaluation"] is not None, f"{alarm}: no EvaluationPeriods"
    problems = []
    checked = 0
    for combo in _combinations(doc, _parameter_names(window, doc)):
        props = resolved_alarm(path, alarm, combo)
        if props is None:
            continue  # the alarm does not exist with these values
        resolved = _window(props)
        periods = {int(p) for p in resolved["periods"]}
        evaluation = int(resolved["evaluation"])
        datapoints = int(resolved["datapoints"])
        checked += 1
        where = f"{alarm} with {combo or 'defaults'}"
        if len(periods) != 1:
            problems.append(f"{where}: metrics use different periods {sorted(periods)}")
            continue
        (period,) = periods
        limit = ONE_DAY if period < 3600 else SEVEN_DAYS
        if period not in (10, 20, 30) and period % 60:
            problems.append(f"{where}: Period {period} is not 10, 20, 30 or a multiple of 60")
        if not 1 <= datapoints <= evaluation:
            problems.append(
                f"{where}: DatapointsToAlarm {datapoints} not in 1..EvaluationPeriods {evaluation}"
            )
        if period * evaluation > limit:
            problems.append(f"{where}: {period} s x {evaluation} = {period * evaluation} s exceeds {limit} s")
    assert checked
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------ watchdog modes
# Given infra/watchdog.yaml resolved for a mode, when CloudWatch's evaluation (container_manager.rehearsal.
# alarms, the same evaluator `make demo` uses) runs minute by minute over a recorded timeline of the agent's
# values, the DNS knock and the traffic, then the idle alarm stops the server exactly when docs/watchdog.md
# says, the agent-silent alarm alerts, and the runaway guard's windows equal the hours they promise.

WATCHDOG = ROOT / "infra" / "watchdog.yaml"
M, G, T = 10, 15, 2048  # IdleMinutes, StartupGraceMinutes (the agent's), ActivityThresholdBytesPerSecond
HOURS = ["1", "2", "3", "4", "6", "8", "12", "24", "48", "72", "168"]


@dataclass
class Timeline:
    """Per-minute values (minute -> value) of each metric the watchdog reads; absent minute = no datapoint."""

    players: dict[int, float] = field(default_factory=dict)
    knock: dict[int, float] = field(default_factory=lambda: {0: 1.0})  # start-system's knock started it
    netin_bytes_per_second: dict[int, float] = field(default_factory=dict)
    in_service: dict[int, float] = field(default_factory=dict)

    def datapoints(self, key: MetricKey, start: float, end: float) -> list[Datapoint]:
        series = {
            "Players": self.players,
            "DnsQueries": self.knock,
            "NetworkIn": {m: v * 60 for m, v in self.netin_bytes_per_second.items()},
            "GroupInServiceInstances": self.in_service,
            "DataReadIOBytes": {},
        }[key.name]
        # the agent (and CloudWatch's own metrics) stamp each minute's datapoint at :30; start-system and the
        # agent publish with Unit Count
        unit = "Count" if key.name in ("Players", "DnsQueries") else None
        return [Datapoint(m * 60 + 30, v, unit) for m, v in series.items() if start <= m * 60 + 30 < end]


def agent_run(minutes: range, players: Callable[[int], int], grace: int = G) -> dict[int, float]:
    """What the agent publishes each minute the instance is up: players, or -1 in the grace with nobody."""
    values = {}
    for minute in minutes:
        count = players(minute)
        values[minute] = float(count if count > 0 or minute >= grace else -1)
    return values


def first_alarm(alarm: str, mode: str, timeline: Timeline, until: int, start: str = "ALARM") -> int | None:
    """The minute at whose end the alarm next *enters* ALARM - its actions run then (None: not within
    ``until`` minutes). Before minute 0 nothing ran, so the idle alarm starts in ALARM; the knock in minute 0
    takes it out."""
    params = {"WatchdogMode": mode, "IdleMinutes": str(M), "ActivityThresholdBytesPerSecond": str(T)}
    props = resolved_alarm(WATCHDOG, alarm, params)
    assert props is not None, f"{alarm} does not exist in mode {mode}"
    evaluator = AlarmEvaluator(AlarmDefinition.from_properties(alarm, props), state=start)
    for minute in range(1, until + 1):
        result = evaluator.evaluate(timeline, datetime.fromtimestamp(minute * 60, UTC))
        if result.changed and result.state == "ALARM":
            return minute
    return None


def test_idle_alarm_connections_players_leave_stop_exactly_m_minutes_later() -> None:
    up = range(1, 200)  # the agent's first report comes a minute after boot
    timeline = Timeline(
        players=agent_run(up, lambda m: 3 if 5 <= m < 90 else 0), in_service=dict.fromkeys(up, 1)
    )
    # the last player was counted in minute 89; minutes 90..99 are the M idle ones
    assert first_alarm("IdleAlarm", "connections", timeline, 200) == 90 + M


def test_idle_alarm_connections_nobody_comes_stop_after_grace_plus_m() -> None:
    up = range(1, 200)
    timeline = Timeline(players=agent_run(up, lambda m: 0), in_service=dict.fromkeys(up, 1))
    assert first_alarm("IdleAlarm", "connections", timeline, 200) == G + M


def test_idle_alarm_connections_stops_a_server_started_by_hand() -> None:
    # no knock (started in the console) while the alarm rests in ALARM: the grace reports take it out of ALARM,
    # so it enters ALARM - and stops - after G + M like any other unjoined start
    up = range(1, 200)
    timeline = Timeline(players=agent_run(up, lambda m: 0), knock={}, in_service=dict.fromkeys(up, 1))
    assert first_alarm("IdleAlarm", "connections", timeline, 200) == G + M


def test_idle_alarm_connections_slow_boot_inside_grace_is_not_stopped() -> None:
    # a long grace (a modded server booting for 40 minutes) outlasts several idle windows: no stop inside it
    up = range(1, 200)
    timeline = Timeline(
        players=agent_run(up, lambda m: 2 if m >= 40 else 0, grace=45), in_service=dict.fromkeys(up, 1)
    )
    timeline.netin_bytes_per_second = dict.fromkeys(up, 10.0)  # mods load from disk: no traffic at all
    assert first_alarm("IdleAlarm", "connections", timeline, 180) is None


def test_idle_alarm_connections_udp_players_with_little_traffic_are_never_stopped() -> None:
    up = range(1, 6 * 60)
    timeline = Timeline(
        players=agent_run(up, lambda m: 4 if m >= 3 else 0),
        netin_bytes_per_second=dict.fromkeys(up, 300.0),  # far under T: the traffic mode would stop it
        in_service=dict.fromkeys(up, 1),
    )
    assert first_alarm("IdleAlarm", "connections", timeline, 6 * 60 - 1) is None
    assert first_alarm("IdleAlarm", "traffic", timeline, 6 * 60 - 1) is not None


def test_idle_alarm_connections_knock_keeps_it_up_while_players_retry() -> None:
    up = range(1, 120)
    timeline = Timeline(players=agent_run(up, lambda m: 0), in_service=dict.fromkeys(up, 1))
    timeline.knock = dict.fromkeys(range(20, 60, 5), 1.0)  # a resolver retrying every 5 minutes
    # the last knock is in minute 55: minutes 56..65 are the M idle ones
    assert first_alarm("IdleAlarm", "connections", timeline, 120) == 56 + M


def test_idle_alarm_connections_silent_agent_falls_back_to_traffic_and_alerts() -> None:
    up = range(1, 200)
    players = {m: v for m, v in agent_run(up, lambda m: 5).items() if m < 40}  # the agent dies in minute 40
    traffic = {m: (9000.0 if m < 70 else 100.0) for m in up}  # players keep playing until minute 70
    timeline = Timeline(players=players, netin_bytes_per_second=traffic, in_service=dict.fromkeys(up, 1))
    assert first_alarm("IdleAlarm", "connections", timeline, 200) == 70 + M
    # silent minutes 40..49 (AgentSilentMinutes = 10): the alert comes at the end of minute 49
    assert first_alarm("AgentSilentAlarm", "connections", timeline, 200, start="OK") == 40 + 10
    # an agent that reports every minute is never "silent", stopped or not
    healthy = Timeline(players=agent_run(up, lambda m: 0), in_service=dict.fromkeys(up, 1))
    assert first_alarm("AgentSilentAlarm", "connections", healthy, 200, start="OK") is None


def test_idle_alarm_traffic_mode_keeps_its_threshold() -> None:
    up = range(1, 200)
    traffic = {m: (5000.0 if m < 50 else 1000.0) for m in up}
    timeline = Timeline(netin_bytes_per_second=traffic, in_service=dict.fromkeys(up, 1))
    assert first_alarm("IdleAlarm", "traffic", timeline, 200) == 50 + M
    props = resolved_alarm(WATCHDOG, "IdleAlarm", {"WatchdogMode": "traffic"})
    assert props is not None
    assert "players" not in {m["Id"] for m in props["Metrics"]}  # no agent, no agent metric billed
    assert resolved_alarm(WATCHDOG, "AgentSilentAlarm", {"WatchdogMode": "traffic"}) is None


@pytest.mark.parametrize("mode", ["connections", "traffic"])
def test_no_instance_and_no_knock_is_idle(mode: str) -> None:
    # no data at all (nothing running, nobody knocking) is idle: the alarm rests in ALARM until a knock
    assert first_alarm("IdleAlarm", mode, Timeline(knock={}), 60, start="OK") == 1


def test_idle_alarm_metric_count_per_mode() -> None:
    # metric-math alarms are billed per metric: docs/watchdog.md's cost table depends on these counts
    counted = {}
    for mode in ("connections", "traffic"):
        props = resolved_alarm(WATCHDOG, "IdleAlarm", {"WatchdogMode": mode})
        assert props is not None
        counted[mode] = sum(1 for m in props["Metrics"] if "MetricStat" in m)
    silent = resolved_alarm(WATCHDOG, "AgentSilentAlarm", {"WatchdogMode": "connections"})
    assert silent is not None
    assert counted == {"connections": 4, "traffic": 3}
    assert sum(1 for m in silent["Metrics"] if "MetricStat" in m) == 2


RUNAWAY_WINDOWS = [("LeftUpAlarm", "MaxHoursUp", h) for h in HOURS] + [
    ("ForceStopAlarm", "ForceStopHours", h) for h in HOURS if h != "1"
]


@pytest.mark.parametrize(("alarm", "parameter", "hours"), RUNAWAY_WINDOWS)
def test_runaway_windows_equal_the_promised_hours(alarm: str, parameter: str, hours: str) -> None:
    props = resolved_alarm(WATCHDOG, alarm, {parameter: hours})
    assert props is not None
    assert int(props["Period"]) * int(props["EvaluationPeriods"]) == int(hours) * 3600
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"]  # up without a break, every period
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
        "Minimum",
        "GreaterThanOrEqualToThreshold",
        1,
    )


def test_force_stop_is_on_by_default_stops_and_alerts_and_can_be_turned_off() -> None:
    props = resolved_alarm(WATCHDOG, "ForceStopAlarm", {})
    assert props is not None
    assert int(props["Period"]) * int(props["EvaluationPeriods"]) == 24 * 3600
    assert props["AlarmActions"][:2] == ["sample-stopserverfunctionarn", "sample-alerttopicarn"]
    assert resolved_alarm(WATCHDOG, "ForceStopAlarm", {"ForceStopHours": "off"}) is None


# ------------------------------------------------------------------- stopping: Lambda actions, never Auto Scaling
STOPPING = [("IdleAlarm", {}), ("ForceStopAlarm", {}), ("LeftUpAlarm", {"MaxHoursAction": "stop"})]
MAY_STOP = {
    "IdleAlarm": "IdleAlarmMayStop",
    "ForceStopAlarm": "ForceStopAlarmMayStop",
    "LeftUpAlarm": "LeftUpAlarmMayStop",
}


@pytest.mark.parametrize(("alarm", "params"), STOPPING, ids=[a for a, _ in STOPPING])
def test_every_stopping_alarm_invokes_stop_server_as_a_lambda_action(
    alarm: str, params: dict[str, str]
) -> None:
    """Given a stopping alarm, then its stop is the stop-server function, which CloudWatch invokes only on
    entering ALARM, and no action is an Auto Scaling policy, which CloudWatch re-executes every minute the alarm
    stays in ALARM ("Alarm actions", CloudWatch User Guide) - a stale ALARM would undo a player's start."""
    props = resolved_alarm(WATCHDOG, alarm, params)
    assert props is not None
    assert "sample-stopserverfunctionarn" in props["AlarmActions"]
    doc = template(WATCHDOG)
    policies = [k for k, r in doc["Resources"].items() if r["Type"] == "AWS::AutoScaling::ScalingPolicy"]
    assert policies == [], f"Auto Scaling policies are re-executed while in ALARM: {policies}"
    # and it may: a resource permission for CloudWatch's alarm principal, from exactly this alarm
    permission = doc["Resources"][MAY_STOP[alarm]]
    assert permission["Type"] == "AWS::Lambda::Permission"
    assert permission["Properties"]["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": [alarm, "Arn"]}
    assert permission["Properties"]["FunctionName"] == {"Ref": "StopServerFunctionArn"}
    assert permission.get("Condition") == doc["Resources"][alarm].get("Condition") or alarm == "LeftUpAlarm"


def test_left_up_alarm_stops_only_when_asked() -> None:
    props = resolved_alarm(WATCHDOG, "LeftUpAlarm", {})
    assert props is not None
    assert "sample-stopserverfunctionarn" not in props["AlarmActions"]
    assert template(WATCHDOG)["Resources"]["LeftUpAlarmMayStop"]["Condition"] == "StopWhenLeftUp"


@pytest.mark.parametrize("minutes", ["5", "10", "15", "30", "60"])
def test_agent_silent_alarm_leaves_three_minutes_for_late_datapoints(minutes: str) -> None:
    """M of N with N = M + 3: the newest minutes' in-service datapoints are often not ingested yet, and FILL
    makes them count as not in service; an M-of-M window would never fill (found by the rehearsal)."""
    props = resolved_alarm(WATCHDOG, "AgentSilentAlarm", {"AgentSilentMinutes": minutes})
    assert props is not None
    assert int(props["DatapointsToAlarm"]) == int(minutes)
    assert int(props["EvaluationPeriods"]) == int(minutes) + 3


def test_force_stop_beyond_a_day_stops_a_server_up_for_48_hours() -> None:
    timeline = Timeline()

    def hourly(key: MetricKey, start: float, end: float) -> list[Datapoint]:
        # GroupInServiceInstances once a minute: 0 until the launch at 0:30, then 1 without a break
        return [Datapoint(t, float(t >= 1800)) for t in range(max(0, int(start)) + 30, int(end), 60)]

    timeline.datapoints = hourly  # type: ignore[method-assign]
    props = resolved_alarm(WATCHDOG, "ForceStopAlarm", {"ForceStopHours": "48"})
    assert props is not None
    evaluator = AlarmEvaluator(AlarmDefinition.from_properties("ForceStopAlarm", props))
    states = {
        h: evaluator.evaluate(timeline, datetime.fromtimestamp(h * 3600, UTC)).state for h in range(1, 50)
    }
    # hourly periods count from the first full hour up: stopped between 48 and 49 hours after the launch
    assert states[48] != "ALARM"
    assert states[49] == "ALARM"
