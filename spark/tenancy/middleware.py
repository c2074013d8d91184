"""TenantMiddleware: resolves where a request acts and activates that tenant for the view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from spark.tenancy.context import resolve_tenant, tenant_scope


def _host(request: HttpRequest) -> str:
    return request.get_host().split(":", 1)[0].lower()


def _is_exempt(request: HttpRequest) -> bool:
    """Probes and static files need no tenant (and must not depend on the database)."""
    return request.path.startswith(tuple(settings.SPARK_TENANT_EXEMPT_PATHS))


def _is_open(request: HttpRequest) -> bool:
    """What a members-only site shows to someone who is not signed in as a member."""
    return request.path.startswith(tuple(settings.SPARK_TENANT_MEMBERS_ONLY_OPEN_PATHS))


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(("/api/", "/v1/")) or "HTTP_AUTHORIZATION" in request.META:
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _anonymous_getter() -> Callable[[], Awaitable[Any]]:
    anonymous = AnonymousUser()

    async def auser() -> Any:
        return anonymous

    return auser


def _apply(request: HttpRequest, resolution: Any) -> HttpResponse | None:
    """Put the resolution on the request; an answer when it must go no further."""
    request.tenant = resolution.tenant  # type: ignore[attr-defined]
    request.tenant_site = resolution.site  # type: ignore[attr-defined]
    request.tenant_visitor = resolution.visitor  # type: ignore[attr-defined]
    if resolution.refusal is not None:
        return _error(
            resolution.refusal,
            _("This API key belongs to another site. Call the site it was created on."),
            403,
        )
    if resolution.visitor is not None:
        # A signed-in non-member is a visitor here: they act as anonymous on this site.
        request.user = AnonymousUser()
        request.auser = _anonymous_getter()  # type: ignore[attr-defined]
    if resolution.members_only and not _is_open(request):
        if _wants_json(request):
            return _error("not_authenticated", _("Sign in as a member of this site."), 401)
        return redirect_to_login(request.get_full_path())
    return None


class TenantMiddleware:
    """Sets ``request.tenant`` and runs the view inside that tenant's scope.

    Must come after authentication (including API keys). The resolver
    (SPARK_TENANT_RESOLVER, docs/tenancy.md) decides: an API key acts in its own tenant
    and is refused with 403 ``tenant_mismatch`` on another tenant's site; a signed-in user
    acts in their home tenant, and on another tenant's site is a visitor (anonymous
    there); members-only sites send visitors to sign in. Works for sync and async views.
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
        resolution = resolve_tenant(
            host=_host(request), user=request.user, api_key=getattr(request, "api_key", None)
        )
        refused = _apply(request, resolution)
        if refused is not None:
            return refused
        with tenant_scope(resolution.tenant):
            return self.get_response(request)  # type: ignore[return-value]

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if _is_exempt(request):
            request.tenant = None  # type: ignore[attr-defined]
            with tenant_scope(None):
                return await self.get_response(request)  # type: ignore[misc, no-any-return]
        user = await request.auser()  # type: ignore[attr-defined]
        resolution = await sync_to_async(resolve_tenant)(
            host=_host(request), user=user, api_key=getattr(request, "api_key", None)
        )
        refused = _apply(request, resolution)
        if refused is not None:
            return refused
        with tenant_scope(resolution.tenant):
            return await self.get_response(request)  # type: ignore[misc, no-any-return]
