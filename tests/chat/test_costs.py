"""The parts of a message's cost, as its cost line shows them (chat.costs)."""

from __future__ import annotations

from chat.costs import breakdown, use_label


def test_a_cost_of_tokens_alone_has_no_parts_to_show() -> None:
    assert breakdown([{"kind": "answer", "detail": "", "cost_micros": 1200}]) == []
    assert breakdown([]) == []


def test_an_answer_that_drew_and_searched_shows_each_use_with_equal_uses_summed() -> None:
    parts = [
        {"kind": "answer", "detail": "", "cost_micros": 1_200},
        {"kind": "image", "detail": "generate_image:1024x1024/medium", "cost_micros": 42_000},
        {"kind": "tool", "detail": "web_search", "cost_micros": 6_000},
        {"kind": "tool", "detail": "web_search", "cost_micros": 6_000},
        {"kind": "evaluator", "detail": "evaluator", "cost_micros": 0},
    ]
    assert breakdown(parts) == [
        {"label": "Answer", "cost_usd": "0.001200"},
        {"label": "Image (1024x1024, medium)", "cost_usd": "0.042000"},
        {"label": "Web search", "cost_usd": "0.012000"},
    ]


def test_a_use_without_a_known_name_is_shown_by_its_tool_name() -> None:
    assert use_label("tool", "fetch_page") == "fetch_page"
    assert use_label("evaluator", "evaluator") == "Supervision"
