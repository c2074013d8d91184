"""API keys: created once-visible, stored hashed, usable as Bearer, revocable, recorded."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_hash
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_key_created_through_the_api_is_shown_once_and_stored_hashed(user: User) -> None:
    client = signed_in(user)
    response = client.post("/api/v1/api-keys/", {"name": "CI"}, content_type="application/json")
    assert response.status_code == 201
    raw = response.json()["key"]
    assert raw.startswith("spk_")

    listing = client.get("/api/v1/api-keys/").json()
    assert [k["name"] for k in listing] == ["CI"]
    assert "key" not in listing[0]

    with unscoped():
        stored = ApiKey.objects.get(user=user)
    assert stored.key_hash == api_key_hash(raw)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey")
        row_text = repr(cursor.fetchall())
    assert raw not in row_text
    assert raw.split("_", 2)[2] not in row_text


def test_bearer_key_authenticates_and_records_last_use(user: User) -> None:
    key, raw = ApiKeyFactory.create(user=user)
    assert key.last_used_at is None
    response = Client().get("/api/v1/me/", headers=_bearer(raw))
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["tenant"]["slug"] == "public"
    with unscoped():
        key.refresh_from_db()
    assert key.last_used_at is not None


def test_revoked_key_gets_401_json(user: User) -> None:
    key, raw = ApiKeyFactory.create(user=user)
    client = signed_in(user)
    assert client.delete(f"/api/v1/api-keys/{key.uuid}/").status_code == 204
    response = Client().get("/api/v1/me/", headers=_bearer(raw))
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "message": "Invalid or revoked API key.",
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_made_up_key_gets_401_json(db: None) -> None:
    response = Client().get("/api/v1/me/", headers=_bearer("spk_deadbeef_notarealkey"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_no_credentials_get_a_json_error(db: None) -> None:
    response = Client().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_bearer_requests_need_no_csrf_token(user: User) -> None:
    _key, raw = ApiKeyFactory.create(user=user)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/alter-egos/",
        {"name": "made by a key"},
        content_type="application/json",
        headers=_bearer(raw),
    )
    assert response.status_code == 201


def test_session_requests_still_need_a_csrf_token(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    response = client.post("/api/v1/api-keys/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    with unscoped():
        assert not ApiKey.objects.filter(user=user).exists()


def test_invalid_input_gets_a_field_error(user: User) -> None:
    response = signed_in(user).post("/api/v1/api-keys/", {}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"].startswith("name:")
    assert "name" in body["details"]


def test_create_api_key_command_prints_a_working_key(user: User) -> None:
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key", "--email", user.email.upper(), "--name", "ops", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    assert Client().get("/api/v1/me/", headers=_bearer(raw)).status_code == 200


def test_create_api_key_command_refuses_an_unknown_email(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_key", "--email", "ghost@example.com")


def test_settings_page_creates_and_revokes_keys(user: User) -> None:
    client = signed_in(user)
    page = client.post("/settings/api-keys/", {"name": "Zapier"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "it will not be shown again" in html
    with unscoped():
        key = ApiKey.objects.get(user=user)
    raw = html.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert api_key_hash(raw) == key.key_hash
    assert raw not in client.get("/settings/api-keys/").content.decode()

    response = client.post(f"/settings/api-keys/{key.uuid}/revoke/")
    assert response.status_code == 302
    assert Client().get("/api/v1/me/", headers=_bearer(raw)).status_code == 401


def test_listing_keys_takes_a_number_of_queries_that_does_not_grow(user: User) -> None:
    from django.test.utils import CaptureQueriesContext

    client = signed_in(user)

    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/api/v1/api-keys/").status_code == 200
        return len(context)

    ApiKeyFactory.create(user=user, name="first")
    queries_for_listing()  # warm the cached tenant lookups
    one = queries_for_listing()
    for i in range(6):
        ApiKeyFactory.create(user=user, name=f"k{i}")
    assert queries_for_listing() == one


def test_an_api_key_cannot_create_another_key(user: User) -> None:
    # Given a key (say, a stolen one)
    _key, raw = ApiKeyFactory.create(user=user)
    # When it asks for a new key
    response = Client().post(
        "/api/v1/api-keys/",
        {"name": "spare"},
        content_type="application/json",
        headers=_bearer(raw),
    )
    # Then it is refused and no key was made
    assert response.status_code == 403
    assert response.json()["code"] == "session_required"
    with unscoped():
        assert list(ApiKey.objects.filter(user=user).values_list("name", flat=True)) == ["test key"]


def test_an_api_key_cannot_list_its_owners_keys(user: User) -> None:
    _key, raw = ApiKeyFactory.create(user=user)
    response = Client().get("/api/v1/api-keys/", headers=_bearer(raw))
    assert response.status_code == 403
    assert response.json()["code"] == "session_required"


def test_an_api_key_can_still_revoke_itself(user: User) -> None:
    key, raw = ApiKeyFactory.create(user=user)
    response = Client().delete(f"/api/v1/api-keys/{key.uuid}/", headers=_bearer(raw))
    assert response.status_code == 204
    assert Client().get("/api/v1/me/", headers=_bearer(raw)).status_code == 401
