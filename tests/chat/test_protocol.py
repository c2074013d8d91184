"""The chat WebSocket protocol, end to end through the ASGI application."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings
from django.test import override_settings

from accounts.models import Tenant, User
from chat.models import Message
from chat.runner import wait_for_running_turns
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation, session_cookie, ws_connect
from tests.chat.wire import is_terminal, receive, receive_until, send, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def stored(message_id: str) -> Message:
    with unscoped():
        return Message.objects.get(uuid=message_id)


async def test_send_gets_accepted_then_deltas_in_order_then_done(chat_socket: Any) -> None:
    communicator, _conversation = chat_socket
    await send(communicator, send_frame("Tell me about tides", client_id="abc"))
    frames = await receive_until(communicator, is_terminal)

    accepted = frames[0]
    assert accepted["type"] == "message.accepted"
    assert accepted["client_id"] == "abc"
    answer_id = accepted["assistant_message_id"]
    deltas = [f for f in frames if f["type"] == "delta"]
    assert deltas, frames
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    done = frames[-1]
    assert done["type"] == "message.done"
    assert done["message_id"] == answer_id
    assert done["status"] == "complete"
    assert done["usage"]["input_tokens"] > 0 and done["usage"]["output_tokens"] > 0
    assert done["cost_usd"] == "0.000000"  # the demo model is free

    message = await stored(answer_id)
    assert message.status == "complete"
    assert message.content == text_of(frames, answer_id)
    assert "Tell me about tides" in message.content
    user_message = await stored(accepted["user_message_id"])
    assert (user_message.role, user_message.content) == ("user", "Tell me about tides")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ('["a list"]', "invalid_frame"),
        ({"type": "nonsense"}, "unknown_type"),
        ({"type": "message.send", "text": "hi"}, "invalid_frame"),
        ({"type": "message.send", "client_id": "x", "text": "   "}, "invalid_frame"),
        ({"type": "stream.resume", "message_id": "nope", "after_seq": 0}, "invalid_frame"),
        (
            {
                "type": "stream.resume",
                "message_id": "6f1c3f0e-0000-4000-8000-000000000000",
                "after_seq": -1,
            },
            "invalid_frame",
        ),
    ],
)
async def test_malformed_frame_gets_an_error_and_the_socket_stays_usable(
    chat_socket: Any, frame: Any, code: str
) -> None:
    communicator, _conversation = chat_socket
    await send(communicator, frame)
    error = await receive(communicator)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    await send(communicator, send_frame())
    frames = await receive_until(communicator, is_terminal)
    assert frames[-1]["status"] == "complete"


@override_settings(SPARK_MAX_MESSAGE_CHARS=10)
async def test_too_long_message_is_refused_with_its_client_id(chat_socket: Any) -> None:
    communicator, conversation = chat_socket
    await send(communicator, send_frame("x" * 11, client_id="long"))
    error = await receive(communicator)
    assert (error["code"], error["client_id"]) == ("message_too_long", "long")
    with unscoped():
        assert not await Message.objects.filter(conversation_id=conversation.pk).aexists()


@override_settings(SPARK_DEMO_STREAM_DELAY_MS=20)
async def test_resume_after_reconnect_returns_exactly_the_missed_deltas(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    path = f"/ws/chat/{conversation.uuid}/"
    first, _, _ = await ws_connect(path, cookie=cookie)
    await send(first, send_frame("A long story please"))
    seen = await receive_until(first, lambda f: f["type"] == "delta" and f["seq"] >= 3)
    answer_id = seen[0]["assistant_message_id"]
    last_seen = seen[-1]["seq"]
    await first.disconnect()

    second, _, _ = await ws_connect(path, cookie=cookie)
    await send(second, {"type": "stream.resume", "message_id": answer_id, "after_seq": last_seen})
    rest = await receive_until(second, is_terminal)
    await second.disconnect()

    deltas = [f for f in rest if f["type"] == "delta"]
    assert [d["seq"] for d in deltas] == list(range(last_seen + 1, last_seen + 1 + len(deltas)))
    assert rest[-1]["type"] == "message.done"
    message = await stored(answer_id)
    assert text_of(seen, answer_id) + text_of(rest, answer_id) == message.content


@override_settings(SPARK_DEMO_STREAM_DELAY_MS=5)
async def test_resume_of_a_finished_answer_replays_it_from_the_buffer(chat_socket: Any) -> None:
    communicator, _conversation = chat_socket
    await send(communicator, send_frame())
    frames = await receive_until(communicator, is_terminal)
    answer_id = frames[0]["assistant_message_id"]
    assert frames[-1]["seq"] > 2
    await send(communicator, {"type": "stream.resume", "message_id": answer_id, "after_seq": 1})
    replayed = await receive_until(communicator, is_terminal)
    assert replayed == [f for f in frames if f.get("seq", 0) > 1]
    assert await communicator.receive_nothing(timeout=0.2)


@override_settings(SPARK_DEMO_STREAM_DELAY_MS=10)
async def test_leaving_mid_answer_still_stores_the_complete_answer(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    communicator, _, _ = await ws_connect(f"/ws/chat/{conversation.uuid}/", cookie=cookie)
    await send(communicator, send_frame("Write while I am away"))
    accepted = await receive(communicator)
    await communicator.disconnect()

    await wait_for_running_turns()
    message = await stored(accepted["assistant_message_id"])
    assert message.status == "complete"
    assert "Write while I am away" in message.content
    assert message.last_seq > 0


@override_settings(SPARK_DEMO_STREAM_DELAY_MS=30)
async def test_cancel_stops_the_answer_and_keeps_what_was_written(chat_socket: Any) -> None:
    communicator, _conversation = chat_socket
    await send(communicator, send_frame("Go on and on"))
    seen = await receive_until(communicator, lambda f: f["type"] == "delta")
    await send(communicator, {"type": "generation.cancel"})
    rest = await receive_until(communicator, is_terminal)
    done = rest[-1]
    assert done["type"] == "message.done"
    assert done["status"] == "cancelled"
    answer_id = seen[0]["assistant_message_id"]
    message = await stored(answer_id)
    assert message.status == "cancelled"
    assert message.content == text_of(seen + rest, answer_id)
    assert "Add a provider key" not in message.content  # it stopped before the end


async def test_second_message_while_answering_is_refused(chat_socket: Any) -> None:
    communicator, _conversation = chat_socket
    with override_settings(SPARK_DEMO_STREAM_DELAY_MS=20):
        await send(communicator, send_frame("first", client_id="one"))
        await receive_until(communicator, lambda f: f["type"] == "delta")
        await send(communicator, send_frame("second", client_id="two"))
        frames = await receive_until(
            communicator, lambda f: f["type"] == "error" and f.get("client_id") == "two"
        )
        assert frames[-1]["code"] == "busy"
        await receive_until(communicator, is_terminal)


async def test_every_socket_on_the_conversation_sees_the_answer(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    path = f"/ws/chat/{conversation.uuid}/"
    tab_one, _, _ = await ws_connect(path, cookie=cookie)
    tab_two, _, _ = await ws_connect(path, cookie=cookie)
    await send(tab_one, send_frame())
    one = await receive_until(tab_one, is_terminal)
    two = await receive_until(tab_two, is_terminal)
    assert one == two
    await tab_one.disconnect()
    await tab_two.disconnect()


async def test_anonymous_socket_is_closed_with_4401(user: User, public_tenant: Tenant) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    _communicator, _connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/", expect_close=True
    )
    assert close_code == 4401


async def test_other_users_conversation_is_closed_with_4404(
    user: User, user_b: User, public_tenant: Tenant
) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    cookie = await sync_to_async(session_cookie)(user_b)
    _communicator, _connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/",
        cookie=cookie,
        expect_close=True,
    )
    assert close_code == 4404


async def test_api_key_authenticates_the_socket(user: User, public_tenant: Tenant) -> None:
    from tests.factories import ApiKeyFactory

    _key, raw = await sync_to_async(ApiKeyFactory.create)(user=user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    communicator, connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/", bearer=raw
    )
    assert connected and close_code is None
    await send(communicator, send_frame())
    assert (await receive_until(communicator, is_terminal))[-1]["status"] == "complete"
    await communicator.disconnect()


async def test_resume_of_another_conversations_message_is_not_found(
    chat_socket: Any, user: User, public_tenant: Tenant
) -> None:
    communicator, _conversation = chat_socket
    other = await sync_to_async(make_conversation)(user, public_tenant)
    cookie = await sync_to_async(session_cookie)(user)
    other_socket, _, _ = await ws_connect(f"/ws/chat/{other.uuid}/", cookie=cookie)
    await send(other_socket, send_frame())
    answer_id = (await receive_until(other_socket, is_terminal))[0]["assistant_message_id"]
    await other_socket.disconnect()

    await send(communicator, {"type": "stream.resume", "message_id": answer_id, "after_seq": 0})
    error = await receive(communicator)
    assert (error["type"], error["code"]) == ("error", "not_found")


@override_settings(SPARK_RATE_LIMITS={**settings.SPARK_RATE_LIMITS, "send_user": "2/h"})
async def test_sending_faster_than_the_rate_limit_is_refused_without_writing(
    chat_socket: Any,
) -> None:
    communicator, conversation = chat_socket
    # django-ratelimit counts in fixed windows: run this test at the start of one.
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC), tick=True):
        for client_id in ("a", "b"):
            await send(communicator, send_frame(client_id=client_id))
            await receive_until(communicator, is_terminal)
        await send(communicator, send_frame(client_id="c"))
        error = await receive_until(communicator, lambda f: f["type"] == "error")
    assert (error[-1]["code"], error[-1]["client_id"]) == ("rate_limited", "c")
    assert error[-1]["details"]["retry_after"] > 0
    with unscoped():
        assert await Message.objects.filter(conversation_id=conversation.pk).acount() == 4


async def test_a_client_id_is_answered_once(chat_socket: Any) -> None:
    communicator, conversation = chat_socket
    await send(communicator, send_frame("once", client_id="same"))
    await receive_until(communicator, is_terminal)
    await send(communicator, send_frame("once", client_id="same"))
    frames = await receive_until(communicator, lambda f: f["type"] == "error")
    assert (frames[-1]["code"], frames[-1]["client_id"]) == ("duplicate_message", "same")
    with unscoped():
        assert await Message.objects.filter(conversation_id=conversation.pk).acount() == 2
