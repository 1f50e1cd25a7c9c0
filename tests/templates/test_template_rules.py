"""The EventBridge rules of the templates, resolved for a realistic stack, against documented-shape events.

Given the rule pattern CloudFormation would deploy (intrinsics resolved through the real templates), when an
AWS-shaped event arrives, then the rule passes exactly the events its target is meant to get. The cases -
events/ samples, builder events and their near-misses - live in ``container_manager.matching.cases``, which
`make aws-contract` replays against EventBridge's own TestEventPattern.
"""

from __future__ import annotations

import pytest

from container_manager.matching import cases
from container_manager.matching.event_pattern import EventPattern

CASES = cases.rule_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_passes_exactly_the_events_meant_for_it(case: cases.RuleCase) -> None:
    assert EventPattern(case.pattern).matches(case.event) is case.expected


@pytest.mark.parametrize("rule", cases.RULES)
def test_every_rule_has_cases_it_passes_and_cases_it_drops(rule: str) -> None:
    verdicts = {c.expected for c in CASES if c.rule == rule}
    assert verdicts == {True, False}


def test_every_sample_event_file_has_a_verdict() -> None:
    named = {c.name for c in CASES if c.name.startswith("events/")}
    on_disk = {
        f"events/{p.relative_to(cases.EVENTS)}"
        for folder in ("crash-loop-breaker", "instance-state-change")
        for p in (cases.EVENTS / folder).glob("*.json")
    }
    assert named == on_disk
