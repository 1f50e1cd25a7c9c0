"""Traffic for scripts/record_agent_fixtures.sh: `server` in the game namespace, `client` in the player's.

Bounded: every loop ends after a few seconds, and it only talks to the two namespaces' own addresses.
"""

import contextlib
import socket
import sys
import threading
import time

GAME = "10.77.0.23"


def server() -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((GAME, 34197))
    udp.settimeout(0.5)
    held: list[socket.socket] = []

    def accept_all(listener: socket.socket) -> None:
        listener.settimeout(12)
        try:
            while True:
                held.append(listener.accept()[0])
        except OSError:
            pass

    for port in (25565, 22):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((GAME, port))
        listener.listen()
        threading.Thread(target=accept_all, args=(listener,), daemon=True).start()
    rcon = socket.socket()  # an admin's RCON over loopback: never a player
    rcon.bind(("127.0.0.1", 25575))
    rcon.listen()
    threading.Thread(target=lambda: held.append(rcon.accept()[0]), daemon=True).start()
    held.append(socket.create_connection(("127.0.0.1", 25575)))
    end = time.time() + 12
    while time.time() < end:
        try:
            data, peer = udp.recvfrom(2048)
            udp.sendto(data, peer)
        except OSError:
            pass


def client() -> None:
    time.sleep(1)
    held = [socket.create_connection((GAME, 25565)), socket.create_connection((GAME, 22))]
    players = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for player in players:
        player.settimeout(0.5)
    end = time.time() + 4  # over ~2 s of two-way traffic: conntrack marks the flows ASSURED
    while time.time() < end:
        for player in players:
            player.sendto(b"state" * 20, (GAME, 34197))
            with contextlib.suppress(OSError):
                player.recvfrom(2048)
        time.sleep(0.2)
    time.sleep(6)
    del held


if __name__ == "__main__":
    server() if sys.argv[1] == "server" else client()
