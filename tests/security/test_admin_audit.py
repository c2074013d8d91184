"""Everything done in the admin console is recorded: who, what, when, from which IP."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ApiKey, Membership, Tenant, User
from security.models import AuditLogEntry
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def _change_form_data(user: User, tenant: Tenant, **changes: object) -> dict[str, object]:
    with unscoped():
        membership = Membership.objects.get(user=user)
    data: dict[str, object] = {
        "email": user.email,
        "display_name": user.display_name,
        "language": "",
        "login_methods": user.login_methods,
        "llm_key_mode": user.llm_key_mode,
        "can_change_password": "on",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "membership-TOTAL_FORMS": "1",
        "membership-INITIAL_FORMS": "1",
        "membership-MIN_NUM_FORMS": "0",
        "membership-MAX_NUM_FORMS": "1",
        "membership-0-id": str(membership.pk),
        "membership-0-user": str(user.pk),
        "membership-0-tenant": str(tenant.pk),
        "membership-0-role": membership.role,
    }
    data.update(changes)
    return data


def test_admin_change_is_audited_with_actor_fields_and_ip(
    staff: User, user_a: User, tenant_a: Tenant
) -> None:
    client = signed_in(staff)
    data = _change_form_data(
        user_a, tenant_a, display_name="Alice Renamed", **{"membership-0-role": "manager"}
    )
    response = client.post(
        f"/admin/accounts/user/{user_a.pk}/change/", data, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = AuditLogEntry.objects.get(action="change")
    assert entry.source == "admin"
    assert entry.actor == staff
    assert entry.actor_email == staff.email
    assert entry.ip == "198.51.100.7"
    assert entry.object_repr == user_a.email
    assert entry.object_id == str(user_a.pk)
    changed = repr(entry.changes)
    assert "Display name" in changed
    assert "'Role'" in changed
    with unscoped():
        assert Membership.objects.get(user=user_a).role == "manager"


def test_admin_addition_and_deletion_are_audited(staff: User) -> None:
    client = signed_in(staff)
    response = client.post(
        "/admin/accounts/tenant/add/",
        {
            "name": "Globex",
            "slug": "globex",
            "kind": "enterprise",
            "is_active": "on",
            "domains-TOTAL_FORMS": "0",
            "domains-INITIAL_FORMS": "0",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="globex")
    client.post(f"/admin/accounts/tenant/{tenant.pk}/delete/", {"post": "yes"})
    assert not Tenant.objects.filter(slug="globex").exists()
    actions = list(
        AuditLogEntry.objects.filter(object_repr="Globex")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["add", "delete"]


def test_admin_actions_are_audited(staff: User, user_a: User) -> None:
    key, _raw = ApiKeyFactory.create(user=user_a)
    client = signed_in(staff)
    response = client.post(
        "/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [str(key.pk)]}
    )
    assert response.status_code == 302
    entry = AuditLogEntry.objects.get(action="action")
    assert entry.changes["action"] == "revoke"
    assert entry.changes["pks"] == [str(key.pk)]
    with unscoped():
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_audit_log_is_viewable_and_filterable_but_not_editable(staff: User, user_a: User) -> None:
    client = signed_in(staff)
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": ["0"]})
    entry = AuditLogEntry.objects.create(source="admin", action="change", object_repr="x")
    listing = client.get("/admin/security/auditlogentry/?action__exact=change")
    assert listing.status_code == 200
    assert client.get("/admin/security/auditlogentry/add/").status_code == 403
    assert (
        client.post(
            f"/admin/security/auditlogentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    change = client.post(f"/admin/security/auditlogentry/{entry.pk}/change/", {"object_repr": "y"})
    assert change.status_code in (200, 403)
    entry.refresh_from_db()
    assert entry.object_repr == "x"


def test_admin_sees_every_tenant(staff: User, user_a: User, user_b: User) -> None:
    response = signed_in(staff).get("/admin/accounts/user/")
    html = response.content.decode()
    assert user_a.email in html and user_b.email in html


def test_admin_sign_in_goes_through_the_rate_limited_sign_in(client: Client, db: None) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login.status_code == 302
    assert login["Location"].startswith("/accounts/login/?next=")


def test_non_staff_cannot_open_the_console(client_a: Client) -> None:
    response = client_a.get("/admin/login/")
    assert response.status_code == 403
    assert client_a.get("/admin/accounts/user/").status_code == 302
