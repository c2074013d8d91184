"""Markdown as the plain text a reader sees: for titles and search snippets."""

from __future__ import annotations

import pytest

from chat.services import _title_from
from chat.text import markdown_to_text


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**Demo model** says `hi`", "Demo model says hi"),
        ("# Plan\n\n- one\n- two [link](https://x.example)", "Plan one two link"),
        ("| a | b |\n| --- | --- |\n| 1 | 2 |", "a b 1 2"),
        ("```python\nprint(1)\n```", "print(1)"),
        ("~~old~~ new ![a cat](cat.png)", "old new a cat"),
        ("**Demo mod", "Demo mod"),  # a stopped answer's unclosed bold
        ("`__init__` and 2*3 <b>x</b>", "__init__ and 2*3 <b>x</b>"),  # code and HTML kept as text
        ("", ""),
    ],
)
def test_markdown_becomes_the_text_a_reader_sees(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


def test_a_conversations_title_from_a_markdown_message_is_plain_text() -> None:
    assert _title_from("**Review** this `code`,\nplease") == "Review this code, please"
