"""The rehearsal's deploy enforces Lambda's reserved-concurrency rule on the account's quota (issue 9, item 1).

Lambda keeps 100 of a region's concurrency quota unreserved, all of it when the quota is 100 or less: a new
account's quota is 10, so any ``ReservedConcurrentExecutions`` fails its first deploy. The rehearsal deploys
with a new account's quota unless told otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from container_manager.rehearsal.runner import Source, rehearse
from container_manager.rehearsal.world import NEW_ACCOUNT_CONCURRENCY

RESERVATION = "    ReservedConcurrentExecutions: !If [ReservesConcurrency, !Ref ReservedConcurrency, !Ref AWS::NoValue]\n"


def test_the_templates_deploy_on_a_new_account(tmp_path: Path) -> None:
    # Given the bundled example as rendered - When deployed on an account with a new account's quota
    report = rehearse(Source.rendered(tmp_path), scenarios=[])
    # Then nothing is reserved and the deploy succeeds
    assert NEW_ACCOUNT_CONCURRENCY == 10
    assert report.deploy_error is None
    assert report.world is not None
    assert all(not held for held in report.world.reserved_concurrency.values())


def test_a_reservation_is_refused_on_a_new_account(tmp_path: Path) -> None:
    # Given the old templates: every function reserves 2 executions, whatever the parameters
    source = Source.rendered(tmp_path)
    root = tmp_path / "template.yaml"
    text = root.read_text(encoding="utf-8")
    assert text.count(RESERVATION) == 1, "the reservation line moved: update this test"
    root.write_text(text.replace(RESERVATION, "    ReservedConcurrentExecutions: 2\n"), encoding="utf-8")
    # When deployed on a new account
    report = rehearse(source, scenarios=[])
    # Then the deploy fails on the first function deployed, naming it and the numbers
    assert report.deploy_error is not None
    assert re.match(
        r"template\.yaml: [A-Za-z]+Function reserves 2 concurrent executions", report.deploy_error
    )
    assert "leave 8 of the account's quota of 10 unreserved, below Lambda's minimum of 10" in (
        report.deploy_error
    )


def test_an_opt_in_reservation_deploys_where_the_quota_allows_it(tmp_path: Path) -> None:
    # Given the example with ReservedConcurrency opted in
    source = Source.rendered(tmp_path)
    plan = source.stacks[0]
    params = {**plan.templates.parameters, "ReservedConcurrency": "2"}
    opted = Source.directory(plan.templates.root, params)
    # When deployed on a new account, it is refused; on an account with the default raised quota, it deploys
    refused = rehearse(opted, scenarios=[])
    assert refused.deploy_error is not None
    assert "reserves 2 concurrent executions" in refused.deploy_error
    raised = rehearse(opted, scenarios=[], concurrency_quota=1000)
    assert raised.deploy_error is None
    assert raised.world is not None
    (held,) = raised.world.reserved_concurrency.values()
    assert list(held.values()) == [2] * len(raised.world.functions)  # each function holds its share
