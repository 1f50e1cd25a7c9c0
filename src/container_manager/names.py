"""The names and fixed values of a deployed container, each written once for `cm` (config, render, operations).

The templates make these names when they deploy; this module is the CLI's one copy of each, and
tests/templates/test_rules_agree.py pins every one to the template that makes it. The Lambda bundle cannot
import this package: where it needs a name it reads it from its environment (set by the template), and the
few rules it keeps itself (functions/cm_common) are pinned by the same test.
"""

from __future__ import annotations

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
CONTAINER_LOG = "container"  # infra/compute.yaml ContainerLogGroup
# template.yaml's function log groups
FUNCTION_LOGS = ("start-system", "instance-state-change", "crash-loop-breaker", "stop-server")
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
    """The log group of the container (``container``) or of one function (its FUNCTION_LOGS name)."""
    return f"/{PROJECT}/{container_id}/{source}"


def parameter_prefix(container_id: str) -> str:
    """The SSM Parameter Store path the task may read secrets under (infra/compute.yaml execution role)."""
    return f"/{PROJECT}/{container_id}/"


def secret_prefix(container_id: str) -> str:
    """The Secrets Manager name prefix the task may read (infra/compute.yaml execution role)."""
    return f"{PROJECT}/{container_id}/"
