"""The one domain call of instance-state-change: from an Auto Scaling event to an A record (or none)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cm_common.aws import AutoScaling, Dns, GroupState, Instances
from cm_common.outcome import Action, Outcome, RejectedEvent
from cm_common.starting import START_REQUEST_TAG, decide_request
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
        group = groups.describe(settings.asg_name)
        if group is not None and parsed.transition is Transition.TERMINATED:
            group = group.without(parsed.instance_id)  # gone, even if the group's list lags behind the event
        outcome = _apply(
            decide_terminate(parsed, group, settings.placeholder_ip), parsed, settings, dns, details
        )
        if parsed.transition is Transition.TERMINATED:
            return _honour_deferred_knock(outcome, parsed, group, settings, groups)
        return outcome
    return _apply(decision, parsed, settings, dns, details)


def _honour_deferred_knock(
    outcome: Outcome, event: InstanceEvent, group: GroupState | None, settings: Settings, groups: AutoScaling
) -> Outcome:
    """A knock that came while this instance drained (start-system tagged the group): start the server now that
    the world is free, so the player need not knock again. After the DNS reset, so the new instance's launch
    event is the last word on the record."""
    tag = group.tags.get(START_REQUEST_TAG) if group is not None else None
    request = decide_request(tag, event.instance_id, group, event.time or datetime.now(UTC))
    if request is None:
        return outcome
    # Start before clearing: a failure in between leaves the request for the retry, which then finds the
    # group starting (desired 1) and only clears it. A duplicate event finds no tag.
    if request.start:
        groups.set_desired_capacity(settings.asg_name, 1)
    if request.clear:
        groups.untag_group(settings.asg_name, START_REQUEST_TAG)
    details = {**outcome.details, "start_request": request.reason}
    if request.start:
        return Outcome(Action.STARTED, f"{request.reason}; {outcome.reason}", details)
    if request.problem:
        return Outcome(Action.REJECTED, f"{request.reason}; {outcome.reason}", details)
    return Outcome(outcome.action, outcome.reason, details)


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
