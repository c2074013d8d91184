"""Rate limits for the sign-in endpoints: per client IP and per account (the posted email).

django-ratelimit with the default cache; rates from ``SPARK_RATE_LIMITS``; a limited
request gets ``spark.common.views.rate_limited`` (HTTP 429, Retry-After).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.decorators import ratelimit

View = Callable[..., Any]


def posted_account_key(field: str) -> Callable[[str, HttpRequest], str]:
    """A ratelimit key: the normalized email posted in ``field`` (hashed; never logged)."""

    def key(group: str, request: HttpRequest) -> str:
        value = str(request.POST.get(field, "")).strip().lower()
        return hashlib.sha256(value.encode()).hexdigest()

    return key


def rate(name: str) -> Callable[[str, HttpRequest], str]:
    def current(group: str, request: HttpRequest) -> str:
        return str(settings.SPARK_RATE_LIMITS[name])

    return current


def limit_auth_view(
    view: View, *, group: str, ip_rate: str, account_rate: str | None, account_field: str = "email"
) -> View:
    """Wrap an auth view: POSTs limited per IP and, if given, per posted account."""
    limited = ratelimit(group=f"{group}:ip", key="ip", rate=rate(ip_rate), method="POST")(view)
    if account_rate is not None:
        limited = ratelimit(
            group=f"{group}:account",
            key=posted_account_key(account_field),
            rate=rate(account_rate),
            method="POST",
        )(limited)
    return limited
