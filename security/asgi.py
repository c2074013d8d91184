"""The request filter and the Origin check for WebSockets.

HTTP requests meet ``SecurityFilterMiddleware`` and Django's host and CSRF checks;
WebSocket connections do not pass through Django's middleware, so
``BannedClientAsgiMiddleware`` (outermost in ``spark.asgi``) asks the same ban store
before any other work, with the same trusted-proxy client IP, and
``CookieSocketOriginMiddleware`` does for sockets what the host and CSRF checks do for
forms (docs/protocol.md, "Connecting").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from security.bans import BanStore
from security.middleware import is_allowlisted
from spark.common.net import client_ip_from_scope

CLOSE_FORBIDDEN = 4403


class BannedClientAsgiMiddleware:
    def __init__(self, inner: Any, *, store: BanStore | None = None) -> None:
        self.inner = inner
        self.store = store or BanStore()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and settings.SPARK_FILTER_ENABLED:
            ip = client_ip_from_scope(scope)
            if not is_allowlisted(ip) and await sync_to_async(self.store.is_banned)(ip):
                message = await receive()  # the handshake: refuse it
                if message.get("type") == "websocket.connect":
                    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
                return None
        return await self.inner(scope, receive, send)


def _header(scope: dict[str, Any], wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _netloc(scheme: str, host: str) -> str:
    """``host[:port]`` lowercased, without the scheme's default port."""
    host = host.strip().lower()
    default = {"http": ":80", "ws": ":80", "https": ":443", "wss": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host.removesuffix(default)
    return host


def origin_is_trusted(origin: str, *, host: str, trusted: list[str]) -> bool:
    """Whether a browser page at ``origin`` may open a cookie socket to ``host``.

    The same rule as Django's CSRF origin check: the page is on the socket's own host
    (same scheme-less ``host[:port]``), or its origin is listed in CSRF_TRUSTED_ORIGINS
    (exactly, or under a ``scheme://*.domain`` wildcard).
    """
    parsed = urlsplit(origin.strip().lower())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return False
    if _netloc(parsed.scheme, parsed.netloc) == _netloc(parsed.scheme, host):
        return True
    for entry in trusted:
        entry = entry.strip().lower()
        if "*" not in entry:
            if origin.strip().lower() == entry:
                return True
            continue
        pattern = urlsplit(entry)
        if pattern.scheme == parsed.scheme and is_same_domain(
            parsed.netloc, pattern.netloc.removeprefix("*")
        ):
            return True
    return False


class CookieSocketOriginMiddleware:
    """Refuses a socket whose Host is not served, and a browser socket from a foreign page.

    Browsers attach the session cookie to a cross-site WebSocket handshake (there is no
    CSRF token on a socket), so a socket that was not authenticated by an API key must
    carry an ``Origin`` that is this host's own (or in CSRF_TRUSTED_ORIGINS); a missing
    or foreign Origin is refused. A socket that sent an ``Authorization: Bearer`` token
    needs no Origin: a web page cannot set that header on a WebSocket, non-browser
    clients send no Origin, and such a socket never acts with the cookie's user (it is the
    key's user, or nobody when the key is not valid). The Host must be in ALLOWED_HOSTS
    either way, as Django requires of HTTP requests. Runs after ``ApiKeyAsgiMiddleware``,
    which sets ``scope["api_key"]`` whenever a bearer token was sent.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and not self._allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)

    @staticmethod
    def _allowed(scope: dict[str, Any]) -> bool:
        host = _header(scope, b"host") or ""
        domain, _port = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        if "api_key" in scope:  # a bearer token was sent: the user is the key's, or nobody
            return True
        origin = _header(scope, b"origin")
        if not origin:
            return False
        return origin_is_trusted(origin, host=host, trusted=list(settings.CSRF_TRUSTED_ORIGINS))
