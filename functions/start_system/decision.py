"""Pure logic: given the group's state, should a knock start the server?"""

from __future__ import annotations

from dataclasses import dataclass

from cm_common.aws import GroupState


@dataclass(frozen=True)
class StartDecision:
    start: bool
    reason: str
    problem: bool = False


def decide_start(group: GroupState | None, group_name: str, region: str) -> StartDecision:
    if group is None:
        return StartDecision(False, f"Auto Scaling group {group_name} not found in {region}", problem=True)
    if group.max_size < 1:
        return StartDecision(
            False, f"group {group_name} has MaxSize {group.max_size}; cannot start", problem=True
        )
    if group.desired_capacity >= 1:
        # Starting or running already: setting 1 again would change nothing, so don't touch the group.
        return StartDecision(
            False,
            f"already starting or running (desired {group.desired_capacity}; instances {group.summary()})",
        )
    stopping = [i for i in group.instances if not i.is_active]
    if stopping:
        return StartDecision(True, f"server is shutting down ({group.summary()}); a knock brings it back")
    return StartDecision(True, "server is stopped (desired 0); starting it")
