"""When does a knock start the server? (pure logic)"""

from __future__ import annotations

import pytest

from cm_common.aws import GroupInstance, GroupState
from start_system.decision import decide_start


def group(desired: int, *states: str, max_size: int = 1) -> GroupState:
    return GroupState(
        "container-manager-minecraft",
        desired,
        max_size,
        tuple(GroupInstance(f"i-0{n}", s) for n, s in enumerate(states)),
    )


def decide(state: GroupState | None) -> tuple[bool, bool]:
    decision = decide_start(state, "container-manager-minecraft", "eu-west-1")
    return decision.start, decision.problem


def test_stopped_server_starts() -> None:
    assert decide(group(0)) == (True, False)


@pytest.mark.parametrize("states", [("Pending",), ("Pending:Wait",), ("InService",), ()])
def test_starting_or_running_server_is_left_alone(states: tuple[str, ...]) -> None:
    # desired 1 with no instance yet = the ASG is about to launch: still "starting"
    assert decide(group(1, *states)) == (False, False)


@pytest.mark.parametrize("state", ["Terminating", "Terminating:Wait", "Terminating:Proceed"])
def test_knock_while_shutting_down_starts_again(state: str) -> None:
    decision = decide_start(group(0, state), "g", "eu-west-1")
    assert decision.start
    assert "shutting down" in decision.reason


def test_missing_group_is_a_problem_not_a_start() -> None:
    decision = decide_start(None, "container-manager-minecraft", "eu-west-1")
    assert (decision.start, decision.problem) == (False, True)
    assert "not found in eu-west-1" in decision.reason


def test_group_that_cannot_hold_an_instance_is_a_problem() -> None:
    assert decide(group(0, max_size=0)) == (False, True)
