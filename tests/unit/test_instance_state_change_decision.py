"""instance-state-change decisions: where the A record should point, given what EC2 and the group say now."""

from __future__ import annotations

import pytest

from cm_common.aws import GroupInstance, GroupState, InstanceAddress
from instance_state_change.asg_event import InstanceEvent, Transition
from instance_state_change.decision import decide_launch, decide_terminate, launch_skip_reason

GROUP = "container-manager-minecraft"
ME = "i-0a3f5c7e9b1d24680"
OTHER = "i-07e1c5a3f9d2b4860"
IP = "54.216.33.107"
PLACEHOLDER = "0.0.0.0"


def launched(destination: str | None = "AutoScalingGroup", origin: str | None = "EC2") -> InstanceEvent:
    return InstanceEvent(
        "evt-1", "EC2 Instance Launch Successful", Transition.LAUNCHED, GROUP, ME, origin, destination
    )


def terminating() -> InstanceEvent:
    return InstanceEvent(
        "evt-2",
        "EC2 Instance-terminate Lifecycle Action",
        Transition.TERMINATING,
        GROUP,
        ME,
        "AutoScalingGroup",
        "EC2",
    )


def group(*members: tuple[str, str]) -> GroupState:
    return GroupState(
        GROUP, desired_capacity=1, max_size=1, instances=tuple(GroupInstance(*m) for m in members)
    )


def ec2(state: str = "running", ip: str | None = IP) -> InstanceAddress:
    return InstanceAddress(ME, state, ip)


# ------------------------------------------------------------------------------------------ launch
@pytest.mark.parametrize("lifecycle", ["Pending", "Pending:Wait", "Pending:Proceed", "InService"])
@pytest.mark.parametrize("ec2_state", ["pending", "running"])
def test_live_member_with_public_ip_takes_the_record(lifecycle: str, ec2_state: str) -> None:
    decision = decide_launch(launched(), ec2(ec2_state), group((ME, lifecycle)))
    assert decision.address == IP
    assert not decision.problem


@pytest.mark.parametrize("ec2_state", ["shutting-down", "terminated", "stopping", "stopped"])
def test_late_launch_of_an_instance_already_leaving_changes_nothing(ec2_state: str) -> None:
    # Given the launch event arrives after the instance began to go away (out-of-order delivery)
    decision = decide_launch(launched(), ec2(ec2_state, ip=None), group())
    # Then the record is left alone, and this is not an error
    assert decision.address is None
    assert not decision.problem
    assert f"already {ec2_state}" in decision.reason


@pytest.mark.parametrize(
    "lifecycle", ["Terminating", "Terminating:Wait", "Terminating:Proceed", "Detaching", "Standby"]
)
def test_late_launch_of_an_instance_the_group_is_removing_changes_nothing(lifecycle: str) -> None:
    # Given EC2 still runs the instance, but the group is already draining it
    decision = decide_launch(launched(), ec2("running"), group((ME, lifecycle), (OTHER, "InService")))
    assert decision.address is None
    assert not decision.problem
    assert lifecycle in decision.reason


def test_unknown_instance_is_a_problem() -> None:
    decision = decide_launch(launched(), None, group())
    assert (decision.address, decision.problem) == (None, True)
    assert "unknown to EC2" in decision.reason


def test_instance_outside_the_group_never_takes_the_name() -> None:
    # Given a running instance with a public IP that the group does not list (detached, or a forged event)
    decision = decide_launch(launched(), ec2("running"), group((OTHER, "InService")))
    assert (decision.address, decision.problem) == (None, True)
    assert f"not in group {GROUP}" in decision.reason
    assert f"{OTHER}:InService" in decision.reason


def test_missing_group_is_a_problem() -> None:
    decision = decide_launch(launched(), ec2("running"), None)
    assert (decision.address, decision.problem) == (None, True)
    assert "not found" in decision.reason


def test_no_public_address_is_a_clear_problem() -> None:
    decision = decide_launch(launched(), ec2("running", ip=None), group((ME, "InService")))
    assert (decision.address, decision.problem) == (None, True)
    assert "no public IPv4" in decision.reason
    assert "MapPublicIpOnLaunch" in decision.reason


