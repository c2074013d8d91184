"""What a scrape reads from the shared state, not from a process's counters: open holds,
Stripe events waiting, answers left to settle (PostgreSQL) and Celery queue depths (the
broker). One small query each, per scrape; a part that does not answer is reported as
``spark_state_up{part} 0`` instead of failing the scrape."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from spark.tenancy.context import unscoped

logger = logging.getLogger(__name__)


def _age(oldest: datetime | None) -> float:
    return max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0


def queue_depths(broker_url: str, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each Celery queue, asked of the broker through kombu."""
    from kombu import Connection
    from kombu.exceptions import ChannelError

    depths: dict[str, int] = {}
    with Connection(broker_url, connect_timeout=2) as connection:
        channel = connection.default_channel
        for queue in queues:
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except ChannelError:  # never declared: nothing waits there
                depths[queue] = 0
    return depths


class StateCollector(Collector):
    """Gauges of the shared state, computed when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "spark_state_up",
            "Whether a part of the shared state answered this scrape.",
            labels=["part"],
        )
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except Exception:
            logger.exception("metrics: the database state could not be read")
            up.add_metric(["database"], 0)
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            try:
                yield self._queues()
                up.add_metric(["broker"], 1)
            except Exception:
                logger.exception("metrics: the Celery queue depths could not be read")
                up.add_metric(["broker"], 0)
        yield up

    def _database(self) -> list[Metric]:
        hold = apps.get_model("billing", "Hold")
        webhook = apps.get_model("billing", "WebhookEvent")
        pending = apps.get_model("billing", "PendingSettlement")
        with unscoped():
            holds = hold.objects.filter(released_at__isnull=True).aggregate(
                count=Count("id"), oldest=Min("created_at")
            )
            events = webhook.objects.filter(processed_at__isnull=True).aggregate(
                count=Count("id"), oldest=Min("received_at")
            )
            settlements = pending.objects.filter(settled_at__isnull=True).aggregate(
                count=Count("id"), oldest=Min("created_at")
            )
        return [
            GaugeMetricFamily("spark_holds_open", "Holds not yet released.", value=holds["count"]),
            GaugeMetricFamily(
                "spark_holds_oldest_age_seconds",
                "Age of the oldest hold not yet released (0 when none is open).",
                value=_age(holds["oldest"]),
            ),
            GaugeMetricFamily(
                "spark_stripe_webhooks_pending",
                "Stripe events received and not yet processed.",
                value=events["count"],
            ),
            GaugeMetricFamily(
                "spark_stripe_webhook_lag_seconds",
                "Age of the oldest Stripe event not yet processed (0 when none waits).",
                value=_age(events["oldest"]),
            ),
            GaugeMetricFamily(
                "spark_settlements_pending",
                "Answers delivered whose charge waits for the settlement task.",
                value=settlements["count"],
            ),
            GaugeMetricFamily(
                "spark_settlements_pending_oldest_age_seconds",
                "Age of the oldest answer waiting to be charged (0 when none waits).",
                value=_age(settlements["oldest"]),
            ),
        ]

    def _queues(self) -> Metric:
        depths = queue_depths(settings.CELERY_BROKER_URL, tuple(settings.CELERY_TASK_QUEUES_NAMES))
        family = GaugeMetricFamily(
            "spark_celery_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for queue, depth in depths.items():
            family.add_metric([queue], depth)
        return family
