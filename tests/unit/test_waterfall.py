"""The waterfall renderer: a pure function of (phase, start, end, source) records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from container_manager.waterfall import Span, as_json, render, waterfall

T0 = datetime(2026, 11, 20, 19, 42, 7, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_offsets_durations_and_total_come_from_the_records() -> None:
    # Given three phases, one outside the total
    fall = waterfall(
        "start of x",
        [
            Span("query", at(0), at(1), "query log"),
            Span("boot", at(1), at(91), "scaling activity"),
            Span("first player", at(91), at(400), "metric", in_total=False),
        ],
    )
    # When / Then
    assert fall.total_seconds == 91
    text = render(fall)
    assert "+1.0 s" in text
    assert "90.0 s" in text
    assert "91.0 s" in text.splitlines()[-1]
    assert as_json(fall)["phases"][1]["seconds"] == 90


def test_a_phase_without_records_is_listed_with_its_reason_and_left_out() -> None:
    fall = waterfall(
        "stop of x",
        [Span("boot", at(0), at(10), "activity"), Span("drain", None, None, "ECS task", "task forgotten")],
        ["scaling activities: six weeks"],
        label="simulated",
    )
    text = render(fall)
    assert "[simulated]" in text
    assert "task forgotten" in text
    assert "six weeks" in text
    assert fall.total_seconds == 10


def test_an_empty_waterfall_renders() -> None:
    fall = waterfall("nothing", [], ["no launch"])
    assert fall.total_seconds is None
    assert "no launch" in render(fall)
