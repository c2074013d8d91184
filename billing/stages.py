"""Billing's send-pipeline stages: BudgetGate (before the model) and Settle (after it)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Length

from billing import policy, services
from billing.models import UsageRecord
from chat import services as chat_services
from chat.models import Message
from chat.pipeline import CallNext, Turn, TurnRefused
from spark.common.asyncdb import db
from spark.llm.models import LLMModel
from spark.llm.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_tokens

STATE = "billing"


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
                with contextlib.suppress(Exception):
                    await db(settle_unfinished)(turn)


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
    slugs = {extra.model_slug for extra in turn.extra_usage}
    models = {m.slug: m for m in LLMModel.objects.filter(slug__in=slugs)} if slugs else {}
    for index, extra in enumerate(turn.extra_usage):
        extra_model = models.get(extra.model_slug)
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


def settle_turn(turn: Turn) -> None:
    """Charge the turn and write the answer's final state in one database transaction."""
    state: dict[str, Any] = turn.state.get(STATE) or {}
    reservation: services.Reservation | None = state.get("reservation")
    assert turn.model is not None
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
        chat_services.turn_write_completion(turn=turn)
    if STATE in turn.state:
        turn.state[STATE]["settled"] = True


def settle_unfinished(turn: Turn) -> None:
    """A turn that ended before Settle (blocked, refused, crashed): charge what other stages
    used (the evaluator) and release the hold."""
    state: dict[str, Any] = turn.state.get(STATE) or {}
    reservation: services.Reservation | None = state.get("reservation")
    assert turn.model is not None
    with transaction.atomic():
        services.uses_settle(
            tenant=turn.tenant,
            user=turn.user,
            prompt=turn.prompt,
            model=turn.model,
            uses=_uses(turn, answer=False),
            conversation_id=turn.conversation.pk,
            message_id=turn.assistant_message.pk if turn.assistant_message else None,
            hold_id=reservation.hold_id if reservation is not None else None,
        )
    state["settled"] = True


class Settle:
    """Writes the usage records and their ledger transactions with the answer's completion.

    An interrupted or cancelled answer is charged for what was generated; an answer that
    failed before any output is not charged.
    """

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        await db(settle_turn)(turn)
        await call_next(turn)
