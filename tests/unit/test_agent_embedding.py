"""Activity agent on the instance: the launch template's user data installs exactly agent/cm_activity_agent.py.

Given infra/compute.yaml, when its embedded agent is decoded, then it equals the repository file byte for
byte (one source: `python agent/embed.py` rewrites the block); the whole user data stays under EC2's 16 KB;
and the agent's namespace, metric and ports agree with the instance role and the watchdog's alarms.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import embed  # agent/embed.py (agent/ is on the test path)
from container_manager.cfn import load_template
from support.user_data import COMPUTE, user_data_text

ROOT = Path(__file__).resolve().parents[2]
WATCHDOG = ROOT / "infra" / "watchdog.yaml"
USER_DATA_LIMIT = 16 * 1024  # EC2: user data, before base64 encoding


def test_embedded_agent_equals_the_repository_file() -> None:
    assert embed.embedded(COMPUTE.read_text(encoding="utf-8")) == embed.AGENT.read_bytes(), (
        "infra/compute.yaml embeds an older agent: run `python agent/embed.py`"
    )


def test_embed_round_trip_detects_drift() -> None:
    text = COMPUTE.read_text(encoding="utf-8")
    changed = embed.rewrite(text, b"print('another agent')\n")
    assert embed.embedded(changed) == b"print('another agent')\n"
    assert embed.main(["--check"]) == 0
    assert embed.rewrite(text, embed.AGENT.read_bytes()) == text  # rewriting the current agent is a no-op


def test_agent_never_contains_a_sub_placeholder() -> None:
    # the block is inside !Sub: "${" in the agent would be substituted (it is base64 now, but keep it safe)
    assert "${" not in embed.AGENT.read_text(encoding="utf-8")


def test_user_data_fits_ec2_limit_with_long_values() -> None:
    # every ${...} resolved to a long value: ids, ARNs and a 50-port list
    longest = {"ActivityPorts": " ".join(f"udp/{60000 + i}" for i in range(50))}
    resolved = re.sub(r"\$\{([^}!]+)\}", lambda m: longest.get(m[1], "x" * 64), user_data_text())
    size = len(resolved.encode())
    assert size < USER_DATA_LIMIT, f"user data is {size} bytes, EC2 allows {USER_DATA_LIMIT}"
    assert size < USER_DATA_LIMIT - 3 * 1024, (
        f"user data is {size} bytes: under 3 KB left for the volumes list"
    )


def test_agent_runs_only_in_connections_mode_every_minute_mid_minute() -> None:
    text = user_data_text()
    assert 'if [ "${WatchdogMode}" = connections ]; then' in text
    assert "OnCalendar=*:*:30" in text  # one datapoint per 1-minute bucket, away from its edges
    assert "CM_PORTS=${ActivityPorts}" in text
    assert "CM_STARTUP_GRACE_MINUTES=${StartupGraceMinutes}" in text
    assert "CM_REGION=${AWS::Region}" in text  # the container's region: the alarms read it there
    # installed before the cluster is joined: it reports the grace while the game boots
    assert text.index("cm-activity-agent.timer") < text.index("ECS_CLUSTER=")


def _env_file(text: str) -> dict[str, str]:
    body = text.split("activity-agent.env <<EOF\n", 1)[1].split("\nEOF", 1)[0]
    return dict(line.split("=", 1) for line in body.splitlines())


def _players_metric(doc: dict[str, Any]) -> dict[str, Any]:
    for item in doc["Resources"]["AgentSilentAlarm"]["Properties"]["Metrics"]:
        if item["Id"] == "players":
            return dict(item["MetricStat"]["Metric"])
    pytest.fail("AgentSilentAlarm reads no players metric")


def test_agent_role_and_alarms_agree_on_the_metric() -> None:
    agent_env = _env_file(user_data_text())
    watchdog = load_template(WATCHDOG)
    metric = _players_metric(watchdog)
    prefix = watchdog["Parameters"]["PlayersMetricNamespacePrefix"]["Default"]
    assert agent_env["CM_NAMESPACE"] == f"{prefix}/${{ContainerId}}"
    assert metric["Namespace"] == {"Fn::Sub": "${PlayersMetricNamespacePrefix}/${ContainerId}"}
    assert agent_env["CM_METRIC_NAME"] == watchdog["Parameters"]["PlayersMetricName"]["Default"]
    assert metric["Dimensions"] == [{"Name": "ContainerId", "Value": {"Ref": "ContainerId"}}]

    role = load_template(COMPUTE)["Resources"]["InstanceRole"]["Properties"]["Policies"][0]
    statements = [s["Fn::If"][1] for s in role["PolicyDocument"]["Statement"] if "Fn::If" in s]
    (put,) = [s for s in statements if s.get("Action") == "cloudwatch:PutMetricData"]
    assert put["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": {"Fn::Sub": agent_env["CM_NAMESPACE"]}}
    }
