"""`make aws-contract`: do our offline matchers agree with AWS? Opt-in; needs real credentials; free.

For every EventBridge rule of the templates x every sample event we test against, EventBridge's own
``TestEventPattern``; for the start subscription filter x every query-log line we test against, CloudWatch
Logs' own ``TestMetricFilter`` (the same filter-pattern syntax as subscription filters - CloudWatch Logs user
guide, "Filter pattern syntax"). Neither API creates a resource or costs anything. The cases are
``container_manager.matching.cases`` - the very ones the offline tests assert. Prints one row per case and exits
6 when AWS and our matcher disagree on any (docs/verify.md). Never runs under CI (it would need credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from container_manager.aws import Aws
from container_manager.errors import CHECK_FAILED, OK, USAGE, CmError, aws_errors
from container_manager.matching import cases
from container_manager.matching.event_pattern import EventPattern
from container_manager.matching.filter_pattern import FilterPattern
from container_manager.names import EDGE_REGION

# TestMetricFilter takes at most 50 messages per call (CloudWatch Logs API reference, TestMetricFilter).
MESSAGES_PER_CALL = 50


@dataclass(frozen=True)
class Verdict:
    kind: str  # rule | filter
    case: str
    expected: bool
    ours: bool
    aws: bool

    @property
    def agree(self) -> bool:
        return self.ours == self.aws


def check_rules(clients: Aws, region: str, rule_cases: Sequence[cases.RuleCase]) -> list[Verdict]:
    events = clients.events(region)
    account = clients.sts(region).get_caller_identity()["Account"]
    verdicts = []
    for case in rule_cases:
        # The envelope's account is the caller's (TestEventPattern checks the event is well-formed for this
        # account); no rule of ours matches on it, and both matchers are asked about this same event.
        event = {**case.event, "account": account}
        aws = events.test_event_pattern(EventPattern=json.dumps(case.pattern), Event=json.dumps(event))[
            "Result"
        ]
        ours = EventPattern(case.pattern).matches(event)
        verdicts.append(Verdict("rule", case.id, case.expected, ours, bool(aws)))
    return verdicts


def check_filters(clients: Aws, region: str, filter_cases: Sequence[cases.FilterCase]) -> list[Verdict]:
    logs = clients.logs(region)
    by_pattern: dict[str, list[cases.FilterCase]] = {}
    for case in filter_cases:
        by_pattern.setdefault(case.pattern, []).append(case)
    verdicts = []
    for pattern, group in by_pattern.items():
        parsed = FilterPattern.parse(pattern)
        for start in range(0, len(group), MESSAGES_PER_CALL):
            chunk = group[start : start + MESSAGES_PER_CALL]
            matches = logs.test_metric_filter(
                filterPattern=pattern, logEventMessages=[c.line for c in chunk]
            )["matches"]
            matched = {int(m["eventNumber"]) for m in matches}  # 1-based positions of the matching messages
            for number, case in enumerate(chunk, start=1):
                verdicts.append(
                    Verdict("filter", case.id, case.expected, parsed.matches(case.line), number in matched)
                )
    return verdicts


def render(verdicts: Sequence[Verdict]) -> str:
    mark = {True: "match", False: "no"}
    width = min(max((len(v.case) for v in verdicts), default=4), 80)
    lines = [f"  {'':1}  {'kind':<6}  {'case':<{width}}  {'ours':<5}  {'AWS':<5}  expected"]
    for v in verdicts:
        case = v.case if len(v.case) <= width else v.case[: width - 1] + "…"
        lines.append(
            f"  {'✓' if v.agree else '✗'}  {v.kind:<6}  {case:<{width}}  {mark[v.ours]:<5}  {mark[v.aws]:<5}  "
            f"{mark[v.expected]}"
        )
    disagree = [v for v in verdicts if not v.agree]
    lines.append(
        f"\n{len(verdicts) - len(disagree)}/{len(verdicts)} cases: AWS and our matchers agree"
        + (f"; {len(disagree)} DISAGREE - fix container_manager/matching" if disagree else "")
    )
    return "\n".join(lines)


def run(
    clients: Aws,
    out: TextIO,
    *,
    region: str = EDGE_REGION,
    rule_cases: Sequence[cases.RuleCase] | None = None,
    filter_cases: Sequence[cases.FilterCase] | None = None,
    as_json: bool = False,
) -> int:
    with aws_errors("asking AWS for its verdicts", region):
        verdicts = check_rules(clients, region, cases.rule_cases() if rule_cases is None else rule_cases)
        verdicts += check_filters(
            clients, region, cases.filter_cases() if filter_cases is None else filter_cases
        )
    ok = all(v.agree for v in verdicts)
    if as_json:
        data: dict[str, Any] = {
            "ok": ok,
            "exit_code": OK if ok else CHECK_FAILED,
            "cases": [v.__dict__ | {"agree": v.agree} for v in verdicts],
        }
        print(json.dumps(data, indent=2), file=out)
    else:
        print(render(verdicts), file=out)
    return OK if ok else CHECK_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make aws-contract", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or EDGE_REGION)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if os.environ.get("CI", "").lower() == "true":
        print(
            "aws-contract: refusing to run under CI=true: it calls real AWS with your credentials",
            file=sys.stderr,
        )
        return USAGE
    try:
        return run(Aws.for_command(), sys.stdout, region=args.region, as_json=args.json)
    except CmError as error:
        print(f"aws-contract: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  next: {error.hint}", file=sys.stderr)
        return error.code


if __name__ == "__main__":
    raise SystemExit(main())
