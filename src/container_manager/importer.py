"""`cm import`: an AWS-ContainerManager leaf config (the older CDK tool) -> a config file of this project.

The older tool's leaf files (its Examples/*.example.yaml) already use most of this project's keys; what differs
is mapped here, each change with a note (printed, and as a comment in the new file):

- the file name is the id there (``Minecraft.java.example.yaml`` -> ``minecraft.java.example.<domain>``); here
  ``Id`` must be one DNS label: ``minecraft-java``;
- the domain lives in the older tool's base-stack config (``Domain.Name``/``HostedZoneId``, usually
  ``!ENV ${DOMAIN_NAME}``/``${HOSTED_ZONE_ID}``): ``--domain``/``--zone``, or those variables;
- ``!ENV ${VAR}`` (pyaml-env: ``${VAR}`` or ``${VAR:default}``, several per value allowed) was read from the
  environment at every deploy. A secret-looking one in ``Container.Environment`` becomes a
  ``Container.Secrets`` reference (SSM ``/container-manager/<id>/<name>``) plus the `cm secrets put` command
  that stores it - its value is never read here, so it cannot reach a file. Any other is read now and written
  as a plain value, with a comment naming the variable; an unset variable is an error naming it;
- volume ids become DNS-safe (``Data`` -> ``data``), ``Volumes.<id>.Type`` goes (every volume is EFS),
  ``Dashboard.ShowContainerLogTimestamp`` goes (no equivalent), values outside this project's ranges move
  to the nearest allowed one.

Comments are kept (ruamel.yaml round trip) except those on deleted lines. The converted text is validated with
this project's validator before anything is written; a problem anywhere writes nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import YAMLError

from container_manager.config import (
    CONTAINER_ID_PATTERN,
    IDLE_MINUTES_RANGE,
    LEFT_UP_HOURS,
    OLDER_TOOL_ENV_TAG,
    ConfigError,
    ContainerConfig,
    parse_config,
)
from container_manager.names import EDGE_REGION

OLDER_TOOL = "AWS-ContainerManager"
OLDER_KEYS = ("Ec2", "Container", "Volumes", "Watchdog", "AlertSubscription", "Dashboard")
# The older tool's vars.env names for what its base-stack-config.yaml reads (Domain.Name, HostedZoneId).
DOMAIN_VARIABLE, ZONE_VARIABLE = "DOMAIN_NAME", "HOSTED_ZONE_ID"
# pyaml-env's syntax: ${VAR} or ${VAR:default} (default separator ':').
_ENV_REFERENCE = re.compile(r"\$\{(?P<name>[^}{:]+)(?::(?P<default>[^}]*))?\}")
# A variable or environment name with one of these words holds a secret (SERVER_PASS, RCON_PASSWORD, API_KEY).
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASS", "PASSWD", "PWD", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS"}
)
_SECRET_PARTS = ("PASSWORD", "SECRET", "TOKEN", "APIKEY")
MAX_ID_LENGTH = 32


@dataclass(frozen=True)
class SecretToStore:
    """One ``Container.Secrets`` entry the import created, and the variable its value is read from."""

    env_name: str  # the container's variable, e.g. SERVER_PASSWORD
    name: str  # the SSM name under /container-manager/<id>/, e.g. server-password
    variable: str | None  # the older file's ${VAR}; None when the value was composed of several parts
    variable_set: bool

    def command(self, container_id: str, region: str) -> str:
        """The `cm secrets put` line that stores this secret in the container's region."""
        where = f"{container_id} {self.name}"
        if self.variable is None:
            return f"cm secrets put {where} --region {region}   # then type the value (stdin, not echoed)"
        return f"cm secrets put {where} --from-env {self.variable} --region {region}"


@dataclass
class ImportResult:
    config: ContainerConfig
    text: str
    notes: list[str] = field(default_factory=list)
    secrets: list[SecretToStore] = field(default_factory=list)


def is_secret_name(*names: str) -> bool:
    """True when any of ``names`` (an environment or variable name) looks like it holds a secret."""
    for name in names:
        upper = name.upper()
        if _SECRET_WORDS & set(re.split(r"[^A-Z0-9]+", upper)) or any(p in upper for p in _SECRET_PARTS):
            return True
    return False


