"""The rehearsal's start, as `cm timeline` would show a real one: the same waterfall, labelled "simulated".

Built from the rehearsal's own timeline entries (stamped by the simulated clock) of one scenario: the query-log
line, start-system's decision, the simulated launch and InService, the task RUNNING, instance-state-change's
DNS update. The durations are the rehearsal's assumptions (aws_parts.py: BOOT_SECONDS, TASK_START_SECONDS),
not measurements - `cm timeline` on a real account gives those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from container_manager.rehearsal.timeline import Entry, Timeline
from container_manager.timeline import BOOT, DECISION_TO_LAUNCH, DNS_TO_INSTANCE, QUERY_TO_DECISION
from container_manager.waterfall import Span, Waterfall, waterfall

START_SCENARIO = "3 "  # scenarios.py: "3 a player starts the server"


def scenario_entries(timeline: Timeline, title_prefix: str) -> list[Entry]:
    """The entries logged while the scenario whose title starts with ``title_prefix`` played."""
    entries: list[Entry] = []
    inside = False
    for entry in timeline.entries:
        if entry.kind == "scenario":
            inside = entry.text.startswith(title_prefix)
            continue
        if inside:
            entries.append(entry)
    return entries


def _first(entries: Sequence[Entry], test: Callable[[Entry], bool]) -> datetime | None:
    return next((e.at for e in entries if test(e)), None)


def start_waterfall(timeline: Timeline, title_prefix: str = START_SCENARIO) -> Waterfall | None:
    entries = scenario_entries(timeline, title_prefix)
    if not entries:
        return None
    query = _first(entries, lambda e: e.actor == "route53 query log")
    decision = _first(entries, lambda e: e.actor == "λ start-system" and e.text.startswith("started"))
    launch = _first(entries, lambda e: e.actor == "autoscaling" and "launching" in e.text)
    in_service = _first(entries, lambda e: e.actor == "autoscaling" and e.text.endswith("InService"))
    task = _first(entries, lambda e: e.actor == "ecs" and e.text.endswith("RUNNING"))
    dns = _first(entries, lambda e: e.actor == "λ instance-state-change" and e.text.startswith("dns_updated"))
    spans = [
        Span(QUERY_TO_DECISION, query, decision, "query log, start-system (real handler)"),
        Span(DECISION_TO_LAUNCH, decision, launch, "simulated Auto Scaling"),
        Span(BOOT, launch, in_service, "simulated Auto Scaling", "BOOT_SECONDS"),
        Span("task start (pull + start)", in_service, task, "simulated ECS", "TASK_START_SECONDS"),
        Span(DNS_TO_INSTANCE, in_service, dns, "instance-state-change (real handler)"),
    ]
    return waterfall(
        f"start of scenario {title_prefix.strip()} (the rehearsal's clock)",
        spans,
        ["durations are the rehearsal's assumptions; `cm timeline ID` shows a real start (docs/verify.md)"],
        label="simulated",
    )