def test_warm_pool_parking_is_skipped_before_any_lookup() -> None:
    assert launch_skip_reason(launched(destination="WarmPool")) is not None
    assert "warm pool" in str(launch_skip_reason(launched(destination="WarmPool")))
    # Leaving the pool into the group, the documented current shape, and the legacy shape all proceed.
    assert launch_skip_reason(launched(origin="WarmPool", destination="AutoScalingGroup")) is None
    assert launch_skip_reason(launched()) is None
    assert launch_skip_reason(launched(origin=None, destination=None)) is None


# ------------------------------------------------------------------------------------------ terminate
@pytest.mark.parametrize("my_state", ["Terminating", "Terminating:Wait", "Terminating:Proceed", "InService"])
def test_last_instance_terminating_resets_to_placeholder(my_state: str) -> None:
    decision = decide_terminate(terminating(), group((ME, my_state)), PLACEHOLDER)
    assert decision.address == PLACEHOLDER
    assert not decision.problem


def test_terminating_instance_already_gone_from_group_still_resets() -> None:
    # Given a delayed event: the group no longer lists the instance and nothing else runs
    decision = decide_terminate(terminating(), group(), PLACEHOLDER)
    assert decision.address == PLACEHOLDER


@pytest.mark.parametrize("successor", ["Pending", "Pending:Wait", "Pending:Proceed", "InService"])
def test_successor_coming_up_or_serving_keeps_dns(successor: str) -> None:
    # Given a knock during the stop brought a second instance up (terminate-while-pending race)
    decision = decide_terminate(
        terminating(), group((ME, "Terminating:Wait"), (OTHER, successor)), PLACEHOLDER
    )
    # Then DNS is left for the successor's own launch event; returning normally, not a problem
    assert decision.address is None
    assert not decision.problem
    assert f"{OTHER}:{successor}" in decision.reason


@pytest.mark.parametrize("other", ["Terminating", "Terminating:Wait", "Terminated", "Detached", "Standby"])
def test_other_instances_on_their_way_out_do_not_keep_dns(other: str) -> None:
    decision = decide_terminate(terminating(), group((ME, "Terminating:Wait"), (OTHER, other)), PLACEHOLDER)
    assert decision.address == PLACEHOLDER


def test_terminate_for_missing_group_is_a_problem() -> None:
    decision = decide_terminate(terminating(), None, PLACEHOLDER)
    assert (decision.address, decision.problem) == (None, True)


# ------------------------------------------------------------------------------------------ the safety nets
def gone(transition: Transition, instance_id: str = ME) -> InstanceEvent:
    detail_type = {
        Transition.TERMINATED: "EC2 Instance Terminate Successful",
        Transition.LAUNCH_FAILED: "EC2 Instance Launch Unsuccessful",
    }[transition]
    return InstanceEvent("evt-3", detail_type, transition, GROUP, instance_id, "AutoScalingGroup", "EC2")


@pytest.mark.parametrize("transition", [Transition.TERMINATED, Transition.LAUNCH_FAILED])
def test_termination_or_failed_launch_with_nobody_else_resets_to_placeholder(transition: Transition) -> None:
    # Given no other instance is coming up (a termination outside the hook; a launch that failed)
    decision = decide_terminate(gone(transition), group(), PLACEHOLDER)
    # Then the record goes back to the placeholder, never left on a dead address
    assert decision.address == PLACEHOLDER
    assert not decision.problem


@pytest.mark.parametrize("transition", [Transition.TERMINATED, Transition.LAUNCH_FAILED])
def test_safety_nets_leave_a_serving_successor_alone(transition: Transition) -> None:
    decision = decide_terminate(gone(transition), group((OTHER, "InService")), PLACEHOLDER)
    assert decision.address is None
    assert f"{OTHER}:InService" in decision.reason


def test_failed_launch_that_created_no_instance_says_so() -> None:
    decision = decide_terminate(gone(Transition.LAUNCH_FAILED, ""), group(), PLACEHOLDER)
    assert decision.address == PLACEHOLDER
    assert "a launch failed (no instance was created)" in decision.reason
