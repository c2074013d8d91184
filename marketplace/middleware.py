"""LandingMiddleware: every request on the landing origin is answered here, and only here.

It runs before sessions, CSRF, authentication and tenancy, so a landing host never reads
or sets the app's cookies, never sees who the visitor is in the app, and never reaches one
of the app's views: it resolves the path in ``marketplace.landing_urls`` (or answers 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from marketplace import landing, landing_views


class LandingMiddleware:
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
        if landing.is_landing_host(request.get_host()):
            return landing_views.serve(request)
        return self.get_response(request)  # type: ignore[return-value]

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        host = request.get_host()
        if landing.is_landing_subdomain_host(host) or (
            landing.may_be_landing_host(host) and await sync_to_async(landing.is_landing_host)(host)
        ):
            return await sync_to_async(landing_views.serve)(request)
        return await self.get_response(request)  # type: ignore[misc, no-any-return]
