"""``web_search``: asks the configured search API and returns the top results."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.integrations.search import SearchUnavailable, search
from chat.pipeline import ExtraUsage
from chat.tools import ToolContext, ToolResult
from spark.llm.types import Usage

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
        if not settings.SPARK_WEB_SEARCH_URL:
            message = _("Web search is not configured on this server.")
            return ToolResult(content=message, display={"error": message}, is_error=True)
        try:
            results = await search(query, limit=MAX_RESULTS, timeout=self.timeout)
        except SearchUnavailable as error:
            return ToolResult(
                content=f"The search service is unavailable ({error}).",
                display={"error": _("The search service is unavailable.")},
                is_error=True,
            )
        # A call the search API answered costs one call (the catalogue's ToolPrice).
        usage = ExtraUsage(kind="tool:web_search", model_slug="", usage=Usage(), tool=self.name)
        if not results:
            return ToolResult(
                content=f"No results for “{query}”.", display={"results": []}, usage=usage
            )
        lines = [f"{i}. {r.title} — {r.url}\n   {r.snippet}" for i, r in enumerate(results, 1)]
        display = {"query": query, "results": [r.__dict__ for r in results]}
        return ToolResult(content="\n".join(lines), display=display, usage=usage)
