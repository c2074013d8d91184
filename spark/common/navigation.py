"""The site's navigation: each app says which of its pages the person may open.

``SPARK_NAVIGATION`` lists providers by dotted path (like the send pipeline's stages), so
this module imports no app. A provider takes the request and returns the links the
signed-in person can open — and only those: a member never sees a manager's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavLink:
    key: str  # stable name, for tests and styling ("chat", "team_billing" ...)
    label: str
    url: str
    order: int  # position in the bar: lower comes first


NavProvider = Callable[[HttpRequest], list[NavLink]]


@cache
def _providers(paths: tuple[str, ...]) -> tuple[NavProvider, ...]:
    return tuple(import_string(path) for path in paths)


def navigation_for(request: HttpRequest) -> list[NavLink]:
    """The links of every provider for a signed-in request, in order; none for visitors."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return []
    links: list[NavLink] = []
    for provider in _providers(tuple(settings.SPARK_NAVIGATION)):
        links.extend(provider(request))
    return sorted(links, key=lambda link: link.order)


def current_key(request: HttpRequest, links: list[NavLink]) -> str:
    """The key of the link the current page is under (the longest matching URL), or ""."""
    matches = [link for link in links if request.path.startswith(link.url)]
    return max(matches, key=lambda link: len(link.url)).key if matches else ""
