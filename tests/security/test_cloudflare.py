"""Persistent offenders are blocked at Cloudflare once, retried on failure, removed on expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from security import services
from security.models import Ban, CloudflareBlock
from tests.fakes.cloudflare import FakeCloudflare

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloudflare() -> Iterator[FakeCloudflare]:
    fake = FakeCloudflare().start()
    with override_settings(
        SPARK_CLOUDFLARE_API_BASE=fake.api_base,
        SPARK_CLOUDFLARE_API_TOKEN=fake.token,
        SPARK_CLOUDFLARE_ZONE_ID=fake.zone_id,
        SPARK_CLOUDFLARE_ESCALATE_AFTER=3,
    ):
        yield fake
    fake.stop()


def _ban_repeatedly(ip: str, times: int, capture) -> None:  # type: ignore[no-untyped-def]
    """Ban ``ip`` ``times`` times: each ban expires (is lifted in the cache) before the next."""
    from security.bans import BanStore

    store = BanStore()
    for _ in range(times):
        with capture(execute=True):
            services.ban_create(ip=ip, reason=Ban.Reason.RULE, store=store)
        store.lift(ip, forget_offences=False)


def test_a_client_banned_n_times_is_blocked_at_cloudflare_once(
    cloudflare: FakeCloudflare, django_capture_on_commit_callbacks
) -> None:
    _ban_repeatedly("198.51.100.5", 2, django_capture_on_commit_callbacks)
    assert not CloudflareBlock.objects.exists()
    assert cloudflare.posts() == []

    _ban_repeatedly("198.51.100.5", 3, django_capture_on_commit_callbacks)  # 3rd, 4th, 5th

    block = CloudflareBlock.objects.get()
    assert (block.ip, block.status, block.attempts) == ("198.51.100.5", "active", 1)
    assert len(cloudflare.posts()) == 1
    rule = cloudflare.rules[block.rule_id]
    assert rule["mode"] == "block"
    assert rule["configuration"] == {"target": "ip", "value": "198.51.100.5"}


def test_an_ipv6_offender_is_blocked_with_the_ip6_target(
    cloudflare: FakeCloudflare, django_capture_on_commit_callbacks
) -> None:
    _ban_repeatedly("2001:db8::5", 3, django_capture_on_commit_callbacks)
    block = CloudflareBlock.objects.get()
    assert cloudflare.rules[block.rule_id]["configuration"]["target"] == "ip6"


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Eager Celery runs a task's retries in place, as a worker would after the backoff.

    (With eager exceptions propagating, Celery raises the Retry instead of running it.)
    """
    from spark.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_a_failed_push_is_recorded_and_retried(
    cloudflare: FakeCloudflare, django_capture_on_commit_callbacks, eager_retries: None
) -> None:
    cloudflare.fail_next = 2
    _ban_repeatedly("198.51.100.6", 3, django_capture_on_commit_callbacks)
    block = CloudflareBlock.objects.get()
    assert (block.status, block.attempts) == ("active", 3)  # two failures, then success
    assert len(cloudflare.rules) == 1
    assert len(cloudflare.posts()) == 3


def test_a_push_that_keeps_failing_stays_visible_with_its_error(
    cloudflare: FakeCloudflare,
) -> None:
    cloudflare.fail_next = 1
    block = services.cloudflare_block_request(ip="198.51.100.7")
    with pytest.raises(services.CloudflareError):
        services.cloudflare_block_push(block_id=block.pk)
    block.refresh_from_db()
    assert (block.status, block.attempts) == ("failed", 1)
    assert "HTTP 500" in block.last_error
    assert cloudflare.rules == {}


def test_expired_blocks_are_removed_from_cloudflare(
    cloudflare: FakeCloudflare, django_capture_on_commit_callbacks
) -> None:
    _ban_repeatedly("198.51.100.8", 3, django_capture_on_commit_callbacks)
    block = CloudflareBlock.objects.get()
    assert services.cloudflare_blocks_expire() == 0  # not due yet
    assert block.rule_id in cloudflare.rules

    CloudflareBlock.objects.filter(pk=block.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.cloudflare_blocks_expire() == 1
    block.refresh_from_db()
    assert block.status == "removed" and block.removed_at is not None
    assert cloudflare.rules == {}


def test_a_failed_removal_is_kept_and_tried_again(
    cloudflare: FakeCloudflare, django_capture_on_commit_callbacks
) -> None:
    _ban_repeatedly("198.51.100.9", 3, django_capture_on_commit_callbacks)
    CloudflareBlock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    cloudflare.fail_next = 1
    assert services.cloudflare_blocks_expire() == 0
    block = CloudflareBlock.objects.get()
    assert block.status == "active" and "HTTP 500" in block.last_error
    assert len(cloudflare.rules) == 1
    assert services.cloudflare_blocks_expire() == 1
    assert cloudflare.rules == {}


def test_nothing_is_pushed_when_cloudflare_is_not_configured(
    django_capture_on_commit_callbacks,
) -> None:
    _ban_repeatedly("198.51.100.10", 4, django_capture_on_commit_callbacks)
    assert Ban.objects.filter(ip="198.51.100.10").count() == 4
    assert not CloudflareBlock.objects.exists()
