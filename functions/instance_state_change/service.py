"""The one domain call of instance-state-change: from an Auto Scaling event to an A record (or none)."""

from __future__ import annotations

from typing import Any

from cm_common.aws import AutoScaling, Dns, Instances
from cm_common.outcome import Action, Outcome, RejectedEvent
from instance_state_change.asg_event import InstanceEvent, Transition, parse_event
from instance_state_change.decision import DnsDecision, decide_launch, decide_terminate, launch_skip_reason
from instance_state_change.settings import Settings


def respond_to_state_change(
    event: Any, settings: Settings, groups: AutoScaling, instances: Instances, dns: Dns
) -> Outcome:
    try:
        parsed = parse_event(event, settings.asg_name)
    except RejectedEvent as exc:
        return Outcome(Action.REJECTED, str(exc))
    details = parsed.details()
    if parsed.transition is Transition.LAUNCHED:
        skip = launch_skip_reason(parsed)
        if skip is not None:
            return Outcome(Action.IGNORED, skip, details)
        # EC2 first: an unknown or already-terminated instance needs no group look-up.
        address = instances.address(parsed.instance_id)
        group = groups.describe(settings.asg_name) if address is not None else None
        decision = decide_launch(parsed, address, group)
        if address is not None:
            details["ec2_state"] = address.state
    else:
        # No lifecycle-action completion here: ECS managed draining owns the hook and completes it.
        decision = decide_terminate(parsed, groups.describe(settings.asg_name), settings.placeholder_ip)
    return _apply(decision, parsed, settings, dns, details)


def _apply(
    decision: DnsDecision, event: InstanceEvent, settings: Settings, dns: Dns, details: dict[str, Any]
) -> Outcome:
    if decision.problem:
        return Outcome(Action.REJECTED, decision.reason, details)
    if decision.address is None:
        return Outcome(Action.NO_CHANGE, decision.reason, details)
    # UPSERT is idempotent: a duplicate or retried event writes the same value again, harmlessly.
    change_id = dns.upsert_a_record(
        settings.hosted_zone_id,
        settings.record_name,
        decision.address,
        settings.record_ttl,
        comment=f"instance-state-change: {event.instance_id} {event.transition} (event {event.event_id})",
    )
    return Outcome(
        Action.DNS_UPDATED,
        decision.reason,
        {
            **details,
            "record": settings.record_name,
            "address": decision.address,
            "ttl": settings.record_ttl,
            "change_id": change_id,
        },
    )
