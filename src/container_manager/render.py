"""Config file -> the exact templates and parameter values that will be deployed.

CloudFormation cannot turn a parameter into a list of objects, so the list-shaped parts of the templates
(ports, environment, secrets, volumes, mount points) sit between ``BEGIN PER-CONTAINER LIST: <name>`` and
``END PER-CONTAINER LIST: <name>`` comments (docs/architecture.md). Rendering copies template.yaml and
infra/*.yaml into an output directory and rewrites the text between those markers from the config; everything
else is copied byte for byte, so comments and review history survive. Scalar values go to parameters
(``RenderResult.parameters`` and a samconfig.toml beside the templates).

Output is deterministic: it depends only on the config and the bundled templates (no clock, no paths, no
set ordering), so the same file renders byte-identical output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from container_manager import names
from container_manager.cfn import load_template, parse_template_text
from container_manager.config import (
    ContainerConfig,
    Port,
    Volume,
    load_config,
    logical_name,
    ssm_parameter_name,
)
from container_manager.errors import USAGE, CmError
from container_manager.instance_types import InstanceSpec, offline
from container_manager.intrinsics import Resolver, UnresolvedError
from container_manager.names import EDGE_REGION

SOURCE_ROOT = Path(__file__).resolve().parents[2]
ROOT_TEMPLATE = "template.yaml"
INFRA_DIR = "infra"
PARAMETERS_FILE = "samconfig.toml"
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")

_BEGIN = re.compile(r"^(?P<indent>[ ]*)#.*\bBEGIN PER-CONTAINER LIST: (?P<name>[a-z]+(?: [a-z]+)?)")
_END = re.compile(r"END PER-CONTAINER LIST: (?P<name>[a-z]+(?: [a-z]+)?)")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
# Environment placeholders (config.ENV_PLACEHOLDERS) -> the infra/compute.yaml parameter each one reads.
_PLACEHOLDER_PARAMETERS = {
    "ContainerId": "ContainerId",
    "ContainerUid": "ContainerUid",
    "ContainerGid": "ContainerGid",
    "HeapMiB": "HeapMiB",
    "ReservationMiB": "ReservationMiB",
    "MemoryMiB": "InstanceMemoryMiB",
}


class RenderError(Exception):
    """The bundled templates do not have the marker blocks this renderer expects."""


@dataclass(frozen=True)
class Deployment:
    """One `sam deploy`: which part of the template, as which stack, where, with which parameters."""

    part: str  # all | edge | container
    stack_name: str
    region: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class RenderResult:
    config: ContainerConfig
    instance: InstanceSpec
    out_dir: Path
    root_template: Path
    parameters_file: Path
    files: list[Path]
    # The stacks in deploy order: one `all` stack in us-east-1, or `edge` (us-east-1) then `container`.
    deployments: list[Deployment] = field(default_factory=list)

    @property
    def parameters(self) -> dict[str, str]:
        """Parameters of the stack that holds the container (the `all` or `container` deployment)."""
        return dict(self.deployments[-1].parameters)


# ---------------------------------------------------------------- public API


def render_to(
    config_path: Path,
    out_dir: Path,
    *,
    instance: InstanceSpec | None = None,
    source_root: Path = SOURCE_ROOT,
) -> RenderResult:
    """Validate ``config_path`` and write its templates and parameters file into ``out_dir``.

    ``instance``: what AWS said about the instance type (`cm deploy`); None uses the offline table.
    Raises ``container_manager.config.ConfigError`` for an invalid config, ``CmError`` for a type the offline
    table does not know when no ``instance`` is given, and ``RenderError`` when the bundled templates lack the
    expected marker blocks.
    """
    config = load_config(config_path)
    return render_config(
        config, out_dir, instance=instance, source_root=source_root, config_name=Path(config_path).name
    )


def instance_spec(config: ContainerConfig, instance: InstanceSpec | None = None) -> InstanceSpec:
    """``instance`` (checked to be the config's type), else the offline table's row for the config's type."""
    name = config.Ec2.InstanceType
    if instance is not None:
        if instance.name != name:
            raise CmError(f"instance facts for {instance.name!r} given for Ec2.InstanceType {name!r}")
        return instance
    known = offline(name)
    if known is None:
        raise CmError(
            f"Ec2.InstanceType: {name!r} is unknown offline, so its architecture and memory come from AWS",
            code=USAGE,
            hint="render it with AWS credentials (`cm render` asks DescribeInstanceTypes), or `cm deploy`",
        )
    return known


def render_config(
    config: ContainerConfig,
    out_dir: Path,
    *,
    instance: InstanceSpec | None = None,
    source_root: Path = SOURCE_ROOT,
    config_name: str = "config",
) -> RenderResult:
    spec = instance_spec(config, instance)
    out_dir = Path(out_dir)
    sources = [
        Path(ROOT_TEMPLATE),
        *sorted(p.relative_to(source_root) for p in (source_root / INFRA_DIR).glob("*.yaml")),
    ]
    if not (source_root / ROOT_TEMPLATE).is_file():
        raise RenderError(
            f"{source_root / ROOT_TEMPLATE} not found: run cm from a checkout of container-manager"
        )
    written: list[Path] = []
    header = f"# Rendered by `cm render` from {config_name}: edit that file and render again, not this one.\n"
    for relative in sources:
        text = (source_root / relative).read_text(encoding="utf-8")
        generators = _GENERATORS.get(relative.as_posix())
        if generators is not None:
            where = relative.as_posix()
            text = header + rewrite_blocks(text, generators(config, Bundled(text, where)), where)
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, text)
        written.append(target)
    declared = set(load_template(source_root / ROOT_TEMPLATE).get("Parameters", {}))
    deployments = plan_deployments(config, declared, spec)
    parameters_file = out_dir / PARAMETERS_FILE
    _write(parameters_file, samconfig_text(config, deployments, config_name))
    written.append(parameters_file)
    return RenderResult(
        config=config,
        instance=spec,
        out_dir=out_dir,
        root_template=out_dir / ROOT_TEMPLATE,
        parameters_file=parameters_file,
        files=written,
        deployments=deployments,
    )


