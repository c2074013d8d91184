"""The gateway: key pools, failover before the first event (never after), health scores,
routing per provider, the litellm switch, complete(), images, key checks, token counts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from spark.llm.client import count_tokens, get_gateway
from spark.llm.errors import (
    AuthError,
    NoCredentials,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from spark.llm.keys import platform_key_id
from spark.llm.models import LLMModel
from spark.llm.providers.demo import demo_reply
from spark.llm.providers.litellm_adapter import load_litellm
from spark.llm.types import ChatMessage, KeyUsed, StreamEnd, TextDelta, UsageReport
from tests.fakes.fixtures import PLATFORM_KEYS, LLMFakes
from tests.fakes.llm import Drop, RateLimit, Reply, ServerError, Unauthorized, Verdict
from tests.llm.helpers import chat, run, stream

ROOT = Path(__file__).resolve().parents[2]
OPENAI_KEYS = PLATFORM_KEYS["openai"]


def _text(events: Sequence[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_key_used_comes_first_then_the_answer(llm_fakes: LLMFakes) -> None:
    llm_fakes.set_pool("openai", OPENAI_KEYS[:1])
    llm_fakes.openai.script(Reply("Hi there."))
    events = stream(chat())
    assert events[0] == KeyUsed(source="platform", key_id=platform_key_id("openai", OPENAI_KEYS[0]))
    assert _text(events) == "Hi there."
    assert isinstance(events[-1], StreamEnd)
    assert llm_fakes.openai.keys_used == [OPENAI_KEYS[0]]


def test_pool_fails_over_to_the_next_key_on_429(llm_fakes: LLMFakes) -> None:
    llm_fakes.openai.script(RateLimit(retry_after=30), Reply("From the second key."))
    events = stream(chat())
    used = [key or "" for key in llm_fakes.openai.keys_used]
    assert len(used) == 2
    assert set(used) == set(OPENAI_KEYS)
    assert events[0] == KeyUsed(source="platform", key_id=platform_key_id("openai", used[1]))
    assert _text(events) == "From the second key."


@pytest.mark.parametrize("failure", [ServerError(), Unauthorized()], ids=["500", "401"])
def test_pool_fails_over_on_server_errors_and_refused_keys(
    llm_fakes: LLMFakes, failure: object
) -> None:
    llm_fakes.anthropic.script(failure, Reply("Second key answers."))  # type: ignore[arg-type]
    events = stream(chat("anthropic", "claude-sonnet-4-20250514"))
    assert _text(events) == "Second key answers."
    assert set(llm_fakes.anthropic.keys_used) == set(PLATFORM_KEYS["anthropic"])


def test_no_failover_once_output_has_started(llm_fakes: LLMFakes) -> None:
    llm_fakes.openai.script(Drop(after_chunks=2, text="partial answer that breaks"))
    received: list[object] = []

    async def consume() -> None:
        async for event in get_gateway().stream(chat()):
            received.append(event)

    with pytest.raises(StreamInterrupted):
        run(consume)
    assert _text(received) == "partial answer "
    assert len(llm_fakes.openai.model_calls) == 1  # the second key was never tried


def test_every_key_failing_raises_the_last_error(llm_fakes: LLMFakes) -> None:
    llm_fakes.openai.set_default(RateLimit(retry_after=5))
    with pytest.raises(RateLimited):
        stream(chat())
    assert sorted(k or "" for k in llm_fakes.openai.keys_used) == sorted(OPENAI_KEYS)


def test_a_rate_limited_key_is_avoided_while_it_cools_down(llm_fakes: LLMFakes) -> None:
    first, second = OPENAI_KEYS
    llm_fakes.openai.script(RateLimit(retry_after=60), key=first)
    llm_fakes.openai.set_default(Reply("ok"))
    calls = 0
    while first not in llm_fakes.openai.keys_used:  # until the pool has tried the first key
        stream(chat())
        calls += 1
        assert calls < 20
    hit = llm_fakes.openai.keys_used.index(first)
    for _ in range(5):
        stream(chat())
    assert llm_fakes.openai.keys_used[hit + 1 :] == [second] * (
        len(llm_fakes.openai.keys_used) - hit - 1
    )


def test_without_any_key_no_call_is_made(llm_fakes: LLMFakes) -> None:
    llm_fakes.set_pool("openai", [])
    with pytest.raises(NoCredentials):
        stream(chat())
    assert llm_fakes.openai.model_calls == []


@pytest.mark.parametrize(
    ("provider", "prefix"),
    [
        ("openai", "/v1"),
        ("gemini", "/v1beta/openai"),
        ("xai", "/xai/v1"),
        ("openrouter", "/openrouter/api/v1"),
    ],
)
def test_openai_wire_providers_reach_their_base_url(
    llm_fakes: LLMFakes, provider: str, prefix: str
) -> None:
    llm_fakes.openai.script(Reply("routed"))
    events = stream(chat(provider, "some-model"))
    assert _text(events) == "routed"
    call = llm_fakes.openai.model_calls[0]
    assert call.path == f"{prefix}/chat/completions"
    assert call.api_key in PLATFORM_KEYS[provider]
    assert call.json["stream_options"] == {"include_usage": True}


@pytest.mark.django_db
def test_compatible_server_is_reached_at_the_catalogue_base_url(llm_fakes: LLMFakes) -> None:
    LLMModel.objects.create(
        slug="local-vllm",
        provider="openai_compatible",
        model_id="qwen-local",
        display_name="Qwen (vLLM)",
        base_url=f"{llm_fakes.openai.base_url}/vllm/v1",
    )
    llm_fakes.openai.require_key = False
    llm_fakes.openai.script(Reply("local answer"))
    events = stream(chat("openai_compatible", "qwen-local"))
    assert events[0] == KeyUsed(
        source="none", key_id=f"keyless:{llm_fakes.openai.base_url}/vllm/v1"
    )
    assert _text(events) == "local answer"
    assert llm_fakes.openai.model_calls[0].path == "/vllm/v1/chat/completions"
    assert "authorization" not in llm_fakes.openai.model_calls[0].headers


def test_forcing_litellm_streams_through_litellm(llm_fakes: LLMFakes) -> None:
    llm_fakes.force_litellm("openai")
    llm_fakes.openai.script(Reply("via litellm"))
    events = stream(chat())
    assert _text(events) == "via litellm"
    assert any(isinstance(e, UsageReport) for e in events)
    user_agent = llm_fakes.openai.model_calls[0].headers.get("user-agent", "")
    assert "httpx" not in user_agent  # the OpenAI SDK under litellm, not Spark's client

    llm_fakes.force_litellm()
    llm_fakes.openai.script(Reply("lean again"))
    stream(chat())
    assert "python-httpx" in llm_fakes.openai.model_calls[1].headers.get("user-agent", "")


def test_complete_goes_through_litellm_when_lean_complete_is_off_and_fails_over(
    llm_fakes: LLMFakes,
) -> None:
    llm_fakes.settings.SPARK_LLM_LEAN_COMPLETE = False
    llm_fakes.anthropic.script(
        RateLimit(), Verdict(verdict="allow", category="none", confidence=0.9)
    )
    request = chat(
        "anthropic",
        "claude-3-5-haiku-20241022",
        messages=(
            ChatMessage(role="system", content="Judge the message."),
            ChatMessage(role="user", content="Hello"),
        ),
        temperature=0,
    )
    completion = run(lambda: get_gateway().complete(request))
    assert json.loads(completion.text) == {
        "verdict": "allow",
        "category": "none",
        "confidence": 0.9,
    }
    assert len(set(llm_fakes.anthropic.keys_used)) == 2
    assert llm_fakes.anthropic.model_calls[1].json.get("stream") is not True


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_complete_collects_the_lean_stream_by_default_and_fails_over(
    llm_fakes: LLMFakes, provider: str
) -> None:
    fake = llm_fakes.openai if provider == "openai" else llm_fakes.anthropic
    fake.script(RateLimit(), Verdict(verdict="allow", category="none", confidence=0.9))
    model = "gpt-4o-mini" if provider == "openai" else "claude-3-5-haiku-20241022"
    request = chat(
        provider,
        model,
        messages=(
            ChatMessage(role="system", content="Judge the message."),
            ChatMessage(role="user", content="Hello"),
        ),
        temperature=0,
    )
    completion = run(lambda: get_gateway().complete(request))
    assert json.loads(completion.text)["verdict"] == "allow"
    assert completion.usage.input_tokens > 0
    assert len(set(fake.keys_used)) == 2
    assert fake.model_calls[1].json.get("stream") is True
    assert "python-httpx" in fake.model_calls[1].headers.get("user-agent", "")


def test_lean_complete_leaves_providers_forced_onto_litellm_there(llm_fakes: LLMFakes) -> None:
    llm_fakes.settings.SPARK_LLM_LEAN_COMPLETE = True
    llm_fakes.force_litellm("openai")
    llm_fakes.openai.script(Reply("through litellm"))
    completion = run(lambda: get_gateway().complete(chat("openai", "gpt-4o-mini")))
    assert completion.text == "through litellm"
    assert llm_fakes.openai.model_calls[0].json.get("stream") is not True


def test_demo_answers_without_keys_or_network(llm_fakes: LLMFakes) -> None:
    events = stream(chat("demo", "demo"))
    assert events[0] == KeyUsed(source="none")
    assert "Demo model" in _text(events)
    assert llm_fakes.openai.requests == [] and llm_fakes.anthropic.requests == []


def test_demo_says_it_has_a_system_prompt_and_its_length_but_never_its_words() -> None:
    persona = "You are a patient tutor " + "who explains things slowly " * 10
    reply = demo_reply((ChatMessage("system", persona), ChatMessage("user", "hi")))
    assert "I received a system prompt of 45 words; I keep it to myself." in reply.splitlines()
    assert "patient" not in reply and "slowly" not in reply


def test_generate_image_returns_the_providers_bytes(llm_fakes: LLMFakes) -> None:
    image = run(lambda: get_gateway().generate_image("a red fox", model="gpt-image-1"))
    assert image.data is not None and image.data.startswith(b"\x89PNG")
    call = llm_fakes.openai.model_calls[0]
    assert call.path == "/v1/images/generations"
    assert call.json["prompt"] == "a red fox"


def test_check_key_proves_a_key_and_refuses_a_bad_one(llm_fakes: LLMFakes) -> None:
    llm_fakes.anthropic.valid_keys = {"sk-ant-good-key-123456"}
    assert run(lambda: get_gateway().check_key("anthropic", "sk-ant-good-key-123456")) >= 1
    with pytest.raises(AuthError):
        run(lambda: get_gateway().check_key("anthropic", "sk-ant-wrong-key-123456"))
    assert llm_fakes.anthropic.model_calls == []  # listing models costs no tokens


def test_provider_unavailable_when_nothing_listens(llm_fakes: LLMFakes) -> None:
    llm_fakes.set_pool("xai", ["xai-only-key-0001"])
    llm_fakes.settings.SPARK_PROVIDER_BASE_URLS = {
        **llm_fakes.settings.SPARK_PROVIDER_BASE_URLS,
        "xai": "http://127.0.0.1:9/v1",  # the discard port: connection refused
    }
    with pytest.raises(ProviderUnavailable):
        stream(chat("xai", "grok-3"))


def test_token_counts_grow_with_the_conversation_and_are_stable() -> None:
    load_litellm()
    one = (ChatMessage(role="user", content="The quick brown fox jumps over the lazy dog."),)
    two = (*one, ChatMessage(role="assistant", content="And then it ran away into the forest."))
    first = count_tokens("gpt-4o", one)
    assert 10 < first < 30
    assert count_tokens("gpt-4o", two) > first
    assert count_tokens("gpt-4o", one) == first
    assert count_tokens("claude-sonnet-4-20250514", two) > 0


def test_litellm_loads_offline_with_its_bundled_price_map() -> None:
    """In a fresh interpreter where any non-loopback connection raises, litellm still
    imports and knows thousands of models' prices."""
    script = """
import socket
real_connect = socket.socket.connect
def guarded(self, address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"network access attempted: {address}")
    return real_connect(self, address)
socket.socket.connect = guarded
socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network"))
import os
for name in ("LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_OFFLINE_MODE", "HF_HUB_OFFLINE"):
    os.environ.pop(name, None)
from spark.llm.providers.litellm_adapter import load_litellm, local_price_map_size
load_litellm()
print(local_price_map_size())
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1]) > 1000
    assert "network access attempted" not in result.stderr
