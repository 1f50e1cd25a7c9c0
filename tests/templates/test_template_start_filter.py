"""The start subscription filter of template.yaml against Route 53 query-log lines.

Given the FilterPattern CloudFormation would deploy for a container (resolved through the real template), when
Route 53 writes a query-log line, then only a query for the container's exact name and a starting type passes.
The lines live in ``container_manager.matching.cases``, which `make aws-contract` replays against CloudWatch
Logs' own TestMetricFilter.
"""

from __future__ import annotations

import pytest

from container_manager.matching import cases
from container_manager.matching.filter_pattern import FilterPattern
from support import aws_events as ev

CASES = cases.filter_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_filter_passes_only_a_query_for_the_exact_name_and_a_starting_type(case: cases.FilterCase) -> None:
    assert FilterPattern.parse(case.pattern).matches(case.line) is case.expected


def test_the_player_fixture_passes_and_the_bot_fixture_does_not() -> None:
    verdicts = {c.name.split("[")[0]: set() for c in CASES if c.name.startswith("events/")}
    for case in CASES:
        if case.name.startswith("events/"):
            verdicts[case.name.split("[")[0]].add(case.expected)
    assert True in verdicts["events/start-system/player_query_a.decoded.json"]
    assert verdicts["events/start-system/bot_lookalike_names.decoded.json"] == {False}


def test_filter_is_case_sensitive_so_0x20_randomised_names_never_reach_the_handler() -> None:
    """Known limit, stated so nobody relies on the handler's case-insensitive name check: CloudWatch Logs
    phrases are case-sensitive, so a query logged as ``MineCraft.Example.COM`` (resolvers using DNS 0x20 case
    randomisation) or with a trailing dot is dropped by the filter before start-system sees it."""
    pattern = FilterPattern.parse(cases.start_filter(True))
    assert not pattern.matches(ev.query_log_line("MineCraft.Example.COM", "A"))
    assert not pattern.matches(ev.query_log_line(f"{cases.NAME}.", "A"))