def _write(path: Path, text: str) -> None:
    # newline="\n": byte-identical output on every platform.
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


# ---------------------------------------------------------------- parameters


def container_parameters(config: ContainerConfig, instance: InstanceSpec | None = None) -> dict[str, str]:
    """Scalar template parameters from the config (template.yaml Parameters), DeployPart excluded.

    ``instance``: the instance type's facts (see ``instance_spec``); its architecture, memory, reservation and
    heap become parameters, so the templates need no table of types."""
    primary = next(iter(config.Volumes.values()))
    first_port = config.Container.Ports[0]
    watchdog = config.Watchdog
    parameters = {
        "ContainerId": config.Id,
        "DomainName": config.Domain.Name,
        "ParentHostedZoneId": config.Domain.ParentHostedZoneId,
        **instance_spec(config, instance).parameters(),
        "ContainerImage": config.Container.Image,
        "GamePort": str(first_port.number),
        "ContainerUid": str(config.Container.Uid),
        "ContainerGid": str(config.Container.Gid),
        "StopTimeoutSeconds": str(config.Container.StopTimeoutSeconds),
        # The first volume's switches are parameters (the bundled template's); the others are written literally.
        **volume_switches(primary),
        "IdleMinutes": str(watchdog.MinutesWithoutConnections),
        "WatchdogMode": watchdog.Mode,
        "StartupGraceMinutes": str(watchdog.StartupGraceMinutes),
        "ActivityPorts": " ".join(f"{port.protocol}/{port.number}" for port in config.Container.Ports),
        "MaxHoursUp": str(watchdog.InstanceLeftUp.DurationHours),
        "MaxHoursAction": "stop" if watchdog.InstanceLeftUp.ShouldStop else "alert",
        "ForceStopHours": str(watchdog.InstanceLeftUp.force_stop_hours or "off"),
        "EnableDashboard": _bool(config.Dashboard.Enabled),
        "DashboardIntervalMinutes": str(config.Dashboard.IntervalMinutes),
        "DnsRecordTtl": str(config.Dns.Ttl),
        "StartOnIpv6Queries": _bool(config.Dns.StartOnIpv6Queries),
        "LogRetentionDays": str(config.Logs.RetentionDays),
        "ReservedConcurrency": str(config.Functions.ReservedConcurrency),
    }
    # Mode connections needs no threshold: without one the template's default backs the traffic fallback.
    if watchdog.Threshold is not None:
        parameters["ActivityThresholdBytesPerSecond"] = str(watchdog.Threshold)
    # Empty optional values are left out: the templates default them to "" and `sam deploy` would need quoting.
    optional = {
        "AlertEmails": ",".join(config.AlertSubscription.emails),
        "AdminAlertTopicArn": config.AlertSubscription.AdminTopicArn,
        "ExistingVpcId": config.Network.ExistingVpcId,
        "ExistingSubnetIds": ",".join(config.Network.ExistingSubnetIds),
    }
    parameters.update({key: value for key, value in optional.items() if value})
    return parameters


