"""The simulated clock and the deploy-time template helpers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from container_manager.intrinsics import UnresolvedError
from container_manager.rehearsal.clock import SimClock
from container_manager.rehearsal.templates import NO_VALUE, StackResolver, deploy_order, references


def test_clock_runs_jobs_in_time_order_and_ticks_each_minute() -> None:
    clock = SimClock()
    seen: list[str] = []
    clock.after(90, lambda: seen.append(f"job@{clock.elapsed().seconds}"))
    clock.after(30, lambda: seen.append(f"early@{clock.elapsed().seconds}"))
    clock.advance(150, lambda now: seen.append(f"tick@{(now - clock.start).seconds}"))
    assert seen == ["early@30", "tick@60", "job@90", "tick@120"]
    assert clock.elapsed() == timedelta(seconds=150)


def test_a_job_due_on_a_minute_runs_before_that_minute_tick() -> None:
    clock = SimClock()
    seen: list[str] = []
    clock.after(60, lambda: seen.append("job"))
    clock.advance(60, lambda _: seen.append("tick"))
    assert seen == ["job", "tick"]


def test_jobs_scheduled_by_jobs_run_in_the_same_advance() -> None:
    clock = SimClock()
    seen: list[int] = []
    clock.after(10, lambda: clock.after(10, lambda: seen.append(clock.elapsed().seconds)))
    clock.advance(30)
    assert seen == [20]


def test_the_clock_never_goes_back() -> None:
    clock = SimClock()
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance_to(clock.start - timedelta(seconds=1))


TEMPLATE = {
    "Parameters": {"Cidr": {"Type": "String", "Default": "10.42.0.0/16"}},
    "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
    "Resources": {
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "Cidr"}}},
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "DependsOn": "Subnet",
            "Properties": {"AlarmName": {"Fn::Sub": "${Vpc}-${Subnet.Arn}-${AWS::Region}"}},
        },
    },
}


def test_deploy_order_follows_references_and_depends_on() -> None:
    assert deploy_order(TEMPLATE) == ["Vpc", "Subnet", "Alarm"]
    assert references(TEMPLATE["Resources"]["Alarm"]["Properties"]) == {"Vpc", "Subnet"}


def test_circular_references_are_refused() -> None:
    looped = {
        "Resources": {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"X": {"Ref": "A"}}}}
    }
    with pytest.raises(ValueError, match="circular"):
        deploy_order(looped)


def test_stack_resolver_deploy_time_functions() -> None:
    resolver = StackResolver(TEMPLATE, refs={"AWS::Region": "eu-west-1", "AWS::NoValue": NO_VALUE})
    assert resolver.resolve({"Fn::Select": [1, {"Fn::GetAZs": ""}]}) == "eu-west-1b"
    assert resolver.resolve({"Fn::Cidr": [{"Ref": "Cidr"}, 2, 8]}) == ["10.42.0.0/24", "10.42.1.0/24"]
    assert resolver.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert resolver.resolve_clean(
        {"L": [1, {"Fn::If": ["Never", 2, {"Ref": "AWS::NoValue"}]}], "K": {"Ref": "AWS::NoValue"}}, "x"
    ) == {"L": [1]}


def test_unresolved_intrinsics_are_refused() -> None:
    resolver = StackResolver(TEMPLATE, refs={"AWS::Region": "eu-west-1"})
    with pytest.raises(UnresolvedError, match="Fn::ImportValue"):
        resolver.resolve_clean({"X": {"Fn::ImportValue": "shared"}}, "Props")
