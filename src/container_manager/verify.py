"""The `cm selftest` and `cm timeline` commands: arguments, output, exit codes (docs/cli.md, docs/verify.md).

The logic lives in selftest.py and timeline.py; this module turns one boto3 session into their clients and
their results into text or JSON.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any, TextIO

from container_manager import operations as ops
from container_manager.aws import Aws
from container_manager.deployment import Deployment, discover
from container_manager.errors import CHECK_FAILED, OK, USAGE, CmError, aws_errors
from container_manager.names import EDGE_REGION
from container_manager.selftest import TIMEOUTS, Instruments, SelfTest
from container_manager.selftest import render as render_steps
from container_manager.timeline import collect
from container_manager.waterfall import Waterfall, as_json, render


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "selftest",
        parents=parents,
        help="prove a deployed container works: static checks, a real start by DNS, a real stop",
    )
    p.add_argument("id", metavar="CONFIG_OR_ID", help="container id, or its config file")
    p.add_argument("--keep-running", action="store_true", help="leave the server running after the start")
    p.add_argument(
        "--timeout",
        action="append",
        default=[],
        metavar="PHASE=SECONDS",
        help=f"override one phase's timeout (repeatable); phases and defaults: "
        f"{', '.join(f'{k}={v:.0f}' for k, v in TIMEOUTS.items())}",
    )
    p = sub.add_parser(
        "timeline", parents=parents, help="the last start and stop, phase by phase, from AWS's own records"
    )
    p.add_argument("id", metavar="CONFIG_OR_ID", help="container id, or its config file")


def timeouts(values: list[str]) -> dict[str, float]:
    result: dict[str, float] = {}
    for value in values:
        phase, _, seconds = value.partition("=")
        if phase not in TIMEOUTS or not seconds.replace(".", "", 1).isdigit() or float(seconds) <= 0:
            raise CmError(
                f"--timeout {value!r}: expected PHASE=SECONDS with PHASE one of {', '.join(TIMEOUTS)}",
                code=USAGE,
                hint="e.g. --timeout task=1200",
            )
        result[phase] = float(seconds)
    return result


def run(
    args: argparse.Namespace,
    target: ops.Target,
    clients: Aws,
    out: TextIO,
    err: TextIO,
    *,
    instruments: Instruments | None = None,
) -> int:
    with aws_errors("checking the credentials", EDGE_REGION):
        clients.sts(EDGE_REGION).get_caller_identity()  # fail early with exit 4, before any wait
    deployment = discover(clients, target)
    if args.command == "timeline":
        return _timeline(args, clients, deployment, out)
    test = SelfTest(
        clients,
        deployment,
        stop=lambda: ops.set_desired(clients, target, 0),  # exactly `cm stop`, with the command's session
        keep_running=args.keep_running,
        timeouts=timeouts(args.timeout),
        instruments=instruments,
        progress=err,
        timeline=lambda since: _timelines(clients, deployment, since),
    )
    report = test.run()
    code = OK if report.ok else CHECK_FAILED
    if args.json:
        _dump(
            out,
            {
                "ok": report.ok,
                "exit_code": code,
                "id": deployment.container_id,
                "region": deployment.region,
                "server_name": deployment.server_name,
                "steps": [s.as_json() for s in report.steps],
                "timeline": [as_json(w) for w in report.timelines],
            },
        )
    else:
        print(render_steps(report), file=out)
        for fall in report.timelines:
            print("\n" + render(fall), file=out)
    return code


def _timelines(clients: Aws, deployment: Deployment, since: datetime | None) -> list[Waterfall]:
    with aws_errors("reading the timeline", deployment.region):
        found = collect(clients, deployment, now=datetime.now(UTC), since=since)
    return [found.start] + ([found.stop] if found.stop else [])


def _timeline(args: argparse.Namespace, clients: Aws, deployment: Deployment, out: TextIO) -> int:
    falls = _timelines(clients, deployment, None)
    if args.json:
        _dump(out, {"ok": True, "id": deployment.container_id, "timeline": [as_json(w) for w in falls]})
    else:
        print("\n\n".join(render(w) for w in falls), file=out)
    return OK


def _dump(out: TextIO, data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str), file=out)