def volume_switches(volume: Volume) -> dict[str, str]:
    """A volume's switches as the values of infra/storage.yaml's parameters (the stack's hold the first
    volume's; every other volume's block is rendered with its own evaluated in)."""
    return {"DataBackup": _bool(volume.EnableBackups), "RetainDataOnDelete": _bool(volume.KeepOnDelete)}


def plan_deployments(
    config: ContainerConfig, declared: set[str] | None = None, instance: InstanceSpec | None = None
) -> list[Deployment]:
    """The stacks to deploy, in order (docs/architecture.md, "Deploying").

    ``declared``: the root template's parameter names; a parameter cm render sets that the template does not
    declare is a RenderError (the bundled templates and this renderer are out of step).
    """
    base = container_parameters(config, instance)
    undeclared = sorted(set(base) - declared) if declared is not None else []
    if undeclared:
        raise RenderError(f"template.yaml does not declare parameters {undeclared} that cm render sets")
    if not config.split_regions:
        return [Deployment("all", config.stack_name, config.Region, {"DeployPart": "all", **base})]
    edge = {"DeployPart": "edge", **base, "ContainerRegion": config.Region}
    # HostedZoneId is added at deploy time from the edge stack's output.
    container = {"DeployPart": "container", **base}
    return [
        Deployment("edge", config.edge_stack_name, EDGE_REGION, edge),
        Deployment("container", config.stack_name, config.Region, container),
    ]


def stack_tags(config: ContainerConfig) -> dict[str, str]:
    return names.stack_tags(config.Id)


def overrides(parameters: dict[str, str]) -> list[str]:
    """`Key=Value` words for `sam deploy --parameter-overrides`; a value with spaces is double-quoted, as sam
    parses it (config values hold no quotes: ids, names, numbers, port lists)."""
    return [f'{key}="{value}"' if " " in value else f"{key}={value}" for key, value in parameters.items()]


def samconfig_text(config: ContainerConfig, deployments: list[Deployment], config_name: str) -> str:
    lines = [
        f"# Rendered by `cm render` from {config_name}. `cm deploy` passes the same values on the command line;",
        "# to deploy by hand: sam build --template-file template.yaml --base-dir <repo> && sam deploy --config-env <env>",
        "version = 0.1",
    ]
    tags = " ".join(f"{k}={v}" for k, v in stack_tags(config).items())
    for deployment in deployments:
        env = "default" if deployment.part == "all" else deployment.part
        if deployment.part == "container":
            lines.append(
                "# HostedZoneId: add the edge stack's HostedZoneId output (cm deploy does this for you)."
            )
        lines += [
            "",
            f"[{env}.global.parameters]",
            f"stack_name = {json.dumps(deployment.stack_name)}",
            f"region = {json.dumps(deployment.region)}",
            "",
            f"[{env}.deploy.parameters]",
            f"capabilities = {json.dumps(' '.join(CAPABILITIES))}",
            "resolve_s3 = true",
            f"s3_prefix = {json.dumps(deployment.stack_name)}",
            "confirm_changeset = false",
            "fail_on_empty_changeset = false",
            f"parameter_overrides = {json.dumps(' '.join(overrides(deployment.parameters)))}",
            f"tags = {json.dumps(tags)}",
        ]
    return "\n".join(lines) + "\n"


def _bool(value: bool) -> str:
    return "true" if value else "false"


