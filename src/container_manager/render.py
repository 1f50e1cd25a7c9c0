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

from container_manager.cfn import load_template
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
            text = header + rewrite_blocks(text, generators(config), relative.as_posix())
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
        "DataBackup": _bool(primary.EnableBackups),
        "RetainDataOnDelete": _bool(primary.KeepOnDelete),
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


def plan_deployments(
    config: ContainerConfig, declared: set[str] | None = None, instance: InstanceSpec | None = None
) -> list[Deployment]:
    """The stacks to deploy, in order (docs/architecture.md, "Deploying").

    ``declared``: the root template's parameter names; values for parameters a newer template adds (the
    activity agent's port list) are only passed when the template declares them.
    """
    base = container_parameters(config, instance)
    if declared is not None and "ActivityPorts" in declared:
        base["ActivityPorts"] = " ".join(f"{p.protocol}/{p.number}" for p in config.Container.Ports)
    undeclared = sorted(set(base) - declared) if declared is not None else []
    if undeclared:
        raise RenderError(f"template.yaml does not declare parameters {undeclared} that cm render sets")
    if not config.split_regions:
        return [Deployment("all", config.stack_name, config.Region, {"DeployPart": "all", **base})]
    edge = {"DeployPart": "edge", **base, "ContainerRegion": config.Region}
    # HostedZoneId is added at deploy time from the edge stack's output.
    container = {"DeployPart": "container", **base}
    return [
        Deployment("edge", config.edge_stack_name, "us-east-1", edge),
        Deployment("container", config.stack_name, config.Region, container),
    ]


def stack_tags(config: ContainerConfig) -> dict[str, str]:
    return {"project": "container-manager", "container-id": config.Id}


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


