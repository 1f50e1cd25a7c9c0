"""The alarm evaluator: definitions read from template properties, M-of-N, missing data, actions on change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from container_manager.rehearsal.alarms import (
    AlarmDefinition,
    AlarmDefinitionError,
    AlarmEvaluator,
    Datapoint,
    MetricKey,
)

START = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


class Store:
    def __init__(self) -> None:
        self.points: dict[MetricKey, list[Datapoint]] = {}

    def add(self, key: MetricKey, at: datetime, value: float, unit: str | None = None) -> None:
        self.points.setdefault(key, []).append(Datapoint(at.timestamp(), value, unit))

    def datapoints(self, key: MetricKey, start: float, end: float) -> Sequence[Datapoint]:
        return [p for p in self.points.get(key, []) if start <= p.timestamp < end]


def single(**overrides: Any) -> dict[str, Any]:
    props = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "FunctionName", "Value": "breaker"}],
        "Statistic": "Sum",
        "Period": 900,
        "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"],
    }
    props.update(overrides)
    return props


KEY = MetricKey("AWS/Lambda", "Invocations", frozenset({("FunctionName", "breaker")}))


def test_crash_loop_alarm_sends_one_alert_per_episode() -> None:
    alarm = AlarmEvaluator(AlarmDefinition.from_properties("crash", single()))
    store = Store()
    assert alarm.evaluate(store, START).state == "OK"
    store.add(KEY, START + timedelta(seconds=30), 1)
    store.add(KEY, START + timedelta(seconds=50), 1)
    first = alarm.evaluate(store, START + timedelta(minutes=1))
    assert (first.state, first.changed, first.actions) == (
        "ALARM",
        True,
        ("arn:aws:sns:us-east-1:123456789012:alerts",),
    )
    again = alarm.evaluate(store, START + timedelta(minutes=2))
    assert (again.state, again.changed, again.actions) == ("ALARM", False, ())
    over = alarm.evaluate(store, START + timedelta(minutes=16))
    assert (over.state, over.actions) == ("OK", ())
    assert len(alarm.transitions("ALARM")) == 1


def test_dimensions_must_match_exactly() -> None:
    alarm = AlarmEvaluator(AlarmDefinition.from_properties("crash", single()))
    store = Store()
    store.add(MetricKey("AWS/Lambda", "Invocations", frozenset({("FunctionName", "other")})), START, 5)
    assert alarm.evaluate(store, START + timedelta(minutes=1)).state == "OK"


def math_props(minutes: int = 3, missing: str = "breaching") -> dict[str, Any]:
    def stat(ident: str, namespace: str, name: str, unit: str | None = None) -> dict[str, Any]:
        stat: dict[str, Any] = {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": "G", "Value": "g"}],
            },
            "Period": 60,
            "Stat": "Sum",
        }
        if unit:
            stat["Unit"] = unit
        return {"Id": ident, "ReturnData": False, "MetricStat": stat}

    return {
        "ComparisonOperator": "LessThanThreshold",
        "Threshold": 100,
        "EvaluationPeriods": minutes,
        "DatapointsToAlarm": minutes,
        "TreatMissingData": missing,
        "AlarmActions": ["policy-arn"],
        "Metrics": [
            {
                "Id": "activity",
                "ReturnData": True,
                "Expression": "IF(FILL(knock, 0) > 0, 101, FILL(netin, 0) / 60)",
            },
            stat("netin", "AWS/EC2", "NetworkIn"),
            stat("knock", "CM", "DnsQueries", unit="Count"),
        ],
    }


NETIN = MetricKey("AWS/EC2", "NetworkIn", frozenset({("G", "g")}))
KNOCK = MetricKey("CM", "DnsQueries", frozenset({("G", "g")}))


def test_idle_alarm_needs_every_minute_idle_and_a_knock_counts_as_activity() -> None:
    alarm = AlarmEvaluator(AlarmDefinition.from_properties("idle", math_props()))
    store = Store()
    for minute in range(10):
        store.add(NETIN, START + timedelta(minutes=minute, seconds=30), 60_000 if minute < 3 else 60)
    store.add(KNOCK, START + timedelta(minutes=4, seconds=10), 1, "Count")
    states = [alarm.evaluate(store, START + timedelta(minutes=m)).state for m in range(1, 10)]
    # minutes 0-2 active, 3 idle, 4 knock, 5.. idle: ALARM once minutes 5, 6, 7 are all idle (at 8). FILL gives
    # the minutes before 0 a value (idle), so they are not "missing" but count as idle datapoints.
    assert states == ["OK"] * 7 + ["ALARM", "ALARM"]


def test_unit_filter_ignores_datapoints_of_another_unit() -> None:
    alarm = AlarmEvaluator(AlarmDefinition.from_properties("idle", math_props(minutes=1)))
    store = Store()
    store.add(KNOCK, START + timedelta(seconds=10), 1, "Bytes")
    assert alarm.evaluate(store, START + timedelta(minutes=1)).state == "ALARM"


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("breaching", "ALARM"),
        ("notBreaching", "OK"),
        ("missing", "INSUFFICIENT_DATA"),
        ("ignore", "INSUFFICIENT_DATA"),
    ],
)
def test_treat_missing_data(missing: str, expected: str) -> None:
    alarm = AlarmEvaluator(AlarmDefinition.from_properties("a", single(TreatMissingData=missing)))
    assert alarm.evaluate(Store(), START).state == expected


def test_m_of_n() -> None:
    alarm = AlarmEvaluator(
        AlarmDefinition.from_properties("a", single(Period=60, EvaluationPeriods=3, DatapointsToAlarm=2))
    )
    store = Store()
    store.add(KEY, START + timedelta(seconds=10), 1)
    assert alarm.evaluate(store, START + timedelta(minutes=3)).state == "OK"
    store.add(KEY, START + timedelta(minutes=2, seconds=10), 1)
    assert alarm.evaluate(store, START + timedelta(minutes=3)).state == "ALARM"


@pytest.mark.parametrize(
    "override",
    [
        {"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
        {"Statistic": "p99"},
        {"TreatMissingData": "sometimes"},
        {"ThresholdMetricId": "band"},
    ],
)
def test_unsupported_definitions_are_refused(override: dict[str, Any]) -> None:
    with pytest.raises(AlarmDefinitionError):
        AlarmDefinition.from_properties("a", single(**override))


def test_metric_math_needs_one_returned_series() -> None:
    props = math_props()
    props["Metrics"][1]["ReturnData"] = True
    with pytest.raises(AlarmDefinitionError, match="ReturnData"):
        AlarmDefinition.from_properties("a", props)
