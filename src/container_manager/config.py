"""One container's YAML config file, validated into a typed model.

The keys follow the older CDK-based tool (``Ec2``, ``Container``, ``Volumes``, ``Watchdog``,
``AlertSubscription``, ``Dashboard``) so its users can bring their files; ``Domain`` and ``Region`` (and a few
optional sections) add what this project's templates need. docs/configuration.md documents every key.

Every problem is reported at once, each naming the key path (``Container.Ports[1].UDP``), the bad value and
the fix, because a user fixing a file one error per run gives up.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from container_manager import names
from container_manager.instance_types import (
    DEFAULT_INSTANCE_TYPE,
    INSTANCE_TYPE_PATTERN,
    MIN_MEMORY_MIB,
)
from container_manager.instance_types import known_offline as known_offline_instance_types
from container_manager.instance_types import offline as offline_instance_type
from container_manager.names import EDGE_REGION

# The same rules the templates enforce (template.yaml Parameters), checked here so they fail before a deploy.
CONTAINER_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
DOMAIN_PATTERN = re.compile(r"^(?=.{4,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ZONE_ID_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
VOLUME_ID_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Container paths become shell words in the user data and ECS volume names: keep them plain.
CONTAINER_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
SSM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:(?P<name>[A-Za-z0-9/_+=.@-]+)"
    r"(?P<key>:[^:]*:[^:]*:[^:]*)?$"
)
EMAIL_PATTERN = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
SNS_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$")
VPC_PATTERN = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_PATTERN = re.compile(r"^subnet-[0-9a-f]{8,17}$")

# Allowed values of the templates' parameters (infra/watchdog.yaml HoursUp mapping; log retention).
LEFT_UP_HOURS = (1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168)
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90)
# Idle alarm: 1-minute periods, and period x evaluation periods may not exceed one day for periods under an
# hour. Below 5 minutes a booting server (no traffic yet) would be stopped before players get in.
IDLE_MINUTES_RANGE = (5, 1440)
MAX_EMAILS = 3  # infra/alerts.yaml subscribes up to three addresses
# template.yaml ReservedConcurrency: executions reserved per function, 0 = none (a new account allows none).
RESERVED_CONCURRENCY_RANGE = (0, 100)
MAX_PORTS = 50  # a security group holds 60 inbound rules by default; each port is one rule
# The older CDK tool (AWS-ContainerManager) reads `!ENV ${VAR}` values from the environment (pyaml-env).
OLDER_TOOL_ENV_TAG = "!ENV"

# Placeholders an Environment value may use; render turns them into template expressions.
ENV_PLACEHOLDERS = ("ContainerId", "ContainerUid", "ContainerGid", "HeapMiB", "ReservationMiB", "MemoryMiB")


class ConfigError(Exception):
    """A config file has problems; ``problems`` holds every one, each naming its key path."""

    hint = "fix the listed keys (docs/configuration.md), then run again"

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


class OlderToolConfig(ConfigError):
    """The file is an AWS-ContainerManager (the older CDK tool) config: `cm import` converts it."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems)
        self.hint = (
            f"convert it: `cm import {source}` (docs/configuration.md, Coming from AWS-ContainerManager)"
        )


