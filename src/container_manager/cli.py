"""`cm`: everything a server admin does with a container, from its YAML file or its id.

Human output by default, ``--json`` for scripts. Exit codes (docs/cli.md): 0 ok, 1 an AWS or sam call
failed, 2 usage or config error, 3 not found, 4 credentials or permissions, 5 aborted, 6 a check failed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from container_manager import operations as ops
from container_manager import secrets as secret_store
from container_manager import verify
from container_manager.aws import Aws
from container_manager.config import (
    CONTAINER_ID_PATTERN,
    ConfigError,
    OlderToolConfig,
    instance_type_note,
    load_config,
)
from container_manager.deploy import Runner, deploy, run_subprocess
from container_manager.errors import ABORTED, OK, USAGE, CmError, NotFoundError, call
from container_manager.importer import default_output_name, import_config
from container_manager.instance_types import InstanceSpec, describe_fit
from container_manager.instance_types import offline as offline_instance_type
from container_manager.names import EDGE_REGION, PLACEHOLDER_IP
from container_manager.render import RenderError, render_config


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
        "--region",
        help="the container's region (default: the config file's; else AWS_REGION, AWS_DEFAULT_REGION or the "
        "profile's region; else us-east-1)",
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

    p = sub.add_parser(
        "import", parents=[common], help="convert an AWS-ContainerManager (older CDK tool) config into ours"
    )
    p.add_argument("file", type=Path, help="the older tool's leaf config, e.g. Palworld.example.yaml")
    p.add_argument("-o", "--output", help="the new config file (default: ./<id>.yaml; - for stdout)")
    p.add_argument("--domain", help="your domain (default: $DOMAIN_NAME, as the older tool's vars.env)")
    p.add_argument("--zone", help="its public hosted zone id (default: $HOSTED_ZONE_ID)")
    p.add_argument("--id", dest="container_id", help="the container id (default: from the file name)")
    p.add_argument("--region", help="the region to run in (default: us-east-1, not written)")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")

    p = sub.add_parser("secrets", help="store and list the container's secrets (SSM SecureString)")
    secrets_sub = p.add_subparsers(dest="secrets_command", required=True, parser_class=_Parser)
    s = secrets_sub.add_parser(
        "put",
        parents=[common, where],
        help="store a secret the task reads (Container.Secrets); the value comes from stdin or --from-env",
    )
    s.add_argument("id", help="container id, or its config file")
    s.add_argument("name", help="the name under /container-manager/<id>/, e.g. server-password")
    s.add_argument("--from-env", metavar="VAR", help="read the value from this environment variable")
    s = secrets_sub.add_parser(
        "list", parents=[common, where], help="the container's secret names (never values)"
    )
    s.add_argument("id", help="container id, or its config file")

    p = sub.add_parser("list", parents=[common], help="deployed containers (stacks container-manager-*)")
    p.add_argument(
        "--region",
        action="append",
        help="region to look in (repeatable; default: the session's region and us-east-1)",
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
        _emit_error(args, err, out, str(error), error.hint, USAGE)
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
        # Offline when the table knows the type; otherwise AWS says what it is (the command's one session).
        instance = offline_instance_type(config.Ec2.InstanceType) or describe_fit(
            Aws.for_command().ec2(config.Region), config.Ec2.InstanceType, config.Region
        )
        rendered = render_config(
            config, args.output or Path("build") / config.Id, instance=instance, config_name=args.file.name
        )
        summary = {
            "ok": True,
            "id": config.Id,
            "instance_type": _instance_summary(instance),
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
            print(
                f"  instance type {instance.name}: {instance.arch}, {instance.memory_mib} MiB ({instance.source})",
                file=out,
            )
            for d in rendered.deployments:
                print(f"  stack {d.stack_name} ({d.part}) in {d.region}", file=out)
                for key, value in d.parameters.items():
                    print(f"    {key} = {value}", file=out)
            print(f"next: cm deploy {args.file}", file=out)
        return OK
    if command == "import":
        return _import(args, out, err)  # offline: reads the file and the environment only
    # Every command below calls AWS, through this one session (container_manager.aws): pass `aws` down.
    aws = Aws.for_command()
    if command == "deploy":
        config = load_config(args.file)
        report = deploy(
            aws,
            args.file,
            args.output or Path("build") / config.Id,
            runner=runner,
            confirm_changeset=args.confirm_changeset,
            out=err if args.json else out,
        )
        if args.json:
            facts = _instance_summary(report.rendered.instance)
            _json(out, {"ok": True, "id": config.Id, "instance_type": facts, "steps": report.steps})
        else:
            print(
                f"deployed {config.server_name}; players connect to it, the first query starts the server",
                file=out,
            )
            print(f"next: cm status {args.file}", file=out)
        return OK
    if command == "secrets":
        return _secrets(args, aws, out, err)
    if command == "list":
        regions = args.region or _default_regions(aws)
        found = ops.list_containers(aws, regions)
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
    target = _target(args, aws)
    if command == "status":
        data = ops.status(aws, target)
        _json(out, {"ok": True, **ops.iso(data)}) if args.json else _print_status(data, out)
        return OK
    if command in ("start", "stop"):
        result = ops.set_desired(aws, target, 1 if command == "start" else 0)
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
        return _logs(args, aws, target, out)
    if command == "delete":
        return _delete(args, aws, target, out, err)
    if command in ("selftest", "timeline"):
        return verify.run(args, target, aws, out, err)
    raise CmError(f"unknown command {command}", code=USAGE)


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    results: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    hints: list[str] = []
    for path in args.files:
        try:
            config = load_config(path)
        except ConfigError as error:
            results.append({"file": str(path), "ok": False, "problems": error.problems, "notes": []})
            if isinstance(error, OlderToolConfig):
                hints.append(error.hint)
            continue
        problems = []
        if config.Id in ids:
            problems.append(
                f"Id: {config.Id!r} is also the id of {ids[config.Id]}; ids must be unique - rename a file or set Id"
            )
        ids.setdefault(config.Id, str(path))
        notes = [note] if (note := instance_type_note(config)) else []
        results.append(
            {"file": str(path), "ok": not problems, "id": config.Id, "problems": problems, "notes": notes}
        )
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
            for note in result["notes"]:
                print(f"  note: {note}", file=out)
        for hint in hints:
            print(f"next: {hint}", file=err)
        if len(hints) < len(failed):
            print("next: fix the listed keys (docs/configuration.md) and validate again", file=err)
    return USAGE if failed else OK


def _instance_summary(instance: InstanceSpec) -> dict[str, Any]:
    return {
        "name": instance.name,
        "architecture": instance.arch,
        "memory_mib": instance.memory_mib,
        "reservation_mib": instance.reservation_mib,
        "heap_mib": instance.heap_mib,
        "source": instance.source,
    }


def _import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    source: Path = args.file
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(source), [f"cannot read the file: {error.strerror}"]) from error
    result = import_config(
        text,
        source=str(source),
        stem=source.stem,
        environ=os.environ,
        domain=args.domain,
        zone=args.zone,
        container_id=args.container_id,
        region=args.region,
    )
    config = result.config
    target = None if args.output == "-" else Path(args.output or default_output_name(config.Id))
    if target is not None:
        if target.exists() and not args.force:
            raise CmError(
                f"{target} exists; nothing written",
                code=USAGE,
                hint=f"choose another file with -o, or pass --force to overwrite {target}",
            )
        target.write_text(result.text, encoding="utf-8")
    commands = [s.command(config.Id, config.Region) for s in result.secrets]
    unset = [s.variable for s in result.secrets if s.variable and not s.variable_set]
    if args.json:
        _json(
            out,
            {
                "ok": True,
                "id": config.Id,
                "file": str(target) if target else None,
                "text": None if target else result.text,
                "notes": result.notes,
                "secrets": [
                    {"env": s.env_name, "name": s.name, "variable": s.variable, "command": c}
                    for s, c in zip(result.secrets, commands, strict=True)
                ],
            },
        )
        return OK
    report = err if target is None else out
    if target is None:
        out.write(result.text)
    else:
        print(f"imported {source} as {target} (id {config.Id}, server {config.server_name})", file=report)
    for note in result.notes:
        print(f"  note: {note}", file=report)
    for command_line in commands:
        print(f"next: {command_line}", file=report)
    if unset:
        print(f"  (set {', '.join(unset)} first: the command reads the value from it)", file=report)
    print(f"next: cm validate {target or '<file>'} && cm deploy {target or '<file>'}", file=report)
    return OK


def _secrets(args: argparse.Namespace, aws: Aws, out: TextIO, err: TextIO) -> int:
    target = _target(args, aws)
    if args.secrets_command == "put":
        name = secret_store.short_name(target.container_id, args.name, target.region)
        value = _secret_value(args.from_env, name)
        stored = call(
            f"storing secret {name}",
            target.region,
            lambda: secret_store.put(aws, target, name, value),
        )
        if args.json:
            _json(out, {"ok": True, **stored})
        else:
            print(
                f"{stored['action']} {stored['parameter']} in {target.region} (SecureString, version "
                f"{stored['version']}); reference it as Container.Secrets.<VAR>: {name}",
                file=out,
            )
            print(
                f"next: cm deploy (or, if deployed: cm stop {target.container_id}; the next start reads it)",
                file=out,
            )
        return OK
    found = call("listing secrets", target.region, lambda: secret_store.list_names(aws, target))
    # Given the config file, also say which of its SSM references are not stored yet (the task would fail).
    referenced = _referenced_secrets(args.id)
    names = {item["name"] for item in found}
    missing = [name for name in referenced if name not in names]
    if args.json:
        _json(
            out,
            {
                "ok": True,
                "id": target.container_id,
                "region": target.region,
                "secrets": found,
                "missing": missing,
            },
        )
        return OK
    if not found:
        print(f"no secrets under {secret_store.prefix(target.container_id)} in {target.region}", file=out)
    for item in found:
        print(f"{item['name']:<32} version {item['version']:<4} {ops.iso(item['last_modified'])}", file=out)
    for name in missing:
        print(f"{name:<32} MISSING (referenced by {args.id}; the task cannot start without it)", file=out)
        print(f"next: cm secrets put {args.id} {name}", file=err)
    return OK


def _referenced_secrets(given: str) -> list[str]:
    if not given.endswith((".yaml", ".yml")):
        return []
    config = load_config(Path(given))
    prefix = secret_store.prefix(config.Id)
    names = [ref for ref in config.Container.Secrets.values() if not ref.startswith("arn:")]
    return [ref.removeprefix(prefix) if ref.startswith("/") else ref for ref in names]


def _secret_value(variable: str | None, name: str) -> str:
    """The secret's value from ``variable`` or stdin - never from the command line, where shells log it."""
    if variable:
        value = os.environ.get(variable)
        if value is None:
            raise CmError(
                f"environment variable {variable} is not set; nothing stored",
                code=USAGE,
                hint=f"export {variable}=... first (or pipe the value: `... | cm secrets put ID {name}`)",
            )
    elif sys.stdin.isatty():
        value = getpass.getpass(f"value of {name} (not echoed): ")
    else:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise CmError(
            f"the value of {name} is empty; nothing stored",
            code=USAGE,
            hint="pipe the value on stdin or pass --from-env VAR",
        )
    return value


