"""Pure logic: decode a CloudWatch Logs subscription payload and find the queries that should start the server."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.data_classes.cloud_watch_logs_event import CloudWatchLogsDecodedData

from cm_common.config import normalize_dns_name
from cm_common.outcome import RejectedEvent

# A subscription delivery is at most ~1 MB of log events; 8 MiB decoded leaves headroom while refusing a
# gzip bomb before it can exhaust the function's memory.
MAX_DECODED_BYTES = 8 * 1024 * 1024
QUERY_LOG_FIELDS = 10


class IgnoreReason(StrEnum):
    OTHER_NAME = "other_name"
    OTHER_TYPE = "other_type"
    MALFORMED_LINE = "malformed_line"


@dataclass(frozen=True)
class QueryLogLine:
    """One Route 53 public DNS query-log line (documented field order)."""

    version: str
    timestamp: str
    hosted_zone_id: str
    query_name: str
    query_type: str
    response_code: str
    protocol: str
    edge_location: str
    resolver_ip: str
    edns_client_subnet: str | None


@dataclass
class ScanResult:
    knocks: list[QueryLogLine] = field(default_factory=list)
    ignored: Counter[IgnoreReason] = field(default_factory=Counter)
    examples: dict[IgnoreReason, str] = field(default_factory=dict)

    def ignore(self, reason: IgnoreReason, message: str) -> None:
        self.ignored[reason] += 1
        self.examples.setdefault(reason, message[:200])


def decode_payload(event: Mapping[str, Any]) -> CloudWatchLogsDecodedData:
    """``{"awslogs": {"data": base64(gzip(json))}}`` -> decoded data, or ``RejectedEvent`` saying what is wrong."""
    awslogs = event.get("awslogs") if isinstance(event, Mapping) else None
    data = awslogs.get("data") if isinstance(awslogs, Mapping) else None
    if not isinstance(data, str) or not data:
        raise RejectedEvent("not a CloudWatch Logs subscription event: awslogs.data is missing")
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RejectedEvent(f"awslogs.data is not valid base64 ({exc})") from exc
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip framing only
    try:
        raw = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error as exc:
        raise RejectedEvent(f"awslogs.data is not valid gzip ({exc})") from exc
    if inflater.unconsumed_tail:
        raise RejectedEvent(f"awslogs.data decompresses to more than {MAX_DECODED_BYTES} bytes; refused")
    if not inflater.eof:
        raise RejectedEvent("awslogs.data is truncated gzip (stream ended early)")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RejectedEvent(f"awslogs.data does not hold JSON ({exc})") from exc
    return validate_payload(payload)


def validate_payload(payload: Any) -> CloudWatchLogsDecodedData:
    if not isinstance(payload, dict):
        raise RejectedEvent(f"decoded payload is a {type(payload).__name__}, expected an object")
    message_type = payload.get("messageType")
    if message_type not in ("DATA_MESSAGE", "CONTROL_MESSAGE"):
        raise RejectedEvent(f"unknown messageType {message_type!r}")
    if not isinstance(payload.get("logEvents"), list):
        raise RejectedEvent("decoded payload has no logEvents list")
    if message_type == "DATA_MESSAGE" and not isinstance(payload.get("logGroup"), str):
        raise RejectedEvent("DATA_MESSAGE without a logGroup")
    return CloudWatchLogsDecodedData(payload)


def parse_line(message: str) -> QueryLogLine | None:
    """Parse one query-log line; ``None`` when it does not have the documented ten fields."""
    parts = message.split()
    if len(parts) != QUERY_LOG_FIELDS or not parts[0][:1].isdigit():
        return None
    version, timestamp, zone, name, qtype, rcode, protocol, edge, resolver, subnet = parts
    return QueryLogLine(
        version,
        timestamp,
        zone,
        name,
        qtype,
        rcode,
        protocol,
        edge,
        resolver,
        None if subnet == "-" else subnet,
    )


def scan(messages: Iterable[Any], server_name: str, start_types: tuple[str, ...]) -> ScanResult:
    """Sort each logged query into a knock (exact name, start type) or an ignore reason."""
    result = ScanResult()
    for message in messages:
        if not isinstance(message, str):
            result.ignore(IgnoreReason.MALFORMED_LINE, repr(message))
            continue
        line = parse_line(message)
        if line is None:
            result.ignore(IgnoreReason.MALFORMED_LINE, message)
        elif normalize_dns_name(line.query_name) != server_name:
            result.ignore(IgnoreReason.OTHER_NAME, message)
        elif line.query_type.upper() not in start_types:
            result.ignore(IgnoreReason.OTHER_TYPE, message)
        else:
            result.knocks.append(line)
    return result


def messages_of(batch: CloudWatchLogsDecodedData) -> Iterable[Any]:
    """Each log event's message; a log event that is not an object yields a non-string (counted malformed)."""
    for raw in batch.raw_event["logEvents"]:
        yield raw.get("message") if isinstance(raw, dict) else raw
