"""Billing's send-pipeline stages: BudgetGate (before the model) and Settle (after it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Length

from billing import policy, services
from billing.models import UsageRecord
from chat import services as chat_services
from chat.costs import parts_from
from chat.models import Message
from chat.pipeline import CallNext, Turn, TurnRefused
from spark.common.asyncdb import db
from spark.llm.models import LLMModel, ToolPrice
from spark.llm.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from spark.observability import metrics

STATE = "billing"

logger = logging.getLogger(__name__)


def input_token_estimate(turn: Turn) -> int:
    """What the model will read: the system prompt and the history (cheap, in SQL).

    BuildContext later fits the history to the window; this bounds it the same way.
    """
    model = turn.model
    assert model is not None
    history = (
        Message.objects.filter(conversation_id=turn.conversation.pk, superseded=False)
        .filter(
            Q(role=Message.Role.USER, status=Message.Status.COMPLETE)
            | Q(
                role=Message.Role.ASSISTANT,
                status__in=[Message.Status.COMPLETE, Message.Status.INTERRUPTED],
            )
        )
        .aggregate(chars=Sum(Length("content")), count=Count("id"))
    )
    system = turn.prompt.system_prompt if turn.prompt is not None else ""
    tokens = (
        estimate_tokens(system)
        + ((history["chars"] or 0) + 3) // 4
        + MESSAGE_OVERHEAD_TOKENS * ((history["count"] or 0) + 1)
    )
    return min(tokens, model.context_window)


def _reserve(turn: Turn) -> services.Reservation:
    assert turn.model is not None
    return services.turn_reserve(
        tenant=turn.tenant,
        user=turn.user,
        prompt=turn.prompt,
        model=turn.model,
        input_tokens=input_token_estimate(turn),
        reference=f"message:{turn.assistant_id}",
        byok=turn.key_context.mode == "own_only",
    )


class BudgetGate:
    """Refuses a turn the payer cannot afford, before any provider call; holds the estimate.

    The hold keeps concurrent turns from spending the same money; Settle releases it
    (or this stage does, when the turn ends without reaching Settle).
    """

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        try:
            reservation = await db(_reserve)(turn)
        except policy.NotAMember as refusal:
            raise TurnRefused(refusal.message, code=refusal.code, status=403) from None
        except services.PaymentRequired as refusal:
            details = refusal.details or {
                "topup_url": services.topup_url_for(payer_kind="user"),
            }
            raise TurnRefused(
                refusal.message, code=refusal.code, status=402, details=details
            ) from None
        turn.state[STATE] = {"reservation": reservation, "settled": False}
        try:
            await call_next(turn)
        finally:
            if not turn.state[STATE]["settled"]:
                await _settle_or_defer(turn, final=False)


def _uses(turn: Turn, *, answer: bool = True) -> list[services.Use]:
    model = turn.model
    assert model is not None
    uses = []
    usage = turn.usage
    generated = turn.status != Message.Status.FAILED or bool(turn.text_out)
    if answer and generated and (usage.input_tokens or usage.output_tokens):
        uses.append(
            services.Use(
                kind=UsageRecord.Kind.ANSWER,
                detail="",
                model=model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cached_tokens=usage.cached_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                key_source=turn.key_source,
                idempotency_key=f"answer:{turn.assistant_id}",
            )
        )
    slugs = {extra.model_slug for extra in turn.extra_usage if extra.model_slug}
    models = {m.slug: m for m in LLMModel.objects.filter(slug__in=slugs)} if slugs else {}
    tool_prices = _tool_prices(turn)
    for index, extra in enumerate(turn.extra_usage):
        extra_model = models.get(extra.model_slug)
        if extra.tool:
            listed = tool_prices.get((extra.tool, extra.variant))
            if listed is None:
                logger.warning(
                    "billing: no catalogue price for tool %s (%s); message %s not charged for it",
                    extra.tool,
                    extra.variant,
                    turn.assistant_id,
                )
                continue
            uses.append(
                services.Use(
                    kind=services._usage_kind(extra.kind),
                    detail=f"{extra.tool}:{extra.variant}" if extra.variant else extra.tool,
                    model=extra_model,
                    input_tokens=0,
                    output_tokens=0,
                    cached_tokens=0,
                    reasoning_tokens=0,
                    key_source=extra.key_source,
                    idempotency_key=(
                        extra.reference if extra.reference else f"extra:{turn.assistant_id}:{index}"
                    ),
                    listed_price=listed,
                )
            )
            continue
        if extra_model is None:
            continue
        uses.append(
            services.Use(
                kind=services._usage_kind(extra.kind),
                detail=extra.kind,
                model=extra_model,
                input_tokens=extra.usage.input_tokens,
                output_tokens=extra.usage.output_tokens,
                cached_tokens=extra.usage.cached_tokens,
                reasoning_tokens=extra.usage.reasoning_tokens,
                key_source=extra.key_source,
                # The reference is the usage's own key (the same one a stage gives
                # SPARK_EXTRA_USAGE_RECORDER), so one usage is never charged twice.
                idempotency_key=(
                    extra.reference if extra.reference else f"extra:{turn.assistant_id}:{index}"
                ),
            )
        )
    return uses


def _tool_prices(turn: Turn) -> dict[tuple[str, str], int]:
    wanted = {(extra.tool, extra.variant) for extra in turn.extra_usage if extra.tool}
    if not wanted:
        return {}
    rows = ToolPrice.objects.filter(tool__in={tool for tool, _variant in wanted})
    return {(row.tool, row.variant): row.price for row in rows}


def settle_turn(turn: Turn) -> None:
    """Charge the turn and write the answer's final state in one database transaction."""
    state: dict[str, Any] = turn.state.get(STATE) or {}
    reservation: services.Reservation | None = state.get("reservation")
    assert turn.model is not None
    try:
        with transaction.atomic():
            settlement = services.uses_settle(
                tenant=turn.tenant,
                user=turn.user,
                prompt=turn.prompt,
                model=turn.model,
                uses=_uses(turn),
                conversation_id=turn.conversation.pk,
                message_id=turn.assistant_message.pk if turn.assistant_message else None,
                hold_id=reservation.hold_id if reservation is not None else None,
                plan=reservation.plan if reservation is not None else None,
            )
            turn.cost_micros = settlement.cost
            turn.cost_parts = [dict(part) for part in parts_from(settlement.records)]
            chat_services.turn_write_completion(turn=turn)
    except BaseException:
        turn.cost_micros, turn.completion_written = 0, False  # nothing of it was written
        turn.cost_parts = []
        raise
    if STATE in turn.state:
        turn.state[STATE]["settled"] = True


