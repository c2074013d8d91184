"""Named rate limits for every part of Spark, on django-ratelimit's cache-backed counters.

A policy is a rate name from ``SPARK_RATE_LIMITS`` ("30/m", "10/h"...) and a key: the
user, the tenant, the API key or the client IP. Three ways to apply one:

- anywhere (services, consumers, tasks): ``rate_limit_hit(rate="send_user", key=user_key(u))``
  raises ``RateLimitExceeded`` (an ``ApplicationError``: HTTP 429 with ``Retry-After`` in
  the API, an ``error`` frame on a socket);
- a Django view: ``@rate_limit("export", key="user")`` answers 429 (JSON or a page);
  every export view must carry the ``export`` rate (system check ``spark.security.E002``);
- a DRF view: ``throttle_classes = [throttle("upload", key="user", methods=("POST",))]``.

Counters live in the default cache (Redis in production, shared by every instance). When
the cache cannot count, the request is refused (django-ratelimit fails closed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from spark.common.exceptions import ApplicationError
from spark.common.net import client_ip
from spark.common.views import rate_limited

KeyKind = Literal["user", "tenant", "api_key", "ip", "user_or_ip"]


class RateLimitExceeded(ApplicationError):
    status_code = 429
    default_code = "rate_limited"

    def __init__(self, *, rate: str, retry_after: int) -> None:
        super().__init__(
            _("Too many requests. Please wait and try again."),
            details={"rate": rate, "retry_after": retry_after},
        )
        self.retry_after = retry_after


def user_key(user: Any) -> str:
    return f"user:{user.pk}"


def tenant_key(tenant: Any) -> str:
    return f"tenant:{tenant.pk}"


def api_key_key(api_key: Any) -> str:
    return f"api_key:{api_key.pk}"


def ip_key(request: HttpRequest) -> str:
    return f"ip:{client_ip(request)}"


def request_key(request: HttpRequest, kind: KeyKind) -> str:
    """The counter key of ``kind`` for a request (its user, tenant, API key or IP)."""
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    if kind == "ip" or (kind == "user_or_ip" and not authenticated):
        return ip_key(request)
    if kind in ("user", "user_or_ip"):
        return user_key(user) if authenticated else ip_key(request)
    if kind == "tenant":
        tenant = getattr(request, "tenant", None)
        return tenant_key(tenant) if tenant is not None else ip_key(request)
    api_key = getattr(request, "api_key", None)
    return api_key_key(api_key) if api_key is not None else request_key(request, "user_or_ip")


def rate_limit_hit(*, rate: str, key: str) -> None:
    """Count one use of the named ``rate`` for ``key``; past the limit, raise.

    Raises ``RateLimitExceeded`` with the seconds until the window ends.
    """
    usage = get_usage(
        None,
        group=f"spark:{rate}",
        key=lambda _group, _request: key,
        rate=settings.SPARK_RATE_LIMITS[rate],
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise RateLimitExceeded(rate=rate, retry_after=max(1, int(usage["time_left"])))


def too_many_requests(request: HttpRequest, error: RateLimitExceeded) -> HttpResponse:
    """The 429 answer (JSON for API clients, a page for browsers) with its Retry-After."""
    response = rate_limited(request, error)
    response["Retry-After"] = str(error.retry_after)
    return response


def rate_limit(
    rate: str, *, key: KeyKind = "user", methods: tuple[str, ...] | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorate a Django view: each request (of ``methods``, default all) counts."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if methods is None or request.method in methods:
                try:
                    rate_limit_hit(rate=rate, key=request_key(request, key))
                except RateLimitExceeded as error:
                    return too_many_requests(request, error)
            return view(request, *args, **kwargs)

        limited.spark_rate_limits = (*getattr(view, "spark_rate_limits", ()), rate)  # type: ignore[attr-defined]
        return limited

    return decorate


def rate_limits_of(view: Any) -> set[str]:
    """The named rates a URL's view applies: ``@rate_limit`` or DRF ``throttle`` classes."""
    names = set(getattr(view, "spark_rate_limits", ()))
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    for throttle_class in getattr(view_class, "throttle_classes", ()) or ():
        rate_name = getattr(throttle_class, "rate_name", "")
        if rate_name:
            names.add(rate_name)
    return names


class RateLimitThrottle(BaseThrottle):
    """A DRF throttle over a named rate; build one with ``throttle(...)``."""

    rate_name: str = ""
    key_kind: KeyKind = "user"
    methods: tuple[str, ...] | None = None

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.methods is not None and request.method not in self.methods:
            return True
        try:
            rate_limit_hit(rate=self.rate_name, key=request_key(request._request, self.key_kind))
        except RateLimitExceeded as error:
            self._wait = error.retry_after
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


def throttle(
    rate: str, *, key: KeyKind = "user", methods: tuple[str, ...] | None = None
) -> type[RateLimitThrottle]:
    """A DRF throttle class for the named ``rate``, counted per ``key``."""
    if rate not in settings.SPARK_RATE_LIMITS:
        raise KeyError(f"no rate named {rate!r} in SPARK_RATE_LIMITS")
    name = f"RateLimitThrottle_{rate}_{key}"
    attrs = {"rate_name": rate, "key_kind": key, "methods": methods}
    return type(name, (RateLimitThrottle,), attrs)
