"""Marketplace's Celery tasks: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from marketplace import analytics, domains


@shared_task(acks_late=True)
def domain_check(*, domain_id: int) -> None:
    domains.domain_check_by_id(domain_id=domain_id)


@shared_task(acks_late=True)
def domains_check_due() -> None:
    """Beat: verify pending domains, re-verify active and suspended ones that are due."""
    for domain_id in domains.domains_due():
        domain_check.delay(domain_id=domain_id)


@shared_task(acks_late=True)
def landing_analytics_purge() -> tuple[int, int]:
    """Periodic: drop landing visitor hashes and daily totals past their retention."""
    return analytics.landing_analytics_purge()
