"""Run the rehearsal: render (or take) the templates, deploy them into moto, play the scenarios, report."""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from unittest import mock

import botocore.loaders
from moto import mock_aws

from container_manager import names
from container_manager.rehearsal.aws_parts import Cloud
from container_manager.rehearsal.clock import SimClock
from container_manager.rehearsal.lifecycle import completion_api
from container_manager.rehearsal.scenarios import SCENARIOS, Driver, Scenario, run_scenarios
from container_manager.rehearsal.templates import TemplateSet
from container_manager.rehearsal.timeline import Timeline
from container_manager.rehearsal.world import EDGE_REGION, NEW_ACCOUNT_CONCURRENCY, DeployError, World

REPO = Path(__file__).resolve().parents[3]
FUNCTIONS = REPO / "functions"
EXAMPLE = REPO / "examples" / "minecraft.yaml"


@dataclass(frozen=True)
class StackPlan:
    """One ``sam deploy``: the templates (root + nested), its parameters, region and stack name."""

    part: str  # all | edge | container
    templates: TemplateSet
    region: str
    stack_name: str


@dataclass(frozen=True)
class Source:
    description: str
    stacks: tuple[StackPlan, ...]

    @classmethod
    def rendered(cls, out_dir: Path, config: Path = EXAMPLE) -> Source:
        """What ``cm deploy`` renders for ``config`` into ``out_dir`` (the bundled example by default): the
        same ``render_for_deploy``, so the instance type's architecture and memory come from (moto's)
        DescribeInstanceTypes, as they come from AWS's at deploy time."""
        from container_manager.aws import Aws
        from container_manager.deploy import render_for_deploy

        with sandbox(FUNCTIONS):
            result = render_for_deploy(config, out_dir, Aws.for_command())
        return cls.of_render(result.root_template, result.deployments, f"cm render {config.name}")

    @classmethod
    def of_render(cls, root: Path, deployments: Sequence[Any], description: str) -> Source:
        stacks = tuple(
            StackPlan(d.part, TemplateSet(root, dict(d.parameters)), d.region, d.stack_name)
            for d in deployments
        )
        return cls(description, stacks)

    @classmethod
    def directory(cls, root: Path, parameters: Mapping[str, str] | None = None) -> Source:
        """A root template (and its infra/) deployed as one stack in us-east-1."""
        params = dict(parameters or {})
        name = names.stack_name(params.get("ContainerId", "minecraft"))
        return cls(str(root), (StackPlan("all", TemplateSet(root, params), EDGE_REGION, name),))

    def effective_parameters(self) -> dict[str, str]:
        """The container stack's parameters, template defaults filled in."""
        plan = self.stacks[-1]
        declared = plan.templates.load().get("Parameters", {})
        values = {k: str(v["Default"]) for k, v in declared.items() if "Default" in v}
        values.update(plan.templates.parameters)
        return values


@dataclass
class Report:
    timeline: Timeline
    seconds: float
    deploy_error: str | None = None
    world: World | None = None
    cloud: Cloud | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.deploy_error is None and bool(self.timeline.verdicts) and not self.timeline.failed

    def failed(self, scenario_prefix: str | None = None) -> list[str]:
        return [
            f"{v.scenario}: {v.expected}: {v.observed}"
            for v in self.timeline.failed
            if scenario_prefix is None or v.scenario.startswith(scenario_prefix)
        ]


@functools.cache
def shared_loader(search_paths: Any = None) -> botocore.loaders.Loader:
    """One botocore loader for every session: each new session would parse the multi-MB service models again.

    Speed only; patched over ``botocore.session.create_loader`` by the rehearsal and the tests."""
    return botocore.loaders.create_loader(search_paths)


_SCRUBBED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def _loopback_only(original: Any) -> Any:
    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise RuntimeError(f"the rehearsal tried to reach {host}: it runs offline, against moto only")
        return original(self, address)

    return connect


@contextmanager
def sandbox(functions: Path) -> Iterator[None]:
    """moto as the cloud, a fake identity, no network, the functions importable as Lambda imports them."""
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    for name in _SCRUBBED:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": EDGE_REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # speed: the launch template's AMI is not a stock one
        }
    )
    if str(functions) not in sys.path:
        sys.path.insert(0, str(functions))
    try:
        with (
            mock.patch.object(socket.socket, "connect", _loopback_only(socket.socket.connect)),
            mock.patch("botocore.session.create_loader", shared_loader),  # speed only: parse models once
            mock_aws(),
            completion_api(),  # CompleteLifecycleAction, which moto lacks (lifecycle.py)
        ):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path


def rehearse(
    source: Source,
    *,
    out: TextIO | None = None,
    scenarios: Sequence[Scenario] = SCENARIOS,
    functions: Path = FUNCTIONS,
    on_finish: Callable[[Report], None] | None = None,
    concurrency_quota: int = NEW_ACCOUNT_CONCURRENCY,
) -> Report:
    """Deploy ``source`` into moto and play ``scenarios``. ``on_finish`` runs while moto still holds the state
    (tests read the final state of every resource there). ``concurrency_quota``: the account's Lambda quota
    per region (a new account's by default)."""
    started = time.perf_counter()
    clock = SimClock()
    timeline = Timeline(clock, out)
    report = Report(timeline, 0.0)
    with sandbox(functions):
        world = World(clock, timeline, concurrency_quota)
        report.world = world
        timeline.heading(f"deploy ({source.description})")
        try:
            outputs: dict[str, Any] = {}
            for plan in source.stacks:
                templates = plan.templates
                if plan.part == "container" and "HostedZoneId" in outputs:
                    params = {**templates.parameters, "HostedZoneId": str(outputs["HostedZoneId"])}
                    templates = TemplateSet(templates.root, params)
                outputs.update(world.deploy(templates, plan.region, plan.stack_name))
            for record in world.stacks:
                timeline.real(
                    "cloudformation (moto)",
                    f"{record.template.name} as {record.name[:48]}: {len(record.created)} created"
                    + (f", {len(record.declared)} declared only" if record.declared else "")
                    + (f", {len(record.skipped)} off by condition" if record.skipped else ""),
                )
        except Exception as exc:  # a template that cannot be deployed is a failed rehearsal, not a crash
            report.deploy_error = str(exc) if isinstance(exc, DeployError) else f"{type(exc).__name__}: {exc}"
            timeline.verdict("deploy", "templates deploy", str(exc), False)
        else:
            cloud = Cloud.build(world)
            report.cloud = cloud
            driver = Driver(world, cloud, source.effective_parameters())
            run_scenarios(driver, scenarios)
        report.seconds = time.perf_counter() - started
        if on_finish is not None:
            on_finish(report)
    report.seconds = time.perf_counter() - started
    return report
