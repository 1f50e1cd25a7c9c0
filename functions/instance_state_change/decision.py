"""Pure logic: given what EC2 and the Auto Scaling group say now, where should the A record point?"""

from __future__ import annotations

from dataclasses import dataclass

from cm_common.aws import GroupState, InstanceAddress
from instance_state_change.asg_event import WARM_POOL, InstanceEvent, Transition

# EC2 states in which an instance can still become the server; anything else is on its way out.
LIVE_EC2_STATES = frozenset({"pending", "running"})


@dataclass(frozen=True)
class DnsDecision:
    address: str | None  # what to UPSERT; None leaves the record alone
    reason: str
    problem: bool = False  # an error an admin must look at; retrying cannot fix it


def launch_skip_reason(event: InstanceEvent) -> str | None:
    """Why a launch needs no look-up at all, or ``None``: an instance parked in the warm pool is not serving."""
    if event.destination == WARM_POOL:
        return (
            f"instance {event.instance_id} launched into the warm pool (stopped, not serving); "
            "the record follows it when it leaves the pool"
        )
    return None


def decide_launch(
    event: InstanceEvent, instance: InstanceAddress | None, group: GroupState | None
) -> DnsDecision:
    iid = event.instance_id
    if instance is None:
        return DnsDecision(None, f"instance {iid} is unknown to EC2; DNS left alone", problem=True)
    if instance.state not in LIVE_EC2_STATES:
        # Out-of-order delivery: the instance is already going away; pointing players at it would strand them.
        return DnsDecision(
            None, f"instance {iid} is already {instance.state} (late launch event); DNS left alone"
        )
    if group is None:
        return DnsDecision(
            None, f"Auto Scaling group {event.group_name} not found; DNS left alone", problem=True
        )
    member = group.member(iid)
    if member is None:
        # Only the group's own instances may take the name, whatever the event claims.
        return DnsDecision(
            None,
            f"instance {iid} is not in group {group.name} (instances: {group.summary()}); DNS left alone",
            problem=True,
        )
    if not member.is_active:
        return DnsDecision(
            None,
            f"instance {iid} is {member.lifecycle_state} in the group (late launch event); DNS left alone",
        )
    if instance.public_ipv4 is None:
        return DnsDecision(
            None,
            f"instance {iid} has no public IPv4 address; players cannot reach it - give the launch template or "
            "subnet a public address (AssociatePublicIpAddress / MapPublicIpOnLaunch); DNS left alone",
            problem=True,
        )
    return DnsDecision(
        instance.public_ipv4, f"instance {iid} launched; the record points at its public address"
    )


def _going(event: InstanceEvent) -> str:
    """What happened to the instance, for reasons in logs."""
    iid = event.instance_id
    if event.transition is Transition.LAUNCH_FAILED:
        return f"a launch failed ({iid or 'no instance was created'})"
    if event.transition is Transition.TERMINATED:
        return f"instance {iid} was terminated"
    return f"instance {iid} is terminating"


def decide_terminate(event: InstanceEvent, group: GroupState | None, placeholder: str) -> DnsDecision:
    """Terminate lifecycle action (early), Terminate Successful and Launch Unsuccessful (the safety nets for a
    termination outside the hook, or no server at all): the record goes back to the placeholder unless another
    instance is coming up or serving. UPSERT is idempotent, so the paths may all run for one stop."""
    iid = event.instance_id
    if group is None:
        return DnsDecision(
            None, f"Auto Scaling group {event.group_name} not found; DNS left alone", problem=True
        )
    successors = [i for i in group.instances if i.instance_id != iid and i.is_active]
    if successors:
        # A replacement is coming up or already serving: its own launch event owns the record.
        taking_over = ", ".join(f"{i.instance_id}:{i.lifecycle_state}" for i in successors)
        return DnsDecision(
            None, f"{_going(event)} but {taking_over} is coming up or in service; DNS left alone"
        )
    return DnsDecision(
        placeholder,
        f"{_going(event)} and no other instance is coming up; the record points at the placeholder",
    )