def _stringify(value: Any) -> Any:
    """Environment values: booleans and numbers become the strings a container sees."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


EnvValue = Annotated[str, BeforeValidator(_stringify)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


class Ec2Settings(_Strict):
    InstanceType: str = DEFAULT_INSTANCE_TYPE

    @field_validator("InstanceType")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if not INSTANCE_TYPE_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not an EC2 instance type; write family.size in lower case, e.g. t4g.medium or m7i.large"
            )
        # A type the offline table knows is checked now; any other is checked at deploy (instance_type_note).
        known = offline_instance_type(value)
        problem = known.problem() if known else None
        if problem:
            raise ValueError(problem)
        return value


def instance_type_note(config: ContainerConfig) -> str | None:
    """The "checked at deploy" note for a type the offline table does not know (not an error: AWS decides)."""
    name = config.Ec2.InstanceType
    if offline_instance_type(name) is not None:
        return None
    close = difflib.get_close_matches(name, known_offline_instance_types(), n=3, cutoff=0.8)
    hint = f" (if you meant {' or '.join(close)}, fix the spelling)" if close else ""
    return (
        f"Ec2.InstanceType: {name!r} is unknown offline (not in the bundled table of current types){hint}; "
        f"`cm deploy` reads its architecture and memory from AWS (DescribeInstanceTypes in {config.Region}) and "
        f"refuses it then if {config.Region} does not offer it, it has under {MIN_MEMORY_MIB // 1024} GiB or "
        "it is neither x86_64 nor arm64"
    )


class Port(_Strict):
    """One ``TCP: n`` or ``UDP: n`` item."""

    TCP: StrictInt | None = Field(default=None, ge=1, le=65535)
    UDP: StrictInt | None = Field(default=None, ge=1, le=65535)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.TCP is None) == (self.UDP is None):
            raise ValueError(
                "each port item is exactly one of `TCP: <port>` or `UDP: <port>`; write two items for both"
            )
        return self

    @property
    def protocol(self) -> Literal["tcp", "udp"]:
        return "tcp" if self.TCP is not None else "udp"

    @property
    def number(self) -> int:
        value = self.TCP if self.TCP is not None else self.UDP
        assert value is not None  # guaranteed by _exactly_one
        return value


class ContainerSettings(_Strict):
    Image: str = Field(min_length=1)
    Ports: list[Port] = Field(min_length=1, max_length=MAX_PORTS)
    Environment: dict[str, EnvValue] = Field(default_factory=dict)
    Secrets: dict[str, str] = Field(default_factory=dict)
    Uid: StrictInt = Field(default=1000, ge=0, le=4294967294)
    Gid: StrictInt = Field(default=1000, ge=0, le=4294967294)
    StopTimeoutSeconds: StrictInt = Field(default=120, ge=2, le=120)

    @field_validator("Image")
    @classmethod
    def _image(cls, value: str) -> str:
        if any(c.isspace() for c in value):
            raise ValueError(
                f"{value!r} contains whitespace; an image reference looks like itzg/minecraft-server:latest"
            )
        return value

    @field_validator("Environment", "Secrets", mode="before")
    @classmethod
    def _env_names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            bad = [str(k) for k in value if not (isinstance(k, str) and ENV_NAME_PATTERN.match(k))]
            if bad:
                raise ValueError(
                    f"invalid variable name(s) {', '.join(repr(b) for b in bad)}: use letters, digits and "
                    "underscores, not starting with a digit (e.g. SERVER_NAME)"
                )
            nulls = [k for k, v in value.items() if v is None]
            if nulls:
                raise ValueError(
                    f'{", ".join(nulls)} has no value; write a value (quote it: "") or delete the line'
                )
        return value


class VolumePath(_Strict):
    Path: str
    ReadOnly: StrictBool = False

    @field_validator("Path")
    @classmethod
    def _path(cls, value: str) -> str:
        if (
            value == "/"
            or not CONTAINER_PATH_PATTERN.match(value)
            or "/../" in f"{value}/"
            or "/./" in f"{value}/"
        ):
            raise ValueError(
                f"{value!r} is not a plain absolute directory in the container; write e.g. /data "
                "(letters, digits, . _ - separated by /, no spaces, not / itself)"
            )
        return value


class Volume(_Strict):
    Paths: list[VolumePath] = Field(min_length=1)
    EnableBackups: StrictBool = True
    KeepOnDelete: StrictBool = True


class LeftUpSettings(_Strict):
    DurationHours: StrictInt = 8
    ShouldStop: StrictBool = False
    # The runaway guard (docs/watchdog.md): stop after ForceStopHours up, whatever the activity signals say.
    ForceStop: StrictBool = True
    ForceStopHours: StrictInt | None = None  # None: see force_stop_hours

    @field_validator("DurationHours", "ForceStopHours")
    @classmethod
    def _allowed(cls, value: int | None) -> int | None:
        if value is not None and value not in LEFT_UP_HOURS:
            lower = max((h for h in LEFT_UP_HOURS if h < value), default=None)
            upper = min((h for h in LEFT_UP_HOURS if h > value), default=None)
            near = " or ".join(str(h) for h in (lower, upper) if h is not None)
            raise ValueError(
                f"{value} is not an allowed duration; use {near} (allowed: "
                f"{', '.join(map(str, LEFT_UP_HOURS))}: CloudWatch caps an alarm's window at 1 day of 5-minute "
                "periods and 7 days of hourly ones)"
            )
        return value

    @model_validator(mode="after")
    def _force_stop_after_alert(self) -> Self:
        if self.ForceStop and self.ForceStopHours is not None and self.ForceStopHours < self.DurationHours:
            raise ValueError(
                f"ForceStopHours {self.ForceStopHours} is shorter than DurationHours {self.DurationHours}: the "
                "alert comes first, the forced stop at the same time or later (or set ForceStop: false)"
            )
        return self

    @property
    def force_stop_hours(self) -> int | None:
        """Hours up after which the runaway guard stops the server (None: off). Unset, it is the first allowed
        duration longer than DurationHours and at least 24 (168 when DurationHours is already 168)."""
        if not self.ForceStop:
            return None
        if self.ForceStopHours is not None:
            return self.ForceStopHours
        return min(
            (h for h in LEFT_UP_HOURS if h > self.DurationHours and h >= 24), default=LEFT_UP_HOURS[-1]
        )


class WatchdogSettings(_Strict):
    # connections: an on-instance agent counts players, idle = nobody connected (no threshold to tune);
    # traffic: idle = player bytes per second under Threshold.
    Mode: Literal["connections", "traffic"] = "connections"
    Threshold: StrictInt | None = Field(default=None, ge=1)
    MinutesWithoutConnections: StrictInt = Field(
        default=7, ge=IDLE_MINUTES_RANGE[0], le=IDLE_MINUTES_RANGE[1]
    )
    StartupGraceMinutes: StrictInt = Field(default=10, ge=0, le=120)
    InstanceLeftUp: LeftUpSettings = Field(default_factory=lambda: LeftUpSettings())

    @model_validator(mode="after")
    def _threshold_for_traffic(self) -> Self:
        if self.Mode == "traffic" and self.Threshold is None:
            raise ValueError(
                "Mode traffic needs Threshold: the player bytes per second below which a minute is idle, e.g. "
                "Threshold: 2000 (Mode connections, the default, needs none)"
            )
        return self


class AlertSettings(_Strict):
    Email: str = ""
    AdminTopicArn: str = ""

    @field_validator("Email")
    @classmethod
    def _emails(cls, value: str) -> str:
        addresses = value.split()
        bad = [a for a in addresses if not EMAIL_PATTERN.match(a)]
        if bad:
            raise ValueError(
                f"{', '.join(repr(b) for b in bad)} is not an e-mail address; separate addresses with spaces, "
                "e.g. 'me@example.com you@example.com'"
            )
        if len(addresses) > MAX_EMAILS:
            raise ValueError(
                f"{len(addresses)} addresses given; at most {MAX_EMAILS} are subscribed - use a mailing list "
                "address for more"
            )
        return value

    @field_validator("AdminTopicArn")
    @classmethod
    def _topic(cls, value: str) -> str:
        if value and not SNS_ARN_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not an SNS topic ARN; copy the AdminAlertTopicArn output of the account stack"
            )
        return value

    @property
    def emails(self) -> list[str]:
        return self.Email.split()


class DashboardSettings(_Strict):
    Enabled: StrictBool = True
    IntervalMinutes: StrictInt = Field(default=30, ge=1, le=1440)


class DomainSettings(_Strict):
    Name: str
    ParentHostedZoneId: str

    @field_validator("Name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str):
            normalized = value.strip().rstrip(".").lower()
            if not DOMAIN_PATTERN.match(normalized):
                raise ValueError(f"{value!r} is not a domain name; write the zone's name, e.g. example.com")
            return normalized
        return value

    @field_validator("ParentHostedZoneId", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        if isinstance(value, str):
            zone = value.strip().removeprefix("/hostedzone/")
            if not ZONE_ID_PATTERN.match(zone):
                raise ValueError(
                    f"{value!r} is not a hosted zone id; copy it from `aws route53 list-hosted-zones-by-name "
                    "--dns-name <domain>` (it starts with Z)"
                )
            return zone
        return value


class DnsSettings(_Strict):
    Ttl: StrictInt = Field(default=30, ge=1, le=300)
    StartOnIpv6Queries: StrictBool = False


class NetworkSettings(_Strict):
    ExistingVpcId: str = ""
    ExistingSubnetIds: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if self.ExistingVpcId and not VPC_PATTERN.match(self.ExistingVpcId):
            raise ValueError(f"ExistingVpcId {self.ExistingVpcId!r} is not a VPC id (vpc-0123abcd...)")
        if bool(self.ExistingVpcId) != bool(self.ExistingSubnetIds):
            raise ValueError(
                "give ExistingVpcId and ExistingSubnetIds together, or neither (a new VPC is made)"
            )
        if self.ExistingSubnetIds and (
            len(self.ExistingSubnetIds) != 2
            or not all(SUBNET_PATTERN.match(s) for s in self.ExistingSubnetIds)
        ):
            raise ValueError(
                f"ExistingSubnetIds {self.ExistingSubnetIds!r}: list exactly two public subnet ids "
                "(subnet-...) in two availability zones"
            )
        return self


class FunctionSettings(_Strict):
    # Opt-in: Lambda keeps 100 of a region's concurrency quota unreserved (all of it up to a quota of 100), so
    # any reservation fails the deploy on a new account (quota 10) - docs/configuration.md.
    ReservedConcurrency: StrictInt = Field(
        default=0, ge=RESERVED_CONCURRENCY_RANGE[0], le=RESERVED_CONCURRENCY_RANGE[1]
    )


class LogSettings(_Strict):
    RetentionDays: StrictInt = 14

    @field_validator("RetentionDays")
    @classmethod
    def _days(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"{value} is not an allowed retention; use one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
            )
        return value


class ContainerConfig(_Strict):
    """The whole file. ``Id`` defaults to the file name (``minecraft.yaml`` -> ``minecraft``)."""

    Id: str
    Domain: DomainSettings
    Region: str = EDGE_REGION
    Ec2: Ec2Settings = Field(default_factory=lambda: Ec2Settings())
    Container: ContainerSettings
    Volumes: dict[str, Volume] = Field(min_length=1)
    Watchdog: WatchdogSettings = Field(default_factory=lambda: WatchdogSettings())
    AlertSubscription: AlertSettings = Field(default_factory=lambda: AlertSettings())
    Dashboard: DashboardSettings = Field(default_factory=lambda: DashboardSettings())
    Dns: DnsSettings = Field(default_factory=lambda: DnsSettings())
    Network: NetworkSettings = Field(default_factory=lambda: NetworkSettings())
    Logs: LogSettings = Field(default_factory=lambda: LogSettings())
    Functions: FunctionSettings = Field(default_factory=lambda: FunctionSettings())

    @field_validator("Id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CONTAINER_ID_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a DNS-safe id: use 1-32 lower-case letters, digits and hyphens, not starting "
                "or ending with a hyphen (it becomes <id>.<domain>); rename the file or set Id"
            )
        return value

    @field_validator("Region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an AWS region name; write e.g. us-east-1 or eu-central-1")
        return value

    @field_validator("Volumes", mode="before")
    @classmethod
    def _volume_ids(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            bad = [str(k) for k in value if not (isinstance(k, str) and VOLUME_ID_PATTERN.match(k))]
            if bad:
                raise ValueError(
                    f"volume id(s) {', '.join(repr(b) for b in bad)} not allowed: use lower-case letters, digits "
                    "and hyphens, starting with a letter (e.g. data, saves)"
                )
            logical: dict[str, str] = {}
            for key in value:
                name = logical_name(str(key))
                if name in logical:
                    raise ValueError(f"volume ids {logical[name]!r} and {key!r} collide; rename one")
                logical[name] = str(key)
        return value

    @property
    def server_name(self) -> str:
        return f"{self.Id}.{self.Domain.Name}"

    @property
    def stack_name(self) -> str:
        return names.stack_name(self.Id)

    @property
    def edge_stack_name(self) -> str:
        return names.edge_stack_name(self.Id)

    @property
    def split_regions(self) -> bool:
        """True when the container lives outside us-east-1: edge and container are two stacks."""
        return self.Region != EDGE_REGION


def logical_name(volume_id: str) -> str:
    """CloudFormation logical-id prefix of a volume: ``world-saves`` -> ``WorldSaves``."""
    return "".join(part[:1].upper() + part[1:] for part in volume_id.split("-"))


def ssm_parameter_name(container_id: str, ref: str) -> str:
    """The full SSM name for a Secrets reference that is not a Secrets Manager ARN."""
    return ref if ref.startswith("/") else names.parameter_prefix(container_id) + ref


def secret_problem(name: str, ref: str, container_id: str, region: str | None) -> str | None:
    prefix, secrets = names.parameter_prefix(container_id), names.secret_prefix(container_id)
    if ref.startswith("arn:"):
        match = SECRETS_MANAGER_ARN.match(ref)
        if not match:
            return (
                f"Secrets.{name}: {ref!r} is not a Secrets Manager secret ARN; write an SSM parameter name "
                f"(e.g. rcon-password, read from {prefix}rcon-password) or arn:aws:secretsmanager:<region>:"
                f"<account>:secret:{secrets}<name>"
            )
        if not match["name"].startswith(secrets):
            return (
                f"Secrets.{name}: secret {match['name']!r} is outside {secrets}, which is "
                f"all the task may read; create the secret as {secrets}<name>"
            )
        if region and match["region"] != region:
            return (
                f"Secrets.{name}: the secret is in {match['region']} but the container runs in {region}; "
                "create (or replicate) the secret in the container's region"
            )
        return None
    full = ssm_parameter_name(container_id, ref)
    if not full.startswith(prefix):
        return (
            f"Secrets.{name}: SSM parameter {ref!r} is outside {prefix}, which is all the task may read; store it "
            f"as {prefix}<name> and write just <name>"
        )
    if not SSM_NAME_PATTERN.match(full.removeprefix(prefix)):
        return f"Secrets.{name}: {ref!r} is not an SSM parameter name (letters, digits, _ . - and /)"
    return None


# ---------------------------------------------------------------- loading and error messages


def load_config(path: str | Path) -> ContainerConfig:
    """Read and validate one config file; raises ConfigError with every problem."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(source), [f"cannot read the file: {error.strerror}"]) from error
    return parse_config(text, source=str(source), default_id=source.stem)


