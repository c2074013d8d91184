"""Fixtures for chat: conversations and authenticated WebSocket connections."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import Tenant, User
from chat import services
from chat.models import Conversation
from spark.asgi import application
from spark.tenancy.context import tenant_scope

CONNECT_SECONDS = 15.0


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def make_conversation(user: User, tenant: Tenant, **kwargs: Any) -> Conversation:
    with tenant_scope(tenant):
        return services.conversation_create(user=user, tenant=tenant, **kwargs)


SAME_ORIGIN = "http://testserver"


async def ws_connect(
    path: str,
    *,
    cookie: str | None = None,
    bearer: str | None = None,
    origin: str | None = SAME_ORIGIN,
    host: str = "testserver",
    ip: str | None = None,
) -> tuple[WebsocketCommunicator, bool, int | None]:
    """Open a socket as a browser would (same-origin ``Origin``), or as told."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if bearer:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    if ip is not None:
        communicator.scope["client"] = (ip, 51000)
    # Deadlines, not timings: a loaded CI machine can take more than the default second.
    connected, subprotocol_or_code = await communicator.connect(timeout=CONNECT_SECONDS)
    # A refused handshake's close code (Channels' communicator returns it in that place).
    close_code = None if connected else subprotocol_or_code
    if connected and await communicator.receive_nothing(timeout=0.05) is False:
        output = await communicator.receive_output(timeout=CONNECT_SECONDS)
        if output["type"] == "websocket.close":
            close_code = output.get("code")
        else:
            communicator.output_queue.put_nowait(output)  # type: ignore[attr-defined]
    return communicator, connected, close_code


@pytest.fixture
def conversation_of() -> Callable[..., Any]:
    return sync_to_async(make_conversation)


@pytest.fixture
async def chat_socket(user: User, public_tenant: Tenant) -> AsyncIterator[Any]:
    """(communicator, conversation) for a signed-in user's new conversation."""
    cookie = await sync_to_async(session_cookie)(user)
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    communicator, connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/", cookie=cookie
    )
    assert connected and close_code is None
    yield communicator, conversation
    await communicator.disconnect()


@pytest.fixture(autouse=True)
async def _turns_finish_before_teardown() -> AsyncIterator[None]:
    """A turn outlives its socket by design; let it end before the database goes away."""
    yield
    from chat.runner import wait_for_running_turns

    await wait_for_running_turns()
    # channels_redis serialises receives on process-local channels with one asyncio.Lock,
    # which binds to the first event loop that waits on it: each test's loop gets its own
    # channel layer (Daphne runs one loop, so production has one).
    # (The live Daphne server of tests/live_server.py runs its own loop: a layer it used
    # cannot be closed from this one, and is simply dropped.)
    for layer in list(channel_layers.backends.values()):
        close_pools = getattr(layer, "close_pools", None)
        if close_pools is not None:
            with contextlib.suppress(RuntimeError):
                await close_pools()
    channel_layers.backends.clear()
