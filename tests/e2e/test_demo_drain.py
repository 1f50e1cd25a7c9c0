"""End-to-end: the drain scenarios of `make demo` (issue 9 items 5 and 6) on a fresh world of the bundled example.

D1: a knock while the old instance still drains never boots a second instance onto the world, and the drain's end
brings the server back without a second knock. D2: an instance terminated outside its hook (only "EC2 Instance
Terminate Successful" comes) leaves no record on a dead address. The mutations put the old code or the old rule
back and prove the scenario that depends on the fix fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import start_system.service
from cm_common.aws import GroupState
from cm_common.starting import StartDecision, Verdict, decide_start
from container_manager.rehearsal.runner import Report, Source, rehearse
from container_manager.rehearsal.scenarios import DRAIN_SCENARIOS, SCENARIOS
from support.mutations import replace_once, sub_once

SAFETY_NET = r"\n *- EC2 Instance Terminate Successful(?=\n)"  # a line of the instance rule's detail-types


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return rehearse(Source.rendered(tmp_path_factory.mktemp("drain")), scenarios=DRAIN_SCENARIOS)


def test_drain_scenarios_are_all_green(report: Report) -> None:
    assert report.deploy_error is None
    assert report.failed() == []
    assert {v.scenario.split(" ", 1)[0] for v in report.timeline.verdicts} == {"D1", "D2"}
    assert report.cloud is not None
    # The player's knocks: the first start, one during the drain (deferred), one while up (D2); the second start
    # came from the drain's end
    actions = [(i.function.short, i.action) for i in report.cloud.lambdas.invocations]
    assert [a for f, a in actions if f == "start-system"] == ["started", "deferred", "no_change"]
    assert [a for f, a in actions if f == "instance-state-change"].count("started") == 1
    # Three servers in all (first, after the drain, the replacement), never two of them at once
    tracked = report.cloud.autoscaling.instances.values()
    assert len(tracked) == 3
    assert [t.phase for t in tracked].count("Terminated") == 2


def _the_old_start_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """start-system as it was: a knock during a drain raises desired capacity at once."""

    def old(group: GroupState | None, group_name: str, region: str) -> StartDecision:
        decision = decide_start(group, group_name, region)
        if decision.verdict is Verdict.DEFER:
            return StartDecision(Verdict.START, "server is shutting down; a knock brings it back")
        return decision

    monkeypatch.setattr(start_system.service, "decide_start", old)


def _play(tmp_path: Path, mutate: Callable[[Path], None] | None = None, scenarios: str = "D") -> Report:
    source = Source.rendered(tmp_path)
    if mutate is not None:
        mutate(tmp_path)
    played = DRAIN_SCENARIOS if scenarios == "D" else [s for s in SCENARIOS if s.title[0] <= scenarios]
    return rehearse(source, scenarios=played)


def test_the_old_start_rule_boots_a_second_instance_onto_the_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given start-system raises desired capacity during a drain, as it did before the fix
    _the_old_start_rule(monkeypatch)
    # When D1 is played - Then the rehearsal sees two instances and two mounts of the world at once
    failed = _play(tmp_path).failed("D1")
    assert any("never two instances at once: at most 2" in f for f in failed), failed
    assert any("the world never mounted twice" in f for f in failed), failed


def test_without_the_terminate_successful_rule_the_knock_is_lost_and_the_record_stays_dead(
    tmp_path: Path,
) -> None:
    # Given the instance rule without the safety-net detail-type (the old pattern, but for Launch Unsuccessful)
    report = _play(tmp_path, sub_once("template.yaml", SAFETY_NET, ""))
    # Then D1's deferred knock is never honoured, and D2's record keeps the terminated instance's address
    assert any("no second knock" in f for f in report.failed("D1")), report.failed()
    assert any("never a dead address" in f for f in report.failed("D2")), report.failed()


def test_a_missing_termination_hook_still_resets_the_record(tmp_path: Path) -> None:
    # Given no termination hook at all (ECS managed draining off): no lifecycle action event ever comes
    no_hook = replace_once("infra/compute.yaml", "ManagedDraining: ENABLED", "ManagedDraining: DISABLED")
    # When the idle stop of scenario 4 happens - Then "Terminate Successful" alone resets the record
    report = _play(tmp_path, no_hook, scenarios="4")
    assert report.failed() == []
