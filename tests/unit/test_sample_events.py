"""The sample events in events/ are valid, realistic and in AWS's documented envelope shapes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from container_manager.awslogs import decode, encode

EVENTS = Path(__file__).resolve().parents[2] / "events"
ALL = sorted(EVENTS.rglob("*.json"))
START = EVENTS / "start-system"
EVENTBRIDGE = [p for p in ALL if p.parent.name in {"instance-state-change", "crash-loop-breaker"}]
# Strings AWS's published samples use as placeholders; our events must carry real-looking values instead.
PLACEHOLDERS = ("yyyy-mm-dd", "auto-scaling-group-arn", "instance-arn", "description-text", "additional-info")
ENVELOPE = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def test_there_are_events_for_every_function() -> None:
    assert {p.parent.name for p in ALL} >= {"start-system", "instance-state-change", "crash-loop-breaker"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(EVENTS)))
def test_every_event_is_json_without_placeholders(path: Path) -> None:
    text = path.read_text()
    json.loads(text)
    assert not [p for p in PLACEHOLDERS if p in text]


@pytest.mark.parametrize("source", sorted(START.glob("*.decoded.json")), ids=lambda p: p.name)
def test_encoded_start_events_match_their_readable_source(source: Path) -> None:
    # Given the readable payload - When encoded as CloudWatch Logs delivers it - Then it is the committed event
    encoded = source.with_name(source.name.replace(".decoded.json", ".json"))
    assert json.loads(encoded.read_text()) == encode(json.loads(source.read_text())), (
        f"{encoded.name} drifted: run python scripts/make_start_events.py"
    )
    assert decode(json.loads(encoded.read_text())) == json.loads(source.read_text())


@pytest.mark.parametrize("path", EVENTBRIDGE, ids=lambda p: str(p.relative_to(EVENTS)))
def test_eventbridge_events_have_the_full_envelope(path: Path) -> None:
    event = json.loads(path.read_text())
    assert set(event) >= ENVELOPE
    assert event["version"] == "0"
    assert event["account"].isdigit()
    assert len(event["account"]) == 12
    datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
