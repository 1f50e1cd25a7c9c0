"""The one domain call of start-system: from a subscription event to a started (or untouched) server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cm_common.aws import AutoScaling, CustomMetrics
from cm_common.outcome import Action, Outcome, RejectedEvent
from start_system.decision import decide_start
from start_system.querylog import ScanResult, decode_payload, messages_of, scan
from start_system.settings import Settings


@dataclass
class StartReport:
    outcome: Outcome
    scan: ScanResult = field(default_factory=ScanResult)
    correlation_id: str | None = None


def respond_to_queries(
    event: Mapping[str, Any], settings: Settings, groups: AutoScaling, metrics: CustomMetrics
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
    else:
        report.outcome = Outcome(Action.NO_CHANGE, decision.reason, details)
    return report
