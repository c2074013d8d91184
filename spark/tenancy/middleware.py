"""TenantMiddleware: resolves the request's tenant and activates its scope for the view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from spark.tenancy.context import resolve_tenant, tenant_scope


def _host(request: HttpRequest) -> str:
    return request.get_host().split(":", 1)[0].lower()


def _is_exempt(request: HttpRequest) -> bool:
    """Probes and static files need no tenant (and must not depend on the database)."""
    return request.path.startswith(tuple(settings.SPARK_TENANT_EXEMPT_PATHS))


class TenantMiddleware:
    """Sets ``request.tenant`` and runs the view inside that tenant's scope.

    Must come after authentication (including API keys): a request is in the tenant of
    its Host (a tenant or prompt domain), else in its user's home tenant, else in the
    public tenant. Works for sync and async views.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        if _is_exempt(request):
            request.tenant = None  # type: ignore[attr-defined]
            with tenant_scope(None):
                return self.get_response(request)  # type: ignore[return-value]
        tenant = resolve_tenant(host=_host(request), user=request.user)
        request.tenant = tenant  # type: ignore[attr-defined]
        with tenant_scope(tenant):
            return self.get_response(request)  # type: ignore[return-value]

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if _is_exempt(request):
            request.tenant = None  # type: ignore[attr-defined]
            with tenant_scope(None):
                return await self.get_response(request)  # type: ignore[misc, no-any-return]
        user = await request.auser()  # type: ignore[attr-defined]
        tenant = await sync_to_async(resolve_tenant)(host=_host(request), user=user)
        request.tenant = tenant  # type: ignore[attr-defined]
        with tenant_scope(tenant):
            return await self.get_response(request)  # type: ignore[misc, no-any-return]
