"""Route 53 query-log parsing and matching (pure logic)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from cm_common.outcome import RejectedEvent
from container_manager.awslogs import encode
from start_system.querylog import (
    MAX_DECODED_BYTES,
    IgnoreReason,
    decode_payload,
    parse_line,
    scan,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"  # AWS's own, see its SOURCES.md
SERVER = "minecraft.example.com"


def test_parses_every_documented_field() -> None:
    # Given the documented example line - When parsed - Then each field lands where the docs say
    line = parse_line(
        "1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -"
    )
    assert line is not None
    assert (line.hosted_zone_id, line.query_name, line.query_type) == ("Z123412341234", "example.com", "A")
    assert (line.response_code, line.protocol, line.edge_location) == ("NOERROR", "UDP", "FRA6")
    assert line.resolver_ip == "192.168.1.1"
    assert line.edns_client_subnet is None


def test_all_documented_example_lines_parse() -> None:
    lines = [
        *(SAMPLES / "route53_query_log_lines.txt").read_text().splitlines(),
        *(SAMPLES / "route53_query_log_lines_2021_with_edge_codes.txt").read_text().splitlines(),
    ]
    parsed = [parse_line(line) for line in lines if line.strip()]
    assert len(parsed) == 10
    assert all(p is not None for p in parsed)
    assert {p.query_type for p in parsed if p} == {"A", "AAAA", "ANY", "TXT"}


@pytest.mark.parametrize(
    "message",
    [
        "",
        "1.0 2017-12-13T08:15:50.235Z Z1 example.com A",  # truncated
        "1.0 2017-12-13T08:15:50.235Z Z1 example.com A NOERROR UDP FRA6 192.168.1.1 - extra",
        "v1 2017-12-13T08:15:50.235Z Z1 example.com A NOERROR UDP FRA6 192.168.1.1 -",  # not a version
        "CWL CONTROL MESSAGE: Checking health of destination Lambda function.",
    ],
)
def test_lines_without_the_documented_shape_are_malformed(message: str) -> None:
    assert parse_line(message) is None


def _line(name: str, qtype: str = "A") -> str:
    return f"1.0 2026-11-20T19:42:07.123Z Z07432391BT2QKN8RXK1F {name} {qtype} NOERROR UDP FRA6 192.0.2.1 -"


@pytest.mark.parametrize(
    ("name", "qtype", "expected"),
    [
        ("minecraft.example.com", "A", None),
        ("MINECRAFT.example.COM", "A", None),
        ("minecraft.example.com.", "a", None),
        ("x.minecraft.example.com", "A", IgnoreReason.OTHER_NAME),
        ("minecraft.example.com.evil.test", "A", IgnoreReason.OTHER_NAME),
        ("minecraft-example.com", "A", IgnoreReason.OTHER_NAME),
        ("minecraft.example.co", "A", IgnoreReason.OTHER_NAME),
        ("xminecraft.example.com", "A", IgnoreReason.OTHER_NAME),
        ("minecraft.example.com", "AAAA", IgnoreReason.OTHER_TYPE),
        ("minecraft.example.com", "TXT", IgnoreReason.OTHER_TYPE),
        ("minecraft.example.com", "ANY", IgnoreReason.OTHER_TYPE),
    ],
)
def test_only_the_exact_name_and_start_type_knock(
    name: str, qtype: str, expected: IgnoreReason | None
) -> None:
    # Given one logged query - When scanned for the server with start types (A,)
    result = scan([_line(name, qtype)], SERVER, ("A",))
    # Then it is a knock, or ignored for the expected reason
    if expected is None:
        assert len(result.knocks) == 1
        assert not result.ignored
    else:
        assert result.knocks == []
        assert result.ignored == {expected: 1}


def test_scan_counts_every_ignore_and_keeps_one_example_each() -> None:
    result = scan([_line("a.example.com"), _line("b.example.com"), 42, _line(SERVER, "AAAA")], SERVER, ("A",))
    assert result.ignored == {
        IgnoreReason.OTHER_NAME: 2,
        IgnoreReason.MALFORMED_LINE: 1,
        IgnoreReason.OTHER_TYPE: 1,
    }
    assert "a.example.com" in result.examples[IgnoreReason.OTHER_NAME]
    assert result.examples[IgnoreReason.MALFORMED_LINE] == "42"


def test_extra_start_types_are_honoured() -> None:
    assert len(scan([_line(SERVER, "AAAA")], SERVER, ("A", "AAAA")).knocks) == 1


def test_decodes_the_published_lambda_sample() -> None:
    sample = SAMPLES / "cloudwatch_logs_lambda_event_sample.json"
    batch = decode_payload(json.loads(sample.read_text()))
    assert batch.message_type == "DATA_MESSAGE"
    assert len(batch.log_events) >= 1


def test_decode_refuses_more_than_the_cap_without_inflating_it_all() -> None:
    bomb = {"awslogs": {"data": base64.b64encode(gzip.compress(b"0" * (MAX_DECODED_BYTES + 1))).decode()}}
    with pytest.raises(RejectedEvent, match="more than"):
        decode_payload(bomb)


def test_decode_accepts_payload_just_under_the_cap() -> None:
    decoded = {"messageType": "CONTROL_MESSAGE", "logEvents": [], "pad": "x" * (MAX_DECODED_BYTES - 100)}
    assert decode_payload(encode(decoded)).message_type == "CONTROL_MESSAGE"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"messageType": "DATA_MESSAGE", "logEvents": []}, "without a logGroup"),
        ({"messageType": "DATA_MESSAGE", "logGroup": "/g"}, "no logEvents list"),
        ({"messageType": None, "logEvents": []}, "unknown messageType"),
        ("just a string", "expected an object"),
    ],
)
def test_decode_names_the_shape_problem(payload: object, message: str) -> None:
    raw = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    with pytest.raises(RejectedEvent, match=message):
        decode_payload({"awslogs": {"data": raw}})
