"""Progressive bans: thresholds, growth, expiry, shared state, trusted client IPs."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.test import Client, RequestFactory, override_settings

from security.bans import BanStore
from security.middleware import SecurityFilterMiddleware
from security.models import AuditLogEntry, Ban
from tests.security.test_rules import BROWSER_UA

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _get(client: Client, url: str, ip: str, **extra: Any) -> int:
    return client.get(url, REMOTE_ADDR=ip, HTTP_USER_AGENT=BROWSER_UA, **extra).status_code


def test_repeated_404s_ban_the_client_at_the_threshold(client: Client) -> None:
    statuses = [_get(client, f"/no-such-page-{i}/", "203.0.113.20") for i in range(9)]
    assert statuses == [404] * 9
    assert not Ban.objects.exists()
    assert _get(client, "/no-such-page-9/", "203.0.113.20") == 404  # the 10th is answered...
    ban = Ban.objects.get()
    assert (ban.ip, ban.reason, ban.offence) == ("203.0.113.20", Ban.Reason.NOT_FOUND, 1)
    assert _get(client, "/", "203.0.113.20") == 403  # ...and then the client is banned
    assert _get(client, "/", "203.0.113.21") == 200  # nobody else is


@override_settings(SPARK_FILTER_404_LIMIT_GOOD_BOTS=15)
def test_declared_good_bots_get_a_higher_404_threshold(client: Client) -> None:
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    for i in range(14):
        client.get(f"/gone-{i}/", REMOTE_ADDR="66.249.66.1", HTTP_USER_AGENT=bot)
    assert not Ban.objects.exists()
    client.get("/gone-14/", REMOTE_ADDR="66.249.66.1", HTTP_USER_AGENT=bot)
    assert Ban.objects.get().reason == Ban.Reason.NOT_FOUND


def test_bans_grow_with_repeat_offences_and_expire() -> None:
    client = Client()
    ip = "203.0.113.30"
    with time_machine.travel(START, tick=False) as clock:
        lengths = []
        for _offence in range(4):
            assert _get(client, "/.env", ip) == 403
            ban = Ban.objects.order_by("-id").first()
            assert ban is not None
            lengths.append(round((ban.expires_at - ban.created_at).total_seconds()))
            clock.move_to(ban.expires_at - timedelta(seconds=1))
            assert _get(client, "/", ip) == 403  # one second before the end: still banned
            clock.move_to(ban.expires_at + timedelta(seconds=1))
            assert _get(client, "/", ip) == 200  # expired: served again
    assert lengths == [900, 3600, 86400, 86400]
    assert list(Ban.objects.order_by("id").values_list("offence", flat=True)) == [1, 2, 3, 4]


def test_a_banned_client_gets_a_small_403_and_no_work_is_done(client: Client) -> None:
    _get(client, "/wp-login.php", "203.0.113.40")
    response = client.get("/accounts/login/", REMOTE_ADDR="203.0.113.40")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert len(response.content) < 64
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert Ban.objects.count() == 1  # a banned client's probes are not recorded again


def _app(status: int = 200):  # type: ignore[no-untyped-def]
    def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponseNotFound() if status == 404 else HttpResponse("ok")

    return get_response


def _instance_cache():  # type: ignore[no-untyped-def]
    """A new client of the configured default cache, as another web process would have."""
    return caches.create_connection("default")


def test_ban_state_is_shared_by_two_app_instances_through_the_cache() -> None:
    expected = "RedisCache" if os.environ.get("REDIS_URL") else "LocMemCache"
    cache_a, cache_b = _instance_cache(), _instance_cache()
    assert cache_a is not cache_b and type(cache_a).__name__ == expected
    instance_a = SecurityFilterMiddleware(_app(), store=BanStore(cache_a))
    instance_b = SecurityFilterMiddleware(_app(), store=BanStore(cache_b))
    factory = RequestFactory()
    memo = settings.SPARK_FILTER_BAN_MEMO_SECONDS
    assert 0 < memo <= 5

    with time_machine.travel(START, tick=False) as clock:
        assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.50")).status_code == 200
        probe = factory.get("/.git/config", REMOTE_ADDR="203.0.113.50")
        assert instance_a(probe).status_code == 403
        assert instance_a(factory.get("/", REMOTE_ADDR="203.0.113.50")).status_code == 403
        # Instance B asked about this client a moment ago; past its memo it sees the ban.
        clock.shift(memo + 0.01)
        assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.50")).status_code == 403
        assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.51")).status_code == 200


def test_without_the_memo_a_ban_reaches_other_instances_at_once() -> None:
    instance_a = SecurityFilterMiddleware(_app(), store=BanStore(_instance_cache(), memo_seconds=0))
    instance_b = SecurityFilterMiddleware(_app(), store=BanStore(_instance_cache(), memo_seconds=0))
    factory = RequestFactory()
    assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.53")).status_code == 200
    assert instance_a(factory.get("/.env", REMOTE_ADDR="203.0.113.53")).status_code == 403
    assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.53")).status_code == 403


def test_404_counts_add_up_across_app_instances() -> None:
    factory = RequestFactory()
    instance_a = SecurityFilterMiddleware(_app(404), store=BanStore(_instance_cache()))
    instance_b = SecurityFilterMiddleware(_app(404), store=BanStore(_instance_cache()))
    for i in range(5):
        instance_a(factory.get(f"/a{i}", REMOTE_ADDR="203.0.113.52"))
        instance_b(factory.get(f"/b{i}", REMOTE_ADDR="203.0.113.52"))
    assert Ban.objects.get().ip == "203.0.113.52"  # the 10th 404 (on instance B) banned it
    assert instance_b(factory.get("/", REMOTE_ADDR="203.0.113.52")).status_code == 403


@override_settings(SPARK_TRUSTED_PROXIES=[])
def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(client: Client) -> None:
    _get(client, "/.env", "203.0.113.60", HTTP_X_FORWARDED_FOR="198.51.100.60")
    assert list(Ban.objects.values_list("ip", flat=True)) == ["203.0.113.60"]
    # Claiming to be someone else does not get a banned client out.
    assert _get(client, "/", "203.0.113.60", HTTP_X_FORWARDED_FOR="198.51.100.61") == 403
    # And a spoofed header naming a banned client does not ban the real peer.
    assert _get(client, "/", "203.0.113.62", HTTP_X_FORWARDED_FOR="203.0.113.60") == 200


@override_settings(SPARK_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_forwarded_client_is_banned_not_the_proxy(
    client: Client,
) -> None:
    _get(client, "/.env", "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.70")
    assert list(Ban.objects.values_list("ip", flat=True)) == ["198.51.100.70"]
    assert _get(client, "/", "10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.71") == 200


@override_settings(SPARK_TRUSTED_PROXIES=["10.0.0.0/8"], SPARK_CLOUDFLARE_ENABLED=True)
def test_cloudflare_client_header_is_honoured_only_from_a_trusted_peer(client: Client) -> None:
    _get(client, "/.env", "10.0.0.2", HTTP_CF_CONNECTING_IP="198.51.100.80")
    _get(client, "/.env", "203.0.113.81", HTTP_CF_CONNECTING_IP="198.51.100.82")
    assert set(Ban.objects.values_list("ip", flat=True)) == {"198.51.100.80", "203.0.113.81"}


@override_settings(SPARK_TRUSTED_PROXIES=["10.0.0.0/8"], SPARK_CLOUDFLARE_ENABLED=False)
def test_cloudflare_client_header_is_ignored_when_cloudflare_is_off(client: Client) -> None:
    _get(client, "/.env", "10.0.0.2", HTTP_CF_CONNECTING_IP="198.51.100.90")
    assert list(Ban.objects.values_list("ip", flat=True)) == ["10.0.0.2"]


@override_settings(SPARK_FILTER_ALLOWLIST=["192.0.2.0/24"])
def test_allow_listed_clients_are_never_filtered(client: Client) -> None:
    assert _get(client, "/.env", "192.0.2.7") == 404
    assert not Ban.objects.exists()


@override_settings(
    SPARK_FILTER_AUTH_FAILURE_LIMIT=3,
    SPARK_RATE_LIMITS={
        "login_ip": "100/m",
        "login_account": "100/m",
        "signup_ip": "100/m",
        "magic_link_ip": "100/m",
        "magic_link_account": "100/m",
        "password_reset_ip": "100/m",
        "password_reset_account": "100/m",
    },
)
def test_repeated_failed_sign_ins_ban_the_client(client: Client, user: object) -> None:
    def attempt() -> int:
        return client.post(
            "/accounts/login/",
            {"login": "pat@example.com", "password": "wrong-password-1"},
            REMOTE_ADDR="203.0.113.100",
        ).status_code

    assert [attempt(), attempt()] == [200, 200]
    assert not Ban.objects.exists()
    assert attempt() == 200
    ban = Ban.objects.get()
    assert (ban.ip, ban.reason) == ("203.0.113.100", Ban.Reason.AUTH_FAILURES)
    assert attempt() == 403
    failures = AuditLogEntry.objects.filter(action=AuditLogEntry.Action.SIGN_IN_FAILED)
    assert failures.count() == 3
    assert set(failures.values_list("ip", flat=True)) == {"203.0.113.100"}
    assert set(failures.values_list("object_repr", flat=True)) == {"pat@example.com"}
