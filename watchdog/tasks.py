"""The watchdog's Celery tasks (thin: they unpack ids and call one service)."""

from __future__ import annotations

from celery import shared_task

from spark.tenancy.tasks import TenantTask
from watchdog import services

# The queue the post-watchdog runs on. Callers name it (``apply_async(..., queue=QUEUE)``):
# Celery 5.5 deprecates the ``queue`` task attribute.
QUEUE = "watchdog"


@shared_task(base=TenantTask, name="watchdog.tasks.post_watchdog", acks_late=True)
def post_watchdog(
    *, tenant_id: int, conversation_id: int, message_id: int, hinted: bool = False
) -> int | None:
    """Judge a completed answer and escalate (runs inside ``tenant_id``'s scope)."""
    event = services.post_watchdog_run(
        conversation_id=conversation_id, message_id=message_id, hinted=hinted
    )
    return event.pk if event is not None else None


@shared_task(name="watchdog.tasks.judged_texts_sweep", acks_late=True)
def judged_texts_sweep() -> int:
    """Delete the memory of judged texts past its lifetime (platform-wide, beat)."""
    return services.judged_sweep()
