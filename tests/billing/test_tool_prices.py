"""Tools are priced in the catalogue (an image by size and quality, a web search per call)
and charged through the same ledger path as tokens, shown on the message and /my-usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import override_settings

from accounts.models import Tenant, User
from billing import ledger, policy
from billing.invariants import ledger_violations
from billing.models import UsageRecord
from billing.pricing import ceil_div
from chat.models import Message
from chat.runner import _done_event
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.billing.conftest import aconversation_for, afund, send
from tests.conftest import signed_in
from tests.fakes.llm import Image, Reply, ToolCallReply
from tests.fakes.search import FakeSearch

pytestmark = pytest.mark.django_db(transaction=True)

FUNDS = 1_000_000


@pytest.fixture
def fake_search() -> Iterator[FakeSearch]:
    fake = FakeSearch().start()
    with override_settings(SPARK_WEB_SEARCH_URL=fake.url):
        yield fake
    fake.stop()


@sync_to_async
def free_tool_model() -> LLMModel:
    """A model whose tokens cost nothing: what the message costs is its tools."""
    LLMModel.objects.filter(slug="openai-gpt-image-1").update(is_active=True)
    return LLMModel.objects.create(
        slug="fake-gpt", provider="openai", model_id="gpt-fake", display_name="Fake GPT"
    )


@sync_to_async
def with_margin(listed: int) -> int:
    margin_bp = policy.pricing_settings().margin_free_bp
    return listed + ceil_div(listed * margin_bp, 10_000)


@sync_to_async
def charged(user: User, message: Any) -> tuple[list[tuple[str, str, int, int]], int, int]:
    with unscoped():
        records = list(
            UsageRecord.objects.filter(user=user)
            .exclude(kind=UsageRecord.Kind.ANSWER)
            .values_list("kind", "detail", "provider_cost", "total")
        )
        cost = Message.objects.get(pk=message.pk).cost_micros
    return records, cost, ledger.user_wallet(user).balance


def turn_done(turn: Any) -> dict[str, Any]:
    return _done_event(turn)


@sync_to_async
def cost_line(user: User, conversation: Any) -> list[dict[str, str]]:
    """The answer's cost parts as the chat's messages API gives them to the cost line."""
    response = signed_in(user).get(f"/api/v1/conversations/{conversation.uuid}/messages/")
    assert response.status_code == 200, response.content
    answers = [m for m in response.json() if m["role"] == "assistant"]
    return answers[-1]["cost_breakdown"]


async def test_an_image_is_charged_at_its_catalogue_price_for_its_size_and_quality(
    llm_fakes: Any, user: User, public_tenant: Tenant, settings: Any
) -> None:
    # Given a funded user whose model may draw
    settings.SPARK_DEFAULT_TOOLS = ["generate_image"]
    model = await free_tool_model()
    await afund(user, FUNDS)
    conversation = await aconversation_for(user, public_tenant, model_slug=model.slug)
    arguments = {"prompt": "a red cat", "size": "1024x1536", "quality": "high"}
    llm_fakes.openai.script(ToolCallReply("generate_image", arguments))
    llm_fakes.openai.script(Image())
    llm_fakes.openai.script(Reply("Here is your cat."))

    # When the answer draws a portrait at high quality
    outcome, turn = await send(user, public_tenant, conversation, "draw a tall cat")

    # Then the image model was asked for that size and quality, and it cost the catalogue's
    # price for it (with the platform's margin), on the message and in the wallet
    assert outcome.status == "complete"
    image_call = llm_fakes.openai.model_calls[1]
    assert (image_call.json["size"], image_call.json["quality"]) == ("1024x1536", "high")
    price = await with_margin(250_000)
    records, cost, balance = await charged(user, turn.assistant_message)
    assert records == [("image", "generate_image:1024x1536/high", 250_000, price)]
    assert cost == price
    assert balance == FUNDS - price
    page = await sync_to_async(lambda: signed_in(user).get("/my-usage").content.decode())()
    assert "openai-gpt-image-1" in page
    # and the message's cost line and /my-usage name what it was: an image of that size
    assert turn_done(turn)["cost_breakdown"] == [
        {"label": "Image (1024x1536, high)", "cost_usd": f"{price / 1_000_000:.6f}"}
    ]
    assert await cost_line(user, conversation) == [
        {"label": "Image (1024x1536, high)", "cost_usd": f"{price / 1_000_000:.6f}"}
    ]
    assert "Image (1024x1536, high)" in page
    assert await sync_to_async(ledger_violations)() == []


async def test_each_web_search_call_is_charged_once_at_its_catalogue_price(
    llm_fakes: Any, user: User, public_tenant: Tenant, settings: Any, fake_search: FakeSearch
) -> None:
    # Given a funded user whose model may search
    settings.SPARK_DEFAULT_TOOLS = ["web_search"]
    model = await free_tool_model()
    await afund(user, FUNDS)
    conversation = await aconversation_for(user, public_tenant, model_slug=model.slug)
    llm_fakes.openai.script(ToolCallReply("web_search", {"query": "cats"}))
    llm_fakes.openai.script(ToolCallReply("web_search", {"query": "more cats"}))
    llm_fakes.openai.script(Reply("Cats sleep a lot."))

    # When the answer searches twice
    outcome, turn = await send(user, public_tenant, conversation, "tell me about cats")

    # Then each call cost the catalogue's price per search, on the message and in the wallet
    assert outcome.status == "complete"
    price = await with_margin(5_000)
    records, cost, balance = await charged(user, turn.assistant_message)
    assert records == [("tool", "web_search", 5_000, price)] * 2
    assert cost == 2 * price
    assert balance == FUNDS - 2 * price
    page = await sync_to_async(lambda: signed_in(user).get("/my-usage").content.decode())()
    assert "web_search" in page
    # and the cost line sums the two searches into one part
    assert await cost_line(user, conversation) == [
        {"label": "Web search", "cost_usd": f"{2 * price / 1_000_000:.6f}"}
    ]
    assert "Web search" in page
    assert await sync_to_async(ledger_violations)() == []
