"""Security-relevant events outside the admin are audit-logged, filterable, and retained
for a configurable period."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, Tenant, User
from security import services, tasks
from security.models import AuditLogEntry
from tests.conftest import signed_in
from tests.factories import PASSWORD, ApiKeyFactory

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (audit test)"


def test_sign_in_is_audited_with_ip_and_user_agent(client: Client, user: User) -> None:
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.3",
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.SIGN_IN)
    assert (entry.actor, entry.ip, entry.user_agent) == (user, "198.51.100.3", UA)


def test_failed_sign_in_is_audited_without_signing_in(client: Client, user: User) -> None:
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": "not-the-password"},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT=UA,
    )
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.SIGN_IN_FAILED)
    assert (entry.object_repr, entry.ip, entry.actor) == (user.email, "198.51.100.4", None)
    assert not AuditLogEntry.objects.filter(action=AuditLogEntry.Action.SIGN_IN).exists()


def test_api_key_creation_and_revocation_are_audited(user: User) -> None:
    client = signed_in(user)
    response = client.post(
        "/api/v1/api-keys/",
        {"name": "ci"},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.5",
    )
    key_id = response.json()["id"]
    client.delete(f"/api/v1/api-keys/{key_id}/", REMOTE_ADDR="198.51.100.5")
    client.delete(f"/api/v1/api-keys/{key_id}/", REMOTE_ADDR="198.51.100.5")  # no-op
    created = AuditLogEntry.objects.get(action=AuditLogEntry.Action.API_KEY_CREATE)
    revoked = AuditLogEntry.objects.get(action=AuditLogEntry.Action.API_KEY_REVOKE)
    assert (created.actor, created.ip) == (user, "198.51.100.5")
    assert created.object_repr.startswith("ci (")
    assert (revoked.actor, revoked.ip) == (user, "198.51.100.5")


def test_role_changes_are_audited_and_unchanged_roles_are_not(
    user_a: User, tenant_a: Tenant, staff: User
) -> None:
    account_services.membership_set(user=user_a, tenant=tenant_a, role=Membership.Role.MEMBER)
    assert not AuditLogEntry.objects.filter(action=AuditLogEntry.Action.ROLE_CHANGE).exists()
    account_services.membership_set(
        user=user_a, tenant=tenant_a, role=Membership.Role.MANAGER, actor=staff
    )
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.ROLE_CHANGE)
    assert entry.actor == staff
    assert entry.changes["role"] == ["member", "manager"]


def test_bans_are_audited(client: Client, db: None) -> None:
    client.get("/.env", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=UA)
    entry = AuditLogEntry.objects.get(action=AuditLogEntry.Action.BAN)
    assert (entry.source, entry.ip, entry.user_agent) == ("security", "203.0.113.9", UA)
    assert entry.changes["category"] == "secrets"


def test_security_events_are_filterable_in_the_console(staff: User, user: User) -> None:
    ApiKeyFactory.create(user=user)
    AuditLogEntry.objects.create(source="admin", action="change", object_repr="not security")
    page = signed_in(staff).get("/admin/security/auditlogentry/?events=security")
    html = page.content.decode()
    assert page.status_code == 200
    assert "API key created" in html and "not security" not in html


@override_settings(SPARK_AUDIT_RETENTION_DAYS=30)
def test_entries_older_than_the_retention_period_are_purged(db: None) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        old = AuditLogEntry.objects.create(source="app", action="sign_in")
    with time_machine.travel(timezone.now() - timedelta(days=29)):
        recent = AuditLogEntry.objects.create(source="app", action="sign_in")
    assert tasks.audit_purge.delay().get() == 1
    assert not AuditLogEntry.objects.filter(pk=old.pk).exists()
    assert AuditLogEntry.objects.filter(pk=recent.pk).exists()
    assert services.audit_purge() == 0


def test_retention_purge_is_scheduled() -> None:
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"security.tasks.audit_purge", "security.tasks.cloudflare_blocks_expire"} <= (
        tasks_scheduled
    )
