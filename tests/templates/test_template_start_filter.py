"""The start subscription filter of template.yaml against Route 53 query-log lines.

Given the FilterPattern CloudFormation would deploy for a container (resolved through the real template), when
Route 53 writes a query-log line for the container's sub-zone, then the filter forwards exactly the starting
query types, whatever the letter case of the name, and start-system's name check (``querylog.scan``) turns
only the container's own name into a knock. The log group receives nothing but the sub-zone's queries.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from template_support import ROOT, ROOT_TEMPLATE, template

from container_manager.intrinsics import Resolver
from container_manager.matching.filter_pattern import FilterPattern
from start_system.querylog import scan
from support import aws_events as ev

NAME = "minecraft.example.com"


def start_filter(ipv6: bool, container: str = "minecraft", domain: str = "example.com") -> FilterPattern:
    doc = template(ROOT_TEMPLATE)
    events = doc["Resources"]["StartSystemFunction"]["Properties"]["Events"]
    subscriptions = [e for e in events.values() if e["Type"] == "CloudWatchLogs"]
    assert len(subscriptions) == 1, "start-system should have exactly one CloudWatch Logs subscription"
    parameters = {"ContainerId": container, "DomainName": domain, "StartOnIpv6Queries": str(ipv6).lower()}
    resolver = Resolver(doc, parameters=parameters)
    return FilterPattern.parse(resolver.resolve(subscriptions[0]["Properties"]["FilterPattern"]))


def starts(line: str, ipv6: bool, name: str = NAME) -> bool:
    """The whole start path's verdict on one line: the subscription filter, then start-system's scan."""
    types = ("A", "AAAA") if ipv6 else ("A",)
    return start_filter(ipv6).matches(line) and bool(scan([line], name, types).knocks)


def dns_0x20(name: str, seed: int) -> str:
    """``name`` with its letters' case randomised, as a resolver using DNS 0x20 sends it."""
    rng = random.Random(seed)
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


@pytest.fixture(scope="module", params=[False, True], ids=["ipv4-only", "ipv6-too"])
def ipv6(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class TestStartFilter:
    @pytest.mark.parametrize("protocol", ["UDP", "TCP"])
    def test_player_query_for_the_exact_name_passes(self, ipv6: bool, protocol: str) -> None:
        assert start_filter(ipv6).matches(ev.query_log_line(NAME, "A", protocol=protocol))

    def test_query_from_an_ipv6_resolver_with_client_subnet_passes(self, ipv6: bool) -> None:
        line = ev.query_log_line(NAME, "A", resolver_ip="2001:db8::1234", client_subnet="2001:db8:abcd::/48")
        assert start_filter(ipv6).matches(line)

    def test_aaaa_passes_only_when_enabled(self, ipv6: bool) -> None:
        assert start_filter(ipv6).matches(ev.query_log_line(NAME, "AAAA")) is ipv6

    @pytest.mark.parametrize(
        "name",
        [
            "other.example.com",
            "x.minecraft.example.com",
            "_minecraft._tcp.minecraft.example.com",
            "minecraft.example.com.evil.com",
            "minecraft-example.com",
            "minecraft.example.co",
            "xminecraft.example.com",
            "example.com",
        ],
    )
    def test_lookalike_names_do_not_start_the_server(self, ipv6: bool, name: str) -> None:
        # The filter forwards any A query of the sub-zone; the handler's exact-name check stops these.
        assert not starts(ev.query_log_line(name, "A"), ipv6)

    @pytest.mark.parametrize(
        "query_type", ["TXT", "ANY", "MX", "NS", "SOA", "CNAME", "HTTPS", "SRV", "AA", "A6"]
    )
    def test_other_query_types_do_not_start_the_server(self, ipv6: bool, query_type: str) -> None:
        assert not start_filter(ipv6).matches(ev.query_log_line(NAME, query_type))

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
        # The documented 'example.com A' lines, for our name: the filter must see through the real layout
        lines = [line.replace(" example.com A ", f" {NAME} A ") for line in ev.ROUTE53_DOCUMENTED_LINES]
        rewritten = [line for line in lines if f" {NAME} A " in line]
        assert len(rewritten) == 2
        assert all(starts(line, ipv6) for line in rewritten)

    def test_filter_follows_the_container_and_domain_parameters(self) -> None:
        other = "valheim.games.example.org"
        assert start_filter(False, container="valheim", domain="games.example.org").matches(
            ev.query_log_line(other, "A")
        )
        assert starts(ev.query_log_line(other, "A"), False, name=other)
        assert not starts(ev.query_log_line(NAME, "A"), False, name=other)


# Fixtures written for start-system's handler tests: what the filter does with their log events.
def _messages(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [event["message"] for event in data.get("logEvents", [])]


class TestStartSystemFixtures:
    def test_bot_lookalike_fixture_is_entirely_filtered_out(self) -> None:
        messages = _messages(ROOT / "events" / "start-system" / "bot_lookalike_names.decoded.json")
        assert messages
        assert not any(starts(message, True) for message in messages)

    def test_player_a_query_fixture_passes(self) -> None:
        path = ROOT / "events" / "start-system" / "player_query_a.decoded.json"
        assert any(start_filter(False).matches(message) for message in _messages(path))