class OlderToolEnv(str):
    """A ``!ENV ${VAR}`` value: the older tool read it from the environment at deploy. Kept as its text so
    validation can name the key (plain PyYAML has no constructor for the tag)."""


class _Loader(yaml.SafeLoader):
    pass


def _older_tool_env(loader: yaml.SafeLoader, node: yaml.Node) -> OlderToolEnv:
    return OlderToolEnv(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor(OLDER_TOOL_ENV_TAG, _older_tool_env)


def older_tool_signs(data: Mapping[str, Any]) -> list[str]:
    """Keys written the older tool's way (AWS-ContainerManager leaf configs), each with its path and why.

    ``!ENV`` and keys only the older tool has always count. Spellings that are also plain mistakes here (a
    capitalised volume id, a lower-case protocol) count only in a file without ``Domain``, which every file of
    this project has and no older-tool leaf config does."""
    signs: list[str] = []
    spellings: list[str] = []

    def walk(value: Any, loc: list[int | str]) -> None:
        if isinstance(value, OlderToolEnv):
            signs.append(f"{key_path(loc)}: `{OLDER_TOOL_ENV_TAG} {value}` reads an environment variable")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, [*loc, str(key)])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, [*loc, index])

    walk(data, [])
    volumes = data.get("Volumes")
    for volume_id, volume in volumes.items() if isinstance(volumes, Mapping) else ():
        if isinstance(volume_id, str) and not VOLUME_ID_PATTERN.match(volume_id):
            spellings.append(
                f"Volumes.{volume_id}: a volume id in the older tool's style (ids here are lower case)"
            )
        if isinstance(volume, Mapping) and "Type" in volume:
            signs.append(f"Volumes.{volume_id}.Type: the older tool's volume type (every volume here is EFS)")
    dashboard = data.get("Dashboard")
    if isinstance(dashboard, Mapping) and "ShowContainerLogTimestamp" in dashboard:
        signs.append("Dashboard.ShowContainerLogTimestamp: an older-tool key with no equivalent here")
    domain = data.get("Domain")
    if isinstance(domain, Mapping) and "HostedZoneId" in domain:
        signs.append("Domain.HostedZoneId: the older tool's base-stack key (here: Domain.ParentHostedZoneId)")
    container = data.get("Container")
    ports = container.get("Ports") if isinstance(container, Mapping) else None
    for index, port in enumerate(ports if isinstance(ports, list) else []):
        for key in port if isinstance(port, Mapping) else ():
            if isinstance(key, str) and key != key.upper() and key.upper() in ("TCP", "UDP"):
                spellings.append(f"Container.Ports[{index}].{key}: the older tool's lower-case protocol key")
    return signs + spellings if signs or "Domain" not in data else []


