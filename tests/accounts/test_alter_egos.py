"""Alter egos: personas a user chats as, one of them the default, private to their user."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import selectors, services
from accounts.models import AlterEgo, Tenant, User
from accounts.personas import alter_ego_describe
from spark.common.exceptions import ApplicationError
from spark.tenancy.context import tenant_scope, unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_alter_ego, create_user, image_upload

pytestmark = pytest.mark.django_db


def _egos(user: User) -> list[tuple[str, bool]]:
    with unscoped():
        return [(a.name, a.is_default) for a in AlterEgo.objects.filter(user=user).order_by("name")]


# --- services and selectors -------------------------------------------------------------


def test_alter_ego_is_created_in_the_users_home_tenant(user_b: User, tenant_b: Tenant) -> None:
    alter_ego = create_alter_ego(user=user_b, name="  Nemo ", description=" Captain. ")
    assert (alter_ego.name, alter_ego.description) == ("Nemo", "Captain.")
    assert alter_ego.tenant == tenant_b
    assert alter_ego.is_default is False


def test_only_one_alter_ego_is_the_default(user: User) -> None:
    first = create_alter_ego(user=user, name="Ada", is_default=True)
    second = create_alter_ego(user=user, name="Bo", is_default=True)
    assert _egos(user) == [("Ada", False), ("Bo", True)]
    services.alter_ego_set_default(alter_ego=first)
    assert _egos(user) == [("Ada", True), ("Bo", False)]
    services.alter_ego_update(alter_ego=first, is_default=False)
    assert _egos(user) == [("Ada", False), ("Bo", False)]
    assert second.pk != first.pk


def test_the_database_refuses_a_second_default(user: User) -> None:
    create_alter_ego(user=user, name="Ada", is_default=True)
    other = create_alter_ego(user=user, name="Bo")
    with pytest.raises(IntegrityError), transaction.atomic(), unscoped():
        AlterEgo.objects.filter(pk=other.pk).update(is_default=True)


def test_defaults_of_different_users_are_independent(user: User, user_a: User) -> None:
    create_alter_ego(user=user, name="Ada", is_default=True)
    create_alter_ego(user=user_a, name="Ada", is_default=True)
    assert _egos(user) == [("Ada", True)]
    assert _egos(user_a) == [("Ada", True)]


def test_an_alter_ego_needs_a_name(user: User) -> None:
    with pytest.raises(ApplicationError) as raised:
        create_alter_ego(user=user, name="  ")
    assert raised.value.details == {"name": ["Give the alter ego a name."]}
    assert _egos(user) == []


def test_a_user_keeps_at_most_twenty_alter_egos(user: User) -> None:
    for n in range(services.MAX_ALTER_EGOS_PER_USER):
        create_alter_ego(user=user, name=f"Persona {n}")
    with pytest.raises(ApplicationError, match="up to 20"):
        create_alter_ego(user=user, name="One more")
    assert len(_egos(user)) == 20


def test_deleting_the_default_leaves_no_default(user: User) -> None:
    ada = create_alter_ego(user=user, name="Ada", is_default=True)
    create_alter_ego(user=user, name="Bo")
    services.alter_ego_delete(alter_ego=ada)
    assert _egos(user) == [("Bo", False)]


def test_list_puts_the_default_first(user: User, public_tenant: Tenant) -> None:
    create_alter_ego(user=user, name="Ada")
    create_alter_ego(user=user, name="Zed", is_default=True)
    with tenant_scope(public_tenant):
        assert [a.name for a in selectors.alter_ego_list(user=user)] == ["Zed", "Ada"]
        assert selectors.alter_ego_default_for_user(user=user).name == "Zed"  # type: ignore[union-attr]


def test_someone_elses_alter_ego_is_404(user: User, public_tenant: Tenant) -> None:
    alter_ego = create_alter_ego(user=user)
    other = create_user(tenant=public_tenant, email="other@example.com")
    with tenant_scope(public_tenant):
        assert selectors.alter_ego_get_for_user(user=user, uuid=alter_ego.uuid) == alter_ego
        with pytest.raises(Http404):
            selectors.alter_ego_get_for_user(user=other, uuid=alter_ego.uuid)
        with pytest.raises(Http404):
            selectors.alter_ego_get_for_user(user=user, uuid="not-a-uuid")


def test_the_model_is_told_who_the_user_presents_as(user: User) -> None:
    alter_ego = create_alter_ego(user=user, name="Nemo", description="A reclusive captain.")
    assert alter_ego_describe(alter_ego) == (
        "The user you are talking to presents as Nemo: A reclusive captain."
    )
    bare = create_alter_ego(user=user, name="Ada", description="")
    assert alter_ego_describe(bare) == "The user you are talking to presents as Ada."


def test_avatar_is_re_encoded(user: User) -> None:
    alter_ego = create_alter_ego(user=user, avatar=image_upload())
    assert str(alter_ego.avatar).startswith("alter-egos/")
    assert str(alter_ego.avatar).endswith(".webp")


def test_a_bad_avatar_writes_nothing(user: User) -> None:
    with pytest.raises(ApplicationError) as raised:
        create_alter_ego(user=user, avatar=image_upload("a.bmp", fmt="BMP"))
    assert raised.value.details == {"avatar": ["Upload a PNG, JPEG, WebP or GIF image."]}
    assert _egos(user) == []


# --- settings pages -------------------------------------------------------------------------


def test_settings_page_adds_edits_defaults_and_deletes(user: User) -> None:
    client = signed_in(user)
    page = client.get("/settings/alter-egos/")
    assert page.status_code == 200
    assert "No alter egos yet" in page.content.decode()

    added = client.post(
        "/settings/alter-egos/",
        {"name": "Nemo", "description": "A captain.", "avatar": image_upload()},
        follow=True,
    )
    assert "“Nemo” was added." in added.content.decode()
    client.post("/settings/alter-egos/", {"name": "Ada", "description": ""})
    with unscoped():
        nemo = AlterEgo.objects.get(user=user, name="Nemo")
    assert str(nemo.avatar).endswith(".webp")

    response = client.post(f"/settings/alter-egos/{nemo.uuid}/default/")
    assert response.status_code == 302
    assert _egos(user) == [("Ada", False), ("Nemo", True)]

    edit = client.get(f"/settings/alter-egos/{nemo.uuid}/edit/")
    assert edit.status_code == 200
    assert "A captain." in edit.content.decode()
    client.post(
        f"/settings/alter-egos/{nemo.uuid}/edit/",
        {"name": "Captain Nemo", "description": "Submarine.", "is_default": "on"},
    )
    nemo.refresh_from_db()
    assert (nemo.name, nemo.description, nemo.is_default) == ("Captain Nemo", "Submarine.", True)
    assert str(nemo.avatar).endswith(".webp")  # untouched when no new file is sent

    client.post(f"/settings/alter-egos/{nemo.uuid}/delete/")
    assert _egos(user) == [("Ada", False)]


def test_settings_page_shows_errors_and_writes_nothing(user: User) -> None:
    response = signed_in(user).post(
        "/settings/alter-egos/", {"name": "Nemo", "avatar": image_upload("x.bmp", fmt="BMP")}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"avatar": ["Upload a PNG, JPEG, WebP or GIF image."]}
    assert _egos(user) == []


def test_settings_nav_links_to_alter_egos(user: User) -> None:
    assert 'href="/settings/alter-egos/"' in signed_in(user).get("/settings/").content.decode()


def test_listing_alter_egos_takes_a_number_of_queries_that_does_not_grow(user: User) -> None:
    client = signed_in(user)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(path).status_code == 200
        return len(context)

    create_alter_ego(user=user, name="first")
    for path in ("/api/v1/alter-egos/", "/settings/alter-egos/"):
        queries(path)  # warm the cached tenant lookups
    before = {path: queries(path) for path in ("/api/v1/alter-egos/", "/settings/alter-egos/")}
    for n in range(6):
        create_alter_ego(user=user, name=f"p{n}")
    after = {path: queries(path) for path in before}
    assert after == before


# --- REST -------------------------------------------------------------------------------------


def _bearer(user: User) -> Client:
    _key, raw = ApiKeyFactory.create(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_creates_lists_updates_and_deletes(user: User) -> None:
    client = _bearer(user)
    created = client.post(
        "/api/v1/alter-egos/",
        {"name": "Nemo", "description": "A captain.", "is_default": True},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Nemo",
        "description": "A captain.",
        "avatar_url": None,
        "is_default": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    second = client.post(
        "/api/v1/alter-egos/", {"name": "Ada", "is_default": True}, content_type="application/json"
    ).json()
    listing = client.get("/api/v1/alter-egos/").json()
    assert [(a["name"], a["is_default"]) for a in listing] == [("Ada", True), ("Nemo", False)]

    patched = client.patch(
        f"/api/v1/alter-egos/{body['id']}/",
        {"description": "Submarine.", "is_default": True},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert patched.json()["description"] == "Submarine."
    assert _egos(user) == [("Ada", False), ("Nemo", True)]
    assert client.get(f"/api/v1/alter-egos/{second['id']}/").json()["is_default"] is False

    assert client.delete(f"/api/v1/alter-egos/{body['id']}/").status_code == 204
    assert _egos(user) == [("Ada", False)]


def test_api_validation_errors_use_the_error_shape(user: User) -> None:
    response = signed_in(user).post(
        "/api/v1/alter-egos/", {"name": "   "}, content_type="application/json"
    )
    assert response.status_code == 400
    body: dict[str, Any] = response.json()
    assert body["code"] == "invalid"
    assert set(body["details"]) == {"name"}
    assert _egos(user) == []
