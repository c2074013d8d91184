"""Markdown as plain text, for the places that show text, not a rendered answer: the
conversation titles of the sidebar and the search results' snippets.

Answers are Markdown rendered in the browser (marked, GFM); here markdown-it-py (CommonMark
with GFM tables and strikethrough) reads the same text and keeps only what a reader sees:
"**Demo model** says `hi`" becomes "Demo model says hi".
"""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Emphasis and code markers left unmatched (a stopped answer, a snippet's fragment).
_DANGLING = re.compile(r"\*{2,}|_{2,}|~~|`+")


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _inline_text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type == "text":
            parts.append(_DANGLING.sub("", child.content))
        elif child.type in ("code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)


def markdown_to_text(text: str) -> str:
    """What a reader of the rendered Markdown sees, on one line (whitespace collapsed)."""
    parts = []
    for token in _parser().parse(text or ""):
        if token.type == "inline":
            parts.append(_inline_text(token.children or []))
        elif token.type in ("fence", "code_block", "html_block"):
            parts.append(token.content)
        if token.block and token.nesting != 1:
            parts.append(" ")  # blocks (paragraphs, cells, list items) stay apart
    return " ".join("".join(parts).split())
