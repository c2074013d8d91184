"""Searching a user's own messages.

PostgreSQL: full-text search (``websearch_to_tsquery`` on the ``simple`` configuration,
so it works the same for every language), ranked with ``ts_rank``, snippets from
``ts_headline``; a GIN index on the same expression (migration 0003) keeps it fast.
SQLite (the embedded default): a case-insensitive substring match, newest first, with a
snippet around the first match.

Snippets are plain text (Markdown stripped by ``chat.text``, as in the sidebar's titles),
HTML-safe: the text is escaped and only ``<mark>`` tags are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.utils.html import escape

from chat.models import Message
from chat.text import markdown_to_text

SEARCH_CONFIG = "simple"
MAX_QUERY_CHARS = 200
SNIPPET_RADIUS = 70
# ts_headline's markers: control characters that cannot survive escaping as HTML.
_START, _STOP = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    message: Message  # with its conversation loaded
    snippet: str  # escaped HTML with <mark> around the matches
    rank: float


def _searchable(*, user: Any) -> Any:
    return (
        Message.objects.filter(
            conversation__user=user,
            superseded=False,
            role__in=[Message.Role.USER, Message.Role.ASSISTANT],
        )
        .exclude(status=Message.Status.BLOCKED)
        .select_related("conversation")
    )


def message_search(*, user: Any, query: str, limit: int = 30) -> list[SearchHit]:
    """The user's messages that match ``query``, best first (only the active tenant's)."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not query:
        return []
    if connection.vendor == "postgresql":
        return _search_postgresql(user=user, query=query, limit=limit)
    return _search_plain(user=user, query=query, limit=limit)


def _search_postgresql(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    search_query = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    vector = SearchVector("content", config=SEARCH_CONFIG)
    rows = (
        _searchable(user=user)
        .annotate(document=vector)
        .filter(document=search_query)
        .annotate(
            rank=SearchRank(vector, search_query),
            headline=SearchHeadline(
                "content",
                search_query,
                config=SEARCH_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-created_at", "-id")[:limit]
    )
    return [
        SearchHit(
            message=row, snippet=highlight(markdown_to_text(row.headline)), rank=float(row.rank)
        )
        for row in rows
    ]


def _search_plain(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    rows = (
        _searchable(user=user)
        .filter(content__icontains=query)
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        SearchHit(message=row, snippet=_plain_snippet(row.content, query), rank=0.0) for row in rows
    ]


def _plain_snippet(content: str, query: str) -> str:
    text = markdown_to_text(content)  # what the reader saw, not the Markdown source
    at = text.lower().find(query.lower())
    if at < 0:
        return escape(text[: SNIPPET_RADIUS * 2])
    start, end = max(0, at - SNIPPET_RADIUS), min(len(text), at + len(query) + SNIPPET_RADIUS)
    before = ("…" if start else "") + text[start:at]
    after = text[at + len(query) : end] + ("…" if end < len(text) else "")
    match = text[at : at + len(query)]
    return f"{escape(before)}<mark>{escape(match)}</mark>{escape(after)}"


def highlight(headline: str) -> str:
    """Escape a ``ts_headline`` result and turn its markers into balanced ``<mark>`` tags."""
    text = " ".join((headline or "").split())
    out: list[str] = []
    open_mark = False
    chunk = ""
    for char in text:
        if char in (_START, _STOP):
            out.append(escape(chunk))
            chunk = ""
            if char == _START and not open_mark:
                out.append("<mark>")
                open_mark = True
            elif char == _STOP and open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            chunk += char
    out.append(escape(chunk))
    if open_mark:
        out.append("</mark>")
    return "".join(out)
