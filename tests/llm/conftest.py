"""Fixtures for the gateway's tests: adapters under contract, pointed at the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from spark.llm.providers.anthropic import AnthropicAdapter
from spark.llm.providers.base import ChatAdapter
from spark.llm.providers.http import close_shared_client
from spark.llm.providers.litellm_adapter import LiteLLMAdapter
from spark.llm.types import ChatRequest, Credentials, StreamEvent
from tests.fakes.llm import FakeAnthropic, FakeLLMServer, FakeOpenAI


@pytest.fixture(autouse=True)
async def _close_http_client() -> AsyncIterator[None]:
    """Each test's event loop ends with it: close the shared client's connections first."""
    yield
    await close_shared_client()


@dataclass
class Subject:
    """One adapter speaking one wire format to its fake."""

    adapter: ChatAdapter
    fake: FakeLLMServer
    provider: str
    credentials: Credentials

    def request(self, **overrides: object) -> ChatRequest:
        from spark.llm.types import ChatMessage

        fields: dict[str, object] = {
            "provider": self.provider,
            "model": "fake-model",
            "messages": (
                ChatMessage(role="system", content="You are terse."),
                ChatMessage(role="user", content="Say hello."),
            ),
            "timeout": 10.0,
        }
        fields.update(overrides)
        return ChatRequest(**fields)  # type: ignore[arg-type]

    async def events(self, request: ChatRequest) -> list[StreamEvent]:
        return [event async for event in self.adapter.stream(request, self.credentials)]


def make_subject(
    implementation: str, wire: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Subject:
    from spark.llm.providers.openai_compat import OpenAICompatAdapter

    if wire == "openai":
        fake: FakeLLMServer = fake_openai
        credentials = Credentials(api_key="sk-contract-1234", base_url=f"{fake_openai.base_url}/v1")
        adapter: ChatAdapter = (
            OpenAICompatAdapter("openai") if implementation == "lean" else LiteLLMAdapter()
        )
    else:
        fake = fake_anthropic
        credentials = Credentials(api_key="sk-ant-contract-1234", base_url=fake_anthropic.base_url)
        adapter = AnthropicAdapter() if implementation == "lean" else LiteLLMAdapter()
    return Subject(adapter=adapter, fake=fake, provider=wire, credentials=credentials)


SubjectFactory = Callable[[str, str], Subject]
