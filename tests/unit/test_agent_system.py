"""Activity agent: reading the system (tools missing or failing), signing and publishing its one metric.

Given fake /proc trees and fake tool runners, when the agent measures, then a missing or failing tool makes a
zero untrustworthy (nothing is published) and never hides players it did count. Given credentials and a time,
when it signs PutMetricData, then the signature equals botocore's Signature Version 4 for the same request.
"""

from __future__ import annotations

import ast
import datetime
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cm_activity_agent import GRACE, Unreadable, measure, metric_body, read_conntrack, run_tool, sign

AGENT = Path(__file__).resolve().parents[2] / "agent" / "cm_activity_agent.py"
FIXTURES = Path(__file__).parent / "fixtures" / "agent"
NOW = datetime.datetime(2026, 11, 26, 14, 3, 30, tzinfo=datetime.timezone.utc)  # noqa: UP017 - agent is 3.9


def fake_proc(tmp_path: Path, uptime: float, conntrack: str | None) -> Path:
    (tmp_path / "sys/net/netfilter").mkdir(parents=True)
    (tmp_path / "net").mkdir()
    (tmp_path / "uptime").write_text(f"{uptime:.2f} 1234.56\n")
    (tmp_path / "sys/net/netfilter/nf_conntrack_udp_timeout_stream").write_text("120\n")
    if conntrack is not None:
        (tmp_path / "net/nf_conntrack").write_text(conntrack)
    return tmp_path


def runner(outputs: dict[str, str]) -> Callable[[list[str]], str]:
    """A tool runner answering from ``outputs`` by program name; a program not listed is not installed."""

    def run(args: list[str]) -> str:
        if args[0] not in outputs:
            raise Unreadable(f"{args[0]}: not installed")
        return outputs[args[0]]

    return run


def env(ports: str) -> dict[str, str]:
    return {"CM_PORTS": ports, "CM_STARTUP_GRACE_MINUTES": "10", "CM_UDP_RECENT_SECONDS": "60"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="ascii")


def test_tcp_game_measured_with_ss(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 3600, conntrack=None)
    assert measure(env("tcp/25565"), runner({"ss": fixture("ss-tcp-players.txt")}), str(proc)) == 5
    assert measure(env("tcp/25565"), runner({"ss": fixture("ss-no-players.txt")}), str(proc)) == 0


def test_udp_game_reads_proc_conntrack_first(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 3600, fixture("nf-conntrack-udp-players.txt"))
    assert measure(env("udp/34197"), runner({}), str(proc)) == 3  # neither ss nor conntrack needed


def test_udp_game_falls_back_to_the_conntrack_tool(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 3600, conntrack=None)
    run = runner({"conntrack": fixture("conntrack-cli-udp-players.txt")})
    assert measure(env("udp/34197"), run, str(proc)) == 1


def test_mixed_game(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 3600, fixture("nf-conntrack-udp-players.txt"))
    run = runner({"ss": fixture("ss-tcp-players.txt")})
    assert measure(env("tcp/25565 udp/34197"), run, str(proc)) == 8


@pytest.mark.parametrize(
    ("ports", "tools", "conntrack", "expected"),
    [
        ("tcp/25565", {}, None, None),  # ss missing
        ("udp/34197", {}, None, None),  # no /proc table and no conntrack tool
        ("udp/34197", {"conntrack": "udp 17 junk\n"}, None, None),  # unreadable tool output
        ("tcp/25565 udp/34197", {}, fixture("nf-conntrack-udp-players.txt"), 3),  # players still count
        ("tcp/25565", {"ss": fixture("ss-malformed.txt")}, None, None),
    ],
)
def test_missing_or_broken_tool_publishes_no_false_zero(
    tmp_path: Path, ports: str, tools: dict[str, str], conntrack: str | None, expected: int | None
) -> None:
    proc = fake_proc(tmp_path, 3600, conntrack)
    assert measure(env(ports), runner(tools), str(proc)) == expected


def test_startup_grace_from_uptime(tmp_path: Path) -> None:
    empty = runner({"ss": ""})
    assert measure(env("tcp/25565"), empty, str(fake_proc(tmp_path / "a", 599, None))) == GRACE
    assert measure(env("tcp/25565"), empty, str(fake_proc(tmp_path / "b", 600, None))) == 0


def test_real_runner_reports_a_missing_tool_as_unreadable() -> None:
    with pytest.raises(Unreadable, match="cm-no-such-tool"):
        run_tool(["cm-no-such-tool-anywhere", "-L"])
    with pytest.raises(Unreadable, match="exited 3"):
        run_tool([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert run_tool([sys.executable, "-c", "print('ok')"]) == "ok\n"


def test_conntrack_table_unreadable_falls_back_to_tool(tmp_path: Path) -> None:
    assert read_conntrack(runner({"conntrack": "from tool"}), str(tmp_path / "absent")) == "from tool"


# ------------------------------------------------------------------------------------------- publish


def test_metric_body_is_one_datapoint_of_one_metric() -> None:
    env_ = {"CM_NAMESPACE": "ContainerManager/Agent/minecraft", "CM_CONTAINER_ID": "minecraft"}
    fields = dict(urllib.parse.parse_qsl(metric_body(env_, GRACE, NOW)))
    assert fields == {
        "Action": "PutMetricData",
        "Version": "2010-08-01",
        "Namespace": "ContainerManager/Agent/minecraft",
        "MetricData.member.1.MetricName": "Players",
        "MetricData.member.1.Dimensions.member.1.Name": "ContainerId",
        "MetricData.member.1.Dimensions.member.1.Value": "minecraft",
        "MetricData.member.1.Timestamp": "2026-11-26T14:03:30Z",
        "MetricData.member.1.Value": "-1",
        "MetricData.member.1.Unit": "Count",
    }


@pytest.mark.parametrize("token", ["IQoJb3JpZ2luX2VjEXAMPLETOKEN", ""])
def test_signature_matches_botocore_sigv4(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    host, region = "monitoring.eu-west-1.amazonaws.com", "eu-west-1"
    credentials = {
        "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Token": token,
    }
    env_ = {"CM_NAMESPACE": "ContainerManager/Agent/minecraft", "CM_CONTAINER_ID": "minecraft"}
    body = metric_body(env_, 4, NOW)
    ours = sign(host, region, body, credentials, NOW)

    request = AWSRequest(
        method="POST",
        url=f"https://{host}/",
        data=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    keys = Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"], token or None)
    SigV4Auth(keys, "monitoring", region).add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"]
    assert ours.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")


def test_agent_is_python_39_stdlib_only() -> None:
    tree = ast.parse(AGENT.read_text(encoding="utf-8"), feature_version=(3, 9))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    text = AGENT.read_text(encoding="utf-8")
    for newer in ("match ", "zip(", "removeprefix", "datetime.UTC", "slots=True", "kw_only"):
        assert newer not in text, f"{newer!r} needs Python > 3.9 (or is avoided on purpose)"
