"""`make aws-contract` with AWS's side played by botocore's Stubber, in the shapes of the API references:
TestEventPattern -> {"Result": bool}; TestMetricFilter -> {"matches": [{"eventNumber", "eventMessage",
"extractedValues"}]} with 1-based event numbers; GetCallerIdentity -> {"UserId", "Account", "Arn"}.

Given AWS's verdicts, when the contract runs, then it exits 0 only if AWS and our matchers agree on every case.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable

import boto3
import pytest
from botocore.stub import ANY, Stubber

from container_manager import contract
from container_manager.aws import Aws
from container_manager.errors import CHECK_FAILED, OK, USAGE
from container_manager.matching import cases
from container_manager.matching.event_pattern import EventPattern
from container_manager.matching.filter_pattern import FilterPattern
from container_manager.names import EDGE_REGION

RULES = cases.rule_cases()[:12]
FILTERS = cases.filter_cases()[:60]  # more than one TestMetricFilter call for the first pattern


def play_aws(
    clients: Aws,
    rule_verdict: Callable[[cases.RuleCase], bool],
    filter_verdict: Callable[[cases.FilterCase], bool],
) -> tuple[Stubber, Stubber, Stubber]:
    sts = Stubber(clients.sts(EDGE_REGION))
    sts.add_response(
        "get_caller_identity",
        {"UserId": "AIDAEXAMPLE", "Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/admin"},
    )
    events = Stubber(clients.events(EDGE_REGION))
    for case in RULES:
        events.add_response(
            "test_event_pattern", {"Result": rule_verdict(case)}, {"EventPattern": ANY, "Event": ANY}
        )
    logs = Stubber(clients.logs(EDGE_REGION))
    by_pattern: dict[str, list[cases.FilterCase]] = {}
    for case in FILTERS:
        by_pattern.setdefault(case.pattern, []).append(case)
    for pattern, group in by_pattern.items():
        for start in range(0, len(group), contract.MESSAGES_PER_CALL):
            chunk = group[start : start + contract.MESSAGES_PER_CALL]
            matches = [
                {"eventNumber": n, "eventMessage": c.line, "extractedValues": {}}
                for n, c in enumerate(chunk, start=1)
                if filter_verdict(c)
            ]
            logs.add_response(
                "test_metric_filter",
                {"matches": matches},
                {"filterPattern": pattern, "logEventMessages": [c.line for c in chunk]},
            )
    return sts, events, logs


def run(
    rule_verdict: Callable[[cases.RuleCase], bool], filter_verdict: Callable[[cases.FilterCase], bool]
) -> tuple[int, str]:
    clients = Aws(boto3.session.Session())
    stubs = play_aws(clients, rule_verdict, filter_verdict)
    out = io.StringIO()
    with stubs[0], stubs[1], stubs[2]:
        code = contract.run(clients, out, rule_cases=RULES, filter_cases=FILTERS)
        for stub in stubs:
            stub.assert_no_pending_responses()
    return code, out.getvalue()


def ours_rule(case: cases.RuleCase) -> bool:
    return EventPattern(case.pattern).matches(case.event)


def ours_filter(case: cases.FilterCase) -> bool:
    return FilterPattern.parse(case.pattern).matches(case.line)


def test_agreement_on_every_case_exits_0() -> None:
    code, text = run(ours_rule, ours_filter)
    assert code == OK
    assert f"{len(RULES) + len(FILTERS)}/{len(RULES) + len(FILTERS)} cases" in text
    assert "✗" not in text


def test_one_rule_disagreement_exits_6_and_names_the_case() -> None:
    odd = RULES[3]
    code, text = run(lambda c: (not ours_rule(c)) if c is odd else ours_rule(c), ours_filter)
    assert code == CHECK_FAILED
    assert "1 DISAGREE" in text
    (row,) = [line for line in text.splitlines() if line.strip().startswith("✗")]
    assert odd.id[:40] in row


def test_one_filter_disagreement_exits_6() -> None:
    odd = FILTERS[55]  # in the second TestMetricFilter call of its pattern
    code, _ = run(ours_rule, lambda c: (not ours_filter(c)) if c is odd else ours_filter(c))
    assert code == CHECK_FAILED


def test_refuses_to_run_under_ci(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI", "true")
    assert contract.main([]) == USAGE
    assert "refusing" in capsys.readouterr().err


def test_missing_credentials_exit_4_without_reaching_aws() -> None:
    # Given no credentials (a child process with a scrubbed environment), When the contract runs, Then exit 4
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CI": "false",
    }
    result = subprocess.run(
        [sys.executable, "-m", "container_manager.contract"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "credentials" in result.stderr
