"""CloudWatch alarm evaluation, offline: the alarm definition straight from a template, datapoints from a store.

moto stores alarms but never evaluates them; this module plays CloudWatch's part for the rehearsal. It reads an
``AWS::CloudWatch::Alarm``'s resolved properties - a single metric (``Namespace``/``MetricName``/``Dimensions``/
``Statistic``/``Period``) or ``Metrics`` (``MetricStat`` entries and metric math ``Expression`` entries, one with
``ReturnData``) - and, at each evaluation, computes the last ``EvaluationPeriods`` datapoints:

* a period's metric value is the ``Stat`` of the datapoints stamped inside it (exact dimension set, and the
  ``Unit`` when the alarm names one), or missing;
* expressions are evaluated by ``metric_math`` over those periods;
* ``TreatMissingData``: ``breaching``/``notBreaching`` count a missing datapoint as such; ``ignore`` keeps the
  state when every datapoint is missing; ``missing`` (the default) goes to INSUFFICIENT_DATA when every
  datapoint is missing and otherwise judges the present ones;
* ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) datapoints breach, OK otherwise.
  Actions run only on a state *change*, as CloudWatch's do.

Simplification, stated: periods end at the evaluation instant (the rehearsal evaluates once per simulated minute),
and ``missing`` does not look back beyond the evaluation range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from container_manager.rehearsal import metric_math

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
MISSING = ("breaching", "notBreaching", "ignore", "missing")


class AlarmDefinitionError(ValueError):
    """The alarm uses a feature this evaluator does not implement (so it would not evaluate it faithfully)."""


@dataclass(frozen=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: frozenset[tuple[str, str]]

    def __str__(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in sorted(self.dimensions))
        return f"{self.namespace}/{self.name}{{{dims}}}"


@dataclass(frozen=True)
class MetricQuery:
    id: str
    key: MetricKey
    period: int
    stat: str
    unit: str | None = None


@dataclass(frozen=True)
class AlarmDefinition:
    name: str
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str
    period: int
    metrics: tuple[MetricQuery, ...]
    expressions: tuple[tuple[str, metric_math.Node], ...]  # in template order
    returned: str  # the id whose value is compared
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_actions: tuple[str, ...] = ()

    @classmethod
    def from_properties(cls, name: str, props: Mapping[str, Any]) -> AlarmDefinition:
        """Build from an ``AWS::CloudWatch::Alarm``'s properties, intrinsics already resolved."""
        for unsupported in ("ExtendedStatistic", "ThresholdMetricId", "EvaluateLowSampleCountPercentile"):
            if unsupported in props:
                raise AlarmDefinitionError(f"{name}: {unsupported} is not implemented by the rehearsal")
        comparison = str(props["ComparisonOperator"])
        if comparison not in COMPARISONS:
            raise AlarmDefinitionError(f"{name}: ComparisonOperator {comparison} is not implemented")
        treat = str(props.get("TreatMissingData", "missing"))
        if treat not in MISSING:
            raise AlarmDefinitionError(f"{name}: TreatMissingData {treat!r} is not valid")
        evaluation = int(props["EvaluationPeriods"])
        metrics: list[MetricQuery] = []
        expressions: list[tuple[str, metric_math.Node]] = []
        returned: list[str] = []
        if "Metrics" in props:
            for item in props["Metrics"]:
                ident = str(item["Id"])
                if "Expression" in item:
                    expressions.append((ident, metric_math.parse(str(item["Expression"]))))
                else:
                    stat = item["MetricStat"]
                    metrics.append(
                        MetricQuery(
                            ident,
                            _key(stat["Metric"]),
                            int(stat["Period"]),
                            str(stat["Stat"]),
                            stat.get("Unit"),
                        )
                    )
                if item.get("ReturnData", True) in (True, "true", "True"):
                    returned.append(ident)
            periods = {m.period for m in metrics}
            if len(returned) != 1:
                raise AlarmDefinitionError(f"{name}: exactly one Metrics entry must have ReturnData true")
            if len(periods) != 1:
                raise AlarmDefinitionError(
                    f"{name}: metrics of one alarm must share one Period, got {periods}"
                )
            period = periods.pop()
        else:
            period = int(props["Period"])
            metrics.append(
                MetricQuery(
                    "m1",
                    _key(props),
                    period,
                    str(props.get("Statistic") or props.get("ExtendedStatistic")),
                    props.get("Unit"),
                )
            )
            returned.append("m1")
        for query in metrics:
            if query.stat not in STATISTICS:
                raise AlarmDefinitionError(f"{name}: statistic {query.stat} is not implemented")
        return cls(
            name=name,
            comparison=comparison,
            threshold=float(props["Threshold"]),
            evaluation_periods=evaluation,
            datapoints_to_alarm=int(props.get("DatapointsToAlarm", evaluation)),
            treat_missing=treat,
            period=period,
            metrics=tuple(metrics),
            expressions=tuple(expressions),
            returned=returned[0],
            alarm_actions=tuple(str(a) for a in props.get("AlarmActions", []) or []),
            ok_actions=tuple(str(a) for a in props.get("OKActions", []) or []),
            insufficient_actions=tuple(str(a) for a in props.get("InsufficientDataActions", []) or []),
        )


