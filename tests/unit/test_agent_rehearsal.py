"""The rehearsal's activity agent (container_manager.rehearsal.agent) runs what the user data installs.

Given infra/compute.yaml's user data resolved for a mode, when the rehearsal decodes it, then in mode
connections it finds the embedded agent - byte for byte agent/cm_activity_agent.py's logic - and the
environment the instance would get; in mode traffic it finds no agent.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import cm_activity_agent
from container_manager.cfn import load_template
from container_manager.rehearsal.agent import installed_agent

ROOT = Path(__file__).resolve().parents[2]


def user_data(mode: str) -> str:
    data = load_template(ROOT / "infra" / "compute.yaml")["Resources"]["LaunchTemplate"]["Properties"]
    text = data["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    values = {
        "WatchdogMode": mode,
        "ContainerId": "factorio",
        "AWS::Region": "eu-west-1",
        "ActivityPorts": "udp/34197",
        "StartupGraceMinutes": "10",
    }
    resolved = re.sub(r"\$\{([^}!]+)\}", lambda m: values.get(m[1], f"sample-{m[1]}"), text)
    return base64.b64encode(resolved.encode()).decode()


def test_connections_mode_installs_the_repository_agent_with_its_environment() -> None:
    installed = installed_agent(user_data("connections"))
    assert installed is not None
    assert installed.env == {
        "CM_CONTAINER_ID": "factorio",
        "CM_REGION": "eu-west-1",
        "CM_NAMESPACE": "ContainerManager/Agent/factorio",
        "CM_METRIC_NAME": "Players",
        "CM_PORTS": "udp/34197",
        "CM_STARTUP_GRACE_MINUTES": "10",
        "CM_UDP_RECENT_SECONDS": "60",
    }
    ports = installed.module.parse_ports("udp/34197")
    for args in [(0, 3, 3600), (0, 0, 3600), (0, 0, 30), (None, None, 3600)]:
        tcp, udp, uptime = args
        expected = cm_activity_agent.decide(tcp, udp, cm_activity_agent.parse_ports("udp/34197"), uptime, 600)
        assert installed.module.decide(tcp, udp, ports, uptime, 600) == expected


def test_traffic_mode_installs_no_agent() -> None:
    assert installed_agent(user_data("traffic")) is None