# ---------------------------------------------------------------- marker blocks

Block = Callable[[], list[str]]


@dataclass(frozen=True)
class _Marked:
    name: str
    indent: str
    body: range  # line indexes between BEGIN (and the comment lines right after it) and END


def _marked_blocks(lines: list[str], where: str) -> list[_Marked]:
    """The file's marker blocks in order; a BEGIN without its END fails loudly."""
    blocks: list[_Marked] = []
    index = 0
    while index < len(lines):
        begin = _BEGIN.match(lines[index])
        index += 1
        if not begin:
            continue
        name = begin["name"]
        while index < len(lines) and lines[index].strip().startswith("#") and not _END.search(lines[index]):
            index += 1
        start = index
        while index < len(lines) and not _END.search(lines[index]):
            index += 1
        if index == len(lines):
            raise RenderError(f"{where}: BEGIN PER-CONTAINER LIST: {name} has no END")
        end = _END.search(lines[index])
        assert end is not None
        if end["name"] != name:
            raise RenderError(f"{where}: BEGIN {name} closed by END {end['name']}")
        blocks.append(_Marked(name, begin["indent"], range(start, index)))
        index += 1
    return blocks


def rewrite_blocks(text: str, generators: list[tuple[str, Block]], where: str) -> str:
    """Replace the body of each marked block, in file order, with the next generator's lines.

    The BEGIN/END lines and comment lines right after BEGIN stay; generated lines are indented like BEGIN.
    The list of (name, generator) must match the file's blocks exactly, so a reordered or renamed block in a
    template fails loudly here instead of rendering something else.
    """
    lines = text.splitlines(keepends=True)
    blocks = _marked_blocks(lines, where)
    found, expected = [b.name for b in blocks], [name for name, _ in generators]
    if found != expected:
        raise RenderError(f"{where}: marker blocks {found} differ from what cm render fills {expected}")
    out: list[str] = []
    copied = 0
    for block, (_, generate) in zip(blocks, generators, strict=True):
        out += lines[copied : block.body.start]
        out += [f"{block.indent}{body}\n" if body else "\n" for body in generate()]
        copied = block.body.stop
    out += lines[copied:]
    return "".join(out)


class Bundled:
    """The bodies of a bundled template's marker blocks, as written (the bundled default container's items),
    dedented to their BEGIN line: the prototypes some blocks are rendered from."""

    def __init__(self, text: str, where: str) -> None:
        self.text, self.where = text, where
        lines = text.splitlines()
        self.bodies = [
            [lines[i].removeprefix(block.indent) if lines[i].strip() else "" for i in block.body]
            for block in _marked_blocks(lines, where)
        ]

    def body(self, position: int) -> list[str]:
        if position >= len(self.bodies):
            raise RenderError(f"{self.where}: cm render expects more marker blocks than the file has")
        return self.bodies[position]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Mount:
    ecs_name: str
    host_path: str
    container_path: str
    read_only: bool
    subdirectory: str | None  # created inside the volume when a volume holds several paths


def _mounts(volume_id: str, volume: Volume) -> list[_Mount]:
    base = f"/mnt/container-manager/{volume_id}"
    if len(volume.Paths) == 1:
        only = volume.Paths[0]
        return [_Mount(volume_id, base, only.Path, only.ReadOnly, None)]
    mounts = []
    for number, path in enumerate(volume.Paths, start=1):
        sub = path.Path.strip("/").replace("/", "-")
        mounts.append(_Mount(f"{volume_id}-{number}", f"{base}/{sub}", path.Path, path.ReadOnly, sub))
    return mounts


def _volumes(config: ContainerConfig) -> Iterable[tuple[int, str, str, Volume]]:
    for position, (volume_id, volume) in enumerate(config.Volumes.items()):
        yield position, volume_id, logical_name(volume_id), volume


# ----- template.yaml


