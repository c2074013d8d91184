"""Tools run on the server, show in the chat as they run, and feed the model's next call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client, override_settings

from accounts.models import Tenant, User
from chat.models import Message
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation, session_cookie, ws_connect
from tests.chat.wire import is_terminal, receive_until, send, send_frame, text_of
from tests.conftest import signed_in
from tests.factories import create_prompt
from tests.fakes.llm import Image, Reply, ToolCallReply
from tests.fakes.search import FakeSearch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_search() -> Iterator[FakeSearch]:
    fake = FakeSearch().start()
    with override_settings(SPARK_WEB_SEARCH_URL=fake.url):
        yield fake
    fake.stop()


@pytest.fixture
def tool_model(llm_fakes: Any) -> LLMModel:
    LLMModel.objects.filter(slug="openai-gpt-image-1").update(is_active=True)
    return LLMModel.objects.create(
        slug="fake-gpt", provider="openai", model_id="gpt-fake", display_name="Fake GPT"
    )


async def _ask(user: User, tenant: Tenant, tools: list[str], text: str, **prompt: Any) -> Any:
    @sync_to_async
    def setup() -> Any:
        with unscoped():
            made = create_prompt(owner=user, enabled_tools=tools, **prompt)
        return make_conversation(user, tenant, prompt=made), session_cookie(user)

    conversation, cookie = await setup()
    communicator, _, _ = await ws_connect(f"/ws/chat/{conversation.uuid}/", cookie=cookie)
    await send(communicator, send_frame(text))
    frames = await receive_until(communicator, is_terminal)
    await communicator.disconnect()
    return frames


async def test_web_search_runs_and_its_results_reach_the_model(
    user: User, public_tenant: Tenant, llm_fakes: Any, tool_model: LLMModel, fake_search: FakeSearch
) -> None:
    llm_fakes.openai.script(ToolCallReply("web_search", {"query": "cats"}, text="Let me look. "))
    llm_fakes.openai.script(Reply("Cats are small mammals."))
    frames = await _ask(
        user, public_tenant, ["web_search"], "Tell me about cats", default_model=tool_model
    )
    kinds = [f["type"] for f in frames]
    assert kinds.index("tool.call") < kinds.index("tool.result") < kinds.index("message.done")
    call = next(f for f in frames if f["type"] == "tool.call")
    result = next(f for f in frames if f["type"] == "tool.result")
    assert (call["name"], json.loads(call["arguments"])) == ("web_search", {"query": "cats"})
    assert result["display"]["results"][0]["title"] == "Cats — Wikipedia"
    answer_id = frames[0]["assistant_message_id"]
    assert text_of(frames, answer_id) == "Let me look. Cats are small mammals."

    first, second = llm_fakes.openai.model_calls
    assert [t["function"]["name"] for t in first.json["tools"]] == ["web_search"]
    tool_messages = [m for m in second.json["messages"] if m["role"] == "tool"]
    assert "domesticated carnivorous mammal" in tool_messages[0]["content"]
    with unscoped():
        stored = await Message.objects.aget(uuid=answer_id)
    assert stored.tool_calls[0]["name"] == "web_search"
    assert stored.tool_calls[0]["is_error"] is False


async def test_a_failing_search_is_reported_to_the_model_and_the_user(
    user: User, public_tenant: Tenant, llm_fakes: Any, tool_model: LLMModel, fake_search: FakeSearch
) -> None:
    fake_search.status = 503
    llm_fakes.openai.script(ToolCallReply("web_search", {"query": "cats"}), Reply("Sorry."))
    frames = await _ask(user, public_tenant, ["web_search"], "cats?", default_model=tool_model)
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["is_error"] is True
    assert result["display"]["error"] == "The search service is unavailable."
    assert frames[-1]["status"] == "complete"


async def test_tools_not_enabled_for_the_prompt_are_not_offered(
    user: User, public_tenant: Tenant, llm_fakes: Any, tool_model: LLMModel
) -> None:
    llm_fakes.openai.script(Reply("No tools here."))
    await _ask(user, public_tenant, [], "hi", default_model=tool_model)
    [call] = llm_fakes.openai.model_calls
    assert "tools" not in call.json


@override_settings(SPARK_TOOL_MAX_ROUNDS=2)
async def test_the_tool_loop_is_bounded(
    user: User, public_tenant: Tenant, llm_fakes: Any, tool_model: LLMModel, fake_search: FakeSearch
) -> None:
    for _ in range(2):
        llm_fakes.openai.script(ToolCallReply("web_search", {"query": "again"}))
    llm_fakes.openai.script(Reply("Enough searching."))
    frames = await _ask(user, public_tenant, ["web_search"], "loop", default_model=tool_model)
    assert [f["type"] for f in frames].count("tool.call") == 2
    calls = llm_fakes.openai.model_calls
    assert len(calls) == 3
    assert "tools" not in calls[-1].json  # the last round may only answer in words
    assert frames[-1]["status"] == "complete"


async def test_generate_image_stores_the_picture_for_its_user_only(
    user: User, user_b: User, public_tenant: Tenant, llm_fakes: Any, tool_model: LLMModel
) -> None:
    llm_fakes.openai.script(ToolCallReply("generate_image", {"prompt": "a red cat"}))
    llm_fakes.openai.script(Image())
    llm_fakes.openai.script(Reply("Here is your cat."))
    frames = await _ask(
        user, public_tenant, ["generate_image"], "draw a cat", default_model=tool_model
    )
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["is_error"] is False, result
    url = result["display"]["url"]
    owner_view = await sync_to_async(lambda: signed_in(user).get(url))()
    assert owner_view.status_code == 200
    assert owner_view["Content-Type"] == "image/png"
    stranger_view = await sync_to_async(lambda: signed_in(user_b).get(url))()
    assert stranger_view.status_code == 404
    anonymous_view = await sync_to_async(lambda: Client().get(url))()
    assert anonymous_view.status_code in (302, 404)
    image_call = llm_fakes.openai.model_calls[1]
    assert image_call.path.endswith("/images/generations")
    assert image_call.json["prompt"] == "a red cat"


async def test_the_offline_demo_model_calls_tools_too(user: User, public_tenant: Tenant) -> None:
    frames = await _ask(user, public_tenant, ["web_search"], "search the best pizza in Rome")
    call = next(f for f in frames if f["type"] == "tool.call")
    assert json.loads(call["arguments"]) == {"query": "the best pizza in Rome"}
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["is_error"] is True  # no search service is configured in tests
    assert "The tool answered" in text_of(frames, frames[0]["assistant_message_id"])
