"""Tenant scoping for WebSocket connections (Channels).

``TenantScopeMiddleware`` resolves the connection's tenant from its Host header and
user, stores it in ``scope["tenant"]`` and keeps it active while the consumer runs.
``TenantConsumerMixin`` re-activates it inside each handler, since Channels may run
handlers in another context.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

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
        tenant = await database_sync_to_async(resolve_tenant)(
            host=_host_from_scope(scope), user=user
        )
        scope = dict(scope, tenant=tenant)
        with tenant_scope(tenant):
            return await self.inner(scope, receive, send)


class TenantConsumerMixin:
    """For consumers: ``self.tenant`` and ``self.tenant_scope()`` from the connection."""

    scope: dict[str, Any]

    @property
    def tenant(self) -> Any:
        return self.scope.get("tenant")

    def tenant_scope(self) -> Any:
        return tenant_scope(self.tenant)
