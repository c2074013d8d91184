"""System checks: raw HTTP clients stay out of app code that might fetch a user's URL;
every export is rate limited (E002, at the end).

Every URL a user or a webhook can influence goes through ``security.fetch``. Raw
``httpx``/``requests``/``urllib`` calls are allowed only where the URL is Spark's own
configuration: the LLM providers (``spark/llm/providers/``), third-party clients in an
app's ``integrations/`` folder, and ``security/fetch.py`` itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

PACKAGES = (
    "spark",
    "accounts",
    "security",
    "branding",
    "marketplace",
    "chat",
    "watchdog",
    "billing",
    "voice",
    "whatsapp_bridge",
)
ALLOWED = (
    "spark/llm/providers/",
    "security/fetch.py",
    "/integrations/",
    "/migrations/",
    "spark/settings/",
)
RAW_HTTP = re.compile(
    r"^\s*(?:import\s+(?:requests|urllib3|aiohttp)\b"
    r"|from\s+(?:requests|urllib3|aiohttp|httpx)\b.*\bimport\b"
    r"|from\s+urllib\.request\s+import)"
    r"|\b(?:httpx|requests|urllib3|aiohttp)\.(?:get|post|put|patch|delete|head|options|request|"
    r"stream|Client|AsyncClient|Session|PoolManager|ClientSession)\b"
    r"|\burlopen\(",
    re.MULTILINE,
)


def find_raw_http_calls(root: Path, packages: Iterable[str] = PACKAGES) -> list[tuple[str, int]]:
    """(path, line) of every raw HTTP client use outside the allowed places."""
    found: list[tuple[str, int]] = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if any(part in f"/{relative}" for part in ALLOWED):
                continue
            text = path.read_text(encoding="utf-8")
            for match in RAW_HTTP.finditer(text):
                found.append((relative, text.count("\n", 0, match.start()) + 1))
    return found


@checks.register(checks.Tags.security)
def check_no_raw_http_in_app_code(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    root = Path(settings.BASE_DIR)
    return [
        checks.Error(
            f"{path}:{line} calls an HTTP client directly.",
            hint="Fetch URLs a user or webhook can influence with security.fetch.fetch; "
            "third-party API clients with fixed URLs belong in an integrations/ folder.",
            id="spark.security.E001",
        )
        for path, line in find_raw_http_calls(root)
    ]


# --- every export is rate limited ------------------------------------------------------------


def _walk(
    patterns: Iterable[Any], prefix: str = "", namespace: str = ""
) -> Iterable[tuple[str, str, Any]]:
    """(route, name, view) of every URL pattern, includes followed."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if hasattr(entry, "url_patterns"):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, route, inner)
        else:
            yield route, f"{namespace}{entry.name or ''}", entry.callback


def unlimited_exports(patterns: Iterable[Any] | None = None) -> list[str]:
    """URL routes that export data (``export`` in the name or route, or a ``.csv`` file)
    without the ``export`` rate limit."""
    from django.urls import get_resolver

    from security.ratelimit import rate_limits_of

    found = []
    for route, name, view in _walk(
        patterns if patterns is not None else get_resolver().url_patterns
    ):
        is_export = "export" in name.lower() or "export" in route.lower() or ".csv" in route.lower()
        if is_export and "export" not in rate_limits_of(view):
            found.append(route)
    return found


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_exports_are_rate_limited(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return [
        checks.Error(
            f"{route} exports data without the 'export' rate limit",
            hint='Decorate the view with @rate_limit("export", key="user") (security.ratelimit), '
            'or give a DRF view throttle("export", key="user").',
            id="spark.security.E002",
        )
        for route in unlimited_exports()
    ]
