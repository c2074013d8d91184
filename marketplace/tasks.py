"""Celery tasks of the marketplace: thin, idempotent."""

from __future__ import annotations

from celery import shared_task

from marketplace import analytics


@shared_task(acks_late=True)
def landing_analytics_purge() -> tuple[int, int]:
    """Periodic: drop landing visitor hashes and daily totals past their retention."""
    return analytics.landing_analytics_purge()