def rewrite_blocks(text: str, generators: list[tuple[str, Block]], where: str) -> str:
    """Replace the body of each marked block, in file order, with the next generator's lines.

    The BEGIN/END lines and comment lines right after BEGIN stay; generated lines are indented like BEGIN.
    The list of (name, generator) must match the file's blocks exactly, so a reordered or renamed block in a
    template fails loudly here instead of rendering something else.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        begin = _BEGIN.match(line)
        if not begin:
            out.append(line)
            index += 1
            continue
        name, indent = begin["name"], begin["indent"]
        found.append(name)
        out.append(line)
        index += 1
        while index < len(lines) and lines[index].strip().startswith("#") and not _END.search(lines[index]):
            out.append(lines[index])
            index += 1
        while index < len(lines) and not _END.search(lines[index]):
            index += 1
        if index == len(lines):
            raise RenderError(f"{where}: BEGIN PER-CONTAINER LIST: {name} has no END")
        end = _END.search(lines[index])
        assert end is not None
        if end["name"] != name:
            raise RenderError(f"{where}: BEGIN {name} closed by END {end['name']}")
        position = len(found) - 1
        if position < len(generators) and generators[position][0] == name:
            out.extend(f"{indent}{body}\n" if body else "\n" for body in generators[position][1]())
        out.append(lines[index])
        index += 1
    expected = [name for name, _ in generators]
    if found != expected:
        raise RenderError(f"{where}: marker blocks {found} differ from what cm render fills {expected}")
    return "".join(out)


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


def _root_blocks(config: ContainerConfig) -> list[tuple[str, Block]]:
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


def _storage_blocks(config: ContainerConfig) -> list[tuple[str, Block]]:
    def resources() -> list[str]:
        lines: list[str] = []
        for position, volume_id, name, volume in _volumes(config):
            # The first volume keeps the template's parameters (DataBackup, RetainDataOnDelete); the others
            # have their own per-volume switches written in.
            if position == 0:
                deletion, backup = "!If [RetainData, Retain, Delete]", "!If [DataBackupOn, ENABLED, DISABLED]"
            else:
                deletion = "Retain" if volume.KeepOnDelete else "Delete"
                backup = "ENABLED" if volume.EnableBackups else "DISABLED"
            if lines:
                lines.append("")
            lines += [
                f"{name}FileSystem:",
                "  Type: AWS::EFS::FileSystem",
                f"  DeletionPolicy: {deletion}",
                "  UpdateReplacePolicy: Retain",
                "  # Encrypted with the AWS-managed EFS key (no customer key); a customer key costs $1/month per container.",
                "  Properties:",
                "    Encrypted: true",
                "    PerformanceMode: generalPurpose",
                "    ThroughputMode: bursting # Small worlds live on burst credits; elastic bills every GB moved.",
                "    BackupPolicy:",
                f"      Status: {backup}",
                "    FileSystemPolicy:",
                '      Version: "2012-10-17"',
                "      Statement:",
                "        - Sid: TlsOnly",
                "          Effect: Deny",
                '          Principal: { AWS: "*" }',
                '          Action: "*"',
                "          Condition:",
                "            Bool:",
                '              aws:SecureTransport: "false"',
                "        - Sid: MountThroughTargetsOnly",
                "          Effect: Allow",
                '          Principal: { AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" }',
                "          Action: [elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite, elasticfilesystem:ClientRootAccess]",
                "          Condition:",
                "            Bool:",
                '              elasticfilesystem:AccessedViaMountTarget: "true"',
                "    FileSystemTags:",
                "      - Key: Name",
                f"        Value: !Sub container-manager-${{ContainerId}}-{volume_id}",
                "      - Key: container-manager:container-id",
                "        Value: !Ref ContainerId",
                "      - Key: container-manager:volume",
                f"        Value: {volume_id}",
                "",
            ]
            for suffix, subnet in (("A", 0), ("B", 1)):
                lines += [
                    f"{name}MountTarget{suffix}:",
                    "  Type: AWS::EFS::MountTarget",
                    "  Properties:",
                    f"    FileSystemId: !Ref {name}FileSystem",
                    f'    SubnetId: !Select [{subnet}, !Split [",", !Ref SubnetIds]]',
                    "    SecurityGroups: [!Ref EfsSecurityGroup]",
                    "",
                ]
            lines += [
                f"# Creates /{volume_id} on the file system owned by the container's uid/gid (0750, never 777) on first mount.",
                f"{name}AccessPoint:",
                "  Type: AWS::EFS::AccessPoint",
                "  # No enforced PosixUser: game images start as root and drop to ContainerUid; a forced POSIX user breaks their chown.",
                "  Properties:",
                f"    FileSystemId: !Ref {name}FileSystem",
                "    RootDirectory:",
                f"      Path: /{volume_id}",
                "      CreationInfo:",
                "        OwnerUid: !Ref ContainerUid",
                "        OwnerGid: !Ref ContainerGid",
                '        Permissions: "0750"',
                "    AccessPointTags:",
                "      - Key: Name",
                f"        Value: !Sub container-manager-${{ContainerId}}-{volume_id}",
            ]
        return lines

    def outputs() -> list[str]:
        lines: list[str] = []
        names = [name for _, _, name, _ in _volumes(config)]
        for name in names:
            lines += [
                f"{name}FileSystemId:",
                f"  Value: !Ref {name}FileSystem",
                f"{name}FileSystemArn:",
                f"  Value: !GetAtt {name}FileSystem.Arn",
                f"{name}AccessPointId:",
                f"  Value: !Ref {name}AccessPoint",
            ]
        lines += [
            "# The volume whose reads the activity alarm subtracts from network-in (EFS traffic is network traffic).",
            "PrimaryFileSystemId:",
            f"  Value: !Ref {names[0]}FileSystem",
        ]
        return lines

    return [("volumes", resources), ("volumes", outputs)]


# ----- infra/compute.yaml


def _compute_blocks(config: ContainerConfig) -> list[tuple[str, Block]]:
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
                rest = ssm_parameter_name(config.Id, ref).removeprefix(f"/container-manager/{config.Id}/")
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
            # Same knob, but the config's RCON_PASSWORD wins; the condition still needs a user.
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


_GENERATORS: dict[str, Callable[[ContainerConfig], list[tuple[str, Block]]]] = {
    ROOT_TEMPLATE: _root_blocks,
    f"{INFRA_DIR}/storage.yaml": _storage_blocks,
    f"{INFRA_DIR}/compute.yaml": _compute_blocks,
}