def parse_config(text: str, *, source: str = "<config>", default_id: str | None = None) -> ContainerConfig:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader that also reads the older !ENV tag
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(source, [f"not valid YAML{where}: {getattr(error, 'problem', error)}"]) from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [f"the file must be a mapping of keys (Container:, Volumes: ...), not {type(data).__name__}"],
        )
    signs = older_tool_signs(data)
    if signs:
        raise OlderToolConfig(
            source,
            [
                f"this looks like an older-tool config: run `cm import {source}` to convert it (the "
                f"AWS-ContainerManager format; {len(signs)} older-tool key(s) below)",
                *signs,
            ],
        )
    data = dict(data)
    if "Id" not in data and default_id is not None:
        data["Id"] = default_id.lower() if CONTAINER_ID_PATTERN.match(default_id.lower()) else default_id
    problems: list[str] = []
    config: ContainerConfig | None = None
    try:
        config = ContainerConfig.model_validate(data)
    except ValidationError as error:
        problems = _problems(error, data)
    # Checks across items run on the raw data too, so they are reported even when an item is also wrong.
    problems += cross_item_problems(data)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config


def cross_item_problems(data: Mapping[str, Any]) -> list[str]:
    """Problems between items: duplicate ports and paths, a variable set twice, secrets the task cannot read."""
    problems: list[str] = []
    container = data.get("Container")
    container = container if isinstance(container, Mapping) else {}
    ports = container.get("Ports")
    if isinstance(ports, list):
        seen: dict[tuple[str, int], int] = {}
        for index, item in enumerate(ports):
            if not (isinstance(item, Mapping) and len(item) == 1):
                continue
            ((protocol, number),) = item.items()
            if protocol not in ("TCP", "UDP") or not isinstance(number, int) or isinstance(number, bool):
                continue
            if (protocol, number) in seen:
                problems.append(
                    f"Container.Ports[{index}].{protocol}: {number} repeats Container.Ports[{seen[protocol, number]}]; "
                    "each port may appear once per protocol - delete one"
                )
            else:
                seen[protocol, number] = index
    environment, secrets = container.get("Environment"), container.get("Secrets")
    if isinstance(environment, Mapping) and isinstance(secrets, Mapping):
        for name in secrets:
            if name in environment:
                problems.append(
                    f"Container.Secrets.{name}: also set in Container.Environment; keep it in Secrets only "
                    "(secret values never reach the templates)"
                )
    container_id, region = data.get("Id"), data.get("Region", EDGE_REGION)
    if isinstance(secrets, Mapping) and isinstance(container_id, str):
        for name, ref in secrets.items():
            if isinstance(ref, str) and (
                problem := secret_problem(str(name), ref, container_id, str(region))
            ):
                problems.append(f"Container.{problem}")
    volumes = data.get("Volumes")
    if isinstance(volumes, Mapping):
        mounted: dict[str, str] = {}
        for volume_id, volume in volumes.items():
            paths = volume.get("Paths") if isinstance(volume, Mapping) else None
            for index, path in enumerate(paths if isinstance(paths, list) else []):
                value = path.get("Path") if isinstance(path, Mapping) else None
                if not isinstance(value, str):
                    continue
                where = f"Volumes.{volume_id}.Paths[{index}].Path"
                if value in mounted:
                    problems.append(
                        f"{where}: {value!r} is also mounted by {mounted[value]}; mount each path once"
                    )
                else:
                    mounted[value] = where
    return problems