def settle_unfinished(turn: Turn) -> None:
    """A turn that ended before Settle (blocked, refused, crashed): charge what was used
    (the evaluator; the answer's tokens if some were generated) and release the hold.

    The runner writes the message's final state afterwards.
    """
    state: dict[str, Any] = turn.state.get(STATE) or {}
    reservation: services.Reservation | None = state.get("reservation")
    assert turn.model is not None
    with transaction.atomic():
        services.uses_settle(
            tenant=turn.tenant,
            user=turn.user,
            prompt=turn.prompt,
            model=turn.model,
            uses=_uses(turn),
            conversation_id=turn.conversation.pk,
            message_id=turn.assistant_message.pk if turn.assistant_message else None,
            hold_id=reservation.hold_id if reservation is not None else None,
            plan=reservation.plan if reservation is not None else None,
        )
    state["settled"] = True


def settlement_defer(turn: Turn, *, final: bool, error: str) -> None:
    """The charge could not be written: leave a to-settle row (the beat task charges it
    with the same keys), and with ``final`` the answer's final state, in one transaction."""
    state: dict[str, Any] = turn.state.get(STATE) or {}
    reservation: services.Reservation | None = state.get("reservation")
    assert turn.model is not None
    uses = _uses(turn)
    try:
        with transaction.atomic():
            if uses:
                services.settlement_defer(
                    key=f"turn:{turn.assistant_id or turn.client_id}",
                    tenant=turn.tenant,
                    user=turn.user,
                    prompt=turn.prompt,
                    model=turn.model,
                    uses=uses,
                    conversation_id=turn.conversation.pk,
                    message_id=turn.assistant_message.pk if turn.assistant_message else None,
                    hold_id=reservation.hold_id if reservation is not None else None,
                    error=error,
                )
            elif reservation is not None and reservation.hold_id is not None:
                services.reservation_release(hold_id=reservation.hold_id)
            if final:
                chat_services.turn_write_completion(turn=turn)
    except BaseException:
        turn.completion_written = False
        raise
    if STATE in turn.state:
        turn.state[STATE]["settled"] = True


def _transient(error: BaseException) -> bool:
    """A database error worth trying again: a serialization failure, a deadlock, a lock or
    statement timeout, a lost connection (Django raises these as OperationalError or
    InterfaceError; constraint and programming errors would only fail again)."""
    return isinstance(error, OperationalError | InterfaceError)


async def _retrying(func: Callable[..., None], turn: Turn, **kwargs: Any) -> None:
    """``func(turn)`` in a worker thread, again after a transient database error."""
    delays = list(settings.SPARK_BILLING_SETTLE_RETRY_DELAYS)
    attempt = 0
    while True:
        attempt += 1
        try:
            await db(func)(turn, **kwargs)
            return
        except DatabaseError as error:
            if not delays or not _transient(error):
                raise
            delay = delays.pop(0)
            logger.warning(
                "billing: %s for message %s (conversation %s) hit a transient database "
                "error (attempt %d), trying again in %.2fs: %r",
                func.__name__,
                turn.assistant_id,
                turn.conversation.uuid,
                attempt,
                delay,
                error,
            )
            await asyncio.sleep(delay)


async def _settle_or_defer(turn: Turn, *, final: bool) -> None:
    """Charge the turn (with retries); if the database still refuses, leave it to settle.

    Raises only when not even the to-settle row can be written (it is logged).
    """
    try:
        await _retrying(settle_turn if final else settle_unfinished, turn)
        metrics.settlement("settled")
        return
    except Exception as error:
        logger.exception(
            "billing: settling message %s (conversation %s, user %s) failed; "
            "leaving it to the settlement task",
            turn.assistant_id,
            turn.conversation.uuid,
            turn.user.pk,
        )
        failure = repr(error)
    try:
        await _retrying(settlement_defer, turn, final=final, error=failure)
        metrics.settlement("deferred")
    except Exception:
        metrics.settlement("failed")
        logger.exception(
            "billing: message %s (conversation %s, user %s) could not be left to settle "
            "either; its hold stays until the stale-hold sweeper",
            turn.assistant_id,
            turn.conversation.uuid,
            turn.user.pk,
        )
        if final:
            raise


class Settle:
    """Writes the usage records and their ledger transactions with the answer's completion.

    An interrupted or cancelled answer is charged for what was generated; an answer that
    failed before any output is not charged. A transient database error is retried; a
    settlement that still cannot be written is left as a to-settle row with the answer's
    final state (``billing.tasks.settlements_retry`` charges it).
    """

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        await _settle_or_defer(turn, final=True)
        await call_next(turn)
