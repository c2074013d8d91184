"""Who may open a chat socket: the Origin check guards cookie sockets, not API-key sockets.

Browsers attach the session cookie to any page's WebSocket handshake, so a cookie socket
must come from a page of its own host; integrations authenticate with a bearer API key
and send no Origin. Failed keys and a key's rate limit count as they do over HTTP.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings
from django.test import Client, override_settings

from accounts.middleware import CLOSE_RATE_LIMITED
from accounts.models import ApiKey, Tenant, User
from chat.consumers import CLOSE_UNAUTHENTICATED
from security.models import AuditLogEntry, Ban
from tests.chat.conftest import make_conversation, session_cookie, ws_connect
from tests.chat.wire import is_terminal, receive_until, send, send_frame
from tests.factories import ApiKeyFactory, create_user

pytestmark = pytest.mark.django_db(transaction=True)

# A handshake refused before any consumer runs (Channels' WebsocketDenier).
REFUSED = (False, 1000)


async def _conversation_path(user: User, tenant: Tenant) -> str:
    conversation = await sync_to_async(make_conversation)(user, tenant)
    return f"/ws/chat/{conversation.uuid}/"


async def _key(user: User) -> tuple[ApiKey, str]:
    return await sync_to_async(ApiKeyFactory.create)(user=user)  # type: ignore[no-any-return]


@sync_to_async
def _rejections(ip: str) -> list[tuple[str, str, str]]:
    return list(
        AuditLogEntry.objects.filter(
            action=AuditLogEntry.Action.API_KEY_REJECTED, ip=ip
        ).values_list("object_repr", "path", "user_agent")
    )


async def test_an_api_key_socket_without_an_origin_connects_and_chats(
    user: User, public_tenant: Tenant
) -> None:
    # Given an integration's key and no Origin header (non-browser clients send none)
    _key_row, raw = await _key(user)
    path = await _conversation_path(user, public_tenant)
    # When it opens the socket
    communicator, connected, close_code = await ws_connect(path, bearer=raw, origin=None)
    # Then it is accepted and answers
    assert (connected, close_code) == (True, None)
    await send(communicator, send_frame())
    assert (await receive_until(communicator, is_terminal))[-1]["status"] == "complete"
    await communicator.disconnect()


async def test_an_api_key_socket_from_a_foreign_origin_still_acts_only_as_the_key(
    user: User, public_tenant: Tenant
) -> None:
    # Given another user's key, sent alongside user's cookie from a foreign page
    other = await sync_to_async(create_user)(tenant=public_tenant, email="kim@example.com")
    _key_row, raw = await _key(other)
    cookie = await sync_to_async(session_cookie)(user)
    path = await _conversation_path(user, public_tenant)
    # When the socket opens on user's conversation
    _communicator, connected, close_code = await ws_connect(
        path, cookie=cookie, bearer=raw, origin="https://evil.example", expect_close=True
    )
    # Then the key's user is the socket's: user's conversation is not found
    assert (connected, close_code) == (True, 4404)


async def test_a_cookie_socket_without_an_origin_is_refused(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    path = await _conversation_path(user, public_tenant)
    _communicator, connected, close_code = await ws_connect(path, cookie=cookie, origin=None)
    assert (connected, close_code) == REFUSED


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",  # a host Spark serves (a tenant domain), but not this one
        "http://landing.pages.localhost",  # a landing page (user-made content)
        "http://testserver.evil.example",
        "http://testserver:8443",  # another port is another origin
        "null",  # a sandboxed frame or a file
    ],
)
async def test_a_cookie_socket_from_a_foreign_origin_is_refused(
    user: User, public_tenant: Tenant, origin: str
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    path = await _conversation_path(user, public_tenant)
    _communicator, connected, close_code = await ws_connect(path, cookie=cookie, origin=origin)
    assert (connected, close_code) == REFUSED


async def test_a_cookie_socket_from_its_own_page_connects(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    path = await _conversation_path(user, public_tenant)
    communicator, connected, close_code = await ws_connect(
        path, cookie=cookie, origin="http://testserver"
    )
    assert (connected, close_code) == (True, None)
    await communicator.disconnect()


@override_settings(CSRF_TRUSTED_ORIGINS=["https://*.trusted.example"])
async def test_a_cookie_socket_from_a_csrf_trusted_origin_connects(
    user: User, public_tenant: Tenant
) -> None:
    cookie = await sync_to_async(session_cookie)(user)
    path = await _conversation_path(user, public_tenant)
    communicator, connected, close_code = await ws_connect(
        path, cookie=cookie, origin="https://app.trusted.example"
    )
    assert (connected, close_code) == (True, None)
    await communicator.disconnect()


async def test_a_socket_to_a_host_spark_does_not_serve_is_refused(
    user: User, public_tenant: Tenant
) -> None:
    # Given a valid key, and a Host header outside ALLOWED_HOSTS
    _key_row, raw = await _key(user)
    path = await _conversation_path(user, public_tenant)
    _communicator, connected, close_code = await ws_connect(
        path, bearer=raw, origin=None, host="spark.attacker.invalid"
    )
    assert (connected, close_code) == REFUSED


async def test_a_failed_key_on_a_socket_is_audited_and_closed_with_4401(
    user: User, public_tenant: Tenant
) -> None:
    path = await _conversation_path(user, public_tenant)
    _communicator, connected, close_code = await ws_connect(
        path, bearer="spk_deadbeef_notarealkey", origin=None, ip="203.0.113.61", expect_close=True
    )
    assert (connected, close_code) == (True, CLOSE_UNAUTHENTICATED)
    assert await _rejections("203.0.113.61") == [("spk_deadbeef", path, "")]


@override_settings(SPARK_FILTER_AUTH_FAILURE_LIMIT=3)
async def test_failed_keys_on_sockets_and_over_http_ban_the_client_together(
    user: User, public_tenant: Tenant
) -> None:
    # Given two failed keys over sockets and one over HTTP, from one address
    path = await _conversation_path(user, public_tenant)
    for _ in range(2):
        await ws_connect(
            path, bearer="spk_deadbeef_guess", origin=None, ip="203.0.113.62", expect_close=True
        )
    http = await sync_to_async(Client(REMOTE_ADDR="203.0.113.62").get)(
        "/api/v1/me/", headers={"Authorization": "Bearer spk_deadbeef_guess"}
    )
    assert http.status_code == 401
    # Then the third failure banned it: its next socket is refused, whatever it sends
    assert await sync_to_async(Ban.objects.filter(ip="203.0.113.62").count)() == 1
    _communicator, connected, close_code = await ws_connect(
        path, cookie=await sync_to_async(session_cookie)(user), ip="203.0.113.62"
    )
    assert (connected, close_code) == (False, 4403)
    assert len(await _rejections("203.0.113.62")) == 3


@override_settings(SPARK_RATE_LIMITS={**settings.SPARK_RATE_LIMITS, "api_key": "2/m"})
async def test_a_key_over_its_rate_limit_cannot_open_a_socket(
    user: User, public_tenant: Tenant
) -> None:
    # Given a key allowed two uses a minute, used once over HTTP and once by a socket
    _key_row, raw = await _key(user)
    path = await _conversation_path(user, public_tenant)
    http = await sync_to_async(Client().get)(
        "/api/v1/me/", headers={"Authorization": f"Bearer {raw}"}
    )
    assert http.status_code == 200
    first, connected, close_code = await ws_connect(path, bearer=raw, origin=None)
    assert (connected, close_code) == (True, None)
    await first.disconnect()
    # When a third use opens a socket
    _communicator, connected, close_code = await ws_connect(
        path, bearer=raw, origin=None, expect_close=True
    )
    # Then it is closed with 4429, as HTTP answers 429
    assert (connected, close_code) == (True, CLOSE_RATE_LIMITED)
