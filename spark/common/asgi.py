"""ASGI middleware for sockets: a database that refuses work closes the socket with 4503.

HTTP requests get 503 with Retry-After from ``spark.common.views.server_error``. A
WebSocket whose handshake or handler fails because the database is overloaded or
unreachable (the pool's short timeout gave up) is told so with an ``error`` frame
(``service_unavailable``, with ``retry_after`` seconds) and closed with 4503, instead of a
handshake that hangs or a bare 1011. (Not 1013 "Try Again Later": Daphne's WebSocket
library lets a server close only with 1000 or a code from 3000–4999; 4503 follows the
consumers' 4401/4403/4404, HTTP's status in the 4000 range.)
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.utils.translation import gettext as _

from spark.common.views import UNAVAILABLE_RETRY_AFTER_SECONDS, database_unavailable

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 4503


class DatabaseUnavailableSocketMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        state = {"accepted": False, "closed": False}

        async def tracked_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            return await self.inner(scope, receive, tracked_send)
        except Exception as error:
            if scope.get("type") != "websocket" or not database_unavailable(error):
                raise
            logger.warning(
                "socket %s refused: the database is unavailable (%s)", scope.get("path"), error
            )
            if state["closed"]:
                return None
            if not state["accepted"]:
                await send({"type": "websocket.accept"})
            frame = {
                "type": "error",
                "code": "service_unavailable",
                "message": _("Spark is busy right now. Please try again in a few seconds."),
                "retry_after": UNAVAILABLE_RETRY_AFTER_SECONDS,
            }
            await send({"type": "websocket.send", "text": orjson.dumps(frame).decode()})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
            return None
