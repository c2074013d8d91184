"""The client's IP address, trusting forwarding headers only from configured proxies.

Every part of Spark that needs the client IP (rate limits, audit log, bans) calls
``client_ip``. ``X-Forwarded-For`` is read right to left, skipping hops that are trusted
proxies (``SPARK_TRUSTED_PROXIES``); the first untrusted hop is the client. A request
whose peer is not a trusted proxy is answered by its peer address, whatever it claims.
Behind Cloudflare (``SPARK_CLOUDFLARE_ENABLED``), ``CF-Connecting-IP`` names the client,
again only when the peer is a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "1.2.3.4:5678"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: IPAddress, proxies: tuple[str, ...] | None = None) -> bool:
    networks = _networks(tuple(proxies if proxies is not None else settings.SPARK_TRUSTED_PROXIES))
    return any(address in network for network in networks)


def resolve_client_ip(
    peer: str,
    forwarded_for: str | None,
    proxies: tuple[str, ...] | None = None,
    cf_connecting_ip: str | None = None,
) -> str:
    """The client address given the socket peer and its forwarding headers.

    ``cf_connecting_ip`` is passed only when Cloudflare is enabled; it wins over
    X-Forwarded-For, and like it, only from a trusted peer.
    """
    peer_address = _parse(peer or "")
    if peer_address is None:
        return "0.0.0.0"  # noqa: S104 - "unknown client", not a bind address
    if not (forwarded_for or cf_connecting_ip) or not is_trusted_proxy(peer_address, proxies):
        return str(peer_address)
    if cf_connecting_ip:
        cf_address = _parse(cf_connecting_ip)
        if cf_address is not None:
            return str(cf_address)
    if not forwarded_for:
        return str(peer_address)
    client = peer_address
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _parse(hop)
        if hop_address is None:
            break
        client = hop_address
        if not is_trusted_proxy(hop_address, proxies):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str:
    """The client IP of a Django request (cached on the request)."""
    cached = getattr(request, "_spark_client_ip", None)
    if cached is not None:
        return str(cached)
    cf = request.META.get("HTTP_CF_CONNECTING_IP") if settings.SPARK_CLOUDFLARE_ENABLED else None
    ip = resolve_client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        cf_connecting_ip=cf,
    )
    request._spark_client_ip = ip  # type: ignore[attr-defined]
    return ip


def client_ip_from_scope(scope: dict[str, object]) -> str:
    """The client IP of an ASGI (WebSocket) connection scope."""
    client = scope.get("client")
    peer = str(client[0]) if isinstance(client, (list, tuple)) and client else ""
    forwarded = cf = None
    for name, value in scope.get("headers", []):  # type: ignore[attr-defined]
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
        elif name == b"cf-connecting-ip" and settings.SPARK_CLOUDFLARE_ENABLED:
            cf = value.decode("latin-1")
    return resolve_client_ip(peer, forwarded, cf_connecting_ip=cf)


def client_ip_for_ratelimit(request: HttpRequest) -> str:
    """django-ratelimit's RATELIMIT_IP_META_KEY hook."""
    return client_ip(request)
