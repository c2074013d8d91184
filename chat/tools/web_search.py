"""``web_search``: asks a search API (SearXNG-compatible JSON) and returns the top results."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from chat.tools import ToolContext, ToolResult

MAX_RESULTS = 5


class WebSearch:
    name = "web_search"
    description = "Search the web. Returns the top results with titles, links and snippets."
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "What to search for."}},
        "required": ["query"],
    }
    timeout = 10.0

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        query = str(arguments.get("query", "")).strip()
        if not query:
            return ToolResult(content="No query given.", is_error=True)
        base_url = settings.SPARK_WEB_SEARCH_URL
        if not base_url:
            return ToolResult(
                content="Web search is not configured on this server.",
                display={"error": _("Web search is not configured on this server.")},
                is_error=True,
            )
        headers = {"Accept": "application/json"}
        if settings.SPARK_WEB_SEARCH_API_KEY:
            headers["Authorization"] = f"Bearer {settings.SPARK_WEB_SEARCH_API_KEY}"
        # The search API's address is the operator's setting, never user input.
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(
                base_url, params={"q": query, "format": "json"}, headers=headers
            )
        if response.status_code != 200:
            return ToolResult(
                content=f"The search service answered HTTP {response.status_code}.",
                display={"error": _("The search service is unavailable.")},
                is_error=True,
            )
        results = [
            {
                "title": str(item.get("title", ""))[:200],
                "url": str(item.get("url", ""))[:500],
                "snippet": str(item.get("content", ""))[:500],
            }
            for item in response.json().get("results", [])[:MAX_RESULTS]
        ]
        if not results:
            return ToolResult(content=f"No results for “{query}”.", display={"results": []})
        lines = [
            f"{i}. {r['title']} — {r['url']}\n   {r['snippet']}" for i, r in enumerate(results, 1)
        ]
        return ToolResult(content="\n".join(lines), display={"query": query, "results": results})
