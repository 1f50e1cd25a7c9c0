#!/usr/bin/env bash
# Record real `ss` and /proc/net/nf_conntrack output for the activity agent's tests (needs root, iproute2 and
# iptables). Two network namespaces joined by a veth pair stand in for the game instance (10.77.0.23) and a
# player (10.77.0.44); all traffic stays inside them. The player sends two UDP flows to the game port 34197,
# holds a TCP game connection on 25565 and an SSH-like connection on 22, and the game host holds an RCON
# connection on loopback. Output: tests/unit/fixtures/agent/{nf-conntrack,ss}-netns.recorded.txt
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/unit/fixtures/agent
py=${PYTHON:-python3}
cleanup() { ip netns del cmgame 2>/dev/null || true; ip netns del cmplayer 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add cmgame && ip netns add cmplayer
ip link add cm-g type veth peer name cm-p
ip link set cm-g netns cmgame && ip link set cm-p netns cmplayer
ip netns exec cmgame ip addr add 10.77.0.23/24 dev cm-g && ip netns exec cmplayer ip addr add 10.77.0.44/24 dev cm-p
for ns in cmgame cmplayer; do ip netns exec $ns ip link set lo up; done
ip netns exec cmgame ip link set cm-g up && ip netns exec cmplayer ip link set cm-p up
# The same kind of counting-only rule the launch template adds: it makes the kernel track this namespace.
ip netns exec cmgame iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
ip netns exec cmgame timeout 20 "$py" scripts/netns_traffic.py server &
ip netns exec cmplayer timeout 20 "$py" scripts/netns_traffic.py client &
sleep 7
ip netns exec cmgame cat /proc/net/nf_conntrack > "$out/nf-conntrack-netns.recorded.txt"
ip netns exec cmgame ss -Htn state established > "$out/ss-netns.recorded.txt"
wait
echo "recorded into $out"
