"""Read a function's environment once, into typed values, reporting every problem at once.

Each function describes its settings with an ``EnvReader``; ``finish()`` raises a ``ConfigError`` that names
every missing or invalid variable, its bad value and how to fix it, so a broken deploy fails at cold start
with one readable message instead of at the first event.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

# Copies of the template's parameter rules (ContainerRegion, HostedZoneId, ContainerId; cm's config model has the
# same): this bundle cannot import the CLI package, so tests/templates/test_rules_agree.py keeps them in step.
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
HOSTED_ZONE_ID_RE = re.compile(r"^Z[A-Z0-9]{1,31}$")
CONTAINER_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
ASG_NAME_RE = re.compile(r"^[\w\-.:/@+=]{1,255}$")
# A full name (<id>.<domain>): the DomainName rule's labels, up to DNS's 253 characters.
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ECS_CLUSTER_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}$")
METRIC_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/#:]{1,255}$")
# Documented EC2 instance ids: "i-" and 8 (old) or 17 hex digits (match with fullmatch).
INSTANCE_ID_RE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
DNS_QUERY_TYPES = frozenset({"A", "AAAA", "ANY", "CNAME", "HTTPS", "SVCB", "SRV", "TXT", "MX", "NS", "SOA"})


class ConfigError(Exception):
    """The function's environment is unusable; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid function configuration:\n  - " + "\n  - ".join(problems))


def normalize_dns_name(name: str) -> str:
    """DNS names compare case-insensitively and may carry the root's trailing dot."""
    return name.strip().rstrip(".").lower()


class EnvReader:
    """Collects typed values from an environment mapping; ``finish()`` reports all problems together."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._problems: list[str] = []

    def _raw(self, name: str, default: str | None, fix: str) -> str | None:
        value = self._env.get(name, "").strip()
        if value:
            return value
        if default is not None:
            return default
        self._problems.append(f"{name} is missing or empty: {fix}")
        return None

    def _convert(self, name: str, raw: str | None, convert: Callable[[str], T], fix: str, fallback: T) -> T:
        if raw is None:
            return fallback
        try:
            return convert(raw)
        except ValueError as exc:
            self._problems.append(f"{name}={raw!r} is invalid ({exc}): {fix}")
            return fallback

    def text(self, name: str, *, pattern: re.Pattern[str], fix: str, default: str | None = None) -> str:
        def check(raw: str) -> str:
            if not pattern.fullmatch(raw):
                raise ValueError(f"does not match {pattern.pattern}")
            return raw

        return self._convert(name, self._raw(name, default, fix), check, fix, "")

    def dns_name(self, name: str, *, fix: str) -> str:
        def check(raw: str) -> str:
            normalized = normalize_dns_name(raw)
            if not DNS_NAME_RE.fullmatch(normalized):
                raise ValueError("not a fully qualified DNS name")
            return normalized

        return self._convert(name, self._raw(name, None, fix), check, fix, "")

    def integer(self, name: str, *, low: int, high: int, fix: str, default: int | None = None) -> int:
        def check(raw: str) -> int:
            number = int(raw)
            if not low <= number <= high:
                raise ValueError(f"must be between {low} and {high}")
            return number

        raw = self._raw(name, None if default is None else str(default), fix)
        return self._convert(name, raw, check, fix, low)

    def ipv4(self, name: str, *, fix: str, default: str | None = None) -> str:
        def check(raw: str) -> str:
            return str(ipaddress.IPv4Address(raw))

        return self._convert(name, self._raw(name, default, fix), check, fix, "")

    def words(self, name: str, *, allowed: frozenset[str], fix: str, default: str) -> tuple[str, ...]:
        def check(raw: str) -> tuple[str, ...]:
            items = tuple(dict.fromkeys(w.upper() for w in re.split(r"[\s,]+", raw) if w))
            unknown = [w for w in items if w not in allowed]
            if unknown or not items:
                raise ValueError(f"unknown value(s) {unknown}; allowed: {sorted(allowed)}")
            return items

        return self._convert(name, self._raw(name, default, fix), check, fix, ())

    # The two variables every function reads, read the same way everywhere.
    def container_id(self) -> str:
        return self.text("CONTAINER_ID", pattern=CONTAINER_ID_RE, fix="set the container id, e.g. minecraft")

    def asg_name(self) -> str:
        return self.text("ASG_NAME", pattern=ASG_NAME_RE, fix="set the Auto Scaling group name")

    def finish(self) -> None:
        if self._problems:
            raise ConfigError(self._problems)
