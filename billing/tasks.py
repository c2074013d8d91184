"""Billing's Celery tasks: thin, take ids, idempotent (queue ``billing``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.models import Tenant
from billing import payments, services
from billing.models import TenantBillingPolicy
from spark.tenancy.context import unscoped
from spark.tenancy.tasks import TenantTask


@shared_task(acks_late=True)
def webhook_process(*, event_pk: int) -> None:
    payments.webhook_process(event_pk=event_pk)


@shared_task(base=TenantTask)
def auto_refill(*, tenant_id: int) -> None:
    with unscoped():
        tenant = Tenant.objects.get(pk=tenant_id)
    payments.auto_refill_run(tenant=tenant)


@shared_task(acks_late=True)
def auto_refill_sweep() -> None:
    """Beat: refill every tenant whose wallet dropped below its threshold."""
    with unscoped():
        tenant_ids = list(
            TenantBillingPolicy.objects.filter(
                auto_refill_enabled=True, refill_failed_at__isnull=True
            ).values_list("tenant_id", flat=True)
        )
    for tenant_id in tenant_ids:
        auto_refill.delay(tenant_id=tenant_id)


@shared_task(acks_late=True)
def payouts_run() -> None:
    with unscoped():
        payments.payouts_run()


@shared_task(acks_late=True)
def payouts_reconcile() -> None:
    with unscoped():
        payments.payouts_reconcile()


@shared_task(acks_late=True)
def webhooks_retry() -> None:
    """Beat: process again the Stripe events whose processing failed (a bounded number of
    times; the admin's "Process again" action is there after that)."""
    with unscoped():
        payments.webhooks_retry()


@shared_task(acks_late=True)
def release_stale_holds() -> None:
    with unscoped():
        payments.holds_release_stale(older_than_seconds=settings.SPARK_BILLING_HOLD_TTL_SECONDS)


@shared_task(acks_late=True)
def settlements_retry() -> None:
    """Beat: charge the answers whose settlement the database refused (same keys)."""
    services.settlements_retry()
