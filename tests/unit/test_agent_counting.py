"""Activity agent: counting players in the outputs of ss and connection tracking (agent/cm_activity_agent.py).

Given a recorded or layout-faithful tool output (tests/unit/fixtures/agent/README.md), when the agent counts,
then only real players on the container's ports count: loopback, link-local, SSH and the instance's own HTTPS
calls never do, UDP needs two-way traffic seen recently, and output it does not understand is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cm_activity_agent import GRACE, Ports, Unreadable, count_tcp, count_udp, decide, parse_ports

FIXTURES = Path(__file__).parent / "fixtures" / "agent"
GAME_TCP = frozenset({25565})
GAME_UDP = frozenset({34197})


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="ascii")


# ----------------------------------------------------------------------------------------------- TCP


def test_tcp_counts_each_established_player_connection_on_the_game_port() -> None:
    # v4, v4-mapped v6, plain v6 and an %eth0-scoped local address: five players
    assert count_tcp(fixture("ss-tcp-players.txt"), GAME_TCP) == 5


def test_tcp_ignores_loopback_ssh_https_metadata_and_other_ports() -> None:
    text = fixture("ss-tcp-players.txt")
    assert count_tcp(text, frozenset({25575})) == 0  # RCON over loopback (e.g. an SSM port forward)
    assert count_tcp(text, frozenset({22})) == 0  # an SSH session is never a player
    assert count_tcp(text, frozenset({41862, 38714})) == 0  # own HTTPS (SSM, ECS) and IMDS calls
    assert count_tcp(text, frozenset({25566})) == 1  # a second game port is counted on its own


def test_tcp_recorded_loopback_session_has_no_players() -> None:
    assert count_tcp(fixture("ss-loopback-only.recorded.txt"), frozenset({25565, 25575})) == 0


@pytest.mark.parametrize("name", ["ss-no-players.txt", "ss-empty.txt"])
def test_tcp_no_players(name: str) -> None:
    assert count_tcp(fixture(name), GAME_TCP) == 0


@pytest.mark.parametrize("name", ["ss-malformed.txt", "ss-garbled-address.txt"])
def test_tcp_refuses_output_it_does_not_understand(name: str) -> None:
    with pytest.raises(Unreadable):
        count_tcp(fixture(name), GAME_TCP)


# ----------------------------------------------------------------------------------------------- UDP


def test_udp_counts_distinct_recent_two_way_peers() -> None:
    # 203.0.113.7, 198.51.100.20 (listed twice: one peer) and 2001:db8:4::1; 192.0.2.44 went quiet 100 s ago
    assert count_udp(fixture("nf-conntrack-udp-players.txt"), GAME_UDP, 60, 120) == 3


def test_udp_excludes_scans_queries_loopback_outbound_and_tcp() -> None:
    text = fixture("nf-conntrack-udp-players.txt")
    # the unreplied scan, the one-shot server-list query (never ASSURED), loopback, the instance's own DNS
    # and NTP queries (outbound, to a link-local server) and the TCP entry never count
    assert count_udp(text, frozenset({123}), 60, 120) == 0
    assert count_udp(text, frozenset({34198}), 60, 120) == 1


def test_udp_recent_window_decides_who_is_still_playing() -> None:
    text = fixture("nf-conntrack-udp-players.txt")
    assert count_udp(text, GAME_UDP, 120, 120) == 4  # the peer quiet for 100 s counts again
    assert count_udp(text, GAME_UDP, 2, 120) == 2  # only the peers heard in the last 2 s
    # a shorter stream timeout (older kernel setting) makes the same entries older
    assert count_udp(text, GAME_UDP, 60, 180) == 0


def test_udp_reads_the_conntrack_tool_layout_too() -> None:
    assert count_udp(fixture("conntrack-cli-udp-players.txt"), GAME_UDP, 60, 120) == 1


def test_udp_no_players() -> None:
    assert count_udp(fixture("nf-conntrack-no-players.txt"), GAME_UDP, 60, 120) == 0
    assert count_udp("", GAME_UDP, 60, 120) == 0


@pytest.mark.parametrize(
    "text",
    [
        fixture("nf-conntrack-malformed.txt"),  # no ports in the original direction
        "ipv4     2 udp      17 soon src=1.2.3.4 dst=10.0.1.23 sport=1 dport=34197 [ASSURED]",
        "udp 6 100 src=1.2.3.4 dst=10.0.1.23 sport=1 dport=34197 [ASSURED]",
        "udp 17 100 src=somewhere dst=10.0.1.23 sport=1 dport=34197 [ASSURED]",
    ],
)
def test_udp_refuses_output_it_does_not_understand(text: str) -> None:
    with pytest.raises(Unreadable):
        count_udp(text, GAME_UDP, 60, 120)


# ---------------------------------------------------------------------------------------- mixed, decide


def test_mixed_game_adds_tcp_and_udp_players() -> None:
    ports = parse_ports("tcp/25565 udp/34197")
    tcp = count_tcp(fixture("ss-tcp-players.txt"), ports.tcp)
    udp = count_udp(fixture("nf-conntrack-udp-players.txt"), ports.udp, 60, 120)
    assert decide(tcp, udp, ports, uptime=3600, grace_seconds=600) == 8


@pytest.mark.parametrize(
    ("tcp", "udp", "ports", "uptime", "expected"),
    [
        (0, 0, "tcp/25565 udp/34197", 3600, 0),  # nobody, everything measured: idle
        (0, 0, "tcp/25565", 599, GRACE),  # nobody yet, still booting
        (2, 0, "tcp/25565", 10, 2),  # players during the grace are players
        (None, 0, "tcp/25565", 3600, None),  # ss missing: a zero cannot be trusted - publish nothing
        (0, None, "udp/34197", 3600, None),  # connection tracking missing on a UDP game
        (0, None, "tcp/25565", 3600, 0),  # ... but a TCP-only game does not need it
        (None, 3, "tcp/25565 udp/34197", 3600, 3),  # a lower bound above zero is enough to keep it up
        (None, None, "tcp/25565 udp/34197", 30, GRACE),  # tools missing while booting: the grace still holds
    ],
)
def test_decide(tcp: int | None, udp: int | None, ports: str, uptime: float, expected: int | None) -> None:
    assert decide(tcp, udp, parse_ports(ports), uptime, 600) == expected


def test_parse_ports() -> None:
    assert parse_ports("tcp/25565, udp/19132 udp/19133") == Ports(
        frozenset({25565}), frozenset({19132, 19133})
    )
    for bad in ("25565", "sctp/1", "tcp/0", "tcp/65536", "tcp/x"):
        with pytest.raises(ValueError, match="protocol/port"):
            parse_ports(bad)


# ----------------------------------------------------------------------------------------------- recorded
# Real kernel output, recorded by scripts/record_agent_fixtures.sh between two network namespaces: two UDP
# players on 34197 (one host, two source ports), one TCP player on 25565, an SSH session and a loopback RCON.


def test_recorded_conntrack_counts_the_two_udp_players_and_nothing_else() -> None:
    text = fixture("nf-conntrack-netns.recorded.txt")
    assert count_udp(text, GAME_UDP, recent_seconds=60, stream_timeout=120) == 2
    assert (
        count_udp(text, frozenset({25565, 22, 25575}), recent_seconds=60, stream_timeout=120) == 0
    )  # TCP lines


def test_recorded_ss_counts_the_tcp_player_but_not_ssh_or_loopback_rcon() -> None:
    text = fixture("ss-netns.recorded.txt")
    assert count_tcp(text, GAME_TCP) == 1
    assert count_tcp(text, frozenset({22})) == 0
    assert count_tcp(text, frozenset({25575})) == 0
