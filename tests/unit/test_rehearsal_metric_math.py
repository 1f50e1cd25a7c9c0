"""Metric math for the rehearsal's alarm evaluator: the CloudWatch user guide's semantics, refusals."""

from __future__ import annotations

import pytest

from container_manager.rehearsal.metric_math import MetricMathError, Window, evaluate, parse, references

T = [0.0, 60.0, 120.0, 180.0]


def window(**series: dict[float, float]) -> Window:
    return Window(T, series, metric_ids=sorted(series))


def test_fill_gives_every_timestamp_a_point() -> None:
    assert evaluate("FILL(m, 0)", window(m={60.0: 5.0})) == {0.0: 0.0, 60.0: 5.0, 120.0: 0.0, 180.0: 0.0}


def test_fill_repeat_carries_the_last_point_forward() -> None:
    assert evaluate("FILL(m, REPEAT)", window(m={60.0: 5.0, 180.0: 7.0})) == {
        60.0: 5.0,
        120.0: 5.0,
        180.0: 7.0,
    }


def test_series_arithmetic_keeps_only_common_timestamps() -> None:
    result = evaluate("a - b / 2", window(a={0.0: 10.0, 60.0: 10.0}, b={60.0: 4.0, 120.0: 4.0}))
    assert result == {60.0: 8.0}


def test_scalar_with_series_applies_to_each_point_and_precedence_holds() -> None:
    assert evaluate("2 + m * 3 ^ 2", window(m={0.0: 1.0})) == {0.0: 11.0}
    assert evaluate("(2 + 3) * 2", window()) == 10.0


def test_division_by_zero_drops_the_point() -> None:
    assert evaluate("a / b", window(a={0.0: 1.0, 60.0: 1.0}, b={0.0: 0.0, 60.0: 2.0})) == {60.0: 0.5}


def test_comparisons_and_logic_give_one_or_zero() -> None:
    w = window(m={0.0: 1.0, 60.0: 5.0})
    assert evaluate("m > 2", w) == {0.0: 0.0, 60.0: 1.0}
    assert evaluate("m >= 1 AND m <= 1", w) == {0.0: 1.0, 60.0: 0.0}
    assert evaluate("m == 5 || m != 5", w) == {0.0: 1.0, 60.0: 1.0}
    assert evaluate("!(m > 2)", w) == {0.0: 1.0, 60.0: 0.0}
    assert evaluate("NOT m", w) == {0.0: 0.0, 60.0: 0.0}


def test_if_without_else_emits_nothing_where_false() -> None:
    assert evaluate("IF(m > 2, m)", window(m={0.0: 1.0, 60.0: 5.0})) == {60.0: 5.0}


def test_if_with_else_and_scalar_branches() -> None:
    assert evaluate("IF(m > 2, 100, m * 2)", window(m={0.0: 1.0, 60.0: 5.0})) == {0.0: 2.0, 60.0: 100.0}


def test_the_idle_alarm_expression_of_the_watchdog() -> None:
    """infra/watchdog.yaml: a knock minute counts as active; else network-in minus EFS reads per second."""
    expression = "IF(FILL(knock, 0) > 0, 2048 + 1, FILL(netin, 0) / 60 - FILL(efsread, 0) / 60)"
    w = window(
        knock={60.0: 1.0}, netin={0.0: 60_000.0, 60.0: 600.0, 120.0: 6_000.0}, efsread={120.0: 6_000.0}
    )
    assert evaluate(expression, w) == {0.0: 1000.0, 60.0: 2049.0, 120.0: 0.0, 180.0: 0.0}


def test_metrics_and_aggregates() -> None:
    w = window(m1={0.0: 1.0, 60.0: 2.0}, m2={60.0: 10.0}, other={0.0: 100.0})
    assert evaluate("SUM(METRICS())", w) == {0.0: 101.0, 60.0: 12.0}
    assert evaluate('SUM(METRICS("m"))', w) == {0.0: 1.0, 60.0: 12.0}
    assert evaluate("MAX([m1, m2])", w) == {0.0: 1.0, 60.0: 10.0}
    assert evaluate("AVG(m1)", w) == 1.5  # a single series reduces to a scalar
    assert evaluate("MIN(m1)", w) == 1.0
    assert evaluate("ABS(0 - m1)", w) == {0.0: 1.0, 60.0: 2.0}


def test_references() -> None:
    assert references(parse("IF(FILL(k, 0) > 0, 1, n / 60)")) == {"k", "n"}
    assert references(parse("SUM(METRICS())")) == {"*"}


@pytest.mark.parametrize(
    "expression",
    ["RATE(m)", "FILL(m, LINEAR)", "m +", "IF(m)", "(m", "m $ 2", "FILL(m)", "Upper"],
)
def test_unsupported_or_malformed_is_refused(expression: str) -> None:
    with pytest.raises(MetricMathError):
        evaluate(expression, window(m={0.0: 1.0}))


def test_unknown_id_is_refused() -> None:
    with pytest.raises(MetricMathError, match="not defined"):
        evaluate("nope + 1", window())