def dns_safe_id(stem: str) -> str:
    """The older tool's file-name id -> one DNS label: ``Minecraft.java.example`` -> ``minecraft-java``."""
    base = re.sub(r"[._-]example$", "", stem, flags=re.IGNORECASE)
    return _label(base, MAX_ID_LENGTH) or "server"


def dns_safe_volume_id(volume_id: str) -> str:
    """``Data`` -> ``data``, ``DownloadCache`` -> ``download-cache``, ``1Saves`` -> ``v-1-saves``."""
    split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", volume_id)
    label = _label(split, MAX_ID_LENGTH) or "data"
    return label if label[0].isalpha() else _label(f"v-{label}", MAX_ID_LENGTH)


def _label(text: str, limit: int) -> str:
    label = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return label[:limit].rstrip("-")


class _Importer:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.secrets: list[SecretToStore] = []

    # ----- comments

    @staticmethod
    def comment(mapping: CommentedMap, key: str, text: str) -> None:
        """Add ``cm import: text`` to the line of ``key``, after any comment already there."""
        note = f"cm import: {text}"
        existing = mapping.ca.items.get(key)
        token = existing[2] if existing and len(existing) > 2 else None
        if token is not None:
            # The token holds the line's own comment (maybe none) and the full comment lines after it.
            first, newline, rest = token.value.partition("\n")
            own = f"{first.rstrip()} - {note}" if first.strip().startswith("#") else f"  # {note}"
            token.value = f"{own}{newline or chr(10)}{rest}"
        else:
            mapping.yaml_add_eol_comment(note, key)

    @staticmethod
    def delete(mapping: CommentedMap, key: str) -> None:
        """Delete ``key``; full comment lines that followed its line stay, after the line before it."""
        keys = list(mapping)
        position = keys.index(key)
        existing = mapping.ca.items.pop(key, None)
        del mapping[key]
        token = existing[2] if existing and len(existing) > 2 else None
        if token is None or position == 0 or "\n" not in token.value.rstrip("\n"):
            return
        previous = mapping.ca.items.get(keys[position - 1])
        if previous and len(previous) > 2 and previous[2] is not None:
            previous[2].value = previous[2].value.rstrip("\n") + "\n" + token.value.split("\n", 1)[1]

    @staticmethod
    def move_blank_line(before: CommentedMap, after: CommentedMap) -> None:
        """A blank line that ended ``before`` (the Environment block) now ends ``after`` (Secrets, inserted
        below it), so the blank stays before the next section."""
        last = list(before)[-1] if before else None
        token = before.ca.items.get(last, [None] * 4)[2] if last is not None else None
        following = after.ca.items.get(list(after)[-1], [None] * 4)[2]
        if token is not None and following is not None and token.value.endswith("\n\n"):
            token.value = token.value[:-1]
            following.value = following.value.rstrip("\n") + "\n\n"

    # ----- !ENV

    def env_value(self, where: str, raw: str) -> str | None:
        """A plain ``!ENV`` value read now; None (and a problem) when a variable is unset without a default."""
        missing = []

        def substitute(match: re.Match[str]) -> str:
            name, default = match["name"], match["default"]
            value = self.environ.get(name)
            if value is None:
                if default is None:
                    missing.append(name)
                    return ""
                return default
            return value

        value = _ENV_REFERENCE.sub(substitute, raw)
        for name in missing:
            self.problems.append(
                f"{where}: `{OLDER_TOOL_ENV_TAG} {raw}` reads environment variable {name}, which is not set; "
                f"export {name} (the older tool's vars.env sets it) and run cm import again"
            )
        return None if missing else value

    def resolve(self, node: Any, where: list[str]) -> None:
        """Replace every ``!ENV`` scalar below ``node`` (Container.Environment is handled by ``environment``)."""
        if isinstance(node, CommentedMap):
            for key in list(node):
                value = node[key]
                path = [*where, str(key)]
                if isinstance(value, TaggedScalar):
                    self.tagged(node, key, value, path)
                else:
                    self.resolve(value, path)
        elif isinstance(node, CommentedSeq):
            for index, item in enumerate(node):
                if isinstance(item, TaggedScalar):
                    self.problems.append(
                        f"{'.'.join(where)}[{index}]: a tagged value inside a list is not supported"
                    )
                else:
                    self.resolve(item, [*where, f"[{index}]"])

    def tagged(self, mapping: CommentedMap, key: str, value: TaggedScalar, path: list[str]) -> None:
        where = ".".join(path)
        tag = str(value.tag.value if hasattr(value.tag, "value") else value.tag)
        if tag != OLDER_TOOL_ENV_TAG:
            self.problems.append(f"{where}: the YAML tag {tag} is not one the older tool reads; remove it")
            return
        raw = str(value.value)
        resolved = self.env_value(where, raw)
        if resolved is not None:
            mapping[key] = resolved
            names = ", ".join(f"${m['name']}" for m in _ENV_REFERENCE.finditer(raw)) or "nothing"
            self.comment(mapping, key, f"read from {names} at import (was {OLDER_TOOL_ENV_TAG} {raw})")

    def environment(self, container: CommentedMap, container_id: str, region: str) -> None:
        environment = container.get("Environment")
        if not isinstance(environment, CommentedMap):
            return
        secrets = CommentedMap()
        for key in list(environment):
            value = environment[key]
            if (
                not isinstance(value, TaggedScalar)
                or str(getattr(value.tag, "value", value.tag)) != OLDER_TOOL_ENV_TAG
            ):
                continue
            raw = str(value.value)
            references = list(_ENV_REFERENCE.finditer(raw))
            variables = [m["name"] for m in references]
            if not is_secret_name(str(key), *variables):
                continue
            name = _label(str(key).replace("_", "-"), 200) or "secret"
            single = variables[0] if len(references) == 1 and references[0].group(0) == raw.strip() else None
            secret = SecretToStore(str(key), name, single, single is not None and single in self.environ)
            self.secrets.append(secret)
            self.delete(environment, key)
            secrets[key] = name
            source = f"${single}" if single else f"the composed value {raw!r}"
            self.comment(
                secrets,
                key,
                f"was {OLDER_TOOL_ENV_TAG} {raw} - store it as a SecureString: {secret.command(container_id, region)}",
            )
            self.notes.append(
                f"Container.Environment.{key}: looks secret, so it is now Container.Secrets.{key} (SSM "
                f"/container-manager/{container_id}/{name}, read by the task at start); its value (from {source}) "
                "is not written anywhere - store it with the command below"
            )
        if secrets:
            position = list(container).index("Environment") + 1
            container.insert(position, "Secrets", secrets)
            self.move_blank_line(environment, secrets)

    # ----- the keys

    def convert(self, data: CommentedMap, container_id: str, region: str) -> None:
        for key in list(data):
            if key not in OLDER_KEYS:
                ours = key in ContainerConfig.model_fields
                self.problems.append(
                    f"{key}: not a key of an {OLDER_TOOL} leaf config"
                    + (
                        " (this file already looks like a Container Manager config: run `cm validate` on it)"
                        if ours
                        else f"; the older tool allows {', '.join(OLDER_KEYS)}"
                    )
                )
        ec2 = data.get("Ec2")
        if isinstance(ec2, CommentedMap) and isinstance(ec2.get("InstanceType"), str):
            self.lower(ec2, "InstanceType", "Ec2.InstanceType", "the older tool lower-cased it")
        container = data.get("Container")
        if isinstance(container, CommentedMap):
            self.environment(container, container_id, region)
            if isinstance(container.get("Image"), str):
                self.lower(container, "Image", "Container.Image", "the older tool deployed it lower-cased")
            self.ports(container.get("Ports"))
        self.volumes(data)
        self.watchdog(data.get("Watchdog"))
        self.alerts(data)
        self.dashboard(data.get("Dashboard"))
        self.resolve(data, [])

    def lower(self, mapping: CommentedMap, key: str, where: str, why: str) -> None:
        value = mapping[key]
        if value != value.lower():
            mapping[key] = value.lower()
            self.comment(mapping, key, f"was {value} ({why})")
            self.notes.append(f"{where}: {value!r} -> {value.lower()!r} ({why})")

    def ports(self, ports: Any) -> None:
        for index, port in enumerate(ports if isinstance(ports, CommentedSeq) else []):
            if not isinstance(port, CommentedMap):
                continue
            for key in list(port):
                value = port[key]
                upper = str(key).upper()
                number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
                if upper != key or number is not value:
                    position = list(port).index(key)
                    del port[key]
                    port.insert(position, upper, number)
                    self.notes.append(
                        f"Container.Ports[{index}].{key}: written {upper}: {number} (the older tool converted it)"
                    )

    def volumes(self, data: CommentedMap) -> None:
        volumes = data.get("Volumes")
        if not isinstance(volumes, CommentedMap):
            return
        taken: set[str] = set()
        defaulted = []
        for position, old_id in enumerate(list(volumes)):
            volume = volumes[old_id]
            new_id = dns_safe_volume_id(str(old_id))
            while new_id in taken:
                new_id = f"{new_id[: MAX_ID_LENGTH - 2]}-{len(taken) + 1}"
            taken.add(new_id)
            if isinstance(volume, CommentedMap):
                kind = volume.get("Type")
                if "Type" in volume:
                    if str(kind).upper() != "EFS":
                        self.problems.append(
                            f"Volumes.{old_id}.Type: {kind!r}; the older tool and this project only know EFS"
                        )
                    self.delete(volume, "Type")
                    self.notes.append(f"Volumes.{old_id}.Type: dropped - every volume here is EFS")
                missing = [k for k in ("EnableBackups", "KeepOnDelete") if k not in volume]
                if missing:
                    defaulted.append(f"Volumes.{new_id}")
            if new_id != old_id:
                comment = volumes.ca.items.pop(old_id, None)
                del volumes[old_id]
                volumes.insert(position, new_id, volume)
                if comment is not None:
                    volumes.ca.items[new_id] = comment
                self.comment(volumes, new_id, f"was {old_id} (volume ids here are DNS-safe)")
                self.notes.append(
                    f"Volumes.{old_id} -> Volumes.{new_id}: volume ids here are lower-case DNS labels"
                )
        if defaulted:
            self.notes.append(
                f"{', '.join(defaulted)}: EnableBackups and KeepOnDelete default to true here, as with the older "
                "tool's prod maturity (its devel maturity defaulted them to false: write them if you used it)"
            )
        self.notes.append(
            "Volumes: this project makes its own EFS file systems; to keep a world, copy it from the older "
            "stack's file system (kept when KeepOnDelete was true) - docs/configuration.md, "
            "Coming from AWS-ContainerManager"
        )

    def watchdog(self, watchdog: Any) -> None:
        if not isinstance(watchdog, CommentedMap):
            return
        if "Threshold" in watchdog:
            self.notes.append(
                "Watchdog.Threshold: the older tool stopped the server when traffic stayed under it; here an agent "
                "counts players (Watchdog.Mode connections, the default) and the threshold is only the fallback "
                "when the agent is silent - write `Mode: traffic` for the older behaviour (docs/watchdog.md)"
            )
        minutes = watchdog.get("MinutesWithoutConnections")
        if isinstance(minutes, int) and not isinstance(minutes, bool):
            low, high = IDLE_MINUTES_RANGE
            fixed = min(max(minutes, low), high)
            if fixed != minutes:
                watchdog["MinutesWithoutConnections"] = fixed
                self.comment(watchdog, "MinutesWithoutConnections", f"was {minutes} (allowed {low}-{high})")
                self.notes.append(
                    f"Watchdog.MinutesWithoutConnections: {minutes} -> {fixed} (allowed {low}-{high})"
                )
        left_up = watchdog.get("InstanceLeftUp")
        hours = left_up.get("DurationHours") if isinstance(left_up, CommentedMap) else None
        if isinstance(left_up, CommentedMap) and isinstance(hours, int) and not isinstance(hours, bool):
            fixed = min((h for h in LEFT_UP_HOURS if h >= hours), default=LEFT_UP_HOURS[-1])
            if fixed != hours:
                left_up["DurationHours"] = fixed
                self.comment(left_up, "DurationHours", f"was {hours} (CloudWatch allows these windows only)")
                self.notes.append(
                    f"Watchdog.InstanceLeftUp.DurationHours: {hours} -> {fixed} (allowed: "
                    f"{', '.join(map(str, LEFT_UP_HOURS))})"
                )

    def alerts(self, data: CommentedMap) -> None:
        alerts = data.get("AlertSubscription")
        if isinstance(alerts, CommentedMap) and alerts.get("Email", "") is None:
            self.delete(data, "AlertSubscription")
            self.notes.append("AlertSubscription: Email was empty; left out")

    def dashboard(self, dashboard: Any) -> None:
        if isinstance(dashboard, CommentedMap) and "ShowContainerLogTimestamp" in dashboard:
            self.delete(dashboard, "ShowContainerLogTimestamp")
            self.notes.append(
                "Dashboard.ShowContainerLogTimestamp: dropped - the dashboard here has no such switch"
            )


