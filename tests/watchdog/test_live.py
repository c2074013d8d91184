"""Live watchdog events for staff over ``/ws/admin/watchdog/``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async

from accounts.models import Tenant, User
from marketplace.models import Prompt
from tests.chat.conftest import session_cookie, ws_connect
from tests.factories import ApiKeyFactory
from tests.fakes.fixtures import LLMFakes
from tests.watchdog.conftest import verdict
from tests.watchdog.helpers import run_text

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/admin/watchdog/"


async def test_anonymous_people_and_non_staff_are_closed_with_4403(user: User, staff: User) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    # Staff, but with an API key instead of a session: refused too.
    _key, raw = await sync_to_async(ApiKeyFactory.create)(user=staff)
    for credentials in ({}, {"cookie": cookie}, {"bearer": raw}):
        socket, connected, code = await ws_connect(PATH, **credentials)
        assert connected and code == 4403, credentials
        await socket.disconnect()  # the consumer ends (and stops listening) in this loop


async def test_staff_see_new_events_of_every_tenant_as_they_happen(
    staff: User,
    user: User,
    public_tenant: Tenant,
    supervised_prompt: Callable[..., Prompt],
    conversation_for: Any,
    llm_fakes: LLMFakes,
) -> None:
    cookie = await sync_to_async(session_cookie)(staff)
    socket, connected, code = await ws_connect(PATH, cookie=cookie)
    assert connected and code is None
    prompt = await sync_to_async(supervised_prompt)(post_enabled=False)
    conversation = await conversation_for(user, public_tenant, prompt)
    llm_fakes.openai.script(
        verdict("steer", "off_topic", severity="nudge", hint="A secret hint for the model.")
    )

    await run_text(user, conversation, "Let's talk about football instead.")

    event = json.loads(await socket.receive_from(timeout=5))
    assert event["type"] == "watchdog.event"
    assert (event["stage"], event["verdict"], event["event_type"], event["action"]) == (
        "pre",
        "steer",
        "off_topic",
        "steered",
    )
    assert event["prompt"] == prompt.name
    assert event["conversation"] == str(conversation.uuid)
    assert (
        event["conversation_url"]
        == f"/admin/watchdog/supervision/conversation/{conversation.uuid}/"
    )
    assert event["evaluator"] == "fake-evaluator" and event["tokens"] > 0
    assert "A secret hint" not in json.dumps(event)  # hints stay in the console's detail pages
    await socket.disconnect()
