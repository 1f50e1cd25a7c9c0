"""The start subscription filter of template.yaml against Route 53 query-log lines.

Given the FilterPattern CloudFormation would deploy for a container (resolved through the real template), when
Route 53 writes a query-log line for the container's sub-zone, then the filter forwards exactly the starting
query types, whatever the letter case of the name, and start-system's name check (``querylog.scan``) turns
only the container's own name into a knock. The log group receives nothing but the sub-zone's queries.
The filter-only verdicts live in ``container_manager.matching.cases``, which `make aws-contract` replays
against CloudWatch Logs' own TestMetricFilter.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from template_support import ROOT

from container_manager.matching import cases
from container_manager.matching.filter_pattern import FilterPattern
from start_system.querylog import scan
from support import aws_events as ev

NAME = cases.NAME
CASES = cases.filter_cases()


def start_filter(ipv6: bool, container: str = "minecraft", domain: str = "example.com") -> FilterPattern:
    return FilterPattern.parse(cases.start_filter(ipv6, container, domain))


def starts(line: str, ipv6: bool, name: str = NAME) -> bool:
    """The whole start path's verdict on one line: the subscription filter, then start-system's scan."""
    types = ("A", "AAAA") if ipv6 else ("A",)
    return start_filter(ipv6).matches(line) and bool(scan([line], name, types).knocks)


def dns_0x20(name: str, seed: int) -> str:
    """``name`` with its letters' case randomised, as a resolver using DNS 0x20 sends it."""
    rng = random.Random(seed)
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_filter_verdict_is_the_query_type_alone(case: cases.FilterCase) -> None:
    assert FilterPattern.parse(case.pattern).matches(case.line) is case.expected


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4-only", "ipv6-too"])
def ipv6(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class TestStartPath:
    @pytest.mark.parametrize("name", cases.LOOKALIKES)
    def test_lookalike_names_do_not_start_the_server(self, ipv6: bool, name: str) -> None:
        # The filter forwards any A query of the sub-zone; the handler's exact-name check stops these.
        assert not starts(ev.query_log_line(name, "A"), ipv6)

    @pytest.mark.parametrize("line", ev.ROUTE53_DOCUMENTED_LINES)
    def test_documented_example_lines_do_not_start_it(self, ipv6: bool, line: str) -> None:
        assert not starts(line, ipv6)

    @pytest.mark.parametrize("seed", range(8))
    def test_a_0x20_randomised_name_starts_the_server(self, ipv6: bool, seed: int) -> None:
        # Regression (issue 9, item 2): the old filter '" <name> A "' dropped these lines.
        line = ev.query_log_line(dns_0x20(NAME, seed), "A", resolver_ip="172.253.1.17")
        assert start_filter(ipv6).matches(line)
        assert starts(line, ipv6)

    def test_upper_case_and_trailing_dot_names_start_the_server(self, ipv6: bool) -> None:
        for name in (NAME.upper(), f"{NAME}.", "MineCraft.Example.COM."):
            assert starts(ev.query_log_line(name, "A"), ipv6), name

    def test_the_filter_names_no_server_so_letter_case_cannot_matter(self) -> None:
        # Filter phrases are case-sensitive (CloudWatch Logs "Filter and pattern syntax"): any name in it
        # would drop 0x20 queries. Only the type phrases may be in it.
        for ipv6 in (False, True):
            pattern = start_filter(ipv6)
            assert "minecraft" not in pattern.text.lower(), pattern.text

    def test_documented_lines_rewritten_for_our_name_do_start_it(self, ipv6: bool) -> None:
        lines = [line.replace(" example.com A ", f" {NAME} A ") for line in ev.ROUTE53_DOCUMENTED_LINES]
        rewritten = [line for line in lines if f" {NAME} A " in line]
        assert len(rewritten) == 2
        assert all(starts(line, ipv6) for line in rewritten)

    def test_the_path_follows_the_container_and_domain_parameters(self) -> None:
        other = "valheim.games.example.org"
        assert starts(ev.query_log_line(other, "A"), False, name=other)
        assert not starts(ev.query_log_line(NAME, "A"), False, name=other)


def _messages(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [event["message"] for event in data.get("logEvents", [])]


class TestStartSystemFixtures:
    def test_bot_lookalike_fixture_never_starts_the_server(self) -> None:
        messages = _messages(ROOT / "events" / "start-system" / "bot_lookalike_names.decoded.json")
        assert messages
        assert not any(starts(message, True) for message in messages)

    def test_player_a_query_fixture_starts_it(self) -> None:
        path = ROOT / "events" / "start-system" / "player_query_a.decoded.json"
        assert any(starts(message, False) for message in _messages(path))