def import_config(
    text: str,
    *,
    source: str,
    stem: str,
    environ: Mapping[str, str],
    domain: str | None = None,
    zone: str | None = None,
    container_id: str | None = None,
    region: str | None = None,
) -> ImportResult:
    """Convert the older tool's leaf config ``text`` (file name ``stem``); raises ConfigError listing every
    problem (an unset variable, a key the older tool does not have, a result that would not validate)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # keep long lines (URLs in comments, MOTDs) as they were
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        data = yaml.load(text)
    except YAMLError as error:
        raise ConfigError(source, [f"not valid YAML: {error}"]) from error
    if not isinstance(data, CommentedMap):
        raise ConfigError(
            source, [f"the file must be a mapping of keys (Ec2:, Container: ...), not {type(data).__name__}"]
        )
    importer = _Importer(environ)
    new_id = container_id or dns_safe_id(stem)
    if container_id is None and new_id != stem:
        importer.notes.append(
            f"Id: {new_id!r} from the file name {stem!r} (the older tool served {stem.lower()}.<domain>; an id "
            "here is one DNS label, so the server answers at "
            f"{new_id}.<domain>) - pass --id to choose another"
        )
    importer.convert(data, new_id, region or EDGE_REGION)
    name, zone_id, where = _domain(domain, zone, environ)
    if name is None or zone_id is None:
        importer.problems.append(
            "Domain: the older tool kept the domain in base-stack-config.yaml, not in this file; pass --domain "
            f"example.com --zone Z0123... (or export {DOMAIN_VARIABLE} and {ZONE_VARIABLE} as its vars.env did)"
        )
    if importer.problems:
        raise ConfigError(source, importer.problems)
    data.insert(0, "Id", new_id)
    data.insert(1, "Domain", CommentedMap([("Name", name), ("ParentHostedZoneId", zone_id)]))
    data.yaml_add_eol_comment(f"cm import: {where}", "Domain")
    if region:
        data.insert(2, "Region", region)
    else:
        importer.notes.append(
            f"Region: not written, so {EDGE_REGION}; the older tool deployed into your AWS_REGION/profile "
            "region - pass --region if that was another"
        )
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    header = [
        f"# Imported by `cm import` from {OLDER_TOOL} config {source}. Notes:",
        *(f"#  - {note}" for note in importer.notes),
        *(
            f"#  - store Container.Secrets.{s.env_name}: {s.command(new_id, region or EDGE_REGION)}"
            for s in importer.secrets
        ),
        "",
    ]
    converted = "\n".join(header) + buffer.getvalue()
    try:
        config = parse_config(converted, source=source, default_id=new_id)
    except ConfigError as error:
        raise ConfigError(
            source, [f"after conversion (keys as in the new file): {p}" for p in error.problems]
        ) from error
    return ImportResult(config, converted, importer.notes, importer.secrets)


def _domain(
    domain: str | None, zone: str | None, environ: Mapping[str, str]
) -> tuple[str | None, str | None, str]:
    if domain or zone:
        return domain, zone, "from --domain/--zone"
    name, zone_id = environ.get(DOMAIN_VARIABLE), environ.get(ZONE_VARIABLE)
    return name, zone_id, f"from ${DOMAIN_VARIABLE} and ${ZONE_VARIABLE} (the older tool's base-stack config)"


def default_output_name(container_id: str) -> str:
    if not CONTAINER_ID_PATTERN.match(container_id):
        return "imported.yaml"
    return f"{container_id}.yaml"
