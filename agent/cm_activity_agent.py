#!/usr/bin/env python3
"""Container Manager activity agent: count the players on the container's ports, publish one metric.

systemd runs it every minute (cm-activity-agent.timer, installed by the launch template's user data). Python
3.9 standard library only: that is the python3 of Amazon Linux 2023. The value published is
  N > 0  players: established TCP connections + distinct UDP peers with two-way traffic in the last
         CM_UDP_RECENT_SECONDS, on the container's ports; loopback, link-local, SSH and HTTPS excluded
  0      nobody, and every tool the ports need worked
  -1     nobody yet, but the instance booted less than CM_STARTUP_GRACE_MINUTES ago (startup grace)
Nothing is published when a zero cannot be trusted (ss or connection tracking missing or unreadable): the
watchdog then falls back to the traffic signal, and its agent-silent alarm says so. See docs/watchdog.md.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Union

GRACE = -1
# SSH (no port is open for it, but an admin shell is never a player) and the instance's own HTTPS calls
# (SSM Session Manager, ECS agent, CloudWatch): a game port in the ephemeral range must not count them.
EXCLUDED_LOCAL_PORTS = frozenset({22})
EXCLUDED_PEER_PORTS = frozenset({22, 443})
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Run = Callable[[list[str]], str]


class Unreadable(Exception):
    """A tool is missing, failed, or printed something this agent does not understand."""


@dataclass(frozen=True)
class Ports:
    tcp: frozenset[int]
    udp: frozenset[int]


def parse_ports(text: str) -> Ports:
    """'tcp/25565 udp/19132' (space or comma separated) -> Ports."""
    found: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    for item in text.replace(",", " ").split():
        protocol, _, port = item.partition("/")
        if protocol not in found or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"not a protocol/port: {item!r}")
        found[protocol].add(int(port))
    return Ports(frozenset(found["tcp"]), frozenset(found["udp"]))


def split_endpoint(text: str) -> tuple[Address, int]:
    """'10.0.0.5:25565', '[::ffff:1.2.3.4]:80', '127.0.0.1%lo:53' -> (address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise Unreadable(f"not an address:port: {text!r}")
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host), int(port)
    except ValueError as error:
        raise Unreadable(f"not an address: {text!r}") from error


def is_player(address: Address, port: int) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    local = address.is_loopback or address.is_link_local or address.is_unspecified
    return not local and port not in EXCLUDED_PEER_PORTS


def count_tcp(ss_output: str, ports: frozenset[int]) -> int:
    """Established connections to ``ports`` in `ss -Htn state established` output."""
    count = 0
    for line in ss_output.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 4 or not (fields[0].isdigit() and fields[1].isdigit()):
            raise Unreadable(f"ss: unexpected line {line!r}")
        (_, local_port), (peer, peer_port) = split_endpoint(fields[2]), split_endpoint(fields[3])
        if local_port in ports and local_port not in EXCLUDED_LOCAL_PORTS and is_player(peer, peer_port):
            count += 1
    return count


def count_udp(conntrack: str, ports: frozenset[int], recent_seconds: int, stream_timeout: int) -> int:
    """Distinct peers of ``ports`` in /proc/net/nf_conntrack or `conntrack -L -p udp` output whose flow is
    ASSURED (replies seen and traffic for over ~2 s: a player, not a one-shot scan or server-list query) and
    saw a packet in the last ``recent_seconds`` (each packet resets the entry's timeout to the stream timeout).
    """
    peers: set[tuple[Address, str]] = set()
    for line in conntrack.splitlines():
        tokens = line.split()
        if tokens[:1] in (["ipv4"], ["ipv6"]):
            tokens = tokens[2:]
        if not tokens or tokens[0] != "udp":
            continue
        if len(tokens) < 3 or tokens[1] != "17" or not tokens[2].isdigit():
            raise Unreadable(f"conntrack: unexpected line {line!r}")
        original: dict[str, str] = {}
        for token in tokens[3:]:
            key, sep, value = token.partition("=")
            if sep and key in ("src", "dst", "sport", "dport") and key not in original:
                original[key] = value
        if len(original) < 4 or not (original["sport"].isdigit() and original["dport"].isdigit()):
            raise Unreadable(f"conntrack: unexpected line {line!r}")
        age = stream_timeout - int(tokens[2])
        if "[ASSURED]" not in tokens or int(original["dport"]) not in ports or age > recent_seconds:
            continue
        try:
            peer, local = ipaddress.ip_address(original["src"]), ipaddress.ip_address(original["dst"])
        except ValueError as error:
            raise Unreadable(f"conntrack: unexpected line {line!r}") from error
        # an outbound flow (to the Amazon time or DNS servers, link-local) is no player either
        inbound = (
            is_player(local, int(original["dport"])) and int(original["dport"]) not in EXCLUDED_LOCAL_PORTS
        )
        if inbound and is_player(peer, int(original["sport"])):
            peers.add((peer, original["sport"]))
    return len(peers)


