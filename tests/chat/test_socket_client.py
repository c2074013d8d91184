"""The Python client of docs/protocol.md, run as written against a live Daphne server.

A real ``websockets`` client over TCP sends what integrations send: a bearer key and no
``Origin`` header. The example is read from the document, so the document cannot drift.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.models import Tenant, User
from tests.chat.conftest import make_conversation, session_cookie
from tests.factories import ApiKeyFactory
from tests.live_server import live_server

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _documented_client() -> dict[str, Any]:
    """The namespace of the document's Python example (its ``ask`` function)."""
    section = PROTOCOL_DOC.read_text(encoding="utf-8").split("### From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "docs/protocol.md lost its Python example"
    namespace: dict[str, Any] = {"__name__": "protocol_example"}
    exec(compile(code.group(1), str(PROTOCOL_DOC), "exec"), namespace)  # noqa: S102 - our doc
    return namespace


async def test_the_documented_python_client_chats_with_an_api_key_and_no_origin(
    user: User, public_tenant: Tenant
) -> None:
    # Given an API key and a conversation, and the client exactly as documented
    _key, raw = await sync_to_async(ApiKeyFactory.create)(user=user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    ask = _documented_client()["ask"]
    # When it sends a message over a real socket
    answer = await ask(live_server().url, raw, str(conversation.uuid), "Hello from a script")
    # Then the whole answer comes back (the demo model echoes what it was told)
    assert "Hello from a script" in answer


async def test_the_documented_python_client_sees_a_bad_key_closed_with_4401(
    user: User, public_tenant: Tenant
) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    ask = _documented_client()["ask"]
    with pytest.raises(ConnectionClosed) as closed:
        await ask(live_server().url, "spk_deadbeef_notakey", str(conversation.uuid), "Hi")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_real_browserless_socket_with_only_a_cookie_is_refused_at_the_handshake(
    user: User, public_tenant: Tenant
) -> None:
    # Given a signed-in user's session cookie on a socket without an Origin
    cookie = await sync_to_async(session_cookie)(user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    url = live_server().url.replace("http", "ws", 1) + f"/ws/chat/{conversation.uuid}/"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"Cookie": cookie}):
            pass
    assert refused.value.response.status_code == 403
