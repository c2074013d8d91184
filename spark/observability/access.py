"""Who may read ``/metrics``: configured addresses (``SPARK_METRICS_ALLOWED_IPS``, IPs or
networks) or a bearer token (``SPARK_METRICS_TOKEN``). Nobody else, and nobody at all
when neither is set: metrics name the deployment's traffic, models and queues."""

from __future__ import annotations

import enum
import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings


class Access(enum.Enum):
    ALLOWED = "allowed"
    UNKNOWN = "unknown"  # answered 404, as if there were no such page
    WRONG_TOKEN = "wrong_token"  # noqa: S105 - a state, not a credential; answered 403: the caller knows the endpoint


@lru_cache(maxsize=8)
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _address_allowed(client: str) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    networks = _networks(tuple(settings.SPARK_METRICS_ALLOWED_IPS))
    return any(address.version == net.version and address in net for net in networks)


def metrics_access(*, client: str, authorization: str) -> Access:
    """``client``: the client address as Spark resolves it (trusted proxies only);
    ``authorization``: the request's Authorization header."""
    token = str(settings.SPARK_METRICS_TOKEN or "")
    scheme, _, offered = authorization.partition(" ")
    if authorization:
        if (
            token
            and scheme.lower() == "bearer"
            and hmac.compare_digest(offered.strip().encode(), token.encode())
        ):
            return Access.ALLOWED
        if token:
            return Access.WRONG_TOKEN
    return Access.ALLOWED if _address_allowed(client) else Access.UNKNOWN
