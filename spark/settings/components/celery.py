"""Celery: Redis broker in production; tasks run in-process (eager) in the embedded default."""

from spark.settings.components import env
from spark.settings.components.redis import REDIS_URL

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "watchdog", "media", "billing")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "chat-sweep-stuck-streams": {
        "task": "chat.tasks.sweep_stuck_streams",
        "schedule": 60.0,
    },
    "watchdog-sweep-judged-texts": {
        "task": "watchdog.tasks.judged_texts_sweep",
        "schedule": 3600.0,
    },
    # security: expired Cloudflare blocks are removed; old audit entries are deleted.
    "security-cloudflare-expire": {
        "task": "security.tasks.cloudflare_blocks_expire",
        "schedule": 300.0,
    },
    "security-audit-purge": {"task": "security.tasks.audit_purge", "schedule": 24 * 3600.0},
    "marketplace-landing-analytics-purge": {
        "task": "marketplace.tasks.landing_analytics_purge",
        "schedule": 6 * 3600.0,
    },
    "billing-release-stale-holds": {"task": "billing.tasks.release_stale_holds", "schedule": 300.0},
    "billing-auto-refill": {"task": "billing.tasks.auto_refill_sweep", "schedule": 300.0},
    "billing-payouts": {"task": "billing.tasks.payouts_run", "schedule": 3600.0},
    "billing-reconcile-payouts": {"task": "billing.tasks.payouts_reconcile", "schedule": 600.0},
    "billing-retry-settlements": {"task": "billing.tasks.settlements_retry", "schedule": 60.0},
    # marketplace: custom domains verified and re-verified (each domain has its next check).
    "marketplace-domains-check": {
        "task": "marketplace.tasks.domains_check_due",
        "schedule": 600.0,
    },
    "billing-retry-webhooks": {"task": "billing.tasks.webhooks_retry", "schedule": 300.0},
}
