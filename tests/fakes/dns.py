"""A small authoritative DNS server on 127.0.0.1 (dnslib), for the custom-domain checks.

It answers UDP and TCP on an ephemeral port with real DNS messages: the records a test
sets, CNAMEs followed the way an authoritative server answers them (the CNAME, then the
target's records when it has them), NXDOMAIN for a name it does not know and an empty
NOERROR for a known name without records of the type asked. Spark's resolver (dnspython)
is pointed at it through ``SPARK_DNS_RESOLVERS``.

Scripting::

    dns.set("santa.example.com", "CNAME", "domains.spark.test")
    dns.set("_spark-challenge.example.com", "TXT", token)
    dns.set("example.com", "A", "203.0.113.7")
    dns.remove("santa.example.com")      # all its records
    dns.servfail = True                   # every answer is SERVFAIL (a broken resolver)
    dns.queries                           # (name, type) asked, in order

The ``fake_dns`` fixture (imported by tests/conftest.py) resets it for each test and points
``SPARK_DNS_RESOLVERS`` at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSServer

# Production-like targets the fixture sets (documentation ranges, RFC 5737 / 3849).
CNAME_TARGET = "domains.spark.test"
PLATFORM_IPV4 = "203.0.113.10"
PLATFORM_IPV6 = "2001:db8::10"

_RDATA = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "TXT": TXT}


def _name(name: str) -> str:
    return name.strip().lower().rstrip(".") + "."


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, fake: FakeDns) -> None:
        self.fake = fake

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()  # aa=1: we are the zone's authority
        qname = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        with self.fake.lock:
            self.fake.queries.append((qname.rstrip("."), qtype))
            if self.fake.servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            name = qname
            for _hop in range(8):
                records = self.fake.records.get(name)
                if records is None:
                    if name == qname:
                        reply.header.rcode = RCODE.NXDOMAIN
                    return reply
                cnames = records.get("CNAME", [])
                if cnames and qtype != "CNAME":
                    reply.add_answer(
                        RR(DNSLabel(name), QTYPE.CNAME, rdata=CNAME(cnames[0]), ttl=60)
                    )
                    name = _name(cnames[0])
                    continue
                for value in records.get(qtype, []):
                    rdata = _RDATA[qtype](value)
                    reply.add_answer(RR(DNSLabel(name), getattr(QTYPE, qtype), rdata=rdata, ttl=60))
                return reply
        return reply


class FakeDns:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, list[str]]] = {}
        self.queries: list[tuple[str, str]] = []
        self.servfail = False
        resolver = _Resolver(self)
        self.udp = DNSServer(resolver, address="127.0.0.1", port=0)
        port = self.udp.server.server_address[1]
        self.tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True)

    @property
    def port(self) -> int:
        return int(self.udp.server.server_address[1])

    @property
    def address(self) -> str:
        """What ``SPARK_DNS_RESOLVERS`` lists for this server."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeDns:
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def stop(self) -> None:
        self.udp.stop()
        self.tcp.stop()
        self.udp.server.server_close()
        self.tcp.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.queries.clear()
            self.servfail = False

    def set(self, name: str, rtype: str, *values: str) -> None:
        """Replace the records of one type of ``name``."""
        if rtype not in _RDATA:
            raise ValueError(f"the fake serves {sorted(_RDATA)}, not {rtype}")
        with self.lock:
            self.records.setdefault(_name(name), {})[rtype] = list(values)

    def remove(self, name: str, rtype: str | None = None) -> None:
        with self.lock:
            if rtype is None:
                self.records.pop(_name(name), None)
            else:
                self.records.get(_name(name), {}).pop(rtype, None)


@pytest.fixture(scope="session")
def _fake_dns_server() -> Iterator[FakeDns]:
    server = FakeDns().start()
    yield server
    server.stop()


@pytest.fixture
def fake_dns(_fake_dns_server: FakeDns, settings: Any) -> Iterator[FakeDns]:
    """The DNS fake, with Spark's resolver pointed at it and production-like targets."""
    _fake_dns_server.reset()
    settings.SPARK_DNS_RESOLVERS = [_fake_dns_server.address]
    settings.SPARK_DNS_TIMEOUT_SECONDS = 2.0
    settings.SPARK_DOMAIN_CNAME_TARGET = CNAME_TARGET
    settings.SPARK_DOMAIN_IPV4 = [PLATFORM_IPV4]
    settings.SPARK_DOMAIN_IPV6 = [PLATFORM_IPV6]
    yield _fake_dns_server
    _fake_dns_server.reset()
