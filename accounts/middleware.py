"""API-key authentication for HTTP (Django middleware) and WebSockets (ASGI middleware).

Authenticating here, before TenantMiddleware, means every view (DRF, SSE, the
OpenAI-compatible endpoint) and every socket sees the key's user and tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from accounts.models import ApiKey
from accounts.services import api_key_authenticate
from security import services as security_services
from security.models import AuditLogEntry
from security.ratelimit import RateLimitExceeded, api_key_key, rate_limit_hit, too_many_requests
from spark.common.net import client_ip_from_scope

BEARER = "bearer "


def bearer_token(header_value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what it is."""
    if header_value and header_value[: len(BEARER)].lower() == BEARER:
        return header_value[len(BEARER) :].strip()
    return None


def _user_getter(user: Any) -> Callable[[], Any]:
    """``request.auser()`` (async views and middleware) must see the key's user too."""

    async def auser() -> Any:
        return user

    return auser


class ApiKeyMiddleware:
    """``Authorization: Bearer spk_...`` authenticates the request as the key's user.

    Sets ``request.api_key`` (or None) and ``request.api_key_invalid`` when a bearer
    token was sent but is not an active key. Bearer requests cannot be forged
    cross-site, so they skip the CSRF check that protects cookie sessions. Each use of a
    key counts against its ``api_key`` rate limit; an invalid key counts as a failed
    sign-in of the client IP (so key guessing ends in a ban).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_key = None  # type: ignore[attr-defined]
        request.api_key_invalid = False  # type: ignore[attr-defined]
        token = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if token is not None:
            api_key = api_key_authenticate(raw_key=token)
            if api_key is None:
                request.api_key_invalid = True  # type: ignore[attr-defined]
                request.user = AnonymousUser()
                security_services.auth_failure_record(
                    request=request,
                    account=token[:12] if token.startswith("spk_") else "",
                    kind=AuditLogEntry.Action.API_KEY_REJECTED,
                )
            else:
                request.api_key = api_key  # type: ignore[attr-defined]
                request.user = api_key.user
                try:
                    rate_limit_hit(rate="api_key", key=api_key_key(api_key))
                except RateLimitExceeded as error:
                    return too_many_requests(request, error)
            request.auser = _user_getter(request.user)  # type: ignore[attr-defined]
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)


CLOSE_RATE_LIMITED = 4429


def _headers(scope: dict[str, Any]) -> dict[bytes, str]:
    return {name: value.decode("latin-1") for name, value in scope.get("headers", [])}


async def _accept_and_close(receive: Any, send: Any, code: int) -> None:
    """Answer the handshake, then close with ``code`` (a client can read why)."""
    message = await receive()
    if message.get("type") == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})


def _socket_key_rejected(*, token: str, ip: str, path: str, user_agent: str) -> None:
    security_services.auth_failure_record(
        account=token[:12] if token.startswith("spk_") else "",
        kind=AuditLogEntry.Action.API_KEY_REJECTED,
        ip=ip,
        path=path,
        user_agent=user_agent,
    )


class ApiKeyAsgiMiddleware:
    """For WebSockets: a bearer API key in the headers replaces the session user.

    Counted as ``ApiKeyMiddleware`` counts HTTP: a valid key's connection is one use of
    its ``api_key`` rate limit (over it, the socket is closed with 4429); a bearer token
    that is no active key is audited and counts as a failed sign-in of the client IP, and
    the socket goes on with no user (the consumer closes it with 4401). ``scope["api_key"]``
    is set (to the key, or None) whenever a bearer token was sent.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = _headers(scope)
        token = bearer_token(headers.get(b"authorization"))
        if token is not None:
            api_key: ApiKey | None = await database_sync_to_async(api_key_authenticate)(
                raw_key=token
            )
            if api_key is None:
                await database_sync_to_async(_socket_key_rejected)(
                    token=token,
                    ip=client_ip_from_scope(scope),
                    path=str(scope.get("path", "")),
                    user_agent=headers.get(b"user-agent", ""),
                )
            else:
                try:
                    await database_sync_to_async(rate_limit_hit)(
                        rate="api_key", key=api_key_key(api_key)
                    )
                except RateLimitExceeded:
                    return await _accept_and_close(receive, send, CLOSE_RATE_LIMITED)
            scope = dict(scope, api_key=api_key, user=api_key.user if api_key else AnonymousUser())
        return await self.inner(scope, receive, send)
