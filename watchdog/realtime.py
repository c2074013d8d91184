"""Live updates for staff: every new verdict reaches the admin's timeline over a socket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

if TYPE_CHECKING:
    from chat.models import Conversation
    from watchdog.models import WatchdogEvent

ADMIN_GROUP = "watchdog.admin"


def event_payload(event: WatchdogEvent, *, conversation: Conversation) -> dict[str, Any]:
    """What the admin timeline shows of an event (no transcript, no hint text)."""
    prompt = conversation.prompt if conversation.prompt_id else None
    return {
        "type": "watchdog.event",
        "id": event.pk,
        "created_at": event.created_at.isoformat(),
        "stage": event.stage,
        "verdict": event.verdict,
        "event_type": event.event_type,
        "severity": event.severity,
        "action": event.action,
        "level": event.level,
        "tenant_id": event.tenant_id,
        "prompt": prompt.name if prompt is not None else "",
        "conversation": str(conversation.uuid),
        "conversation_url": reverse(
            "admin:watchdog_supervision_conversation", args=[conversation.uuid]
        ),
        "evaluator": event.evaluator_slug,
        "latency_ms": event.latency_ms,
        "tokens": event.input_tokens + event.output_tokens,
        "cost_micros": event.cost_micros,
        "error": event.error[:200],
        "url": reverse("admin:watchdog_watchdogevent_change", args=[event.pk]),
    }


def _send(payload: dict[str, Any]) -> None:
    async_to_sync(get_channel_layer().group_send)(
        ADMIN_GROUP, {"type": "watchdog.event", "event": payload}
    )


def publish_event_on_commit(event: WatchdogEvent, *, conversation: Conversation) -> None:
    payload = event_payload(event, conversation=conversation)
    transaction.on_commit(lambda: _send(payload), robust=True)
