"""Sign-in endpoints are rate limited per IP and per account, with a clear 429."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inside_one_window() -> Iterator[None]:
    """django-ratelimit counts in fixed windows: keep every request of a test in one."""
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC), tick=False):
        yield


# Every configured rate stays defined (URL modules look theirs up when they first load);
# the sign-in ones are made small.
LIMITS = {
    **settings.SPARK_RATE_LIMITS,
    "login_ip": "5/m",
    "login_account": "3/m",
    "signup_ip": "2/m",
    "magic_link_ip": "5/m",
    "magic_link_account": "2/m",
    "password_reset_ip": "5/m",
    "password_reset_account": "2/m",
}


def _login(client: Client, email: str, ip: str) -> int:
    response = client.post(
        "/accounts/login/", {"login": email, "password": "wrong-password-1"}, REMOTE_ADDR=ip
    )
    return response.status_code


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_login_is_limited_per_account_across_ips(client: Client, user: User) -> None:
    statuses = [_login(client, user.email, f"10.0.0.{i}") for i in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_login_is_limited_per_ip_across_accounts(client: Client, db: None) -> None:
    statuses = [_login(client, f"someone{i}@example.com", "10.0.0.9") for i in range(7)]
    assert statuses == [200, 200, 200, 200, 200, 429, 429]


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_rate_limited_page_explains_and_says_when_to_retry(client: Client, user: User) -> None:
    for _ in range(3):
        _login(client, user.email, "10.0.0.1")
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "x"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "Too many attempts" in response.content.decode()


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_rate_limit_answers_json_to_json_clients(client: Client, user: User) -> None:
    for _ in range(3):
        _login(client, user.email, "10.0.0.1")
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "x"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_even_the_right_password_is_refused_once_limited(client: Client, user: User) -> None:
    for _ in range(3):
        _login(client, user.email, "10.0.0.1")
    from tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert client.session.get("_auth_user_id") is None


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_signup_is_limited_per_ip(client: Client, db: None) -> None:
    statuses = [
        client.post(
            "/accounts/signup/",
            {"email": f"new{i}@example.com", "password1": "a", "password2": "b"},
        ).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_email_link_requests_are_limited_per_account(client: Client, user: User) -> None:
    statuses = [
        client.post(
            "/accounts/magic-link/", {"email": user.email}, REMOTE_ADDR=f"10.1.0.{i}"
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 429, 429]
    assert len(mail.outbox) == 2


@override_settings(SPARK_RATE_LIMITS=LIMITS)
def test_password_reset_is_limited_per_account(client: Client, user: User) -> None:
    statuses = [
        client.post(
            "/accounts/password/reset/", {"email": user.email}, REMOTE_ADDR=f"10.2.0.{i}"
        ).status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


@override_settings(SPARK_RATE_LIMITS=LIMITS, SPARK_TRUSTED_PROXIES=[])
def test_spoofed_forwarded_for_does_not_escape_the_ip_limit(client: Client, db: None) -> None:
    statuses = [
        client.post(
            "/accounts/login/",
            {"login": f"p{i}@example.com", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(7)
    ]
    assert statuses[-2:] == [429, 429]
