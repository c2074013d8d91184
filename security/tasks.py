"""Celery tasks of the security layer: thin, platform-wide (no tenant), idempotent."""

from __future__ import annotations

from celery import shared_task

from security import services
from security.integrations.cloudflare import CloudflareError


@shared_task(
    acks_late=True,
    autoretry_for=(CloudflareError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def cloudflare_block_push(*, block_id: int) -> None:
    """Create a block's Cloudflare rule; a refusal is recorded and retried with backoff."""
    services.cloudflare_block_push(block_id=block_id)


@shared_task(acks_late=True)
def cloudflare_blocks_expire() -> int:
    """Periodic: remove Cloudflare rules whose block has expired (or was lifted)."""
    return services.cloudflare_blocks_expire()


@shared_task(acks_late=True)
def audit_purge() -> int:
    """Periodic: delete audit entries older than SPARK_AUDIT_RETENTION_DAYS."""
    return services.audit_purge()
