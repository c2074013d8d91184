"""Tenant scoping for WebSocket connections (Channels).

``TenantScopeMiddleware`` resolves the connection's tenant with the same resolver as
HTTP (docs/tenancy.md), stores it in ``scope["tenant"]`` and keeps it active while the
consumer runs. An API key on another tenant's site is refused at connect time (an
``error`` frame with ``tenant_mismatch``, then close code 4403); a signed-in non-member
of the site is a visitor there (``scope["user"]`` becomes anonymous).
``TenantConsumerMixin`` re-activates it inside each handler, since Channels may run
handlers in another context.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from spark.tenancy.context import resolve_tenant, tenant_scope


def _host_from_scope(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1")).split(":", 1)[0].lower()
    return ""


class TenantScopeMiddleware:
    """ASGI middleware: put the tenant in ``scope["tenant"]`` and activate it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        # Authentication middleware (session, API key) has already resolved scope["user"].
        user = scope.get("user")
        resolution = await database_sync_to_async(resolve_tenant)(
            host=_host_from_scope(scope), user=user, api_key=scope.get("api_key")
        )
        if resolution.refusal is not None:
            return await _refuse(resolution.refusal, receive, send)
        scope = dict(scope, tenant=resolution.tenant, tenant_site=resolution.site)
        if resolution.visitor is not None:
            scope["user"] = AnonymousUser()
        with tenant_scope(resolution.tenant):
            return await self.inner(scope, receive, send)


CLOSE_FORBIDDEN = 4403


async def _refuse(code: str, receive: Any, send: Any) -> None:
    """Answer the handshake with an ``error`` frame and close 4403 (as consumers do)."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    frame = {
        "type": "error",
        "code": code,
        "message": _(
            "This API key belongs to another site. Connect to the site it was created on."
        ),
    }
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})


class TenantConsumerMixin:
    """For consumers: ``self.tenant`` and ``self.tenant_scope()`` from the connection."""

    scope: dict[str, Any]

    @property
    def tenant(self) -> Any:
        return self.scope.get("tenant")

    def tenant_scope(self) -> Any:
        return tenant_scope(self.tenant)