def _logs(args: argparse.Namespace, aws: Aws, target: ops.Target, out: TextIO) -> int:
    start_ms = int((time.time() - args.since * 60) * 1000)

    def emit(event: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(event), file=out, flush=True)
        else:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event["time"] / 1000))
            print(f"{stamp} [{event['group']}] {event['message']}", file=out, flush=True)

    if args.follow:
        ops.follow_logs(aws, target, args.source, start_ms, emit)
    else:
        for event in call(
            "reading logs", target.region, lambda: ops.read_logs(aws, target, args.source, start_ms, set())
        ):
            emit(event)
    return OK


def _delete(args: argparse.Namespace, aws: Aws, target: ops.Target, out: TextIO, err: TextIO) -> int:
    stacks = call("finding the stacks", target.region, lambda: ops.stacks_to_delete(aws, target))
    if not stacks:
        raise NotFoundError(
            f"no stacks of container {target.container_id!r} ({target.name} in {target.region}, {target.edge_stack} in {EDGE_REGION})",
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
        ops.set_desired(aws, target, 0)
        done["stopped"] = True
        print(f"stopped {target.name}", file=progress)
    except NotFoundError:
        pass  # no group (a half-deployed stack): nothing to stop
    main_stack = ops.stack(aws, target.name, target.region)
    done["dns"] = call(
        "resetting the DNS record",
        EDGE_REGION,
        lambda: ops.reset_record(aws, target, ops.outputs(main_stack).get("ServerName")),
    )
    if done["dns"]:
        print(f"reset {done['dns']['record']} to {PLACEHOLDER_IP}", file=progress)
    done["deleted_stacks"] = []
    for name, region in stacks:
        print(f"deleting stack {name} in {region} (this takes a few minutes)...", file=progress, flush=True)
        call(f"deleting stack {name}", region, partial(ops.delete_stack, aws, name, region))
        done["deleted_stacks"].append({"stack": name, "region": region})
    kept = call("listing file systems", target.region, lambda: ops.data_file_systems(aws, target))
    if args.delete_data:
        for fs in kept:
            print(f"deleting file system {fs}...", file=progress, flush=True)
            call(f"deleting {fs}", target.region, partial(ops.delete_file_system, aws, fs, target.region))
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


def _target(args: argparse.Namespace, aws: Aws) -> ops.Target:
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
    return ops.Target(given, region or aws.region or EDGE_REGION)


def _default_regions(aws: Aws) -> list[str]:
    regions = [r for r in (aws.region, EDGE_REGION) if r]
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
