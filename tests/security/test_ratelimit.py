"""The rate-limit policy: named rates per user, tenant, API key or IP, and its 429 answers."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from accounts.models import ApiKey, Tenant, User
from security.models import AuditLogEntry, Ban
from security.ratelimit import (
    RateLimitExceeded,
    rate_limit,
    rate_limit_hit,
    tenant_key,
    user_key,
)
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_user

pytestmark = pytest.mark.django_db


def _limits(**rates: str) -> dict[str, str]:
    return {**settings.SPARK_RATE_LIMITS, **rates}


def test_every_rate_other_apps_need_is_configured() -> None:
    for name in ("api_key", "api_key_create", "send_user", "send_tenant", "upload", "webhook"):
        assert "/" in settings.SPARK_RATE_LIMITS[name]
    assert "/" in settings.SPARK_RATE_LIMITS["export"]


@override_settings(SPARK_RATE_LIMITS=_limits(send_user="2/m", send_tenant="3/m"))
def test_message_sending_is_limited_per_user_and_per_tenant(tenant_a: Tenant) -> None:
    alice = create_user(tenant=tenant_a, email="al@a.example")
    bob = create_user(tenant=tenant_a, email="bo@a.example")

    def send(user: User) -> str:
        try:
            rate_limit_hit(rate="send_user", key=user_key(user))
            rate_limit_hit(rate="send_tenant", key=tenant_key(tenant_a))
        except RateLimitExceeded as error:
            return f"{error.details['rate']}:{error.status_code}"
        return "sent"

    assert [send(alice), send(alice), send(alice)] == ["sent", "sent", "send_user:429"]
    # The tenant counted alice's two messages; bob gets the third, then the tenant is full.
    assert [send(bob), send(bob)] == ["sent", "send_tenant:429"]


@override_settings(SPARK_RATE_LIMITS=_limits(export="1/h"))
def test_a_decorated_view_answers_429_with_retry_after(user: User) -> None:
    @rate_limit("export", key="user")
    def export(request: HttpRequest) -> HttpResponse:
        return HttpResponse("file")

    factory = RequestFactory()
    first = factory.get("/api/v1/exports/")
    first.user = user
    assert export(first).status_code == 200
    second = factory.get("/api/v1/exports/")
    second.user = user
    response = export(second)
    assert isinstance(response, HttpResponse)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert json.loads(response.content)["code"] == "rate_limited"


@override_settings(SPARK_RATE_LIMITS=_limits(api_key="3/m"))
def test_api_key_use_is_limited_per_key(user: User) -> None:
    _key, raw = ApiKeyFactory.create(user=user)
    _other, other_raw = ApiKeyFactory.create(user=user, name="other")
    client = Client()
    statuses = [
        client.get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"})
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    other = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {other_raw}"})
    assert other.status_code == 200


@override_settings(SPARK_RATE_LIMITS=_limits(api_key_create="2/h"))
def test_api_key_creation_is_limited_per_user(user: User) -> None:
    client = signed_in(user)
    statuses = [
        client.post(
            "/api/v1/api-keys/", {"name": f"k{i}"}, content_type="application/json"
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    with unscoped():
        assert ApiKey.objects.filter(user=user).count() == 2
    assert client.get("/api/v1/api-keys/").status_code == 200  # reads are free


@override_settings(SPARK_FILTER_AUTH_FAILURE_LIMIT=3)
def test_guessing_api_keys_ends_in_a_ban(client: Client, db: None) -> None:
    def call() -> int:
        return client.get(
            "/api/v1/me/",
            headers={"Authorization": "Bearer spk_deadbeef_guess"},
            REMOTE_ADDR="203.0.113.77",
        ).status_code

    assert [call(), call(), call()] == [401, 401, 401]
    assert Ban.objects.get().reason == Ban.Reason.AUTH_FAILURES
    assert call() == 403
    rejected = AuditLogEntry.objects.filter(action=AuditLogEntry.Action.API_KEY_REJECTED)
    assert rejected.count() == 3
    assert set(rejected.values_list("object_repr", flat=True)) == {"spk_deadbeef"}


@override_settings(SPARK_RATE_LIMITS=_limits(mfa_ip="3/10m", reauthenticate_ip="2/10m"))
def test_second_factor_and_reauthentication_are_limited_per_ip(client: Client, user: User) -> None:
    codes = [
        client.post("/accounts/2fa/authenticate/", {"code": "000000"}, REMOTE_ADDR="10.3.0.1")
        for _ in range(4)
    ]
    assert [r.status_code for r in codes][-1] == 429
    assert all(r.status_code != 429 for r in codes[:3])
    signed = signed_in(user)
    again = [
        signed.post("/accounts/reauthenticate/", {"password": "x"}, REMOTE_ADDR="10.3.0.2")
        for _ in range(3)
    ]
    assert [r.status_code for r in again][-1] == 429
    assert signed.get("/accounts/2fa/authenticate/", REMOTE_ADDR="10.3.0.9").status_code != 429


@override_settings(SPARK_RATE_LIMITS=_limits(export="2/h"))
def test_the_usage_export_answers_429_past_the_export_rate_limit(staff: User) -> None:
    # Given a staff member allowed two exports an hour, who has made them
    client = signed_in(staff)
    for _ in range(2):
        response = client.get("/billing/platform/export.csv")
        assert response.status_code == 200
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
    # When a third is asked for
    response = client.get("/billing/platform/export.csv", HTTP_ACCEPT="application/json")
    # Then it is refused with a JSON 429 that says when to come back, and no CSV
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("application/json")


def test_every_export_url_carries_the_export_rate_limit() -> None:
    from security.checks import check_exports_are_rate_limited, unlimited_exports

    assert unlimited_exports() == []
    assert check_exports_are_rate_limited() == []


def test_an_export_view_without_the_limit_is_reported_by_the_system_check() -> None:
    from django.urls import path

    from security.checks import unlimited_exports

    def export_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("a,b\n", content_type="text/csv")

    limited = rate_limit("export", key="user")(export_view)
    patterns = [
        path("reports/usage.csv", export_view, name="usage"),
        path("reports/export/", export_view, name="report"),
        path("reports/limited-export/", limited, name="limited_export"),
        path("reports/", export_view, name="reports"),
    ]
    assert unlimited_exports(patterns) == ["reports/usage.csv", "reports/export/"]
