"""Hardening headers: CSP with nonces and no inline script, Permissions-Policy, and the
pages that must keep working under them (the admin, Swagger UI)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from spark.tenancy.context import unscoped
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son(click|load|error|submit|change|mouseover)\s*=", re.IGNORECASE)


def _csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def _assert_no_unnonced_inline_script(html: str, nonce: str | None) -> None:
    for attributes in SCRIPT_TAG.findall(html):
        if "src=" in attributes:
            continue
        if 'type="application/json"' in attributes or "application/ld+json" in attributes:
            continue  # data, not code
        assert nonce and f'nonce="{nonce}"' in attributes, f"inline script: <script{attributes}>"
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html)


def _nonce(response) -> str | None:  # type: ignore[no-untyped-def]
    found = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    return found.group(1) if found else None


def test_spark_pages_carry_a_strict_csp_with_a_fresh_nonce(client: Client) -> None:
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    policy = _csp(first)
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    # Google sign-in posts to Spark, which redirects to Google: form-action must allow it.
    assert policy["form-action"].split()[:2] == ["'self'", "https://accounts.google.com"]
    assert _nonce(first) and _nonce(first) != _nonce(second)
    assert f'nonce="{_nonce(first)}"' in first.content.decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/api/docs/"])
def test_public_pages_have_no_inline_script_outside_the_nonce(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    _assert_no_unnonced_inline_script(response.content.decode(), _nonce(response))


def test_swagger_ui_loads_its_script_as_a_file(client: Client) -> None:
    page = client.get("/api/docs/")
    scripts = [a for a in SCRIPT_TAG.findall(page.content.decode()) if "src=" in a]
    assert any("swagger-ui" in s for s in scripts)
    init = re.search(r'src="([^"]*\?script=[^"]*)"', page.content.decode())
    assert init is not None
    assert client.get(init.group(1).replace("&amp;", "&")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/tenant/add/",
        "/admin/security-overview/",
    ],
)
def test_the_admin_works_under_the_csp(staff: User, path: str) -> None:
    response = signed_in(staff).get(path)
    assert response.status_code == 200
    _assert_no_unnonced_inline_script(response.content.decode(), _nonce(response))


def test_signed_in_pages_have_no_inline_script(user: User) -> None:
    for path in ["/", "/settings/", "/settings/api-keys/"]:
        response = signed_in(user).get(path)
        assert response.status_code == 200
        _assert_no_unnonced_inline_script(response.content.decode(), _nonce(response))


def test_permissions_policy_and_other_headers(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy
    assert "microphone=(self)" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_forms_are_csrf_protected(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    response = client.post("/settings/api-keys/", {"name": "no token"})
    assert response.status_code == 403
    with unscoped():
        assert not ApiKey.objects.filter(user=user).exists()
    assert "csrfmiddlewaretoken" in signed_in(user).get("/settings/api-keys/").content.decode()
