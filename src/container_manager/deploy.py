"""`cm deploy`: render, `sam build`, then one `sam deploy` per stack (docs/architecture.md, "Deploying").

Container in us-east-1: one stack (DeployPart=all). Elsewhere: the edge stack in us-east-1 first, then the
container stack in its region with HostedZoneId read from the edge stack's output - no id copied by hand.
Before rendering, AWS itself says what the instance type is (DescribeInstanceTypes in the container's region:
architecture and memory); `render_for_deploy` is that step, and the rehearsal runs it too (against moto).
The subprocess runner is injectable so tests assert the exact `sam` calls without an AWS account.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from container_manager.aws import Aws
from container_manager.config import load_config
from container_manager.errors import CREDENTIALS, CREDENTIALS_HINT, CmError, call
from container_manager.instance_types import describe_fit
from container_manager.names import EDGE_REGION
from container_manager.operations import outputs, stack
from container_manager.render import (
    CAPABILITIES,
    SOURCE_ROOT,
    RenderResult,
    overrides,
    render_config,
    stack_tags,
)

Runner = Callable[[list[str], Path], int]


def run_subprocess(args: list[str], cwd: Path) -> int:
    """Run a command with its output on the user's screen (sam prints the stack events: the progress)."""
    try:
        return subprocess.run(args, cwd=cwd, check=False).returncode  # noqa: S603 - fixed argv, no shell
    except FileNotFoundError as error:
        raise CmError(
            f"{args[0]} not found",
            hint="install the AWS SAM CLI (`pip install aws-sam-cli`, or `make venv` and use .venv/bin), "
            "and Python 3.13 for `sam build`",
        ) from error


@dataclass
class DeployReport:
    rendered: RenderResult
    steps: list[dict[str, Any]] = field(default_factory=list)


def render_for_deploy(config_path: Path, build_dir: Path, aws: Aws) -> RenderResult:
    """Validate, ask AWS what the instance type is (in the container's region), render with those facts."""
    config = load_config(config_path)
    ec2 = aws.ec2(config.Region)
    instance = describe_fit(ec2, config.Ec2.InstanceType, config.Region)
    return render_config(config, build_dir, instance=instance, config_name=Path(config_path).name)


def deploy(
    aws: Aws,
    config_path: Path,
    build_dir: Path,
    *,
    runner: Runner = run_subprocess,
    confirm_changeset: bool = False,
    out: TextIO = sys.stderr,
) -> DeployReport:
    config = load_config(config_path)
    _require_credentials(aws, config.Region)
    print(
        f"==> instance type {config.Ec2.InstanceType}: reading its architecture and memory from AWS "
        f"(DescribeInstanceTypes in {config.Region})",
        file=out,
        flush=True,
    )
    rendered = render_for_deploy(config_path, build_dir, aws)
    spec = rendered.instance
    print(
        f"    {spec.arch}, {spec.memory_mib} MiB: container reservation {spec.reservation_mib} MiB, "
        f"default JVM heap {spec.heap_mib} MiB",
        file=out,
        flush=True,
    )
    report = DeployReport(rendered)
    sam = shutil.which("sam") or "sam"
    built = build_dir / ".aws-sam" / "build"

    def step(title: str, args: list[str]) -> None:
        print(f"==> {title}", file=out, flush=True)
        code = runner(args, build_dir)
        report.steps.append({"step": title, "args": args, "exit_code": code})
        if code != 0:
            raise CmError(
                f"{title} failed (sam exited {code})",
                hint="read sam's output above; fix and run `cm deploy` again (it updates the same stacks)",
            )

    step(
        "sam build",
        [
            sam,
            "build",
            "--template-file",
            str(rendered.root_template),
            "--build-dir",
            str(built),
            # Function code stays in the checkout; the rendered templates only hold infrastructure.
            "--base-dir",
            str(SOURCE_ROOT),
        ],
    )
    hosted_zone_id = ""
    for deployment in rendered.deployments:
        parameters = dict(deployment.parameters)
        if deployment.part == "container":
            hosted_zone_id = hosted_zone_id or _edge_zone_id(aws, config.edge_stack_name)
            parameters["HostedZoneId"] = hosted_zone_id
        env = "default" if deployment.part == "all" else deployment.part
        step(
            f"sam deploy {deployment.stack_name} ({deployment.part}) in {deployment.region}",
            [
                sam,
                "deploy",
                "--template-file",
                str(built / "template.yaml"),
                "--stack-name",
                deployment.stack_name,
                "--region",
                deployment.region,
                "--config-file",
                str(rendered.parameters_file),
                "--config-env",
                env,
                "--capabilities",
                *CAPABILITIES,
                "--resolve-s3",
                "--s3-prefix",
                deployment.stack_name,
                "--no-fail-on-empty-changeset",
                "--confirm-changeset" if confirm_changeset else "--no-confirm-changeset",
                "--parameter-overrides",
                *overrides(parameters),
                "--tags",
                *[f"{key}={value}" for key, value in stack_tags(config).items()],
            ],
        )
    return report


def _require_credentials(aws: Aws, region: str) -> None:
    if aws.session.get_credentials() is None:
        raise CmError(f"no AWS credentials to deploy to {region}", code=CREDENTIALS, hint=CREDENTIALS_HINT)


def _edge_zone_id(aws: Aws, edge_stack: str) -> str:
    described = call("reading the edge stack", EDGE_REGION, lambda: stack(aws, edge_stack, EDGE_REGION))
    zone_id = outputs(described).get("HostedZoneId")
    if not zone_id:
        raise CmError(
            f"the edge stack {edge_stack} in {EDGE_REGION} has no HostedZoneId output",
            hint=f"check the edge deploy above succeeded (`cm list --region {EDGE_REGION}`), then run `cm deploy` again",
        )
    return zone_id
