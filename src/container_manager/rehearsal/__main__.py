"""`python -m container_manager.rehearsal` (`make demo`): rehearse the on-demand lifecycle locally.

Renders the bundled example container (examples/minecraft.yaml) with `cm render`, deploys the rendered templates
into moto, runs the real handlers, plays the scenarios on a simulated clock, prints the timeline and a summary
table, and exits 1 when any check failed. docs/demo.md explains what is real and what is simulated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from container_manager.rehearsal.rehearsal_timeline import start_waterfall
from container_manager.rehearsal.runner import EXAMPLE, REPO, Source, rehearse
from container_manager.rehearsal.scenarios import DRAIN_SCENARIOS, LIFECYCLE_SCENARIOS, WATCHDOG_SCENARIOS
from container_manager.rehearsal.world import NEW_ACCOUNT_CONCURRENCY
from container_manager.waterfall import render

# The watchdog's scenarios (docs/watchdog.md) need a UDP game: a second world, rendered from this example.
WATCHDOG_EXAMPLE = REPO / "examples" / "factorio.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make demo", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--config", type=Path, default=EXAMPLE, help="container config to render (default: %(default)s)"
    )
    parser.add_argument(
        "--templates",
        type=Path,
        help="deploy this root template (and its infra/) instead of rendering a config",
    )
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="with --templates")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--concurrency-quota",
        type=int,
        default=NEW_ACCOUNT_CONCURRENCY,
        metavar="N",
        help="the account's Lambda concurrency quota per region (default %(default)s, a new account's)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cm-rehearsal-") as scratch:
        if args.templates:
            params = dict(p.split("=", 1) for p in args.param)
            source = Source.directory(args.templates.resolve(), params)
        else:
            source = Source.rendered(Path(scratch), args.config.resolve())
        out = None if args.quiet else sys.stdout
        quota = args.concurrency_quota
        reports = [rehearse(source, out=out, concurrency_quota=quota)]
        if not args.templates:
            watchdog = Source.rendered(Path(scratch) / "watchdog", WATCHDOG_EXAMPLE)
            reports.append(rehearse(watchdog, out=out, scenarios=WATCHDOG_SCENARIOS, concurrency_quota=quota))
            # Terminating instances, stack delete included: a world of their own (L2 deletes the stack).
            lifecycle = Source.rendered(Path(scratch) / "lifecycle", args.config.resolve())
            reports.append(
                rehearse(lifecycle, out=out, scenarios=LIFECYCLE_SCENARIOS, concurrency_quota=quota)
            )
            # Knocks during a drain and terminations outside the hook: a fresh world of the bundled example.
            drain = Source.rendered(Path(scratch) / "drain", args.config.resolve())
            reports.append(rehearse(drain, out=out, scenarios=DRAIN_SCENARIOS, concurrency_quota=quota))
    start = start_waterfall(reports[0].timeline)
    if start is not None:  # scenario 3's start in `cm timeline`'s format, so a real one looks familiar
        print("\n" + render(start))
    for report in reports:
        print("\n" + report.timeline.summary())
        if report.deploy_error:
            print(f"\ndeploy failed: {report.deploy_error}")
        verdict = "all green" if report.ok else f"{len(report.timeline.failed)} check(s) FAILED"
        print(
            f"\nrehearsal {verdict} in {report.seconds:.1f} s (simulated {report.timeline.clock.elapsed()})"
        )
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
