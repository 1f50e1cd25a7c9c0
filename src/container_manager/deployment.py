"""What a deployed container consists of, read from its stacks: names, zone, ports, functions.

`cm selftest` and `cm timeline` start here. The container stack lives in the container's region; the edge part
(sub-zone, query log, start-system) in us-east-1 - in the same stack (``DeployPart=all``) or in
``container-manager-<id>-edge``. Everything else follows from the id by the templates' deterministic names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from container_manager.aws import Aws
from container_manager.errors import NotFoundError, call
from container_manager.names import EDGE_REGION, PLACEHOLDER_IP, log_group, stack_name
from container_manager.operations import Target

# template.yaml: Globals sets CONTAINER_ID on every function, each function its POWERTOOLS_SERVICE_NAME; SAM
# generates the function names, so these two variables are how a function of this container is recognised
# (tests/templates pin them to the template).
FUNCTION_ID_VARIABLE = "CONTAINER_ID"
FUNCTION_ROLE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
START_SYSTEM = "start-system"
INSTANCE_STATE_CHANGE = "instance-state-change"
CRASH_LOOP_BREAKER = "crash-loop-breaker"


@dataclass(frozen=True)
class Port:
    protocol: str  # tcp | udp
    number: int


@dataclass(frozen=True)
class Deployment:
    container_id: str
    region: str  # the container's
    server_name: str  # <id>.<domain>
    zone_id: str | None  # the sub-zone
    parent_zone_id: str | None
    ports: tuple[Port, ...]
    stacks: tuple[tuple[str, str, str], ...]  # (name, region, status)
    placeholder: str = PLACEHOLDER_IP

    @property
    def name(self) -> str:
        """Group, cluster and container stack name."""
        return stack_name(self.container_id)

    @property
    def query_log_group(self) -> str:
        return f"/aws/route53/{self.server_name}"  # infra/dns.yaml QueryLogGroup

    def log_group(self, source: str) -> str:
        return log_group(self.container_id, source)

    def function_region(self, function: str) -> str:
        return EDGE_REGION if function == START_SYSTEM else self.region

    @property
    def start_filter_pattern(self) -> str:
        """template.yaml StartSystemFunction's FilterPattern for A queries (tests pin it to the template): the
        query type alone, since the name's letter case may be DNS-0x20-randomised; callers judge the name."""
        return '" A "'


def _stack(clients: Aws, name: str, region: str) -> dict[str, Any] | None:
    try:
        found = clients.cloudformation(region).describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise
    live = [dict(s) for s in found if s.get("StackStatus") != "DELETE_COMPLETE"]
    return live[0] if live else None


def _outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def _parameters(stack: dict[str, Any] | None) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters", [])}


def parse_ports(activity_ports: str, game_port: str) -> tuple[Port, ...]:
    """``tcp/25565 udp/19132`` (the ActivityPorts parameter cm render writes), else ``tcp/<GamePort>``."""
    items = activity_ports.split() or ([f"tcp/{game_port}"] if game_port else [])
    ports = []
    for item in items:
        protocol, _, number = item.partition("/")
        if protocol in ("tcp", "udp") and number.isdigit():
            ports.append(Port(protocol, int(number)))
    return tuple(ports)


def discover(clients: Aws, target: Target) -> Deployment:
    main = call("reading the stack", target.region, lambda: _stack(clients, target.name, target.region))
    if main is None:
        raise NotFoundError(
            f"container {target.container_id!r} is not deployed in {target.region} (no stack {target.name})",
            hint="check the id and --region (`cm list`), or deploy it: `cm deploy <file>`",
        )
    edge: dict[str, Any] | None = main
    stacks = [(target.name, target.region, str(main["StackStatus"]))]
    if target.region != EDGE_REGION:
        edge = call(
            "reading the edge stack", EDGE_REGION, lambda: _stack(clients, target.edge_stack, EDGE_REGION)
        )
        edge = edge or {}
        stacks.append((target.edge_stack, EDGE_REGION, str(edge.get("StackStatus", "not found"))))
    main_params, edge_params = _parameters(main), _parameters(edge)
    server_name = _outputs(main).get("ServerName") or _outputs(edge).get("ServerName")
    if not server_name:
        raise NotFoundError(
            f"stack {target.name} has no ServerName output (not a Container Manager stack?)",
            hint="redeploy with `cm deploy <file>`",
        )
    return Deployment(
        container_id=target.container_id,
        region=target.region,
        server_name=server_name,
        zone_id=_outputs(edge).get("HostedZoneId") or main_params.get("HostedZoneId") or None,
        parent_zone_id=edge_params.get("ParentHostedZoneId") or None,
        ports=parse_ports(main_params.get("ActivityPorts", ""), main_params.get("GamePort", "")),
        stacks=tuple(stacks),
    )


def find_function(clients: Aws, deployment: Deployment, function: str) -> dict[str, Any] | None:
    """The configuration of this container's ``function`` (start-system, ...), or None."""
    region = deployment.function_region(function)
    paginator = clients.lambda_(region).get_paginator("list_functions")
    for page in call("listing functions", region, lambda: list(paginator.paginate())):
        for config in page["Functions"]:
            variables = config.get("Environment", {}).get("Variables", {})
            if (
                variables.get(FUNCTION_ID_VARIABLE) == deployment.container_id
                and variables.get(FUNCTION_ROLE_VARIABLE) == function
            ):
                return dict(config)
    return None
