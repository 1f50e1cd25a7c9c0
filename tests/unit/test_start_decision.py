"""When does a knock start the server, and when must it wait for a drain? (pure logic, cm_common.starting)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cm_common.aws import GroupInstance, GroupState
from cm_common.starting import (
    MAX_REQUEST_AGE,
    MAX_TAG_VALUE,
    StartRequest,
    Verdict,
    decide_request,
    decide_start,
    parse_time,
)

OLD = "i-0aaaaaaaaaaaaaaa1"
OTHER = "i-0bbbbbbbbbbbbbbb2"
KNOCK = datetime(2026, 11, 20, 21, 8, tzinfo=UTC)


def group(desired: int, *states: str, max_size: int = 1, tags: dict[str, str] | None = None) -> GroupState:
    ids = (OLD, OTHER, "i-0ccccccccccccccc3")
    return GroupState(
        "container-manager-minecraft",
        desired,
        max_size,
        tuple(GroupInstance(ids[n], s) for n, s in enumerate(states)),
        tags or {},
    )


def decide(state: GroupState | None) -> Verdict:
    return decide_start(state, "container-manager-minecraft", "eu-west-1").verdict


def test_stopped_server_starts() -> None:
    assert decide(group(0)) is Verdict.START


@pytest.mark.parametrize("states", [("Pending",), ("Pending:Wait",), ("InService",), ()])
def test_starting_or_running_server_is_left_alone(states: tuple[str, ...]) -> None:
    # desired 1 with no instance yet = the ASG is about to launch: still "starting"
    assert decide(group(1, *states)) is Verdict.NONE


@pytest.mark.parametrize("state", ["Terminating", "Terminating:Wait", "Terminating:Proceed"])
def test_knock_while_an_instance_drains_is_deferred_not_a_second_instance(state: str) -> None:
    # Given the idle alarm scaled to 0 and the old instance still drains (terminating instances are detached
    # from the group's capacity: desired 1 now would launch a second server onto the same world)
    decision = decide_start(group(0, state), "g", "eu-west-1")
    # Then the knock is deferred, waiting for that instance, and the reason says why
    assert decision.verdict is Verdict.DEFER
    assert not decision.start
    assert decision.waiting_for == (OLD,)
    assert f"{OLD}:{state} is draining" in decision.reason


def test_deferred_knock_waits_for_every_instance_of_the_group() -> None:
    # Given one instance drains and another was picked for scale-in but is not terminating yet
    decision = decide_start(group(0, "Terminating:Wait", "InService"), "g", "eu-west-1")
    # Then the knock waits for both: the second would drain next
    assert decision.verdict is Verdict.DEFER
    assert decision.waiting_for == (OLD, OTHER)


def test_missing_group_is_a_problem_not_a_start() -> None:
    decision = decide_start(None, "container-manager-minecraft", "eu-west-1")
    assert (decision.start, decision.problem) == (False, True)
    assert "not found in eu-west-1" in decision.reason


def test_group_that_cannot_hold_an_instance_is_a_problem() -> None:
    assert decide(group(0, max_size=0)) is Verdict.PROBLEM


# ------------------------------------------------------------------------------------------- the request tag
def test_request_round_trips_through_its_tag_value() -> None:
    request = StartRequest(KNOCK, (OLD, OTHER))
    assert request.tag_value() == f"2026-11-20T21:08:00Z {OLD} {OTHER}"
    assert StartRequest.parse(request.tag_value()) == request


def test_tag_value_never_exceeds_what_a_tag_holds() -> None:
    request = StartRequest(KNOCK, tuple(f"i-0{n:016x}" for n in range(40)))
    assert len(request.tag_value()) <= MAX_TAG_VALUE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday i-0aaaaaaaaaaaaaaa1",
        "2026-11-20T21:08:00Z",
        "2026-11-20T21:08:00Z i-xyz",
        "2026-11-20T21:08:00 i-0aaaaaaaaaaaaaaa1",
    ],  # no zone: ambiguous, refused
)
def test_values_this_stack_does_not_write_are_not_requests(value: str) -> None:
    assert StartRequest.parse(value) is None


def test_route53_and_eventbridge_timestamps_parse() -> None:
    assert parse_time("2026-11-20T21:08:00.235Z") == KNOCK + timedelta(milliseconds=235)
    assert parse_time("2026-11-20T21:08:00Z") == KNOCK
    assert parse_time("not a time") is None


# ---------------------------------------------------------------------------- honouring it once the drain ends
def tag(*waiting_for: str, at: datetime = KNOCK) -> str:
    return StartRequest(at, waiting_for or (OLD,)).tag_value()


def test_no_tag_means_nothing_to_honour() -> None:
    assert decide_request(None, OLD, group(0), KNOCK) is None


def test_the_awaited_instance_gone_starts_the_server_and_clears_the_request() -> None:
    # Given a knock deferred while OLD drained - When OLD is terminated a minute later, nothing else in the group
    # (the group may still list OLD for a moment: the event is the authority)
    decision = decide_request(tag(), OLD, group(0, "Terminating:Proceed"), KNOCK + timedelta(minutes=1))
    # Then the server starts, and the request is done with
    assert decision is not None
    assert (decision.start, decision.clear, decision.problem) == (True, True, False)
    assert f"{OLD} is gone" in decision.reason


def test_a_duplicate_or_retried_event_after_the_start_only_clears() -> None:
    # Given the start already happened (desired 1) but the tag survived (a failure before the DeleteTags)
    decision = decide_request(tag(), OLD, group(1, "Pending"), KNOCK + timedelta(minutes=1))
    # Then nothing more is started: the request is cleared
    assert decision is not None
    assert (decision.start, decision.clear) == (False, True)


def test_another_instance_still_draining_keeps_the_request() -> None:
    decision = decide_request(tag(OLD, OTHER), OLD, group(0, "Terminating:Wait", "Terminating:Wait"), KNOCK)
    assert decision is not None
    assert (decision.start, decision.clear) == (False, False)
    assert f"{OTHER}:Terminating:Wait is draining" in decision.reason


def test_a_termination_the_request_does_not_wait_for_leaves_it_alone() -> None:
    # Given a leftover request for OLD (start-system started the server itself in the race) - When the new
    # instance is terminated later (e.g. a crash loop) - Then the leftover does not restart it
    decision = decide_request(tag(OLD), OTHER, group(0), KNOCK + timedelta(minutes=3))
    assert decision is not None
    assert (decision.start, decision.clear) == (False, False)


def test_a_stale_request_is_dropped_whatever_it_waits_for() -> None:
    late = KNOCK + MAX_REQUEST_AGE + timedelta(seconds=1)
    for gone in (OLD, OTHER):
        decision = decide_request(tag(OLD), gone, group(0), late)
        assert decision is not None
        assert (decision.start, decision.clear) == (False, True)
        assert "dropped" in decision.reason
    fresh = decide_request(tag(OLD), OLD, group(0), KNOCK + MAX_REQUEST_AGE)
    assert fresh is not None
    assert fresh.start


def test_a_request_written_after_the_event_time_is_fresh() -> None:
    # The race start-system closes: its tag may carry a time after the termination's
    decision = decide_request(tag(), OLD, group(0), KNOCK - timedelta(seconds=5))
    assert decision is not None
    assert decision.start


def test_a_garbled_tag_is_dropped() -> None:
    decision = decide_request("hand edited", OLD, group(0), KNOCK)
    assert decision is not None
    assert (decision.start, decision.clear) == (False, True)


def test_a_group_that_cannot_start_drops_the_request_as_a_problem() -> None:
    decision = decide_request(tag(), OLD, group(0, max_size=0), KNOCK)
    assert decision is not None
    assert (decision.start, decision.clear, decision.problem) == (False, True, True)
