"""A deployed rehearsal world for tests of the simulated AWS parts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from container_manager.rehearsal.aws_parts import Cloud
from container_manager.rehearsal.runner import Report, Source, rehearse

ROOT = Path(__file__).resolve().parents[2]


def in_world(check: Callable[[Cloud], None], *, alarms: bool = False) -> None:
    """Deploy the repo's templates into moto, play no scenario, run ``check`` against the simulated cloud
    (without alarms by default: the idle alarm would stop a server these tests start without a DNS knock)."""
    failures: list[BaseException] = []

    def run(report: Report) -> None:
        assert report.deploy_error is None, report.deploy_error
        assert report.cloud is not None
        if not alarms:
            report.cloud.world.alarms.clear()
        try:
            check(report.cloud)
        except BaseException as exc:  # re-raised outside the sandbox
            failures.append(exc)

    rehearse(Source.directory(ROOT / "template.yaml"), scenarios=[], on_finish=run)
    if failures:
        raise failures[0]
