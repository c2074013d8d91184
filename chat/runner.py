"""Running a turn: as its own task, outliving the connection that started it.

``turn_start`` runs the pipeline in a task of the web process's event loop: the client
that sent the message may leave; the answer is still written, streamed to whoever
watches the conversation and kept in the replay buffer. ``generation_cancel`` stops the
conversation's answer at once when it runs in this process, and through a flag in the
shared cache (checked every ``SPARK_CANCEL_POLL_SECONDS``) when another web instance runs
it. (Not through the channel layer: a receiver per turn, cancelled when the turn ends,
can make channels_redis drop another socket's message.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from chat import services
from chat.costs import breakdown, cost_usd
from chat.events import TurnEvents
from chat.models import Message
from chat.pipeline import OutputBlocked, Turn, TurnBlocked, TurnRefused, run_stages
from spark.common.asyncdb import db
from spark.observability import metrics
from spark.tenancy.context import tenant_scope

logger = logging.getLogger(__name__)

_running: set[asyncio.Task[TurnOutcome]] = set()
_local_turns: dict[str, list[Turn]] = {}  # conversation uuid -> turns running in this process


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended, for transports that answer once (REST, the OpenAI API)."""

    status: str  # a Message.Status, or "refused"
    http_status: int = 200
    code: str = ""
    message: str = ""
    details: Any = None
    category: str = ""


async def _persist_progress(message_id: str, content: str, seq: int) -> None:
    await db(services.message_save_progress)(message_uuid=message_id, content=content, seq=seq)


def _cancel_key(conversation_uuid: object) -> str:
    return f"spark:chat:cancel:{conversation_uuid}"


def _cancel_requested(conversation_uuid: object, since: float) -> bool:
    requested_at = cache.get(_cancel_key(conversation_uuid))
    return requested_at is not None and float(requested_at) >= since


async def _watch_for_cancel(turn: Turn) -> None:
    """A cancel asked on another web instance reaches this turn through the cache."""
    started = time.time()
    while not turn.cancel.is_set():
        await asyncio.sleep(settings.SPARK_CANCEL_POLL_SECONDS)
        if await db(_cancel_requested)(turn.conversation.uuid, started):
            turn.cancel.set()


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
        "cost_breakdown": breakdown(turn.cost_parts),
    }


async def run_turn(turn: Turn) -> TurnOutcome:
    """The whole life of a turn. Never raises: every ending is an event and an outcome."""
    with tenant_scope(turn.tenant):
        events = TurnEvents(turn.conversation.uuid, persist=_persist_progress)
        turn.events = events
        events.start()
        helpers = [
            asyncio.ensure_future(_watch_for_cancel(turn)),
            asyncio.ensure_future(_heartbeat(turn)),
        ]
        observation = metrics.turn_started(turn)
        outcome = TurnOutcome(status=Message.Status.FAILED)
        try:
            outcome = await _run(turn)
            return outcome
        finally:
            observation.ended(status=outcome.status, code=outcome.code, category=outcome.category)
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            events.release_after_turn()
            try:
                await events.drain()
                if turn.assistant_message is not None:
                    await events.buffer.close(turn.assistant_id)
            except Exception:  # the answer is stored; only its live delivery is at stake
                logger.exception(
                    "turn events of message %s (conversation %s) could not be flushed",
                    turn.assistant_id,
                    turn.conversation.uuid,
                )
            await events.close()


def _output_blocked_event(turn: Turn, blocked: OutputBlocked) -> dict[str, Any]:
    """The answer was stopped while it streamed: clients replace what they showed of it
    with ``reason`` (the stored answer is that refusal too)."""
    return {
        "type": "message.blocked",
        "message_id": turn.assistant_id,
        "stage": "output",
        "category": blocked.category,
        "reason": blocked.reason,
        "usage": {
            "input_tokens": turn.usage.input_tokens,
            "output_tokens": turn.usage.output_tokens,
        },
        "cost_usd": cost_usd(turn.cost_micros),
        "cost_breakdown": breakdown(turn.cost_parts),
    }


async def _run(turn: Turn) -> TurnOutcome:
    try:
        await run_stages(turn)
        if not turn.completion_written:
            await db(services.turn_write_completion)(turn=turn)
        if turn.blocked is not None:
            turn.emit(_output_blocked_event(turn, turn.blocked))
            return TurnOutcome(
                status=Message.Status.BLOCKED,
                http_status=409,
                code="message_blocked",
                message=turn.blocked.reason,
                category=turn.blocked.category,
            )
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
                "stage": "pre",
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
        if turn.discard_if_refused:
            await db(services.turn_discard)(turn=turn)
        elif turn.assistant_message is not None:
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
        logger.exception(
            "turn failed: message %s in conversation %s (user %s, status %s)",
            turn.assistant_id,
            turn.conversation.uuid,
            turn.user.pk,
            turn.status,
        )
        return await _after_crash(turn)


async def _after_crash(turn: Turn) -> TurnOutcome:
    """Something raised. An answer already stored, or whose text was delivered, is not
    turned into a failure: what the user read stands (billing charged it, or left it to
    settle). Only a turn with nothing delivered is marked failed."""
    if turn.completion_written:
        turn.emit(_done_event(turn))
        return TurnOutcome(status=turn.status)
    message = _("Something went wrong while answering.")
    delivered = bool(turn.text_out) and turn.assistant_message is not None
    if delivered and turn.status in (Message.Status.COMPLETE, Message.Status.INTERRUPTED):
        pass  # the answer ended; what failed came after it
    elif delivered:
        turn.status, turn.error_code, turn.error_message = (
            Message.Status.INTERRUPTED,
            "internal_error",
            message,
        )
    else:
        turn.status, turn.error_code, turn.error_message = (
            Message.Status.FAILED,
            "internal_error",
            message,
        )
    try:
        if not delivered:  # the turn did not go through: what the client sent leaves too
            await db(services.turn_discard_supplied)(turn=turn)
        await db(services.turn_write_completion)(turn=turn)
    except Exception:
        logger.exception(
            "the final state of message %s (conversation %s) could not be written; "
            "the stuck-stream sweeper closes it",
            turn.assistant_id,
            turn.conversation.uuid,
        )
    if turn.status != Message.Status.COMPLETE:
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
    if delivered:
        return TurnOutcome(status=turn.status)
    return TurnOutcome(
        status=Message.Status.FAILED, http_status=500, code="internal_error", message=message
    )


def turn_start(turn: Turn) -> asyncio.Task[TurnOutcome]:
    """Start a turn in its own task; it runs to the end even if the caller goes away."""
    task = asyncio.get_running_loop().create_task(run_turn(turn))
    key = str(turn.conversation.uuid)
    _running.add(task)
    _local_turns.setdefault(key, []).append(turn)

    def forget(done: asyncio.Task[TurnOutcome]) -> None:
        _running.discard(done)
        turns = [t for t in _local_turns.get(key, []) if t is not turn]
        if turns:
            _local_turns[key] = turns
        else:
            _local_turns.pop(key, None)

    task.add_done_callback(forget)
    return task


async def generation_cancel(*, conversation_uuid: object) -> None:
    """Stop the conversation's running answer, whichever web instance runs it."""
    for turn in _local_turns.get(str(conversation_uuid), []):
        turn.cancel.set()
    await db(cache.set)(_cancel_key(conversation_uuid), time.time(), 300)


async def wait_for_running_turns(timeout: float = 10.0) -> None:
    """Let running turns finish (tests, graceful shutdown)."""
    if _running:
        await asyncio.wait(set(_running), timeout=timeout)
