"""BYOK in the settings pages and the REST API: masked, never sent back, testable; and who
may change a user's key mode."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import services
from accounts.models import Membership, Tenant, User
from spark.common.exceptions import ApplicationError
from spark.llm.models import UserProviderKey
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import create_user
from tests.fakes.fixtures import LLMFakes

pytestmark = pytest.mark.django_db

RAW = "sk-ant-api03-very-secret-value-4321"


def _keys(user: User) -> list[UserProviderKey]:
    with unscoped():
        return list(UserProviderKey.objects.filter(user=user))


def test_page_adds_a_key_and_shows_it_masked_only(user: User) -> None:
    client = signed_in(user)
    response = client.post(
        "/settings/provider-keys/",
        {"provider": "anthropic", "api_key": RAW, "label": "Work"},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "sk-a…4321" in html
    assert RAW not in html
    assert RAW[4:-4] not in html
    [key] = _keys(user)
    assert (key.provider, key.label, key.first4, key.last4) == ("anthropic", "Work", "sk-a", "4321")


def test_a_rejected_key_is_not_rendered_back(user: User) -> None:
    response = signed_in(user).post(
        "/settings/provider-keys/", {"provider": "openai", "api_key": "short key", "label": ""}
    )
    assert response.status_code == 200
    assert "That does not look like an API key." in response.content.decode()
    assert "short key" not in response.content.decode()
    assert _keys(user) == []


def test_settings_navigation_links_the_page(user: User) -> None:
    response = signed_in(user).get("/settings/")
    assert 'href="/settings/provider-keys/"' in response.content.decode()


def test_test_button_reports_a_working_key(user: User, llm_fakes: LLMFakes) -> None:
    with unscoped():
        key = services.provider_key_add(user=user, provider="anthropic", api_key=RAW)
    llm_fakes.anthropic.valid_keys = {RAW}
    response = signed_in(user).post(f"/settings/provider-keys/{key.uuid}/test/", follow=True)
    assert "The key works." in response.content.decode()
    assert llm_fakes.anthropic.requests[-1].api_key == RAW
    assert llm_fakes.anthropic.requests[-1].path == "/v1/models"
    with unscoped():
        key.refresh_from_db()
    assert key.last_test_ok is True


def test_test_button_reports_a_refused_key(user: User, llm_fakes: LLMFakes) -> None:
    with unscoped():
        key = services.provider_key_add(
            user=user, provider="openai", api_key="sk-revoked-key-000000"
        )
    llm_fakes.openai.valid_keys = {"sk-some-other-key"}
    response = signed_in(user).post(f"/settings/provider-keys/{key.uuid}/test/", follow=True)
    assert "The provider refused this key." in response.content.decode()
    with unscoped():
        key.refresh_from_db()
    assert key.last_test_ok is False
    assert llm_fakes.openai.model_calls == []


def test_delete_removes_the_key(user: User) -> None:
    with unscoped():
        key = services.provider_key_add(user=user, provider="openai", api_key="sk-delete-me-000000")
    response = signed_in(user).post(f"/settings/provider-keys/{key.uuid}/delete/")
    assert response.status_code == 302
    assert _keys(user) == []


def test_api_creates_lists_tests_and_deletes_without_returning_the_key(
    user: User, llm_fakes: LLMFakes, django_assert_num_queries: object
) -> None:
    client = signed_in(user)
    created = client.post(
        "/api/v1/provider-keys/",
        {"provider": "openai", "key": "sk-proj-api-created-key-7777", "label": "CI"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["masked"] == "sk-p…7777"
    assert "key" not in body and "ciphertext" not in body
    assert "sk-proj-api-created-key-7777" not in created.content.decode()

    listing = client.get("/api/v1/provider-keys/")
    assert [k["id"] for k in listing.json()] == [body["id"]]
    assert "api-created" not in listing.content.decode()

    tested = client.post(f"/api/v1/provider-keys/{body['id']}/test/")
    assert tested.json() == {"ok": True, "code": "ok", "message": "The key works."}
    assert llm_fakes.openai.requests[-1].api_key == "sk-proj-api-created-key-7777"

    assert client.delete(f"/api/v1/provider-keys/{body['id']}/").status_code == 204
    assert _keys(user) == []


def test_api_list_query_count_does_not_grow_with_keys(
    user: User, django_assert_max_num_queries: object
) -> None:
    client = signed_in(user)
    with unscoped():
        for n in range(5):
            services.provider_key_add(user=user, provider="openai", api_key=f"sk-many-keys-000{n}x")
    client.get("/api/v1/provider-keys/")  # warm the session and tenant caches
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        assert len(client.get("/api/v1/provider-keys/").json()) == 5


def test_api_rejects_an_unknown_provider_with_a_coded_error(user: User) -> None:
    response = signed_in(user).post(
        "/api/v1/provider-keys/",
        {"provider": "acme", "key": "sk-whatever-123456789"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert _keys(user) == []


def test_provider_keys_are_in_the_openapi_schema(user: User) -> None:
    schema = signed_in(user).get("/api/schema/?format=json").json()
    assert "/api/v1/provider-keys/" in schema["paths"]
    assert "/api/v1/provider-keys/{key_id}/test/" in schema["paths"]


# --- key mode --------------------------------------------------------------------------------


def test_staff_set_a_users_key_mode(staff: User, user: User) -> None:
    services.user_set_key_mode(actor=staff, user=user, mode="own_only")
    user.refresh_from_db()
    assert user.llm_key_mode == "own_only"


def test_a_manager_sets_the_mode_of_their_tenants_users(tenant_a: Tenant, user_a: User) -> None:
    manager = create_user(tenant=tenant_a, role=Membership.Role.MANAGER, email="boss@a.example")
    services.user_set_key_mode(actor=manager, user=user_a, mode="prefer_own")
    user_a.refresh_from_db()
    assert user_a.llm_key_mode == "prefer_own"


def test_a_member_cannot_change_their_own_mode(user_a: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.user_set_key_mode(actor=user_a, user=user_a, mode="own_only")
    assert caught.value.code == "permission_denied"
    user_a.refresh_from_db()
    assert user_a.llm_key_mode == "system_only"


def test_a_manager_of_another_tenant_cannot_change_the_mode(tenant_b: Tenant, user_a: User) -> None:
    outsider = create_user(tenant=tenant_b, role=Membership.Role.OWNER, email="owner@b.example")
    with pytest.raises(ApplicationError):
        services.user_set_key_mode(actor=outsider, user=user_a, mode="own_only")
    user_a.refresh_from_db()
    assert user_a.llm_key_mode == "system_only"


def test_the_page_shows_the_users_mode(user: User) -> None:
    user.llm_key_mode = "prefer_own"
    user.save(update_fields=["llm_key_mode"])
    html = signed_in(user).get("/settings/provider-keys/").content.decode()
    assert "My own keys first, then the platform" in html


def test_signed_out_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get("/settings/provider-keys/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("mode", "sentence"),
    [
        ("system_only", "Your chats use the platform's keys and are charged to your wallet"),
        ("prefer_own", "Your chats use your own key for a provider when you have one here"),
        ("own_only", "Your chats need your own key"),
    ],
)
def test_the_keys_page_says_what_the_key_mode_means_for_this_user(
    staff: User, user: User, mode: str, sentence: str
) -> None:
    services.user_set_key_mode(actor=staff, user=user, mode=mode)
    html = signed_in(user).get("/settings/provider-keys/").content.decode()
    meaning = html.split("data-key-mode-meaning>", 1)[1].split("</p>", 1)[0]
    assert meaning.startswith(sentence.replace("'", "&#x27;"))
    assert meaning.count(".") == 1  # one sentence
    assert "keys are optional" not in html.lower()
