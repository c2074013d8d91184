"""pytest fixtures for the LLM fakes (imported by tests/conftest.py).

``fake_openai`` / ``fake_anthropic``: the fake servers, reset for each test.
``llm_fakes``: both, with Spark's settings pointing every provider at them and a
two-key platform pool per provider (``PLATFORM_KEYS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from spark.llm.health import health_board
from tests.fakes.llm import FakeAnthropic, FakeOpenAI

PLATFORM_KEYS = {
    "openai": ["sk-platform-openai-1111", "sk-platform-openai-2222"],
    "anthropic": ["sk-ant-platform-1111", "sk-ant-platform-2222"],
    "gemini": ["gm-platform-gemini-1111"],
    "xai": ["xai-platform-key-1111"],
    "openrouter": ["sk-or-platform-1111"],
    "openai_compatible": [],
}


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _fake_anthropic_server() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_fake_openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    _fake_openai_server.reset()
    yield _fake_openai_server
    _fake_openai_server.reset()


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    _fake_anthropic_server.reset()
    yield _fake_anthropic_server
    _fake_anthropic_server.reset()


@dataclass
class LLMFakes:
    openai: FakeOpenAI
    anthropic: FakeAnthropic
    settings: Any

    def set_pool(self, provider: str, keys: list[str]) -> None:
        """Replace a provider's platform key pool for this test."""
        self.settings.SPARK_PROVIDER_KEYS = {**self.settings.SPARK_PROVIDER_KEYS, provider: keys}

    def force_litellm(self, *providers: str) -> None:
        self.settings.SPARK_LLM_FORCE_LITELLM = list(providers)


@pytest.fixture
def llm_fakes(fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, settings: Any) -> LLMFakes:
    """Every provider pointed at the fakes (OpenAI-wire providers at the OpenAI fake under
    their own path prefix), with fresh health scores."""
    base = fake_openai.base_url
    settings.SPARK_PROVIDER_BASE_URLS = {
        "openai": f"{base}/v1",
        "anthropic": fake_anthropic.base_url,
        "gemini": f"{base}/v1beta/openai",
        "xai": f"{base}/xai/v1",
        "openrouter": f"{base}/openrouter/api/v1",
        "openai_compatible": f"{base}/compatible/v1",
    }
    settings.SPARK_PROVIDER_KEYS = {k: list(v) for k, v in PLATFORM_KEYS.items()}
    settings.SPARK_LLM_FORCE_LITELLM = []
    health_board.reset_local()
    return LLMFakes(openai=fake_openai, anthropic=fake_anthropic, settings=settings)