def _root_blocks(config: ContainerConfig, bundled: Bundled) -> list[tuple[str, Block]]:
    def compute_wiring() -> list[str]:
        lines = []
        for _, _, name, _ in _volumes(config):
            lines += [
                f"{name}FileSystemId: !GetAtt Storage.Outputs.{name}FileSystemId",
                f"{name}AccessPointId: !GetAtt Storage.Outputs.{name}AccessPointId",
            ]
        return lines

    def outputs() -> list[str]:
        lines = []
        for position, volume_id, name, volume in _volumes(config):
            if position == 0:
                kept = "retained on stack delete unless RetainDataOnDelete=false"
                description = f"The world's EFS file system ({kept})."
            else:
                kept = "retained on stack delete" if volume.KeepOnDelete else "deleted with the stack"
                description = f"EFS file system of volume {volume_id} ({kept})."
            lines += [
                f"{name}FileSystemId:",
                "  Condition: HasContainer",
                f"  Description: {description}",
                f"  Value: !GetAtt Storage.Outputs.{name}FileSystemId",
            ]
        return lines

    return [("volumes", compute_wiring), ("volumes", outputs)]


# ----- infra/storage.yaml

# `!If [Condition, a, b]` with plain branches, as the volume block writes its switches.
_FLOW_IF = re.compile(r"!If \[(?P<condition>\w+), (?P<yes>[^,\[\]]+), (?P<no>[^,\[\]]+)\]")


@dataclass(frozen=True)
class _VolumePrototype:
    """infra/storage.yaml's own volume block (the bundled container's first volume), to be renamed per volume.

    ``own`` are the logical ids of its resources and outputs that carry the volume's logical name; the
    volume id is read from the file system's ``container-manager:volume`` tag.
    """

    volume_id: str
    logical: str
    own: frozenset[str]
    template: dict[str, Any]

    @classmethod
    def of(cls, bundled: Bundled) -> _VolumePrototype:
        resources = parse_template_text("\n".join(bundled.body(0))) or {}
        outputs = parse_template_text("\n".join(bundled.body(1))) or {}
        file_systems = [r for r in resources.values() if r.get("Type") == "AWS::EFS::FileSystem"]
        tags = {t["Key"]: t["Value"] for f in file_systems for t in f["Properties"].get("FileSystemTags", [])}
        volume_id = tags.get("container-manager:volume")
        if len(file_systems) != 1 or not isinstance(volume_id, str):
            raise RenderError(
                f"{bundled.where}: the volumes block must hold one AWS::EFS::FileSystem tagged "
                "container-manager:volume (the prototype cm render copies per volume)"
            )
        logical = logical_name(volume_id)
        own = frozenset(name for name in [*resources, *outputs] if name.startswith(logical))
        return cls(volume_id, logical, own, parse_template_text(bundled.text))

    def rename(self, lines: list[str], volume_id: str, switches: dict[str, str] | None) -> list[str]:
        """The prototype's lines for ``volume_id``: its logical ids and volume id renamed, and, given the
        volume's own ``switches`` (storage.yaml parameter values), each `!If` on a condition of those
        switches alone replaced by its branch (the stack's parameters hold only the first volume's)."""
        name = logical_name(volume_id)
        names = sorted(self.own, key=len, reverse=True)
        words = re.compile(
            r"\b(?:(?P<own>" + "|".join(map(re.escape, names)) + rf")|{re.escape(self.volume_id)})\b"
        )
        out = [
            words.sub(lambda m: name + m["own"].removeprefix(self.logical) if m["own"] else volume_id, line)
            for line in lines
        ]
        if switches is None:
            return out
        resolver = self._switches_only(switches)

        def evaluated(match: re.Match[str]) -> str:
            try:
                return match["yes"] if resolver.condition(match["condition"]) else match["no"]
            except UnresolvedError:
                return match[0]  # a condition on other parameters: stack-wide, every volume follows it

        return [_FLOW_IF.sub(evaluated, line) for line in out]

    def _switches_only(self, switches: dict[str, str]) -> Resolver:
        """storage.yaml's conditions with only the switch parameters known (any other Ref is unresolved)."""
        declared = self.template.get("Parameters", {})
        if missing := sorted(set(switches) - set(declared)):
            raise RenderError(f"infra/storage.yaml declares no parameters {missing} for the volume switches")
        template = {
            "Parameters": {k: v for k, v in declared.items() if k in switches},
            "Conditions": self.template.get("Conditions", {}),
        }
        return Resolver(template, parameters=switches)


