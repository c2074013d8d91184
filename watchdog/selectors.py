"""Reads for the watchdog: what a turn needs, transcripts, and the dashboards' figures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Max, Model, Q, QuerySet, Sum
from django.utils import timezone

from chat.models import Conversation, Message
from marketplace.models import Prompt
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from watchdog.evaluator import TranscriptLine
from watchdog.models import JudgedText, Stage, Supervision, WatchdogEvent
from watchdog.policy import EffectivePolicy, effective_policy, evaluator_model


@dataclass(frozen=True)
class PreContext:
    """What the pre-watchdog needs for one turn, read in one trip to the database."""

    policy: EffectivePolicy
    turn_number: int  # this user message is the Nth of the conversation (0: not counted)
    guard: bool = False  # the LLM guard judges this message
    lines: tuple[TranscriptLine, ...] = ()  # the transcript, when the guard judges
    pre_evaluator: LLMModel | None = None
    post_evaluator: LLMModel | None = None
    level: int = 0
    hint: str = ""
    takeover: bool = False


def pre_context(
    *,
    conversation: Conversation,
    prompt: Prompt | None,
    fallback_model: LLMModel | None,
    flagged: bool,
) -> PreContext:
    """The turn's policy (cached), whether the guard runs and what it reads, and the
    pending escalation; each query only when the policy calls for it."""
    policy = effective_policy(prompt=prompt)
    supervised = policy.post_enabled and prompt is not None
    cadenced_guard = (
        policy.pre_enabled
        and not flagged
        and not policy.guard_only_flagged
        and policy.pre_frequency > 1
    )
    counted = cadenced_guard or (supervised and policy.post_frequency > 1)
    turn_number, level, hint, takeover = _turn_and_escalation(
        conversation, counted=counted, supervised=supervised
    )
    guard = policy.pre_enabled and (flagged or policy.guard_due(turn_number))
    return PreContext(
        policy=policy,
        turn_number=turn_number,
        guard=guard,
        lines=tuple(transcript(conversation_id=conversation.pk)) if guard else (),
        pre_evaluator=(
            evaluator_model(chosen=policy.pre_model, fallback=fallback_model) if guard else None
        ),
        post_evaluator=(
            evaluator_model(chosen=policy.post_model, fallback=fallback_model) if takeover else None
        ),
        level=level,
        hint=hint,
        takeover=takeover,
    )


def _turn_and_escalation(
    conversation: Conversation, *, counted: bool, supervised: bool
) -> tuple[int, int, str, bool]:
    """The user message count and the pending escalation, each only when asked for.

    Two small indexed queries in plain SQL: they run before the model on every supervised
    turn, where compiling them through the ORM cost five times what running them does
    (~0.3 ms against ~0.06 ms, docs/performance.md). The conversation was resolved, and
    its tenant checked, by AccessGate; both queries read by its primary key only.
    """
    turns, state = 0, None
    with connection.cursor() as cursor:
        if counted:
            cursor.execute(_user_turns_sql(), [conversation.pk, Message.Role.USER])
            turns = int(cursor.fetchone()[0])
        if supervised:
            cursor.execute(_escalation_sql(), [conversation.pk])
            state = cursor.fetchone()
    level, hint, takeover = state if state is not None else (0, "", False)
    return turns, int(level), hint, bool(takeover)


def _quoted(model: type[Model], field: str | None = None) -> str:
    """A table's (or one of its columns') name, quoted for the database in use."""
    if field is None:
        return connection.ops.quote_name(model._meta.db_table)
    column = model._meta.get_field(field).column  # type: ignore[union-attr]
    return connection.ops.quote_name(str(column))


# Built once, when the database backend (its quoting) is known. Identifiers come from the
# models' meta; values go as parameters.
@cache
def _user_turns_sql() -> str:
    table, conversation, role = (
        _quoted(Message),
        _quoted(Message, "conversation"),
        _quoted(Message, "role"),
    )
    return f"SELECT COUNT(*) FROM {table} WHERE {conversation} = %s AND {role} = %s"  # noqa: S608


@cache
def _escalation_sql() -> str:
    columns = ", ".join(_quoted(Supervision, name) for name in ESCALATION_FIELDS)
    table, conversation = _quoted(Supervision), _quoted(Supervision, "conversation")
    return f"SELECT {columns} FROM {table} WHERE {conversation} = %s"  # noqa: S608


ESCALATION_FIELDS = ("level", "pending_hint", "takeover")


def transcript(
    *, conversation_id: int, upto_message_id: int | None = None, limit: int | None = None
) -> list[TranscriptLine]:
    """The last messages of a conversation as the evaluators see them, oldest first.

    Blocked user messages stay (an evaluator should know about earlier attempts); the
    refusals written in their place, unfinished answers and tool rows do not.
    """
    limit = limit or settings.SPARK_WATCHDOG_TRANSCRIPT_MESSAGES
    rows = Message.objects.filter(
        conversation_id=conversation_id,
        superseded=False,
        role__in=[Message.Role.USER, Message.Role.ASSISTANT],
    ).filter(
        Q(role=Message.Role.USER)
        | Q(status__in=[Message.Status.COMPLETE, Message.Status.INTERRUPTED])
    )
    if upto_message_id is not None:
        rows = rows.filter(pk__lte=upto_message_id)
    latest = list(
        rows.order_by("-created_at", "-id").values_list("role", "status", "content")[:limit]
    )
    lines = []
    for role, status, content in reversed(latest):
        label = "user (blocked)" if status == Message.Status.BLOCKED else role
        lines.append(TranscriptLine(role=label, content=content))
    return lines


def text_digest(*, role: str, content: str) -> str:
    """What ``JudgedText`` keeps of a text: a digest of its role and content, never the text."""
    return hashlib.sha256(f"{role}\n{content}".encode()).hexdigest()


def judged_known(
    *, tenant_id: int, user_id: int, prompt: Prompt | None, digests: list[str]
) -> frozenset[str]:
    """Which of ``digests`` this user's client supplied before and the pre-watchdog let
    through, under the policy the turn runs under now (and within the memory's lifetime)."""
    if not digests:
        return frozenset()
    since = timezone.now() - timedelta(seconds=settings.SPARK_WATCHDOG_JUDGED_TTL_SECONDS)
    scope = effective_policy(prompt=prompt).judging_scope
    return frozenset(
        JudgedText.objects.filter(
            tenant_id=tenant_id,
            user_id=user_id,
            scope=scope,
            digest__in=digests,
            created_at__gte=since,
        ).values_list("digest", flat=True)
    )


# --- dashboards (staff: the admin runs unscoped) ---------------------------------------------


@dataclass(frozen=True)
class OutputStops:
    count: int
    last_at: Any  # datetime | None


def output_stops_for_prompt(*, prompt: Prompt) -> OutputStops:
    """How often the output guard stopped answers of ``prompt`` (its creator's page).

    Its conversations live in the tenants of the users who chat with it, so this counts
    across tenants, by the prompt: only a count and a date, nothing of those tenants."""
    with unscoped():
        totals = WatchdogEvent.objects.filter(prompt=prompt, stage=Stage.OUTPUT).aggregate(
            count=Count("id"), last_at=Max("created_at")
        )
    return OutputStops(count=totals["count"], last_at=totals["last_at"])


def event_counters(*, events: QuerySet[WatchdogEvent]) -> dict[str, Any]:
    """Totals for a set of events: by stage, verdict, action, severity; cost and latency."""
    totals = events.aggregate(
        total=Count("id"),
        blocked=Count("id", filter=Q(action="blocked")),
        locked=Count("id", filter=Q(action="locked")),
        takeovers=Count("id", filter=Q(action="takeover")),
        failures=Count("id", filter=~Q(error="")),
        alerts=Count("id", filter=Q(severity="alert")),
        cost_micros=Sum("cost_micros"),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        latency_ms=Avg("latency_ms"),
    )
    by_stage = dict(events.values_list("stage").annotate(n=Count("id")).order_by())
    by_type = dict(
        events.exclude(event_type="none")
        .values_list("event_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        **totals,
        "cost_micros": totals["cost_micros"] or 0,
        "input_tokens": totals["input_tokens"] or 0,
        "output_tokens": totals["output_tokens"] or 0,
        "latency_ms": round(totals["latency_ms"] or 0),
        "by_stage": by_stage,
        "by_type": dict(sorted(by_type.items(), key=lambda item: -item[1])),
    }


@dataclass(frozen=True)
class TimelineRow:
    message: Message
    events: list[WatchdogEvent]


def conversation_timeline(*, conversation: Conversation) -> list[TimelineRow]:
    """The transcript with, beside each answer, the verdicts about its turn."""
    messages = list(
        Message.objects.filter(conversation=conversation)
        .exclude(role=Message.Role.TOOL)
        .order_by("created_at", "id")
    )
    by_message: dict[int, list[WatchdogEvent]] = {}
    for event in (
        WatchdogEvent.objects.filter(conversation=conversation)
        .select_related("evaluator_model")
        .order_by("created_at", "id")
    ):
        if event.message_id is not None:
            by_message.setdefault(event.message_id, []).append(event)
    return [TimelineRow(message=m, events=by_message.get(m.pk, [])) for m in messages]
