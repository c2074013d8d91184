"""The security console: active bans and unban, history, overview, Cloudflare, staff MFA."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client, override_settings

from accounts.models import User
from security.models import AuditLogEntry, Ban, CloudflareBlock
from tests.conftest import signed_in
from tests.security.test_rules import BROWSER_UA

pytestmark = pytest.mark.django_db


def _probe(ip: str, url: str = "/.env") -> int:
    return Client().get(url, REMOTE_ADDR=ip, HTTP_USER_AGENT=BROWSER_UA).status_code


def test_staff_unbans_an_active_ban_and_the_client_comes_back(staff: User) -> None:
    _probe("203.0.113.5")
    ban = Ban.objects.get()
    assert _probe("203.0.113.5", "/") == 403
    console = signed_in(staff)
    listing = console.get("/admin/security/activeban/")
    assert listing.status_code == 200 and "203.0.113.5" in listing.content.decode()

    response = console.post(
        "/admin/security/activeban/", {"action": "unban", "_selected_action": [str(ban.pk)]}
    )
    assert response.status_code == 302
    assert _probe("203.0.113.5", "/") == 200
    ban.refresh_from_db()
    assert ban.lifted_at is not None and ban.lifted_by == staff
    unban = AuditLogEntry.objects.get(action=AuditLogEntry.Action.UNBAN)
    assert (unban.actor, unban.object_repr) == (staff, "203.0.113.5")
    assert "203.0.113.5" not in console.get("/admin/security/activeban/").content.decode()
    assert "203.0.113.5" in console.get("/admin/security/ban/").content.decode()  # history


def test_overview_shows_top_offenders_and_rule_hit_counts(staff: User) -> None:
    _probe("203.0.113.6")
    _probe("203.0.113.7", "/wp-login.php")
    page = signed_in(staff).get("/admin/security-overview/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "203.0.113.6" in html and "203.0.113.7" in html
    assert "wordpress_php" in html and "secrets" in html
    assert Ban.objects.get(ip="203.0.113.7").pattern in html


def test_ban_history_cannot_be_edited_or_deleted(staff: User) -> None:
    _probe("203.0.113.8")
    ban = Ban.objects.get()
    console = signed_in(staff)
    assert console.post(f"/admin/security/ban/{ban.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Ban.objects.filter(pk=ban.pk).exists()


def test_failed_cloudflare_pushes_are_visible(staff: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    CloudflareBlock.objects.create(
        ip="198.51.100.1",
        status=CloudflareBlock.Status.FAILED,
        attempts=2,
        last_error="HTTP 500: upstream",
        expires_at=timezone.now() + timedelta(days=1),
    )
    page = signed_in(staff).get("/admin/security/cloudflareblock/?status__exact=failed")
    assert page.status_code == 200
    assert "HTTP 500: upstream" in page.content.decode()


@override_settings(SPARK_STAFF_MFA_REQUIRED=True)
def test_staff_without_totp_are_sent_to_set_it_up_first(staff: User) -> None:
    response = signed_in(staff).get("/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate/?next=")


@override_settings(SPARK_STAFF_MFA_REQUIRED=True)
def test_staff_with_totp_open_the_console(staff: User) -> None:
    Authenticator.objects.create(
        user=staff, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    assert signed_in(staff).get("/admin/accounts/user/").status_code == 200


@override_settings(SPARK_STAFF_MFA_REQUIRED=False)
def test_without_the_requirement_staff_open_the_console_without_totp(staff: User) -> None:
    assert signed_in(staff).get("/admin/accounts/user/").status_code == 200
