"""Chat's Celery tasks (thin: they call one service)."""

from celery import shared_task
from django.conf import settings

from chat import services


@shared_task(name="chat.tasks.sweep_stuck_streams", acks_late=True)
def sweep_stuck_streams() -> int:
    """Mark answers left streaming by a dead process as interrupted."""
    return services.messages_sweep_stuck(older_than_seconds=settings.SPARK_STREAM_STALE_SECONDS)
