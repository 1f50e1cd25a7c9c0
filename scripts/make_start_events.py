"""Regenerate events/start-system/*.json from the readable *.decoded.json next to them.

Usage: python scripts/make_start_events.py   (tests fail if an encoded file drifts from its decoded source)
"""

import json
from pathlib import Path

from container_manager.awslogs import encode

EVENTS = Path(__file__).resolve().parent.parent / "events" / "start-system"

for source in sorted(EVENTS.glob("*.decoded.json")):
    target = source.with_name(source.name.replace(".decoded.json", ".json"))
    target.write_text(json.dumps(encode(json.loads(source.read_text())), indent=2) + "\n")
    print(f"wrote {target.relative_to(EVENTS.parent.parent)}")
