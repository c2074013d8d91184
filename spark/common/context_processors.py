"""Template context shared by every page."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from spark.common.navigation import current_key, navigation_for


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.SPARK_SITE_NAME,
        "GOOGLE_LOGIN_ENABLED": settings.GOOGLE_LOGIN_ENABLED,
        "current_tenant": getattr(request, "tenant", None),
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    """``nav_links`` (what this person can open) and ``nav_current``, computed when used."""
    links = SimpleLazyObject(lambda: navigation_for(request))
    return {
        "nav_links": links,
        "nav_current": SimpleLazyObject(lambda: current_key(request, list(links))),
    }
