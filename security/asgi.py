"""The request filter for WebSockets: a banned client's socket is closed at the handshake.

HTTP requests meet ``SecurityFilterMiddleware``; WebSocket connections do not pass
through Django's middleware, so this ASGI middleware (outermost in ``spark.asgi``) asks
the same ban store before any other work, with the same trusted-proxy client IP.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from security.bans import BanStore
from security.middleware import is_allowlisted
from spark.common.net import client_ip_from_scope

CLOSE_FORBIDDEN = 4403


class BannedClientAsgiMiddleware:
    def __init__(self, inner: Any, *, store: BanStore | None = None) -> None:
        self.inner = inner
        self.store = store or BanStore()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and settings.SPARK_FILTER_ENABLED:
            ip = client_ip_from_scope(scope)
            if not is_allowlisted(ip) and await sync_to_async(self.store.is_banned)(ip):
                message = await receive()  # the handshake: refuse it
                if message.get("type") == "websocket.connect":
                    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
                return None
        return await self.inner(scope, receive, send)
