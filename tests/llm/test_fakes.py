"""The LLM fakes themselves: scripting per key, defaults, records, and 200 streams at once."""

from __future__ import annotations

import asyncio

import httpx

from spark.llm.providers.openai_compat import OpenAICompatAdapter
from spark.llm.types import ChatMessage, ChatRequest, Credentials, TextDelta
from tests.fakes.llm import FakeOpenAI, RateLimit, Reply


def _request() -> ChatRequest:
    return ChatRequest(
        provider="openai", model="m", messages=(ChatMessage(role="user", content="hi"),)
    )


async def _answer(fake: FakeOpenAI, key: str) -> str:
    credentials = Credentials(api_key=key, base_url=f"{fake.base_url}/v1")
    adapter = OpenAICompatAdapter()
    parts = [
        e.text async for e in adapter.stream(_request(), credentials) if isinstance(e, TextDelta)
    ]
    return "".join(parts)


async def test_scripts_are_consumed_in_order_then_the_default_answers(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(Reply("first"), Reply("second"))
    fake_openai.default = Reply("default")
    answers = [await _answer(fake_openai, "sk-1") for _ in range(3)]
    assert answers == ["first", "second", "default"]
    assert fake_openai.pending == 0


async def test_a_script_for_one_key_waits_for_that_key(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply("only for b"), key="sk-b")
    assert await _answer(fake_openai, "sk-a") == "Hello from the fake model."
    assert fake_openai.pending == 1
    assert await _answer(fake_openai, "sk-b") == "only for b"
    assert fake_openai.keys_used == ["sk-a", "sk-b"]


async def test_a_reset_brings_back_everything_a_test_changed(fake_openai: FakeOpenAI) -> None:
    # A test that switched recording off (a long stream run) must not leave the next
    # test of its worker with an empty request log.
    fake_openai.record = False
    fake_openai.default = Reply("changed")
    fake_openai.require_key = False
    await _answer(fake_openai, "sk-a")
    assert fake_openai.requests == []

    fake_openai.reset()

    assert await _answer(fake_openai, "sk-a") == "Hello from the fake model."
    assert fake_openai.keys_used == ["sk-a"]
    assert fake_openai.require_key is True


async def test_errors_and_model_listing_follow_the_wire_format(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(RateLimit(retry_after=3))
    async with httpx.AsyncClient(base_url=fake_openai.base_url) as client:
        limited = await client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": []},
            headers={"Authorization": "Bearer sk-x"},
        )
        models = await client.get("/v1/models", headers={"Authorization": "Bearer sk-x"})
        anonymous = await client.get("/v1/models")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert models.json()["data"][0]["id"] == "fake-model"
    assert anonymous.status_code == 401
    assert len(fake_openai.model_calls) == 1  # listing models is not a model call


async def test_two_hundred_concurrent_streams_all_complete(fake_openai: FakeOpenAI) -> None:
    text = " ".join(f"w{i}" for i in range(30))
    fake_openai.default = Reply(text)
    answers = await asyncio.gather(*(_answer(fake_openai, f"sk-{n}") for n in range(200)))
    assert answers == [text] * 200
    assert len(fake_openai.model_calls) == 200
