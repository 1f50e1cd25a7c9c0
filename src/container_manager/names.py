"""The names and fixed values of a deployed container, each written once for `cm` (config, render, operations).

The templates make these names when they deploy; this module is the CLI's one copy of each, and
tests/templates/test_rules_agree.py pins every one to the template that makes it. The Lambda bundle cannot
import this package: where it needs a name it reads it from its environment (set by the template), and the
few rules it keeps itself (functions/cm_common) are pinned by the same test.
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "container-manager"
# A public zone's query log group "must be in the us-east-1 region" (Route 53 API Reference,
# CreateQueryLoggingConfig): the sub-zone, its query log and start-system live there, whatever the region.
EDGE_REGION = "us-east-1"
# What the A record holds while the server is stopped (template.yaml Mappings Names.Dns.PlaceholderIp).
PLACEHOLDER_IP = "0.0.0.0"  # noqa: S104 - a DNS value, not a bind address
# The knock: someone asked for the server (template.yaml Mappings Names.Metrics).
KNOCK_NAMESPACE = "ContainerManager"
KNOCK_METRIC = "DnsQueries"
KNOCK_DIMENSION = "ContainerId"
ALARM_SUFFIXES = ("idle", "left-up", "crash-loop")  # infra/watchdog.yaml AlarmName: <stack>-<suffix>


@dataclass(frozen=True)
class LogSource:
    """One log group of a container: what `cm logs` reads and `sam logs` tails (docs/sam.md).

    ``function`` is the Lambda function writing to it as `sam logs --name` addresses it (a nested stack's as
    ``Stack/Function``), empty for the container's own log. ``edge``: the group lives in us-east-1 with the
    DNS pieces (stack part all or edge); otherwise in the container's region (part all or container).
    tests/templates/test_sam_logs.py pins every row to the templates' LogGroupName and LoggingConfig.
    """

    name: str
    function: str
    edge: bool


LOG_SOURCES = (
    LogSource("container", "", edge=False),  # infra/compute.yaml ContainerLogGroup (ECS awslogs driver)
    LogSource("start-system", "StartSystemFunction", edge=True),
    LogSource("instance-state-change", "InstanceStateChangeFunction", edge=False),
    LogSource("crash-loop-breaker", "CrashLoopBreakerFunction", edge=False),
    LogSource("stop-server", "StopServerFunction", edge=False),
    LogSource("dns-record-reset", "Dns/RecordResetFunction", edge=True),  # infra/dns.yaml, on stack delete
)
CONTAINER_LOG = LOG_SOURCES[0].name
FUNCTION_LOGS = tuple(s.name for s in LOG_SOURCES if s.function)
ACCOUNT_STACK = f"{PROJECT}-account"  # samconfig.toml [account]: infra/account.yaml, not a container


def stack_tags(container_id: str) -> dict[str, str]:
    """The tags `cm deploy` puts on a container's stacks; `cm list` finds containers by them."""
    return {"project": PROJECT, "container-id": container_id}


def stack_name(container_id: str) -> str:
    """The container's stack, and the name of its Auto Scaling group, ECS cluster and alarms' prefix."""
    return f"{PROJECT}-{container_id}"


def edge_stack_name(container_id: str) -> str:
    """The us-east-1 stack of a container that lives in another region (DeployPart=edge)."""
    return f"{stack_name(container_id)}-edge"


def container_id_of(stack: str) -> str:
    """The id in a stack name (``container-manager-valheim-edge`` -> ``valheim``)."""
    return stack.removeprefix(f"{PROJECT}-").removesuffix("-edge")


def is_container_stack(stack: str) -> bool:
    return stack.startswith(f"{PROJECT}-") and stack != ACCOUNT_STACK


def log_group(container_id: str, source: str) -> str:
    """The one naming rule of every log group in LOG_SOURCES."""
    return f"/{PROJECT}/{container_id}/{source}"


def parameter_prefix(container_id: str) -> str:
    """The SSM Parameter Store path the task may read secrets under (infra/compute.yaml execution role)."""
    return f"/{PROJECT}/{container_id}/"


def secret_prefix(container_id: str) -> str:
    """The Secrets Manager name prefix the task may read (infra/compute.yaml execution role)."""
    return f"{PROJECT}/{container_id}/"