def _storage_blocks(config: ContainerConfig, bundled: Bundled) -> list[tuple[str, Block]]:
    prototype = _VolumePrototype.of(bundled)

    def per_volume(lines: list[str]) -> tuple[list[str], list[str]]:
        """The prototype's own entries (one copy per volume), then the rest (written once, for the first)."""
        entries = _entries(lines)
        own = [e for e in entries if _key(e) in prototype.own]
        rest = [e for e in entries if _key(e) not in prototype.own]
        return [line for e in own for line in e], [line for e in rest for line in e]

    def generate(lines: list[str]) -> list[str]:
        own, rest = per_volume(lines)
        spaced = "" in own  # entries apart by blank lines: volumes too
        out: list[str] = []
        for position, volume_id, _, volume in _volumes(config):
            if out and spaced:
                out.append("")
            out += prototype.rename(own, volume_id, None if position == 0 else volume_switches(volume))
        first = next(iter(config.Volumes))
        return out + prototype.rename(rest, first, None)

    return [("volumes", lambda: generate(bundled.body(0))), ("volumes", lambda: generate(bundled.body(1)))]


def _entries(lines: list[str]) -> list[list[str]]:
    """Top-level YAML entries of a block body, each with the comment lines above it and blank lines after."""
    entries: list[list[str]] = []
    pending: list[str] = []
    for line in lines:
        if line.startswith("#"):
            pending.append(line)
        elif line and not line.startswith(" "):
            entries.append([*pending, line])
            pending = []
        elif entries:
            entries[-1].append(line)
        else:
            pending.append(line)
    if pending:
        entries.append(pending)
    return entries


def _key(entry: list[str]) -> str:
    return next((line.split(":", 1)[0] for line in entry if line and not line.startswith(("#", " "))), "")


# ----- infra/compute.yaml


def _compute_blocks(config: ContainerConfig, bundled: Bundled) -> list[tuple[str, Block]]:
    container = config.Container

    def parameters() -> list[str]:
        lines = []
        for _, _, name, _ in _volumes(config):
            lines += [
                f"{name}FileSystemId:",
                "  Type: String",
                "  AllowedPattern: ^fs-[0-9a-f]{8,40}$",
                f"{name}AccessPointId:",
                "  Type: String",
                "  AllowedPattern: ^fsap-[0-9a-f]{8,40}$",
            ]
        return lines

    def mount_arns() -> list[str]:
        return [
            "- !Sub arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system/"
            f"${{{name}FileSystemId}}"
            for _, _, name, _ in _volumes(config)
        ]

    def user_data() -> list[str]:
        lines = []
        for _, volume_id, name, volume in _volumes(config):
            lines.append(
                f"mount_volume {volume_id} ${{{name}FileSystemId}} ${{{name}AccessPointId}} || mounted=false"
            )
            for mount in _mounts(volume_id, volume):
                if mount.subdirectory:
                    lines.append(
                        f"install -d -m 0750 -o ${{ContainerUid}} -g ${{ContainerGid}} {mount.host_path} || mounted=false"
                    )
        return lines

    def task_volumes() -> list[str]:
        lines = ["Volumes:"]
        for _, volume_id, _, volume in _volumes(config):
            for mount in _mounts(volume_id, volume):
                lines += [f"  - Name: {mount.ecs_name}", "    Host:", f"      SourcePath: {mount.host_path}"]
        return lines

    def port_mappings() -> list[str]:
        lines = ["PortMappings:"]
        for index, port in enumerate(container.Ports):
            number = "!Ref GamePort" if index == 0 else str(port.number)
            lines += [
                f"  - ContainerPort: {number}",
                f"    HostPort: {number}",
                f"    Protocol: {port.protocol}",
            ]
        return lines

    def environment() -> list[str]:
        if not container.Environment:
            return ["Environment: []"]
        lines = ["Environment:"]
        for key, value in container.Environment.items():
            lines.append(f"  - Name: {key}")
            lines += _env_value(value)
        return lines

    def secrets() -> list[str]:
        lines = ["Secrets:"]
        for key, ref in container.Secrets.items():
            lines.append(f"  - Name: {key}")
            if ref.startswith("arn:"):
                lines.append(f"    ValueFrom: {_q(ref)}")
            else:
                rest = ssm_parameter_name(config.Id, ref).removeprefix(names.parameter_prefix(config.Id))
                lines.append(
                    "    ValueFrom: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"
                    f"container-manager/${{ContainerId}}/{rest}"
                )
        # The bundled template's own RCON knob stays (cm always leaves RconPasswordSecret empty, so it adds
        # nothing); dropping it would leave an unused parameter and condition behind.
        if "RCON_PASSWORD" not in container.Secrets:
            lines += [
                "  - !If",
                "    - HasRconSecret",
                "    - Name: RCON_PASSWORD",
                "      ValueFrom: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/container-manager/${ContainerId}/${RconPasswordSecret}",
                "    - !Ref AWS::NoValue",
            ]
        else:
            # Same knob, but the config's RCON_PASSWORD wins. The no-op keeps HasRconSecret used: an unused
            # condition fails cfn-lint (W8001), which test_render checks on such a config.
            lines += ["  - !If [HasRconSecret, !Ref AWS::NoValue, !Ref AWS::NoValue]"]
        return lines

    def mount_points() -> list[str]:
        lines = ["MountPoints:"]
        for _, volume_id, _, volume in _volumes(config):
            for mount in _mounts(volume_id, volume):
                lines += [
                    f"  - SourceVolume: {mount.ecs_name}",
                    f"    ContainerPath: {mount.container_path}",
                    f"    ReadOnly: {_bool(mount.read_only)}",
                ]
        return lines

    def ingress() -> list[str]:
        lines: list[str] = []
        for index, port in enumerate(container.Ports):
            if lines:
                lines.append("")
            lines += _ingress(index, port)
        return lines

    return [
        ("volumes", parameters),
        ("volumes", mount_arns),
        ("volumes", user_data),
        ("volumes", task_volumes),
        ("ports", port_mappings),
        ("environment", environment),
        ("secrets", secrets),
        ("mount points", mount_points),
        ("ports", ingress),
    ]