def decide(tcp: int | None, udp: int | None, ports: Ports, uptime: float, grace_seconds: int) -> int | None:
    """The value to publish; None when a zero cannot be trusted (a needed count is unknown)."""
    known = (tcp or 0) + (udp or 0)
    if known > 0:
        return known  # a lower bound is enough to keep the server up
    if uptime < grace_seconds:
        return GRACE
    if (ports.tcp and tcp is None) or (ports.udp and udp is None):
        return None
    return 0


# ------------------------------------------------------------------------------------------- system


def run_tool(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unreadable(f"{args[0]}: {error}") from error
    if done.returncode != 0:
        raise Unreadable(f"{args[0]} exited {done.returncode}: {done.stderr.strip()[:200]}")
    return done.stdout


def read_conntrack(run: Run, proc_file: str = "/proc/net/nf_conntrack") -> str:
    try:
        with open(proc_file, encoding="ascii") as table:
            return table.read()
    except OSError:
        return run(["conntrack", "-L", "-p", "udp"])


def read_number(path: str, default: int) -> int:
    try:
        with open(path, encoding="ascii") as file:
            return int(float(file.read().split()[0]))
    except (OSError, ValueError, IndexError):
        return default


def measure(env: Mapping[str, str], run: Run = run_tool, proc: str = "/proc") -> int | None:
    ports = parse_ports(env.get("CM_PORTS", ""))
    tcp: int | None = None
    udp: int | None = None
    try:
        tcp = count_tcp(run(["ss", "-Htn", "state", "established"]), ports.tcp) if ports.tcp else 0
    except Unreadable as error:
        print(f"TCP players unknown: {error}", file=sys.stderr)
    try:
        stream = read_number(f"{proc}/sys/net/netfilter/nf_conntrack_udp_timeout_stream", 120)
        recent = int(env.get("CM_UDP_RECENT_SECONDS", "60"))
        table = read_conntrack(run, f"{proc}/net/nf_conntrack") if ports.udp else ""
        udp = count_udp(table, ports.udp, recent, stream)
    except Unreadable as error:
        print(f"UDP players unknown: {error}", file=sys.stderr)
    uptime = read_number(f"{proc}/uptime", 0)
    value = decide(tcp, udp, ports, uptime, int(env.get("CM_STARTUP_GRACE_MINUTES", "15")) * 60)
    print(f"tcp={tcp} udp={udp} uptime={uptime}s -> {value}")
    return value


# ------------------------------------------------------------------------------------------- publish


def metric_body(env: Mapping[str, str], value: int, now: datetime.datetime) -> str:
    return urllib.parse.urlencode(
        {
            "Action": "PutMetricData",
            "Version": "2010-08-01",
            "Namespace": env["CM_NAMESPACE"],
            "MetricData.member.1.MetricName": env.get("CM_METRIC_NAME", "Players"),
            "MetricData.member.1.Dimensions.member.1.Name": "ContainerId",
            "MetricData.member.1.Dimensions.member.1.Value": env["CM_CONTAINER_ID"],
            "MetricData.member.1.Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MetricData.member.1.Value": str(value),
            "MetricData.member.1.Unit": "Count",
        }
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    host: str, region: str, body: str, credentials: Mapping[str, str], now: datetime.datetime
) -> dict[str, str]:
    """Signature Version 4 headers for a POST of ``body`` to https://host/ (service monitoring)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": host,
        "x-amz-date": stamp,
    }
    if credentials.get("Token"):
        headers["x-amz-security-token"] = credentials["Token"]
    names = ";".join(sorted(headers))
    lines = [f"{name}:{headers[name]}" for name in sorted(headers)]
    canonical = "\n".join(["POST", "/", "", *lines, "", names, hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{stamp[:8]}/{region}/monitoring/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials["SecretAccessKey"]).encode()
    for part in (stamp[:8], region, "monitoring", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return headers


def instance_credentials(imds: str = "http://169.254.169.254") -> dict[str, str]:
    """The instance role's credentials through IMDSv2."""
    ask = urllib.request.Request(  # noqa: S310 - fixed link-local address
        f"{imds}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    with urllib.request.urlopen(ask, timeout=5) as response:  # noqa: S310
        token = {"X-aws-ec2-metadata-token": response.read().decode()}
    path = f"{imds}/latest/meta-data/iam/security-credentials/"
    with urllib.request.urlopen(urllib.request.Request(path, headers=token), timeout=5) as response:  # noqa: S310
        role = response.read().decode().split()[0]
    with urllib.request.urlopen(urllib.request.Request(path + role, headers=token), timeout=5) as response:  # noqa: S310
        return {str(k): str(v) for k, v in json.loads(response.read().decode()).items()}


def publish(
    env: Mapping[str, str], value: int, now: datetime.datetime, credentials: Mapping[str, str]
) -> None:
    region = env["CM_REGION"]
    host = f"monitoring.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")
    body = metric_body(env, value, now)
    request = urllib.request.Request(  # https endpoint built from the region
        f"https://{host}/",
        data=body.encode(),
        method="POST",
        headers=sign(host, region, body, credentials, now),
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def main() -> int:
    value = measure(os.environ)
    if value is None:
        print("not publishing: a zero could not be trusted (see above)", file=sys.stderr)
        return 1
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        publish(os.environ, value, now, instance_credentials())
    except OSError as error:  # URLError, HTTPError and socket errors are OSErrors
        print(f"publishing failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