def key_path(loc: Iterable[int | str]) -> str:
    """('Container', 'Ports', 1, 'UDP') -> 'Container.Ports[1].UDP'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _problems(error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        kind = item["type"]
        value = item.get("input")
        if kind == "extra_forbidden":
            problems.append(_unknown_key(loc, data))
            continue
        # Tagged-union style locations never appear (plain models); "function-after" etc. neither in v2.
        path = key_path(loc) or "(file)"
        message = str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "missing":
            problems.append(f"{path}: missing; {_missing_hint(loc)}")
        elif kind == "value_error":
            problems.append(f"{path}: {message}")
        elif kind in {"int_type", "int_parsing", "int_from_float"}:
            problems.append(
                f"{path}: {value!r} is not a whole number; write a number without quotes, e.g. 25565"
            )
        elif kind == "bool_type" or kind == "bool_parsing":
            problems.append(f"{path}: {value!r} is not true or false; write true or false without quotes")
        elif kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
            problems.append(f"{path}: {value!r} is out of range; {message.lower()}{_range_reason(loc)}")
        elif kind in {"too_short", "too_long"}:
            problems.append(f"{path}: {message.lower()}; {_missing_hint(loc)}")
        elif kind in {"dict_type", "model_type", "model_attributes_type"}:
            problems.append(
                f"{path}: {_short(value)} should be a mapping of keys (Key: value); {_missing_hint(loc)}"
            )
        elif kind == "list_type":
            problems.append(f"{path}: {_short(value)} should be a list (items starting with '- ')")
        elif kind == "string_type":
            problems.append(f"{path}: {_short(value)} should be text; quote it")
        else:
            problems.append(f"{path}: {message} (got {_short(value)})")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_HINTS = {
    "Container": "add Container: with Image: and Ports: (see examples/minecraft.yaml)",
    "Image": "name the game server's image, e.g. Image: itzg/minecraft-server:latest",
    "Ports": "list the ports players connect to, e.g. Ports: [{TCP: 25565}]",
    "Volumes": "add Volumes: with at least one volume, e.g. Volumes: {data: {Paths: [{Path: /data}]}}",
    "Paths": "list the directories of the container to keep, e.g. Paths: [{Path: /data}]",
    "Path": "write the container directory, e.g. Path: /data",
    "Watchdog": "write Watchdog: as a mapping, e.g. Watchdog: {MinutesWithoutConnections: 10}",
    "Threshold": "set the player traffic (bytes/s) below which a minute counts as idle, e.g. Threshold: 2000",
    "Domain": "add Domain: with Name: <your domain> and ParentHostedZoneId: <its public hosted zone id>",
    "Name": "write your domain, e.g. Name: example.com",
    "ParentHostedZoneId": "write the public hosted zone id of the domain (starts with Z)",
}


def _missing_hint(loc: list[int | str]) -> str:
    last = next((p for p in reversed(loc) if isinstance(p, str)), "")
    return _HINTS.get(str(last), "see docs/configuration.md")


def _range_reason(loc: list[int | str]) -> str:
    last = str(loc[-1]) if loc else ""
    reasons = {
        "TCP": " (ports are 1-65535)",
        "UDP": " (ports are 1-65535)",
        "MinutesWithoutConnections": (
            " (the idle alarm uses 1-minute periods and may span at most one day; below 5 minutes a booting"
            " server is stopped before anyone can join)"
        ),
        "StopTimeoutSeconds": " (ECS allows 2-120 seconds between SIGTERM and SIGKILL)",
        "Ttl": " (a short TTL lets players see a new address quickly)",
        "StartupGraceMinutes": " (minutes after boot in which the server is never stopped; at most 2 hours)",
        "Threshold": " (player bytes per second below which a minute is idle; the examples explain their values)",
        "ReservedConcurrency": (
            " (executions reserved per function; 0 reserves none, and any reservation needs a regional Lambda"
            " concurrency quota above 100 - a new account has 10)"
        ),
    }
    return reasons.get(last, "")


def _unknown_key(loc: list[int | str], data: Mapping[str, Any]) -> str:
    *parent, key = loc
    model = _model_at(parent)
    allowed = sorted(model.model_fields) if model is not None else []
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
    if not close:
        lowered = {a.lower(): a for a in allowed}
        if str(key).lower() in lowered:
            close = [lowered[str(key).lower()]]
    hint = f"did you mean {key_path([*parent, close[0]])}? " if close else ""
    return f"{key_path(loc)}: unknown key; {hint}allowed here: {', '.join(allowed)}"


def _model_at(loc: list[int | str]) -> type[BaseModel] | None:
    """The model class that describes the mapping at ``loc`` (walking list indexes and dict keys)."""
    model: Any = ContainerConfig
    annotation: Any = None
    for part in loc:
        if annotation is None:
            if not (isinstance(model, type) and issubclass(model, BaseModel)) or not isinstance(part, str):
                return None
            field = model.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
        else:
            # Inside list[X] (int index) or dict[str, X] (string key): step into X.
            args = getattr(annotation, "__args__", ())
            annotation = args[-1] if args else None
        model, annotation = _unwrap(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> tuple[Any, Any]:
    """A model class ends the step; list/dict annotations stay pending until their index/key is walked."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, None
    return None, annotation