def _ingress(index: int, port: Port) -> list[str]:
    if index == 0:
        name, number, description = "GamePortIngress", "!Ref GamePort", "!Sub Players of ${ContainerId}"
    else:
        name = f"GamePort{port.protocol.capitalize()}{port.number}Ingress"
        number = str(port.number)
        description = f"!Sub Players of ${{ContainerId}} ({port.protocol} {port.number})"
    return [
        f"{name}:",
        "  Type: AWS::EC2::SecurityGroupIngress",
        "  Properties:",
        "    GroupId: !Ref InstanceSecurityGroupId",
        f"    Description: {description}",
        f"    IpProtocol: {port.protocol}",
        f"    FromPort: {number}",
        f"    ToPort: {number}",
        "    CidrIp: 0.0.0.0/0",
    ]


def _env_value(value: str) -> list[str]:
    """An Environment ``Value``: plain text, or a template expression for the documented placeholders."""
    used = [name for name in _PLACEHOLDER.findall(value) if name in _PLACEHOLDER_PARAMETERS]
    if not used:
        return [f"    Value: {_q(value)}"]
    if len(used) == 1 and value == f"${{{used[0]}}}":
        return [f"    Value: !Ref {_PLACEHOLDER_PARAMETERS[used[0]]}"]
    # A placeholder becomes its parameter's name; any other ${...} is the container's own text: `${!` is
    # Fn::Sub's escape for a literal `${`.
    escaped = _PLACEHOLDER.sub(
        lambda m: (
            "${" + _PLACEHOLDER_PARAMETERS[m.group(1)] + "}"
            if m.group(1) in _PLACEHOLDER_PARAMETERS
            else "${!" + m.group(1) + "}"
        ),
        value,
    )
    return [f"    Value: !Sub {_q(escaped)}"]


_GENERATORS: dict[str, Callable[[ContainerConfig, Bundled], list[tuple[str, Block]]]] = {
    ROOT_TEMPLATE: _root_blocks,
    f"{INFRA_DIR}/storage.yaml": _storage_blocks,
    f"{INFRA_DIR}/compute.yaml": _compute_blocks,
}
