"""The OpenAI-compatible API, driven by the official ``openai`` package over real HTTP."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from django.test import Client

from accounts.models import Tenant, User
from chat import selectors
from chat.models import Conversation, Message
from spark.tenancy.context import tenant_scope, unscoped
from tests.factories import ApiKeyFactory
from tests.fakes.llm import Drop, Reply
from tests.live_server import live_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_for(db: None) -> Any:
    def make(user: User) -> openai.OpenAI:
        _key, raw = ApiKeyFactory.create(user=user, name="openai client")
        return openai.OpenAI(base_url=f"{live_server().url}/v1", api_key=raw, max_retries=0)

    return make


def _stored_answer(conversation_uuid: str) -> Message:
    with unscoped():
        return Message.objects.get(conversation__uuid=conversation_uuid, role="assistant")


def test_non_streamed_completion_answers_through_the_pipeline(
    client_for: Any, user: User, public_tenant: Tenant
) -> None:
    client = client_for(user)
    raw = client.chat.completions.with_raw_response.create(
        model="demo",
        messages=[
            {"role": "system", "content": "You are a ship's cook."},
            {"role": "user", "content": "What is for dinner?"},
        ],
    )
    completion = raw.parse()
    answer = completion.choices[0].message.content or ""
    assert "What is for dinner?" in answer
    # The client's system message reached the model (the demo tells its length, never its text).
    assert "I received a system prompt of 5 words" in answer
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    conversation_uuid = raw.headers["x-spark-conversation"]
    assert _stored_answer(conversation_uuid).content == answer
    with unscoped():
        conversation = Conversation.objects.get(uuid=conversation_uuid)
    assert conversation.source == "api"
    with tenant_scope(public_tenant):
        assert conversation not in selectors.conversation_list(user=user)  # not in the sidebar


def test_streamed_completion_arrives_in_chunks_with_usage(client_for: Any, user: User) -> None:
    client = client_for(user)
    stream = client.chat.completions.create(
        model="demo",
        messages=[{"role": "user", "content": "Stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert "Stream it" in text
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    conversation_uuid = chunks[0].id.removeprefix("chatcmpl-")
    with unscoped():
        stored = Message.objects.get(uuid=conversation_uuid)
    assert stored.content == text


def test_history_sent_by_the_client_reaches_the_model(client_for: Any, user: User) -> None:
    completion = client_for(user).chat.completions.create(
        model="demo",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "an earlier answer"},
            {"role": "user", "content": "second"},
        ],
    )
    assert "turn 2" in (completion.choices[0].message.content or "")


def test_a_conversation_continues_with_its_header(client_for: Any, user: User) -> None:
    client = client_for(user)
    first = client.chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "one"}]
    )
    conversation_uuid = first.headers["x-spark-conversation"]
    second = client.chat.completions.create(
        model="demo",
        messages=[{"role": "user", "content": "two"}],
        extra_headers={"X-Spark-Conversation": conversation_uuid},
    )
    assert "turn 2" in (second.choices[0].message.content or "")


def test_another_users_conversation_cannot_be_continued(
    client_for: Any, user: User, user_b: User
) -> None:
    first = client_for(user).chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "mine"}]
    )
    with pytest.raises(openai.NotFoundError):
        client_for(user_b).chat.completions.create(
            model="demo",
            messages=[{"role": "user", "content": "let me in"}],
            extra_headers={"X-Spark-Conversation": first.headers["x-spark-conversation"]},
        )
    with unscoped():
        assert Message.objects.filter(content="let me in").count() == 0


def test_a_marketplace_prompt_answers_as_a_model_keeping_its_instructions(
    client_for: Any, user: User
) -> None:
    from tests.factories import create_prompt

    with unscoped():
        prompt = create_prompt(
            owner=user, visibility="public", system_prompt="You are Captain Hook."
        )
    models = client_for(user).models.list()
    assert f"prompt:{prompt.slug}" in [m.id for m in models.data]
    assert "demo" in [m.id for m in models.data]
    completion = client_for(user).chat.completions.create(
        model=f"prompt:{prompt.slug}", messages=[{"role": "user", "content": "Ahoy"}]
    )
    answer = completion.choices[0].message.content or ""
    assert "I received a system prompt of" in answer and "Captain Hook" not in answer


@pytest.mark.parametrize(
    ("model", "messages", "error"),
    [
        ("no-such-model", [{"role": "user", "content": "hi"}], openai.NotFoundError),
        ("prompt:nope", [{"role": "user", "content": "hi"}], openai.NotFoundError),
        ("demo", [{"role": "assistant", "content": "hi"}], openai.BadRequestError),
        ("demo", [], openai.BadRequestError),
    ],
)
def test_bad_requests_get_clear_openai_errors(
    client_for: Any, user: User, model: str, messages: list[Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        client_for(user).chat.completions.create(model=model, messages=messages)
    assert raised.value.body["message"]  # type: ignore[attr-defined]
    with unscoped():
        assert not Conversation.objects.filter(user=user).exists()


def test_client_side_tools_are_refused(client_for: Any, user: User) -> None:
    with pytest.raises(openai.BadRequestError, match="tools"):
        client_for(user).chat.completions.create(
            model="demo",
            messages=[{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )


def test_without_an_api_key_the_answer_is_401(user: User) -> None:
    client = openai.OpenAI(
        base_url=f"{live_server().url}/v1", api_key="sk-not-spark", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "x"}])


def test_session_cookies_do_not_open_the_openai_api(user: User) -> None:
    browser = Client()
    browser.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    response = browser.post(
        "/v1/chat/completions", {"model": "demo"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.fixture
def fake_model(llm_fakes: Any) -> str:
    from spark.llm.models import LLMModel

    LLMModel.objects.create(
        slug="fake-gpt", provider="openai", model_id="gpt-fake", display_name="Fake GPT"
    )
    return "fake-gpt"


def test_provider_failure_mid_answer_is_a_502_and_the_partial_text_is_kept(
    client_for: Any, user: User, llm_fakes: Any, fake_model: str
) -> None:
    llm_fakes.openai.script(Drop(after_chunks=3))
    with pytest.raises(openai.APIStatusError) as raised:
        client_for(user).chat.completions.create(
            model=fake_model, messages=[{"role": "user", "content": "go"}]
        )
    assert raised.value.status_code == 502
    with unscoped():
        answer = Message.objects.get(role="assistant", conversation__user=user)
    assert answer.status == "interrupted"
    assert answer.content  # what arrived before the drop
    assert answer.error_code == "stream_interrupted"


def test_streamed_provider_failure_ends_with_an_error_chunk(
    client_for: Any, user: User, llm_fakes: Any, fake_model: str
) -> None:
    llm_fakes.openai.script(Reply("one two three four five six", token_interval=0.01))
    llm_fakes.openai.script(Drop(after_chunks=2))
    client = client_for(user)
    first = client.chat.completions.create(
        model=fake_model, messages=[{"role": "user", "content": "ok"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in first if c.choices).split() == [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
    ]
    second = client.chat.completions.create(
        model=fake_model, messages=[{"role": "user", "content": "drop"}], stream=True
    )
    with pytest.raises(openai.APIError):
        list(second)
