"""A tiny authoritative DNS server on loopback (dnspython), standing in for the sub-zone's Route 53 servers.

It answers A queries for the names in ``records`` with the AA flag, echoing the question as asked (0x20 case
kept, as Route 53 does), NXDOMAIN otherwise, and remembers every question so a test can see what was sent.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass
class LoopbackDns:
    port: int = 0
    records: dict[str, str] = field(default_factory=dict)  # lower-case name -> IPv4
    questions: list[str] = field(default_factory=list)
    silent: bool = False  # drop every query (a name server that never answers)

    def answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True)
        self.questions.append(name)
        if self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        address = self.records.get(name.lower())
        if address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 30, "IN", "A", address))
        return response.to_wire()


@contextmanager
def loopback_dns(records: dict[str, str] | None = None) -> Iterator[LoopbackDns]:
    server = LoopbackDns(records=dict(records or {}))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    server.port = sock.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = server.answer(wire)
            if reply is not None:
                sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()
