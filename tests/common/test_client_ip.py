"""The client IP comes from forwarding headers only when the peer is a trusted proxy."""

from __future__ import annotations

import pytest

from spark.common.net import resolve_client_ip

PROXIES = ("10.0.0.0/8", "::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # untrusted peer: its header is ignored
        ("10.0.0.2", "198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # leftmost is client-supplied
        ("10.0.0.2", "198.51.100.9, 10.0.0.7", "198.51.100.9"),  # two trusted hops
        ("10.0.0.2", "garbage", "10.0.0.2"),
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("::ffff:10.0.0.3", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped peer
        ("not-an-ip", None, "0.0.0.0"),  # noqa: S104 - the "unknown client" value
    ],
)
def test_client_ip(peer: str, forwarded: str | None, expected: str) -> None:
    assert resolve_client_ip(peer, forwarded, PROXIES) == expected


def test_nothing_is_trusted_by_default() -> None:
    assert resolve_client_ip("10.0.0.2", "198.51.100.9", ()) == "10.0.0.2"
