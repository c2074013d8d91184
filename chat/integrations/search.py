"""The web search API the ``web_search`` tool asks (SearXNG-compatible JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


class SearchUnavailable(Exception):
    """The search service is not configured or did not answer."""


async def search(query: str, *, limit: int, timeout: float) -> list[SearchResult]:
    base_url = settings.SPARK_WEB_SEARCH_URL
    if not base_url:
        raise SearchUnavailable("not configured")
    headers = {"Accept": "application/json"}
    if settings.SPARK_WEB_SEARCH_API_KEY:
        headers["Authorization"] = f"Bearer {settings.SPARK_WEB_SEARCH_API_KEY}"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(
                base_url, params={"q": query, "format": "json"}, headers=headers
            )
    except httpx.HTTPError as error:
        raise SearchUnavailable(str(error)) from error
    if response.status_code != 200:
        raise SearchUnavailable(f"HTTP {response.status_code}")
    items: list[dict[str, Any]] = response.json().get("results", [])
    return [
        SearchResult(
            title=str(item.get("title", ""))[:200],
            url=str(item.get("url", ""))[:500],
            snippet=str(item.get("content", ""))[:500],
        )
        for item in items[:limit]
    ]
