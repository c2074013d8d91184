"""One contract for every streaming adapter: Spark's lean adapters and litellm, on the
OpenAI and Anthropic wire formats, against the same fakes, with the same typed errors."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest

from spark.llm.errors import (
    AuthError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from spark.llm.types import (
    ChatMessage,
    StreamEnd,
    TextDelta,
    ToolCall,
    ToolCallReady,
    ToolSpec,
    Usage,
    UsageReport,
)
from tests.fakes.llm import (
    Drop,
    FakeAnthropic,
    FakeOpenAI,
    RateLimit,
    Reply,
    ServerError,
    SlowFirstToken,
    ToolCallReply,
    Unauthorized,
)
from tests.llm.conftest import Subject, make_subject

SEARCH = ToolSpec(
    name="web_search",
    description="Search the web.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}},
)


@pytest.fixture(
    params=[
        ("lean", "openai"),
        ("lean", "anthropic"),
        ("litellm", "openai"),
        ("litellm", "anthropic"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def subject(
    request: pytest.FixtureRequest, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Subject:
    implementation, wire = request.param
    return make_subject(implementation, wire, fake_openai, fake_anthropic)


def _text(events: Sequence[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_text_arrives_as_ordered_deltas_then_usage_then_end(subject: Subject) -> None:
    subject.fake.script(Reply("Hello there, big wide world", input_tokens=21))
    events = await subject.events(subject.request())
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 4
    assert _text(events) == "Hello there, big wide world"
    assert isinstance(events[-1], StreamEnd)
    assert events[-1].finish_reason == "stop"
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert usage == [UsageReport(Usage(input_tokens=21, output_tokens=5))]
    assert events.index(usage[0]) > events.index(deltas[-1])


async def test_tool_call_fragments_are_assembled_into_one_call(subject: Subject) -> None:
    arguments = {"query": "cats and dogs in the rain", "limit": 3}
    subject.fake.script(ToolCallReply("web_search", arguments))
    events = await subject.events(subject.request(tools=(SEARCH,)))
    calls = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert len(calls) == 1
    assert calls[0].name == "web_search"
    assert json.loads(calls[0].arguments) == arguments
    assert calls[0].id
    assert events[-1] == StreamEnd("tool_calls")
    sent = subject.fake.model_calls[-1].json
    assert [t.get("name") or t["function"]["name"] for t in sent["tools"]] == ["web_search"]


async def test_text_then_two_tool_calls_keep_their_order(subject: Subject) -> None:
    subject.fake.script(
        Reply(
            "Let me look.",
            tool_calls=(("web_search", '{"query": "a"}'), ("web_search", '{"query": "b"}')),
        )
    )
    events = await subject.events(subject.request(tools=(SEARCH,)))
    assert _text(events) == "Let me look."
    calls = [json.loads(e.call.arguments) for e in events if isinstance(e, ToolCallReady)]
    assert calls == [{"query": "a"}, {"query": "b"}]


async def test_usage_reports_the_providers_counts(subject: Subject) -> None:
    subject.fake.script(Reply("Counted.", input_tokens=1234, output_tokens=56))
    events = await subject.events(subject.request())
    assert [e for e in events if isinstance(e, UsageReport)] == [
        UsageReport(Usage(input_tokens=1234, output_tokens=56))
    ]


async def test_429_is_rate_limited_with_retry_after(subject: Subject) -> None:
    subject.fake.script(RateLimit(retry_after=7))
    with pytest.raises(RateLimited) as caught:
        await subject.events(subject.request())
    assert caught.value.retry_after == 7
    assert caught.value.retryable


async def test_500_is_provider_unavailable(subject: Subject) -> None:
    subject.fake.script(ServerError())
    with pytest.raises(ProviderUnavailable) as caught:
        await subject.events(subject.request())
    assert not isinstance(caught.value, ProviderTimeout)


async def test_401_is_auth_error(subject: Subject) -> None:
    subject.fake.script(Unauthorized())
    with pytest.raises(AuthError):
        await subject.events(subject.request())


async def test_stream_dropped_half_way_is_interrupted_after_the_partial_text(
    subject: Subject,
) -> None:
    subject.fake.script(Drop(after_chunks=3, text="one two three four five six"))
    received: list[str] = []
    with pytest.raises(StreamInterrupted):
        async for event in subject.adapter.stream(subject.request(), subject.credentials):
            if isinstance(event, TextDelta):
                received.append(event.text)
            assert not isinstance(event, StreamEnd)
    assert "".join(received) == "one two three "


async def test_slow_first_token_beyond_the_timeout_is_provider_timeout(subject: Subject) -> None:
    subject.fake.script(SlowFirstToken(5.0))
    with pytest.raises(ProviderTimeout):
        await subject.events(subject.request(timeout=0.3))


async def test_slow_first_token_within_the_timeout_is_waited_for(subject: Subject) -> None:
    subject.fake.script(SlowFirstToken(0.2, text="Worth the wait."))
    events = await subject.events(subject.request(timeout=5.0))
    assert _text(events) == "Worth the wait."


async def test_tool_results_go_back_to_the_provider(subject: Subject) -> None:
    call = ToolCall(id="call_1", name="web_search", arguments='{"query": "cats"}')
    messages = (
        ChatMessage(role="user", content="Find cats."),
        ChatMessage(role="assistant", content="", tool_calls=(call,)),
        ChatMessage(role="tool", content="Cats are mammals.", tool_call_id="call_1"),
    )
    subject.fake.script(Reply("Cats are mammals, it says."))
    events = await subject.events(subject.request(messages=messages, tools=(SEARCH,)))
    assert _text(events) == "Cats are mammals, it says."
    sent = json.dumps(subject.fake.model_calls[-1].json)
    assert "Cats are mammals." in sent
    assert "call_1" in sent


async def test_complete_returns_the_whole_answer(subject: Subject) -> None:
    subject.fake.script(Reply("All at once.", input_tokens=9, output_tokens=3))
    completion = await subject.adapter.complete(subject.request(), subject.credentials)
    assert completion.text == "All at once."
    assert completion.usage == Usage(input_tokens=9, output_tokens=3)
    assert completion.finish_reason == "stop"


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_lean_calls_reuse_one_connection(
    wire: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    """A finished stream hands its connection back: no new TCP (and, against a real
    provider, TLS) handshake before each answer's first token. (litellm's Anthropic route
    opens a connection per call; that is litellm's.)"""
    subject = make_subject("lean", wire, fake_openai, fake_anthropic)
    subject.fake.script(Reply("first answer"), Reply("second answer"), Reply("all at once"))
    await subject.events(subject.request())
    await subject.events(subject.request())
    await subject.adapter.complete(subject.request(), subject.credentials)
    assert len({call.peer for call in subject.fake.model_calls}) == 1


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_a_server_silent_after_its_last_event_does_not_hold_the_answer(
    wire: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    subject = make_subject("lean", wire, fake_openai, fake_anthropic)
    subject.fake.script(Reply("done but lingering", linger=5), Reply("next"))
    started = time.monotonic()
    events = await subject.events(subject.request())
    assert _text(events) == "done but lingering"
    assert isinstance(events[-1], StreamEnd)
    assert time.monotonic() - started < 2  # gives the connection up, not the answer
    assert _text(await subject.events(subject.request())) == "next"


async def test_the_key_reaches_the_provider(subject: Subject) -> None:
    subject.fake.script(Reply("ok"))
    await subject.events(subject.request())
    assert subject.fake.keys_used == [subject.credentials.api_key]


@pytest.mark.parametrize("implementation", ["lean", "litellm"])
async def test_anthropic_error_event_mid_stream_is_interrupted(
    implementation: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    subject = make_subject(implementation, "anthropic", fake_openai, fake_anthropic)
    fake_anthropic.script(Reply("one two three four", error_event_after=2))
    received: list[str] = []
    with pytest.raises(StreamInterrupted):
        async for event in subject.adapter.stream(subject.request(), subject.credentials):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert "".join(received) == "one two "
