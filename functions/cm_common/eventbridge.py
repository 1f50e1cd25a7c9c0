"""Typed checks for EventBridge events: the envelope, and the few detail fields a handler reads.

Every failure is a ``RejectedEvent`` whose message names the field and shows a short preview of the bad
value, so a hostile or garbage event produces one readable log line instead of a stack trace or a 1 MB log.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from cm_common.outcome import RejectedEvent

PREVIEW_CHARS = 80


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (with the full length), safe to put in a log line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def parse_envelope(raw: Any, *, source: str, detail_types: Collection[str]) -> EventBridgeEvent:
    """The event as Powertools' ``EventBridgeEvent``, once its source, detail-type and detail are what we handle."""
    if not isinstance(raw, Mapping):
        raise RejectedEvent(f"event is a {type(raw).__name__}, expected an EventBridge event object")
    if raw.get("source") != source:
        raise RejectedEvent(f"source {preview(raw.get('source'))} is not {source!r}")
    if raw.get("detail-type") not in detail_types:
        raise RejectedEvent(
            f"detail-type {preview(raw.get('detail-type'))} is not handled (expected one of {sorted(detail_types)})"
        )
    if not isinstance(raw.get("detail"), Mapping):
        raise RejectedEvent(f"detail is {preview(raw.get('detail'))}, expected an object")
    return EventBridgeEvent(dict(raw))


def text_field(
    mapping: Mapping[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, where: str = "detail"
) -> str:
    """A required string field, optionally matching ``pattern`` in full."""
    value = text_or_none(mapping, key, pattern=pattern, where=where)
    if value is None:
        raise RejectedEvent(f"{where}.{key} is missing")
    return value


def text_or_none(
    mapping: Mapping[str, Any], key: str, *, pattern: re.Pattern[str] | None = None, where: str = "detail"
) -> str | None:
    """An optional string field: ``None`` when absent, ``RejectedEvent`` when present but ill-typed or malformed."""
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str):
        raise RejectedEvent(
            f"{where}.{key} is a {type(value).__name__} ({preview(value)}), expected a string"
        )
    if pattern is not None and not pattern.fullmatch(value):
        raise RejectedEvent(f"{where}.{key}={preview(value)} does not match {pattern.pattern}")
    return value
