"""WebSocket connections from banned clients are refused at the handshake."""

from __future__ import annotations

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator

from security.asgi import CLOSE_FORBIDDEN, BannedClientAsgiMiddleware
from security.bans import BanStore

# Channels' consumers close stale database connections around each message.
pytestmark = pytest.mark.django_db


class Echo(AsyncWebsocketConsumer):
    """An async consumer: it touches no database (a sync one closes old connections)."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=text_data)


def _ban(ip: str) -> None:
    BanStore().ban(ip, durations=[900], memory_seconds=3600)


def _communicator(app: object, ip: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(app, "/ws/chat/x/", headers=[(b"host", b"testserver")])
    communicator.scope["client"] = (ip, 51000)
    return communicator


async def test_a_banned_client_cannot_open_a_socket() -> None:
    _ban("203.0.113.200")
    communicator = _communicator(BannedClientAsgiMiddleware(Echo.as_asgi()), "203.0.113.200")
    connected, code = await communicator.connect()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


async def test_other_clients_connect_as_usual() -> None:
    _ban("203.0.113.200")
    communicator = _communicator(BannedClientAsgiMiddleware(Echo.as_asgi()), "203.0.113.201")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="hi")
    assert await communicator.receive_from() == "hi"
    await communicator.disconnect()


async def test_the_project_asgi_app_refuses_banned_sockets() -> None:
    from spark.asgi import application

    _ban("203.0.113.202")
    connected, code = await _communicator(application, "203.0.113.202").connect()
    assert (connected, code) == (False, CLOSE_FORBIDDEN)
