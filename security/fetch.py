"""SSRF-safe fetching: the one way Spark reads a URL that a user or a webhook can influence.

``fetch(url)`` resolves the host name itself, refuses any address that is not public
(private, loopback, link-local, multicast, reserved, cloud metadata; IPv4 and IPv6,
including IPv4-mapped, 6to4, Teredo and NAT64 forms), then connects to the address it
checked, not to whatever the name resolves to a moment later (no DNS rebinding): the
request's URL carries the IP while the Host header and TLS SNI/certificate check keep the
name. Redirects are followed by hand, each one checked the same way, up to a cap; the
body is streamed under a byte cap and the whole exchange under one deadline.

Every refusal is a ``FetchError`` subclass with a stable ``code``. Tests reach local fakes
only through ``SPARK_FETCH_ALLOW_LOOPBACK_PORTS`` (empty by default) or an injected
resolver; nothing else opens loopback or private addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BLOCKED_HOST_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.azure.com", "instance-data"}
)
# NAT64 prefixes embed an IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class FetchError(Exception):
    """A URL that could not or may not be fetched. ``code`` is stable; the message is not."""

    code = "fetch_failed"

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class InvalidURL(FetchError):
    code = "invalid_url"


class BlockedAddress(FetchError):
    code = "blocked_address"


class ResolutionFailed(FetchError):
    code = "resolution_failed"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class ResponseTooLarge(FetchError):
    code = "too_large"


class FetchTimeout(FetchError):
    code = "timeout"


class ConnectionFailed(FetchError):
    code = "connection_failed"


@dataclass(frozen=True)
class FetchResponse:
    url: str  # the final URL, after redirects
    status_code: int
    headers: dict[str, str]
    content: bytes
    redirects: tuple[str, ...] = field(default=())

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


@lru_cache(maxsize=4)
def _resolver_from_setting(path: str) -> Resolver:
    return import_string(path)  # type: ignore[no-any-return]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    for prefix in _NAT64:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated) ::a.b.c.d
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def _is_public(address: IPAddress) -> bool:
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_unspecified
        and not getattr(address, "is_site_local", False)
    )


def address_allowed(ip: str, port: int) -> bool:
    """Whether Spark may connect to ``ip`` (public only; test loopback ports by setting)."""
    try:
        address: IPAddress = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    if address.is_loopback and port in settings.SPARK_FETCH_ALLOW_LOOPBACK_PORTS:
        return True
    return _is_public(address)


def _check_url(url: httpx.URL) -> tuple[str, int]:
    if url.scheme not in ("http", "https"):
        raise InvalidURL(f"scheme {url.scheme!r} is not allowed", url=str(url))
    if not url.host:
        raise InvalidURL("the URL has no host", url=str(url))
    if url.userinfo:
        raise InvalidURL("credentials in URLs are not allowed", url=str(url))
    host = url.host.rstrip(".").lower()
    if host in BLOCKED_HOST_NAMES or host.endswith((".localhost", ".internal")):
        raise BlockedAddress(f"{host} is an internal name", url=str(url))
    port = url.port or (443 if url.scheme == "https" else 80)
    return host, port


def _resolve(host: str, port: int, resolver: Resolver, url: str) -> str:
    """The address to connect to: every address of the name must be allowed."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise ResolutionFailed(f"cannot resolve {host}: {error}", url=url) from error
    if not addresses:
        raise ResolutionFailed(f"{host} has no address", url=url)
    refused = [ip for ip in addresses if not address_allowed(ip, port)]
    if refused:
        raise BlockedAddress(f"{host} resolves to a non-public address ({refused[0]})", url=url)
    return addresses[0]


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimeout("the fetch took too long", url=url)
    return left


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int | None = None,
    resolver: Resolver | None = None,
    verify: ssl.SSLContext | bool = True,
) -> FetchResponse:
    """Fetch ``url`` safely (see the module docstring); raises a ``FetchError`` subclass.

    Non-2xx answers are returned, not raised: the caller decides what a 404 means.
    ``verify`` is for tests that trust a local certificate authority; never turn it off.
    """
    max_bytes = settings.SPARK_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    timeout = settings.SPARK_FETCH_TIMEOUT if timeout is None else timeout
    max_redirects = settings.SPARK_FETCH_MAX_REDIRECTS if max_redirects is None else max_redirects
    resolve_with = resolver or _resolver_from_setting(settings.SPARK_FETCH_RESOLVER)
    deadline = time.monotonic() + timeout
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise InvalidURL(f"not a valid URL: {error}", url=str(url)[:200]) from error
    request_headers = {"User-Agent": settings.SPARK_FETCH_USER_AGENT, **(headers or {})}
    redirects: list[str] = []

    with httpx.Client(
        transport=httpx.HTTPTransport(retries=0, verify=verify),
        follow_redirects=False,
        trust_env=False,  # never through an environment proxy that would resolve for us
    ) as client:
        while True:
            host, port = _check_url(current)
            ip = _resolve(host, port, resolve_with, str(current))
            request = client.build_request(
                method,
                current,
                headers=request_headers,
                content=content,
                timeout=httpx.Timeout(_remaining(deadline, str(current))),
            )
            # Connect to the checked address; the Host header and TLS keep the name.
            request.url = request.url.copy_with(host=ip)
            if current.scheme == "https":
                request.extensions["sni_hostname"] = host
            response = _send(client, request, str(current))
            try:
                if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                    if len(redirects) >= max_redirects:
                        raise TooManyRedirects(
                            f"more than {max_redirects} redirects", url=str(current)
                        )
                    redirects.append(str(current))
                    try:
                        current = current.join(response.headers["location"])
                    except (httpx.InvalidURL, ValueError) as error:
                        raise InvalidURL(f"bad redirect: {error}", url=str(current)) from error
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, content = "GET", None
                    continue
                body = _read_capped(response, max_bytes, deadline, str(current))
                return FetchResponse(
                    url=str(current),
                    status_code=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    content=body,
                    redirects=tuple(redirects),
                )
            finally:
                response.close()


def _send(client: httpx.Client, request: httpx.Request, url: str) -> httpx.Response:
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException as error:
        raise FetchTimeout(f"timed out: {error}", url=url) from error
    except httpx.TransportError as error:
        raise ConnectionFailed(f"{type(error).__name__}: {error}", url=url) from error


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"the body is {declared} bytes (cap {max_bytes})", url=url)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():  # decoded: a compressed bomb counts as it inflates
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(f"the body exceeds {max_bytes} bytes", url=url)
            chunks.append(chunk)
            _remaining(deadline, url)
    except httpx.TimeoutException as error:
        raise FetchTimeout(f"timed out reading: {error}", url=url) from error
    except httpx.TransportError as error:
        raise ConnectionFailed(f"{type(error).__name__}: {error}", url=url) from error
    except httpx.DecodingError as error:
        raise ConnectionFailed(f"undecodable body: {error}", url=url) from error
    return b"".join(chunks)


async def afetch(url: str, **kwargs: Any) -> FetchResponse:
    """``fetch`` for async code (consumers, async views), run in a worker thread."""
    return await sync_to_async(fetch, thread_sensitive=False)(url, **kwargs)
