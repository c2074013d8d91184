"""A request the API refuses (402 insufficient_funds) writes nothing; in the browser a
refused message stays, and sending it again once funded answers it without a copy."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import AsyncClient

from accounts.models import Tenant, User
from billing.models import UsageRecord
from chat.models import Conversation, Message
from spark.tenancy.context import unscoped
from tests.billing.conftest import aconversation_for, afund, make_priced_model
from tests.factories import ApiKeyFactory
from tests.fakes.llm import Reply
from tests.live_server import live_server

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def priced() -> Any:
    return make_priced_model()


@sync_to_async
def written(user: User) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The user's conversations (titles) and their messages (role, status, content)."""
    with unscoped():
        titles = list(Conversation.objects.filter(user=user).values_list("title", flat=True))
        messages = list(
            Message.objects.filter(conversation__user=user)
            .order_by("created_at", "id")
            .values_list("role", "status", "content")
        )
    return titles, messages


async def test_a_refused_rest_send_writes_no_message_and_no_title(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    # Given an empty wallet and a conversation with a priced model
    await priced()
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    client = AsyncClient()
    await client.aforce_login(user, backend="accounts.backends.SparkAuthenticationBackend")

    # When the REST send is refused, as JSON and as a stream
    for stream in (False, True):
        response = await client.post(
            f"/api/v1/conversations/{conversation.uuid}/messages/",
            {"text": "Tell me about tides", "client_id": f"c-{stream}", "stream": stream},
            content_type="application/json",
        )
        if stream:
            assert response.status_code == 200
            chunks = [chunk async for chunk in response.streaming_content]  # type: ignore[attr-defined]
            body = b"".join(chunks).decode()
            assert '"code": "insufficient_funds"' in body or '"code":"insufficient_funds"' in body
        else:
            assert response.status_code == 402
            assert response.json()["code"] == "insufficient_funds"

    # Then the conversation is as it was: no message, no title from the refused text
    assert await written(user) == ([""], [])
    assert llm_fakes.openai.model_calls == []


def test_a_refused_openai_completion_leaves_no_conversation_behind(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    # Given an API key on an empty wallet
    make_priced_model()
    _key, raw = ApiKeyFactory.create(user=user, name="integration")
    client = openai.OpenAI(base_url=f"{live_server().url}/v1", api_key=raw, max_retries=0)

    # When an integration asks (and retries) for a priced completion, streamed or not
    for stream in (False, False, True):
        with pytest.raises(openai.APIStatusError) as refused:
            result = client.chat.completions.create(
                model="priced-gpt",
                messages=[{"role": "user", "content": "Tell me about tides"}],
                stream=stream,
            )
            if stream:
                list(result)  # type: ignore[arg-type]
        assert refused.value.status_code == 402

    # Then nothing was written: no conversation fills the user's history
    with unscoped():
        assert not Conversation.objects.filter(user=user).exists()
        assert not Message.objects.exists()
    assert llm_fakes.openai.model_calls == []


async def test_a_message_refused_in_the_browser_is_answered_once_funded_without_a_copy(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    from tests.chat.conftest import session_cookie, ws_connect
    from tests.chat.wire import is_terminal, receive_until, send, send_frame

    # Given a message the socket refused for lack of funds
    await priced()
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    cookie = await sync_to_async(session_cookie)(user)
    communicator, connected, _ = await ws_connect(f"/ws/chat/{conversation.uuid}/", cookie=cookie)
    assert connected
    await send(communicator, send_frame("Tell me about tides", client_id="tides"))
    refused = await receive_until(communicator, is_terminal)
    assert next(f for f in refused if f["type"] == "error")["code"] == "insufficient_funds"
    assert (await written(user))[1] == [
        ("user", "complete", "Tell me about tides"),
        ("assistant", "failed", ""),
    ]

    # When the user tops up and sends it again (the same client id)
    await afund(user, 1_000_000)
    llm_fakes.openai.script(Reply("Tides follow the moon.", input_tokens=40, output_tokens=50))
    await send(communicator, send_frame("Tell me about tides", client_id="tides"))
    answered = await receive_until(communicator, is_terminal)
    await communicator.disconnect()

    # Then the one message is answered and charged; the refusal is superseded
    assert answered[-1]["type"] == "message.done" and answered[-1]["status"] == "complete"
    with unscoped():
        visible = [
            row
            async for row in Message.objects.filter(conversation=conversation, superseded=False)
            .order_by("created_at", "id")
            .values_list("role", "status", "content")
        ]
        assert await UsageRecord.objects.acount() == 1
    assert visible == [
        ("user", "complete", "Tell me about tides"),
        ("assistant", "complete", "Tides follow the moon."),
    ]


async def test_a_not_sent_message_refused_again_over_rest_stays_not_sent(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    from tests.chat.conftest import session_cookie, ws_connect
    from tests.chat.wire import is_terminal, receive_until, send, send_frame

    # Given a message the socket refused for lack of funds (kept, marked not sent)
    await priced()
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    cookie = await sync_to_async(session_cookie)(user)
    communicator, connected, _ = await ws_connect(f"/ws/chat/{conversation.uuid}/", cookie=cookie)
    assert connected
    await send(communicator, send_frame("Tell me about tides", client_id="tides"))
    await receive_until(communicator, is_terminal)
    await communicator.disconnect()
    kept = [("user", "complete", "Tell me about tides"), ("assistant", "failed", "")]

    # When the page resends it over REST (the SSE fallback) before any top-up
    client = AsyncClient()
    await client.aforce_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    response = await client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages/",
        {"text": "Tell me about tides", "client_id": "tides"},
        content_type="application/json",
    )

    # Then it is refused, and the message is still there to resend (not deleted with the
    # refused request's own writes), its refusal shown again
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_funds"
    with unscoped():
        visible = [
            row
            async for row in Message.objects.filter(conversation=conversation, superseded=False)
            .order_by("created_at", "id")
            .values_list("role", "status", "content")
        ]
    assert visible == kept
    assert (await written(user))[1] == kept
    assert llm_fakes.openai.model_calls == []

    # And once funded, the REST resend answers that one message
    await afund(user, 1_000_000)
    llm_fakes.openai.script(Reply("Tides follow the moon.", input_tokens=40, output_tokens=50))
    response = await client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages/",
        {"text": "Tell me about tides", "client_id": "tides"},
        content_type="application/json",
    )
    assert response.status_code == 201
    with unscoped():
        users = await Message.objects.filter(conversation=conversation, role="user").acount()
    assert users == 1
