"""The one domain call of start-system: from a subscription event to a started (or untouched) server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cm_common.aws import AutoScaling, CustomMetrics
from cm_common.outcome import Action, Outcome, RejectedEvent
from cm_common.starting import START_REQUEST_TAG, StartRequest, Verdict, decide_start, parse_time
from start_system.querylog import QueryLogLine, ScanResult, decode_payload, messages_of, scan
from start_system.settings import Settings


@dataclass
class StartReport:
    outcome: Outcome
    scan: ScanResult = field(default_factory=ScanResult)
    correlation_id: str | None = None


def knock_time(knocks: list[QueryLogLine]) -> datetime:
    """When the player last knocked: Route 53's own timestamp of the latest query (its clock, not ours), else now."""
    times = [t for t in (parse_time(k.timestamp) for k in knocks) if t is not None]
    return max(times) if times else datetime.now(UTC)


def respond_to_queries(
    event: Mapping[str, Any],
    settings: Settings,
    groups: AutoScaling,
    metrics: CustomMetrics,
) -> StartReport:
    try:
        batch = decode_payload(event)
    except RejectedEvent as exc:
        return StartReport(Outcome(Action.REJECTED, str(exc)))
    if batch.message_type == "CONTROL_MESSAGE":
        return StartReport(Outcome(Action.IGNORED, "CONTROL_MESSAGE: CloudWatch Logs connectivity check"))
    if batch.log_group != settings.query_log_group:
        return StartReport(
            Outcome(Action.REJECTED, f"log group {batch.log_group!r} is not {settings.query_log_group!r}")
        )
    result = scan(messages_of(batch), settings.server_name, settings.start_query_types)
    first_id = next((e.get("id") for e in batch.raw_event["logEvents"] if isinstance(e, dict)), None)
    report = StartReport(Outcome(Action.IGNORED, "no query for the server's name and start types"), result)
    report.correlation_id = first_id if isinstance(first_id, str) else None
    if not result.knocks:
        return report

    # Knock first: the idle alarm (in the container's region) must see someone is trying to connect.
    metrics.put_knocks(
        settings.knock_namespace, settings.knock_metric, settings.container_id, len(result.knocks)
    )
    decision = decide_start(groups.describe(settings.asg_name), settings.asg_name, settings.container_region)
    knock = result.knocks[0]
    details = {
        "matched_queries": len(result.knocks),
        "query_name": knock.query_name,
        "query_type": knock.query_type,
        "resolver_ip": knock.resolver_ip,
        "edns_client_subnet": knock.edns_client_subnet,
        "edge_location": knock.edge_location,
    }
    if decision.problem:
        report.outcome = Outcome(Action.REJECTED, decision.reason, details)
    elif decision.start:
        groups.set_desired_capacity(settings.asg_name, 1)
        report.outcome = Outcome(Action.STARTED, decision.reason, details)
    elif decision.verdict is Verdict.DEFER:
        report.outcome = _defer(decision.waiting_for, knock_time(result.knocks), settings, groups, details)
    else:
        report.outcome = Outcome(Action.NO_CHANGE, decision.reason, details)
    return report


def _defer(
    waiting_for: tuple[str, ...],
    knocked: datetime,
    settings: Settings,
    groups: AutoScaling,
    details: dict[str, Any],
) -> Outcome:
    """Record the knock on the group; instance-state-change starts the server when the drain is over."""
    request = StartRequest(knocked, waiting_for)
    groups.tag_group(settings.asg_name, START_REQUEST_TAG, request.tag_value())
    details = {**details, "start_request": request.tag_value()}
    # The drain may have ended between the read above and the tag: then its "Terminate Successful" found no
    # request, so look again. Either this read still sees the instance (and the event, which comes after it is
    # gone, will find the tag) or it does not (and the start happens here). Both starting is harmless: desired 1.
    again = decide_start(groups.describe(settings.asg_name), settings.asg_name, settings.container_region)
    if again.start:
        groups.set_desired_capacity(settings.asg_name, 1)
        return Outcome(Action.STARTED, f"the drain ended meanwhile; {again.reason}", details)
    if again.verdict is Verdict.DEFER:
        return Outcome(Action.DEFERRED, again.reason, details)
    return Outcome(Action.NO_CHANGE, again.reason, details)
