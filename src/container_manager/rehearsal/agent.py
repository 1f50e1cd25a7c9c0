"""The activity agent on each simulated instance, played from what the launch template's user data installs.

The deployed launch template's user data (resolved, base64) is decoded; when it installs the agent (watchdog
mode ``connections``), its environment file gives the namespace, metric, ports and startup grace, and the
embedded agent itself - the very bytes an instance would run - is loaded. Once a minute, for each instance up
for a minute or more (user data done), the agent's own ``decide`` turns the simulated player counts into the
value and its own ``metric_body`` into the PutMetricData request, which goes to moto's CloudWatch. Only ``ss``
and connection tracking are simulated: the scenario says how many players are connected over TCP and UDP
(``Players``) or that the agent is silent (``AgentSilent``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import sys
import types
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from container_manager.rehearsal.world import GroupSpec, World

AGENT_BOOT_SECONDS = 60  # user data installs the agent about a minute after the instance starts booting


@dataclass
class Installed:
    env: dict[str, str]
    module: types.ModuleType


def installed_agent(user_data: str) -> Installed | None:
    """The agent and its environment from base64 user data, or None when the user data does not install it."""
    text = base64.b64decode(user_data).decode()
    if 'if [ "connections" = connections ]' not in text:
        return None
    env_body = text.split("activity-agent.env <<EOF\n", 1)[1].split("\nEOF", 1)[0]
    env = dict(line.split("=", 1) for line in env_body.splitlines())
    heredoc = text.split("<<'AGENT'\n", 1)[1].split("\nAGENT\n", 1)[0]
    source = gzip.decompress(base64.b64decode("".join(heredoc.split()))).decode()
    # a module of its own per agent version (dataclasses look their module up in sys.modules)
    name = "cm_activity_agent_deployed_" + hashlib.sha256(source.encode()).hexdigest()[:12]
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, "<user data: cm_activity_agent.py>", "exec"), module.__dict__)  # noqa: S102 - our agent
    return Installed(env, module)


@dataclass
class ActivityAgent:
    world: World
    autoscaling: Any  # aws_parts.AutoScaling (imported there; avoids a cycle)
    tcp: int = 0
    udp: int = 0
    silent: bool = False
    published: list[tuple[str, float]] = field(default_factory=list)  # (instance id, value)
    _installed: dict[str, Installed | None] = field(default_factory=dict)

    def agent_for(self, group: GroupSpec) -> Installed | None:
        if group.launch_template_id not in self._installed:
            data = self.world.launch_templates.get(group.launch_template_id, {})
            user_data = data.get("UserData")
            self._installed[group.launch_template_id] = installed_agent(str(user_data)) if user_data else None
        return self._installed[group.launch_template_id]

    def publish(self) -> None:
        now = self.world.clock.now
        for group in self.world.groups.values():
            agent = self.agent_for(group)
            if agent is None or self.silent:
                continue
            ports = agent.module.parse_ports(agent.env["CM_PORTS"])
            tcp = self.tcp if ports.tcp else 0
            udp = self.udp if ports.udp else 0
            grace = int(agent.env["CM_STARTUP_GRACE_MINUTES"]) * 60
            for instance in self.autoscaling.active(group):
                uptime = (now - instance.launched_at).total_seconds() - 30  # it runs at :30 of the minute
                if uptime < AGENT_BOOT_SECONDS:
                    continue
                value = agent.module.decide(tcp, udp, ports, uptime, grace)
                if value is None:
                    continue
                stamp = now - timedelta(seconds=30)
                self._put(
                    group.region,
                    dict(urllib.parse.parse_qsl(agent.module.metric_body(agent.env, value, stamp))),
                )
                self.published.append((instance.instance_id, float(value)))

    def _put(self, region: str, fields: dict[str, str]) -> None:
        prefix = "MetricData.member.1."
        datum = {
            "MetricName": fields[prefix + "MetricName"],
            "Dimensions": [
                {
                    "Name": fields[prefix + "Dimensions.member.1.Name"],
                    "Value": fields[prefix + "Dimensions.member.1.Value"],
                }
            ],
            "Value": float(fields[prefix + "Value"]),
            "Unit": fields[prefix + "Unit"],
            "Timestamp": self.world.clock.now - timedelta(seconds=30),
        }
        self.world.client("cloudwatch", region).put_metric_data(
            Namespace=fields["Namespace"], MetricData=[datum]
        )
