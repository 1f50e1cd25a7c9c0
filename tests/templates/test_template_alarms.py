"""CloudWatch alarm windows stay within CloudWatch's limits for every parameter value a template allows.

CloudWatch rejects an alarm whose Period x EvaluationPeriods exceeds one day when the period is under an hour,
or seven days otherwise (REFERENCE.md "CloudWatch alarms"; PutMetricAlarm API reference). The period must be
10, 20, 30 or a multiple of 60 seconds, and DatapointsToAlarm must be between 1 and EvaluationPeriods.
Given each alarm, when every parameter its window depends on takes each of its extreme allowed values
(MinValue, MaxValue, each AllowedValue, Default), then the window is valid.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    pseudo_refs,
    sample_parameters,
    template,
    template_files,
    template_id,
)

from container_manager.intrinsics import Resolver

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


def _window(properties: dict[str, Any]) -> dict[str, Any]:
    """The expressions that shape the alarm's evaluation window."""
    periods = []
    if "Period" in properties:
        periods.append(properties["Period"])
    for metric in properties.get("Metrics", []):
        if "Period" in metric:
            periods.append(metric["Period"])
        if "Period" in metric.get("MetricStat", {}):
            periods.append(metric["MetricStat"]["Period"])
    return {
        "periods": periods,
        "evaluation": properties.get("EvaluationPeriods"),
        "datapoints": properties.get("DatapointsToAlarm", properties.get("EvaluationPeriods")),
    }


@pytest.mark.skipif(not ALARMS, reason="no AWS::CloudWatch::Alarm in any template yet")
@pytest.mark.parametrize(("path", "alarm"), ALARMS or [pytest.param(None, None, id="none")])
def test_alarm_window_within_cloudwatch_limits_for_all_allowed_values(path: Path, alarm: str) -> None:
    doc = template(path)
    window = _window(doc["Resources"][alarm].get("Properties", {}))
    assert window["periods"], f"{alarm}: no Period (alarm or MetricStat)"
    assert window["evaluation"] is not None, f"{alarm}: no EvaluationPeriods"
    problems = []
    checked = 0
    for combo in _combinations(doc, _parameter_names(window, doc)):
        params = sample_parameters(doc, combo)
        resolver = Resolver(doc, parameters=params, refs=pseudo_refs("eu-west-1"))
        periods = {int(resolver.resolve(p)) for p in window["periods"]}
        evaluation = int(resolver.resolve(window["evaluation"]))
        datapoints = int(resolver.resolve(window["datapoints"]))
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
