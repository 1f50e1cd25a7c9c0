"""Pure logic: may the server start now? One rule for a player's knock (start-system) and for a knock that had
to wait for a draining instance (instance-state-change, on "EC2 Instance Terminate Successful").

Never a second instance while one is terminating: Auto Scaling detaches a terminating instance from the group
("Amazon EC2 Auto Scaling instance lifecycle": instances "are detached from the Auto Scaling group and enter
the Terminating state", https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html),
so it no longer counts toward the desired capacity; raising desired to 1 during a drain launches a replacement
while the old server is still saving, and both mount the same EFS world. A knock during a drain is therefore
recorded on the group instead - a tag, which costs nothing while idle - and honoured when the last draining
instance is gone, so the player need not knock again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cm_common.aws import GroupState
from cm_common.config import INSTANCE_ID_RE

# The group tag that records a deferred knock: "<knock time, ISO UTC> <instance id> ...", the instances the
# knock waits for. A tag value holds at most 256 characters (EC2 Auto Scaling "Tag your Auto Scaling groups").
START_REQUEST_TAG = "container-manager:start-requested"
MAX_TAG_VALUE = 256
# A drain lasts StopTimeoutSeconds (at most 120 s) plus ECS's bookkeeping; a knock older than this is not a
# player still waiting at the door, and honouring it would start a server nobody asked for lately. Each knock
# during the drain writes a fresh time, so only a player who stopped trying is forgotten.
MAX_REQUEST_AGE = timedelta(minutes=15)


class Verdict(StrEnum):
    START = "start"  # set desired capacity 1
    DEFER = "defer"  # an instance is draining: record the knock, start when it is gone
    NONE = "none"  # already starting or running: nothing to do
    PROBLEM = "problem"  # an admin must look: retrying cannot help


@dataclass(frozen=True)
class StartDecision:
    verdict: Verdict
    reason: str
    waiting_for: tuple[str, ...] = ()  # with DEFER: every instance of the group, all must be gone first

    @property
    def start(self) -> bool:
        return self.verdict is Verdict.START

    @property
    def problem(self) -> bool:
        return self.verdict is Verdict.PROBLEM


def decide_start(group: GroupState | None, group_name: str, region: str) -> StartDecision:
    if group is None:
        return StartDecision(Verdict.PROBLEM, f"Auto Scaling group {group_name} not found in {region}")
    if group.max_size < 1:
        return StartDecision(
            Verdict.PROBLEM, f"group {group_name} has MaxSize {group.max_size}; cannot start"
        )
    if group.desired_capacity >= 1:
        # Starting or running already: setting 1 again would change nothing, so don't touch the group.
        return StartDecision(
            Verdict.NONE,
            f"already starting or running (desired {group.desired_capacity}; instances {group.summary()})",
        )
    draining = group.terminating
    if draining:
        names = ", ".join(f"{i.instance_id}:{i.lifecycle_state}" for i in draining)
        return StartDecision(
            Verdict.DEFER,
            f"{names} is draining (saving the world); a second instance now would mount it too - "
            "the server starts when it is gone",
            tuple(i.instance_id for i in group.instances),
        )
    return StartDecision(Verdict.START, "server is stopped (desired 0); starting it")


# ------------------------------------------------------------------------------------------- the deferred knock
def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time with an offset or ``Z`` (Route 53 query logs, EventBridge ``time``), else ``None``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class StartRequest:
    at: datetime  # when the player knocked
    waiting_for: tuple[str, ...]

    def tag_value(self) -> str:
        value = iso(self.at)
        for instance_id in self.waiting_for:
            if len(value) + 1 + len(instance_id) > MAX_TAG_VALUE:
                break  # MaxSize is 1: a group never holds enough instances to get here
            value += f" {instance_id}"
        return value

    @classmethod
    def parse(cls, value: str) -> StartRequest | None:
        """The request a tag value holds, or ``None`` when it is not one (hand-edited, truncated)."""
        words = value.split()
        moment = parse_time(words[0]) if words else None
        ids = words[1:]
        if moment is None or not ids or not all(INSTANCE_ID_RE.fullmatch(i) for i in ids):
            return None
        return cls(moment, tuple(ids))


@dataclass(frozen=True)
class RequestDecision:
    start: bool  # set desired capacity 1
    clear: bool  # remove the tag: the request is done with, honoured or dropped
    reason: str
    problem: bool = False


def decide_request(
    tag: str | None, gone: str, group: GroupState | None, now: datetime
) -> RequestDecision | None:
    """Instance ``gone`` was terminated at ``now``; ``tag`` is the group's start-request tag. ``None``: no request."""
    if tag is None:
        return None
    request = StartRequest.parse(tag)
    if request is None:
        return RequestDecision(
            False, True, f"start request {tag[:80]!r} is not one this stack writes; dropped"
        )
    knocked = iso(request.at)
    age = now - request.at
    if age > MAX_REQUEST_AGE:
        minutes = int(MAX_REQUEST_AGE.total_seconds() // 60)
        return RequestDecision(
            False,
            True,
            f"the knock deferred at {knocked} is {int(age.total_seconds() // 60)} min old (over {minutes}); "
            "dropped - the next knock starts the server",
        )
    if gone not in request.waiting_for:
        # Not the drain this knock waits for (or a leftover of a knock that started the server itself).
        return RequestDecision(
            False, False, f"the knock deferred at {knocked} waits for {', '.join(request.waiting_for)}"
        )
    if group is None:
        return RequestDecision(False, False, f"the knock of {knocked} waits, but the group is gone", True)
    decision = decide_start(group.without(gone), group.name, "its region")
    if decision.verdict is Verdict.START:
        return RequestDecision(True, True, f"{gone} is gone: starting the server for the knock of {knocked}")
    if decision.verdict is Verdict.DEFER:
        return RequestDecision(False, False, f"the knock of {knocked} still waits: {decision.reason}")
    if decision.verdict is Verdict.NONE:
        return RequestDecision(False, True, f"the knock of {knocked} needs nothing more: {decision.reason}")
    return RequestDecision(False, True, f"the knock of {knocked} cannot start it: {decision.reason}", True)
