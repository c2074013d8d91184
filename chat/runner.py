"""Running a turn: as its own task, outliving the connection that started it.

``turn_start`` runs the pipeline in a task of the web process's event loop: the client
that sent the message may leave; the answer is still written, streamed to whoever
watches the conversation and kept in the replay buffer. ``generation_cancel`` reaches the
process running a conversation's generation through the channel layer, whichever web
instance the request lands on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext as _

from chat import services
from chat.events import TurnEvents
from chat.models import Message
from chat.pipeline import Turn, TurnBlocked, TurnRefused, run_stages
from spark.common.asyncdb import db
from spark.realtime.groups import generation_control_group
from spark.tenancy.context import tenant_scope

logger = logging.getLogger(__name__)

_running: set[asyncio.Task[TurnOutcome]] = set()


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended, for transports that answer once (REST, the OpenAI API)."""

    status: str  # a Message.Status, or "refused"
    http_status: int = 200
    code: str = ""
    message: str = ""
    details: Any = None
    category: str = ""


def cost_usd(micros: int) -> str:
    return f"{Decimal(micros) / Decimal(1_000_000):.6f}"


async def _persist_progress(message_id: str, content: str, seq: int) -> None:
    await db(services.message_save_progress)(message_uuid=message_id, content=content, seq=seq)


async def _listen_for_cancel(turn: Turn) -> None:
    layer = get_channel_layer()
    # The default prefix: channels_redis reads every process-local channel through one key.
    channel = await layer.new_channel()
    group = generation_control_group(turn.conversation.uuid)
    await layer.group_add(group, channel)
    try:
        while True:
            message = await layer.receive(channel)
            if message.get("type") == "generation.cancel":
                turn.cancel.set()
                return
    finally:
        with contextlib.suppress(Exception):
            await layer.group_discard(group, channel)


async def _heartbeat(turn: Turn) -> None:
    """Keep a quiet answer (slow first token, long tool call) from looking abandoned."""
    while True:
        await asyncio.sleep(settings.SPARK_STREAM_HEARTBEAT_SECONDS)
        if turn.assistant_message is not None:
            await db(services.message_touch)(message_uuid=turn.assistant_id)


def _done_event(turn: Turn) -> dict[str, Any]:
    return {
        "type": "message.done",
        "message_id": turn.assistant_id,
        "status": turn.status,
        "usage": {
            "input_tokens": turn.usage.input_tokens,
            "output_tokens": turn.usage.output_tokens,
        },
        "cost_usd": cost_usd(turn.cost_micros),
    }


async def run_turn(turn: Turn) -> TurnOutcome:
    """The whole life of a turn. Never raises: every ending is an event and an outcome."""
    with tenant_scope(turn.tenant):
        events = TurnEvents(turn.conversation.uuid, persist=_persist_progress)
        turn.events = events
        events.start()
        helpers = [
            asyncio.ensure_future(_listen_for_cancel(turn)),
            asyncio.ensure_future(_heartbeat(turn)),
        ]
        try:
            return await _run(turn)
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            with contextlib.suppress(Exception):
                await events.drain()
                if turn.assistant_message is not None:
                    await events.buffer.close(turn.assistant_id)
            await events.close()


async def _run(turn: Turn) -> TurnOutcome:
    try:
        await run_stages(turn)
        if not turn.completion_written:
            await db(services.turn_write_completion)(turn=turn)
        turn.emit(_done_event(turn))
        return TurnOutcome(status=turn.status)
    except TurnBlocked as blocked:
        await db(services.turn_mark_blocked)(
            turn=turn, reason=blocked.reason, category=blocked.category
        )
        turn.emit(
            {
                "type": "message.blocked",
                "message_id": turn.assistant_id or None,
                "category": blocked.category,
                "reason": blocked.reason,
            }
        )
        return TurnOutcome(
            status=Message.Status.BLOCKED,
            http_status=409,
            code="message_blocked",
            message=blocked.reason,
            category=blocked.category,
        )
    except TurnRefused as refused:
        if turn.assistant_message is not None:
            await db(services.turn_mark_refused)(
                turn=turn, code=refused.code, message=refused.message
            )
        error: dict[str, Any] = {
            "type": "error",
            "code": refused.code,
            "message": refused.message,
            "client_id": turn.client_id,
        }
        if turn.assistant_message is not None:
            error["message_id"] = turn.assistant_id
        if refused.details:
            error["details"] = refused.details
        turn.emit(error)
        if turn.assistant_message is not None:
            turn.emit(_done_event(turn))
        return TurnOutcome(
            status="refused",
            http_status=refused.status,
            code=refused.code,
            message=refused.message,
            details=refused.details,
        )
    except Exception:
        logger.exception("turn failed in conversation %s", turn.conversation.uuid)
        message = _("Something went wrong while answering.")
        turn.status, turn.error_code, turn.error_message = (
            Message.Status.FAILED,
            "internal_error",
            message,
        )
        with contextlib.suppress(Exception):
            await db(services.turn_write_completion)(turn=turn)
        turn.emit(
            {
                "type": "error",
                "code": "internal_error",
                "message": message,
                "client_id": turn.client_id,
                "message_id": turn.assistant_id or None,
            }
        )
        if turn.assistant_message is not None:
            turn.emit(_done_event(turn))
        return TurnOutcome(
            status=Message.Status.FAILED, http_status=500, code="internal_error", message=message
        )


def turn_start(turn: Turn) -> asyncio.Task[TurnOutcome]:
    """Start a turn in its own task; it runs to the end even if the caller goes away."""
    task = asyncio.get_running_loop().create_task(run_turn(turn))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def generation_cancel(*, conversation_uuid: object) -> None:
    """Ask whichever process runs this conversation's generation to stop it."""
    await get_channel_layer().group_send(
        generation_control_group(conversation_uuid), {"type": "generation.cancel"}
    )


async def wait_for_running_turns(timeout: float = 10.0) -> None:
    """Let running turns finish (tests, graceful shutdown)."""
    if _running:
        await asyncio.wait(set(_running), timeout=timeout)
