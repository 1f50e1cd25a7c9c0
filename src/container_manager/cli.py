"""`cm`: everything a server admin does with a container, from its YAML file or its id.

Human output by default, ``--json`` for scripts. Exit codes (docs/cli.md): 0 ok, 1 an AWS or sam call
failed, 2 usage or config error, 3 not found, 4 credentials or permissions, 5 aborted, 6 a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import boto3

from container_manager import operations as ops
from container_manager import verify
from container_manager.config import CONTAINER_ID_PATTERN, ConfigError, load_config
from container_manager.deploy import Runner, deploy, run_subprocess
from container_manager.errors import ABORTED, OK, USAGE, CmError, NotFoundError, call
from container_manager.render import RenderError, render_to


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 too; keep the hint style
        self.print_usage(sys.stderr)
        print(f"cm: error: {message}\n  next: run `cm {self.prog.split()[-1]} --help`", file=sys.stderr)
        raise SystemExit(USAGE)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    where = _Parser(add_help=False)
    where.add_argument(
        "--region", help="the container's region (default: from the config file, AWS_REGION, us-east-1)"
    )

    parser = _Parser(prog="cm", description="Container Manager: one on-demand game server per YAML file.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", parents=[common], help="check config files offline; all problems at once")
    p.add_argument("files", nargs="+", type=Path)

    p = sub.add_parser(
        "render", parents=[common], help="write the templates and parameters that would be deployed"
    )
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, help="output directory (default: build/<id>)")

    p = sub.add_parser("deploy", parents=[common], help="render, sam build, sam deploy (both region flows)")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, help="build directory (default: build/<id>)")
    p.add_argument(
        "--confirm-changeset", action="store_true", help="let sam ask before applying each change set"
    )

    for name, text in (
        ("status", "desired/actual instances, address, task, alarms, last start/stop and why"),
        ("start", "start the server now (desired capacity 1)"),
        ("stop", "stop the server now (desired capacity 0; the container gets its stop timeout to save)"),
    ):
        p = sub.add_parser(name, parents=[common, where], help=text)
        p.add_argument("id", nargs="?" if name == "status" else None, help="container id, or its config file")

    p = sub.add_parser("logs", parents=[common, where], help="container and function logs")
    p.add_argument("id", help="container id, or its config file")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines (Ctrl-C ends)")
    p.add_argument(
        "--since", type=int, default=60, metavar="MINUTES", help="start this many minutes ago (60)"
    )
    p.add_argument("--source", choices=["all", "container", "functions"], default="all")

    p = sub.add_parser("list", parents=[common], help="deployed containers (stacks container-manager-*)")
    p.add_argument(
        "--region", action="append", help="region to look in (repeatable; default: AWS_REGION and us-east-1)"
    )

    p = sub.add_parser(
        "delete", parents=[common, where], help="stop, reset DNS, delete the stacks (data kept)"
    )
    p.add_argument("id", help="container id, or its config file")
    p.add_argument("--delete-data", action="store_true", help="also delete the EFS file systems (the world!)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    verify.add_parsers(sub, [common, where])
    return parser


def main(argv: Sequence[str] | None = None, *, runner: Runner = run_subprocess) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        return _dispatch(args, out, err, runner)
    except ConfigError as error:
        _emit_error(
            args, err, out, str(error), "fix the listed keys (docs/configuration.md), then run again", USAGE
        )
        return USAGE
    except RenderError as error:
        _emit_error(args, err, out, str(error), "the templates' marker blocks changed; update cm render", 1)
        return 1
    except CmError as error:
        _emit_error(args, err, out, error.message, error.hint, error.code)
        return error.code
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return ABORTED


def _emit_error(
    args: argparse.Namespace, err: TextIO, out: TextIO, message: str, hint: str, code: int
) -> None:
    if getattr(args, "json", False):
        print(
            json.dumps({"ok": False, "error": message, "next": hint, "exit_code": code}, indent=2), file=out
        )
    print(f"cm: error: {message}", file=err)
    if hint:
        print(f"  next: {hint}", file=err)


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO, runner: Runner) -> int:
    command: str = args.command
    if command == "validate":
        return _validate(args, out, err)
    if command == "render":
        config = load_config(args.file)
        rendered = render_to(args.file, args.output or Path("build") / config.Id)
        summary = {
            "ok": True,
            "id": config.Id,
            "out_dir": str(rendered.out_dir),
            "root_template": str(rendered.root_template),
            "parameters_file": str(rendered.parameters_file),
            "deployments": [
                {"part": d.part, "stack": d.stack_name, "region": d.region, "parameters": d.parameters}
                for d in rendered.deployments
            ],
        }
        if args.json:
            _json(out, summary)
        else:
            print(f"rendered {config.Id} into {rendered.out_dir}/", file=out)
            for d in rendered.deployments:
                print(f"  stack {d.stack_name} ({d.part}) in {d.region}", file=out)
                for key, value in d.parameters.items():
                    print(f"    {key} = {value}", file=out)
            print(f"next: cm deploy {args.file}", file=out)
        return OK
    if command == "deploy":
        config = load_config(args.file)
        report = deploy(
            args.file,
            args.output or Path("build") / config.Id,
            runner=runner,
            confirm_changeset=args.confirm_changeset,
            out=err if args.json else out,
        )
        if args.json:
            _json(out, {"ok": True, "id": config.Id, "steps": report.steps})
        else:
            print(
                f"deployed {config.server_name}; players connect to it, the first query starts the server",
                file=out,
            )
            print(f"next: cm status {args.file}", file=out)
        return OK
    if command == "list":
        regions = args.region or _default_regions()
        found = ops.list_containers(regions)
        if args.json:
            _json(out, {"ok": True, "containers": found})
        elif not found:
            print(f"no containers in {', '.join(regions)} (try --region)", file=out)
        else:
            for item in found:
                print(
                    f"{item['id']:<20} {item['part']:<9} {item['region']:<14} {item['status']:<22} {item['stack']}",
                    file=out,
                )
        return OK
    target = _target(args)
    if command == "status":
        data = ops.status(target)
        _json(out, {"ok": True, **ops.iso(data)}) if args.json else _print_status(data, out)
        return OK
    if command in ("start", "stop"):
        result = ops.set_desired(target, 1 if command == "start" else 0)
        if args.json:
            _json(out, {"ok": True, **result})
        elif command == "start":
            print(
                f"starting {target.container_id} in {target.region} (desired {result['desired_before']} -> 1)",
                file=out,
            )
            print(f"next: cm status {target.container_id} --region {target.region}", file=out)
        else:
            print(
                f"stopping {target.container_id} (desired {result['desired_before']} -> 0); the world saves first",
                file=out,
            )
        return OK
    if command == "logs":
        return _logs(args, target, out)
    if command == "delete":
        return _delete(args, target, out, err)
    if command in ("selftest", "timeline"):
        return verify.run(args, target, boto3.session.Session(), out, err)
    raise CmError(f"unknown command {command}", code=USAGE)


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    results: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for path in args.files:
        try:
            config = load_config(path)
        except ConfigError as error:
            results.append({"file": str(path), "ok": False, "problems": error.problems})
            continue
        problems = []
        if config.Id in ids:
            problems.append(
                f"Id: {config.Id!r} is also the id of {ids[config.Id]}; ids must be unique - rename a file or set Id"
            )
        ids.setdefault(config.Id, str(path))
        results.append({"file": str(path), "ok": not problems, "id": config.Id, "problems": problems})
    failed = [r for r in results if not r["ok"]]
    if args.json:
        _json(out, {"ok": not failed, "files": results})
    else:
        for result in results:
            if result["ok"]:
                print(f"ok    {result['file']} ({result['id']})", file=out)
            else:
                print(f"FAIL  {result['file']}: {len(result['problems'])} problem(s)", file=out)
                for problem in result["problems"]:
                    print(f"  - {problem}", file=out)
        if failed:
            print("next: fix the listed keys (docs/configuration.md) and validate again", file=err)
    return USAGE if failed else OK


def _logs(args: argparse.Namespace, target: ops.Target, out: TextIO) -> int:
    start_ms = int((time.time() - args.since * 60) * 1000)

    def emit(event: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(event), file=out, flush=True)
        else:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event["time"] / 1000))
            print(f"{stamp} [{event['group']}] {event['message']}", file=out, flush=True)

    if args.follow:
        ops.follow_logs(target, args.source, start_ms, emit)
    else:
        for event in call(
            "reading logs", target.region, lambda: ops.read_logs(target, args.source, start_ms, set())
        ):
            emit(event)
    return OK


def _delete(args: argparse.Namespace, target: ops.Target, out: TextIO, err: TextIO) -> int:
    stacks = call("finding the stacks", target.region, lambda: ops.stacks_to_delete(target))
    if not stacks:
        raise NotFoundError(
            f"no stacks of container {target.container_id!r} ({target.name} in {target.region}, {target.edge_stack} in us-east-1)",
            hint="check the id and --region: `cm list --region <region>`",
        )
    data_note = (
        "and DELETE its data (EFS file systems)" if args.delete_data else "keeping its data (EFS is retained)"
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise CmError(
                "refusing to delete without confirmation",
                code=USAGE,
                hint="pass --yes to delete non-interactively",
            )
        print(f"This deletes {', '.join(f'{s} ({r})' for s, r in stacks)} {data_note}.", file=err)
        answer = input(f"Type the container id ({target.container_id}) to confirm: ")
        if answer.strip() != target.container_id:
            print("not deleted", file=err)
            return ABORTED
    done: dict[str, Any] = {"id": target.container_id, "region": target.region, "stopped": False}
    progress = err if args.json else out
    try:
        ops.set_desired(target, 0)
        done["stopped"] = True
        print(f"stopped {target.name}", file=progress)
    except NotFoundError:
        pass  # no group (a half-deployed stack): nothing to stop
    main_stack = ops.stack(target.name, target.region)
    done["dns"] = call(
        "resetting the DNS record",
        "us-east-1",
        lambda: ops.reset_record(target, ops.outputs(main_stack).get("ServerName")),
    )
    if done["dns"]:
        print(f"reset {done['dns']['record']} to {ops.PLACEHOLDER_IP}", file=progress)
    done["deleted_stacks"] = []
    for name, region in stacks:
        print(f"deleting stack {name} in {region} (this takes a few minutes)...", file=progress, flush=True)
        call(f"deleting stack {name}", region, partial(ops.delete_stack, name, region))
        done["deleted_stacks"].append({"stack": name, "region": region})
    kept = call("listing file systems", target.region, lambda: ops.data_file_systems(target))
    if args.delete_data:
        for fs in kept:
            print(f"deleting file system {fs}...", file=progress, flush=True)
            call(f"deleting {fs}", target.region, partial(ops.delete_file_system, fs, target.region))
        done["deleted_file_systems"], done["kept_file_systems"] = kept, []
    else:
        done["deleted_file_systems"], done["kept_file_systems"] = [], kept
    if args.json:
        _json(out, {"ok": True, **done})
    else:
        print(f"deleted {target.container_id}", file=out)
        if kept and not args.delete_data:
            print(
                f"kept data: {', '.join(kept)} (redeploy reuses nothing; delete with --delete-data)", file=out
            )
    return OK


def _target(args: argparse.Namespace) -> ops.Target:
    given: str | None = args.id
    if given is None:
        raise CmError(
            "which container?",
            code=USAGE,
            hint="give its id or config file: `cm status minecraft`, or `cm list`",
        )
    region = args.region
    if given.endswith((".yaml", ".yml")) or os.sep in given:
        config = load_config(Path(given))
        return ops.Target(config.Id, region or config.Region)
    if not CONTAINER_ID_PATTERN.match(given):
        raise CmError(
            f"{given!r} is neither a container id nor a .yaml file",
            code=USAGE,
            hint="ids are lower-case letters, digits and hyphens: `cm list` shows them",
        )
    return ops.Target(given, region or _env_region() or ops.EDGE_REGION)


def _env_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def _default_regions() -> list[str]:
    regions = [r for r in (_env_region(), ops.EDGE_REGION) if r]
    return list(dict.fromkeys(regions))


def _json(out: TextIO, data: dict[str, Any]) -> None:
    print(json.dumps(ops.iso(data), indent=2, sort_keys=True, default=str), file=out)


def _print_status(data: dict[str, Any], out: TextIO) -> None:
    state = "running" if data["running"] else ("starting" if data["desired"] else "stopped")
    print(f"{data['id']} ({data['region']}): {state}", file=out)
    stack = data["stack"]
    print(
        f"  stack:     {stack['name']} {stack['status']}" if stack else "  stack:     (not found)", file=out
    )
    print(f"  instances: desired {data['desired']}, in service {data['running']}", file=out)
    for instance in data["instances"]:
        print(
            f"    {instance['id']} {instance['lifecycle']} {instance['health']} ip {instance['public_ip'] or '-'}",
            file=out,
        )
    dns = data["dns"]
    value = dns.get("value") or "-"
    note = " (placeholder: server stopped)" if dns.get("placeholder") else ""
    print(f"  dns:       {dns.get('record') or '-'} -> {value}{note}", file=out)
    task = data["task"]
    print(
        f"  task:      {task['last_status']}"
        + (f" ({task['stopped_reason']})" if task and task.get("stopped_reason") else "")
        if task
        else "  task:      none",
        file=out,
    )
    alarms = ", ".join(f"{k} {v['state'] if v else '-'}" for k, v in data["alarms"].items())
    print(f"  alarms:    {alarms}", file=out)
    for change in data["last_changes"][:3]:
        print(f"  change:    {ops.iso(change['time'])} {change['description']}", file=out)
        if change.get("cause"):
            print(f"             why: {change['cause']}", file=out)
    if data.get("last_alarm"):
        alarm = data["last_alarm"]
        print(f"  last alarm: {alarm['alarm']} since {ops.iso(alarm['time'])}: {alarm['reason']}", file=out)


if __name__ == "__main__":
    raise SystemExit(main())
