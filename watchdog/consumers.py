"""Live watchdog events for staff: ``/ws/admin/watchdog/``.

Signed-in staff (session) join the admin group and receive every new event; anyone else,
API keys included, is closed with 4403.
"""

from __future__ import annotations

from typing import Any

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer

from watchdog.realtime import ADMIN_GROUP

CLOSE_FORBIDDEN = 4403


class WatchdogAdminConsumer(AsyncWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        by_session = self.scope.get("api_key") is None
        if not (by_session and user is not None and user.is_authenticated and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(ADMIN_GROUP, self.channel_name)
        self.joined = True

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(ADMIN_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Nothing to receive: the socket only listens."""

    async def watchdog_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(message["event"]).decode())
