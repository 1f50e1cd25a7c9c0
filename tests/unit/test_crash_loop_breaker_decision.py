"""Pure decisions of crash-loop-breaker: which task events are crashes, and when the group needs stopping."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cm_common.aws import GroupInstance, GroupState
from crash_loop_breaker.decision import decide_stop, judge_task
from crash_loop_breaker.taskevent import parse_task_event
from support.deployed import event

OURS = "arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft"


def judged(name: str, **detail_changes: Any) -> tuple[bool, str]:
    raw = copy.deepcopy(event(f"crash-loop-breaker/{name}.json"))
    raw["detail"].update(detail_changes)
    verdict = judge_task(parse_task_event(raw), OURS)
    return verdict.crash, verdict.reason


# ------------------------------------------------------------------------------------------ crashes
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("task_failed_to_start", "failed to start: CannotPullContainerError"),
        ("essential_container_exited_nonzero", "exited non-zero (minecraft=1)"),
        ("essential_container_exited_oom", "exited non-zero (minecraft=137)"),
    ],
)
def test_crashes_are_recognised(name: str, words: str) -> None:
    # Given a STOPPED task of our cluster that failed to start or exited non-zero - Then it is a crash
    crash, reason = judged(name)
    assert crash
    assert words in reason


def test_task_failed_to_start_is_a_crash_whatever_the_exit_codes() -> None:
    # Given a failed start whose container reports exit 0 (e.g. a failing init step) - Then still a crash
    crash, _ = judged("task_failed_to_start", containers=[{"name": "minecraft", "exitCode": 0}])
    assert crash


def test_any_nonzero_container_makes_an_essential_exit_a_crash() -> None:
    # Given a sidecar exited 0 and the server exited 1 - Then a crash (the rule matches any array element)
    containers = [{"name": "log-router", "exitCode": 0}, {"name": "minecraft", "exitCode": 1}]
    crash, reason = judged("essential_container_exited_nonzero", containers=containers)
    assert crash
    assert "log-router=0, minecraft=1" in reason


# ------------------------------------------------------------------------------------------ normal stops
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("essential_container_exited_zero", "exited cleanly (minecraft=0)"),
        ("service_scale_in", "ServiceSchedulerInitiated: the service scheduler stopped it"),
        ("user_initiated_stop", "UserInitiated: a user stopped it"),
        ("task_running", "task is RUNNING, not STOPPED"),
        ("spot_interruption", "task is RUNNING, not STOPPED"),
        ("other_cluster", "another cluster"),
    ],
)
def test_normal_stops_and_other_tasks_are_not_crashes(name: str, words: str) -> None:
    crash, reason = judged(name)
    assert not crash
    assert words in reason


def test_scale_in_killed_after_stop_timeout_is_not_a_crash() -> None:
    # Given the scheduler scaled in and the server needed SIGKILL (137) - Then no crash: the stop was wanted
    crash, reason = judged("service_scale_in")
    assert not crash
    assert "minecraft=137" in reason


@pytest.mark.parametrize("stop_code", ["SpotInterruption", "TerminationNotice", "UserInitiated"])
def test_intended_stops_with_a_nonzero_exit_are_not_crashes(stop_code: str) -> None:
    crash, reason = judged("essential_container_exited_nonzero", stopCode=stop_code)
    assert not crash
    assert stop_code in reason


@pytest.mark.parametrize("stop_code", [None, "SomethingNewFromEcs"])
def test_unknown_or_missing_stop_code_is_not_acted_on(stop_code: str | None) -> None:
    crash, reason = judged("essential_container_exited_nonzero", stopCode=stop_code)
    assert not crash
    assert "not a crash this function acts on" in reason


def test_essential_exit_without_any_exit_code_is_not_a_crash() -> None:
    # Mirrors the rule: anything-but 0 needs an exit code to match.
    crash, _ = judged(
        "essential_container_exited_nonzero", containers=[{"name": "minecraft", "exitCode": None}]
    )
    assert not crash


def test_stopping_task_is_not_yet_a_crash() -> None:
    # Given ECS is still stopping the crashed task (lastStatus DEACTIVATING) - Then wait for STOPPED
    crash, reason = judged("essential_container_exited_nonzero", lastStatus="DEACTIVATING")
    assert not crash
    assert "DEACTIVATING" in reason


def test_cluster_must_match_exactly_not_by_prefix() -> None:
    crash, _ = judged("essential_container_exited_nonzero", clusterArn=OURS + "-creative")
    assert not crash
    crash, _ = judged("essential_container_exited_nonzero", clusterArn=OURS.replace("eu-west-1", "us-east-1"))
    assert not crash


# ------------------------------------------------------------------------------------------ stop decision
def group(desired: int, *states: str) -> GroupState:
    instances = tuple(GroupInstance(f"i-0{n}a1b2c3d4e5f6a7b", s) for n, s in enumerate(states))
    return GroupState(
        name="container-manager-minecraft", desired_capacity=desired, max_size=1, instances=instances
    )


def test_crash_during_start_stops_the_pending_instance() -> None:
    decision = decide_stop(group(1, "Pending"), "container-manager-minecraft", "eu-west-1")
    assert decision.stop
    assert not decision.problem
    assert "desired 1 -> 0" in decision.reason
    assert "Pending" in decision.reason


def test_crash_while_running_stops_the_server() -> None:
    assert decide_stop(group(1, "InService"), "container-manager-minecraft", "eu-west-1").stop


def test_second_crash_event_changes_nothing() -> None:
    decision = decide_stop(group(0, "Terminating:Wait"), "container-manager-minecraft", "eu-west-1")
    assert not decision.stop
    assert not decision.problem
    assert "already stopped or stopping" in decision.reason


def test_missing_group_is_a_problem_not_a_stop() -> None:
    decision = decide_stop(None, "container-manager-minecraft", "eu-west-1")
    assert (decision.stop, decision.problem) == (False, True)
    assert "not found in eu-west-1" in decision.reason