def _key(metric: Mapping[str, Any]) -> MetricKey:
    dims = frozenset((str(d["Name"]), str(d["Value"])) for d in metric.get("Dimensions", []) or [])
    return MetricKey(str(metric["Namespace"]), str(metric["MetricName"]), dims)


@dataclass(frozen=True)
class Datapoint:
    timestamp: float  # epoch seconds
    value: float
    unit: str | None = None


class MetricSource(Protocol):
    def datapoints(self, key: MetricKey, start: float, end: float) -> Sequence[Datapoint]:
        """Datapoints of ``key`` stamped in ``[start, end)``."""
        ...


def aggregate(stat: str, values: Sequence[float]) -> float | None:
    if not values:
        return None
    match stat:
        case "Sum":
            return sum(values)
        case "Average":
            return sum(values) / len(values)
        case "Minimum":
            return min(values)
        case "Maximum":
            return max(values)
        case "SampleCount":
            return float(len(values))
    raise AlarmDefinitionError(f"statistic {stat} is not implemented")


@dataclass
class Evaluation:
    """One evaluation: the datapoints judged (oldest first; None = missing) and the resulting state."""

    at: datetime
    datapoints: list[float | None]
    breaching: list[bool]
    state: str
    changed: bool
    actions: tuple[str, ...] = ()

    def describe(self, definition: AlarmDefinition) -> str:
        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:g}"

        shown = self.datapoints[-5:]
        more = "..." if len(self.datapoints) > 5 else ""
        return (
            f"{sum(self.breaching)}/{len(self.breaching)} datapoints breach "
            f"({definition.returned} {definition.comparison} {definition.threshold:g}; last: {more}"
            f"{', '.join(fmt(v) for v in shown)})"
        )


@dataclass
class AlarmEvaluator:
    definition: AlarmDefinition
    state: str = "INSUFFICIENT_DATA"
    history: list[Evaluation] = field(default_factory=list)

    def datapoints(self, source: MetricSource, now: datetime) -> list[float | None]:
        d = self.definition
        end = now.timestamp()
        starts = [end - (d.evaluation_periods - i) * d.period for i in range(d.evaluation_periods)]
        series: dict[str, metric_math.Series] = {}
        for query in d.metrics:
            values: metric_math.Series = {}
            for start in starts:
                points = source.datapoints(query.key, start, start + d.period)
                value = aggregate(
                    query.stat, [p.value for p in points if query.unit is None or p.unit == query.unit]
                )
                if value is not None:
                    values[start] = value
            series[query.id] = values
        window = metric_math.Window(starts, series, [m.id for m in d.metrics])
        for ident, node in d.expressions:
            result = metric_math.evaluate(node, window)
            if not isinstance(result, dict):
                raise AlarmDefinitionError(f"{d.name}: expression {ident} must give a time series")
            series[ident] = result
            window = metric_math.Window(starts, series, [m.id for m in d.metrics])
        returned = series[d.returned]
        return [returned.get(s) for s in starts]

    def evaluate(self, source: MetricSource, now: datetime) -> Evaluation:
        d = self.definition
        points = self.datapoints(source, now)
        compare = COMPARISONS[d.comparison]
        breaching: list[bool] = []
        for value in points:
            if value is None:
                if d.treat_missing == "breaching":
                    breaching.append(True)
                elif d.treat_missing == "notBreaching":
                    breaching.append(False)
            else:
                breaching.append(compare(value, d.threshold))
        if not breaching:  # every datapoint missing, and missing data is neither breaching nor not
            state = self.state if d.treat_missing == "ignore" else "INSUFFICIENT_DATA"
        else:
            state = "ALARM" if sum(breaching) >= d.datapoints_to_alarm else "OK"
        changed = state != self.state
        actions: tuple[str, ...] = ()
        if changed:
            actions = {"ALARM": d.alarm_actions, "OK": d.ok_actions}.get(state, d.insufficient_actions)
        self.state = state
        result = Evaluation(now, points, breaching, state, changed, actions)
        self.history.append(result)
        return result

    def transitions(self, into: str | None = None) -> list[Evaluation]:
        return [e for e in self.history if e.changed and (into is None or e.state == into)]
