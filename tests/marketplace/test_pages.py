"""The creator's prompt pages and the public catalogue page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant, User
from marketplace.models import Prompt
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import category, create_prompt, create_user, demo_model, image_upload

pytestmark = pytest.mark.django_db


def _form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Travel Planner",
        "slug": "",
        "description": "Plans trips around your budget.",
        "category": str(category("productivity").pk),
        "system_prompt": "You plan trips.",
        "starter_messages": "Plan a weekend in Lisbon\r\n\r\nPack for a hike\r\n",
        "enabled_tools": ["web_search"],
        "default_model": str(demo_model().pk),
        "allowed_models": [],
        "forced_model": "",
        "visibility": "public",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _stored(**filters: Any) -> Prompt:
    with unscoped():
        return Prompt.objects.get(**filters)


def _count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context)


def _assert_constant_queries(client: Client, path: str, add_rows: Callable[[int], None]) -> None:
    add_rows(1)
    _count_queries(client, path)  # warm the cached tenant lookups
    one = _count_queries(client, path)
    add_rows(6)
    assert _count_queries(client, path) == one


# --- my prompts --------------------------------------------------------------------------


def test_empty_list_invites_to_create_a_first_prompt(user: User) -> None:
    html = signed_in(user).get("/creator/prompts/").content.decode()
    assert "Create your first prompt" in html
    assert 'href="/creator/prompts/new/"' in html


def test_creator_pages_need_a_signed_in_user(db: None) -> None:
    for path in ("/creator/prompts/", "/creator/prompts/new/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_created_prompt_appears_in_my_prompts(user: User, public_tenant: Tenant) -> None:
    client = signed_in(user)
    assert client.get("/creator/prompts/new/").status_code == 200
    data = _form_data(avatar=image_upload())
    response = client.post("/creator/prompts/new/", data, follow=True)
    assert response.redirect_chain == [("/creator/prompts/", 302)]
    html = response.content.decode()
    assert "“Travel Planner” was created." in html
    assert "Travel Planner" in html
    assert "travel-planner" in html

    prompt = _stored(slug="travel-planner")
    assert prompt.owner == user
    assert prompt.tenant == public_tenant
    assert prompt.starter_messages == ["Plan a weekend in Lisbon", "Pack for a hike"]
    assert prompt.enabled_tools == ["web_search"]
    assert prompt.category == category("productivity")
    assert str(prompt.avatar).endswith(".webp")


def test_service_errors_show_on_their_fields_and_nothing_is_saved(user: User) -> None:
    gpt = LLMModel.objects.get(slug="openai-gpt-4o")
    data = _form_data(allowed_models=[str(gpt.pk)])
    response = signed_in(user).post("/creator/prompts/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "default_model": ["The default model must be one of the allowed models."]
    }
    assert "The default model must be one of the allowed models." in response.content.decode()
    with unscoped():
        assert not Prompt.objects.exists()


def test_a_taken_slug_is_reported_on_the_slug_field(user: User) -> None:
    create_prompt(owner=user, slug="tutor")
    response = signed_in(user).post("/creator/prompts/new/", _form_data(slug="tutor"))
    assert response.context["form"].errors == {"slug": ["Another prompt already uses this slug."]}


def test_owner_edits_their_prompt(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor", starter_messages=["Hi", "Hello"])
    client = signed_in(user)
    page = client.get(f"/creator/prompts/{prompt.uuid}/edit/")
    assert page.status_code == 200
    assert "Hi\nHello</textarea>" in page.content.decode()

    response = client.post(
        f"/creator/prompts/{prompt.uuid}/edit/",
        _form_data(name="Math Tutor", slug="tutor", visibility="unlisted"),
    )
    assert response.status_code == 302
    stored = _stored(pk=prompt.pk)
    assert (stored.name, stored.slug, stored.visibility) == ("Math Tutor", "tutor", "unlisted")


def test_a_rejected_edit_leaves_the_prompt_unchanged(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    response = signed_in(user).post(
        f"/creator/prompts/{prompt.uuid}/edit/",
        _form_data(name="Renamed", enabled_tools=["nope"]),
    )
    assert response.status_code == 200
    assert "enabled_tools" in response.context["form"].errors
    assert _stored(pk=prompt.pk).name == "Tutor"


def test_another_users_edit_page_is_404(user: User, public_tenant: Tenant) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    intruder = signed_in(create_user(tenant=public_tenant, email="intruder@example.com"))
    assert intruder.get(f"/creator/prompts/{prompt.uuid}/edit/").status_code == 404
    response = intruder.post(f"/creator/prompts/{prompt.uuid}/edit/", _form_data(name="Hacked"))
    assert response.status_code == 404
    assert _stored(pk=prompt.pk).name == "Tutor"


def test_my_prompts_lists_only_mine_in_constant_queries(user: User, public_tenant: Tenant) -> None:
    other = create_user(tenant=public_tenant, email="other@example.com")
    create_prompt(owner=other, name="Not mine")
    client = signed_in(user)

    def add(count: int) -> None:
        for _ in range(count):
            create_prompt(owner=user, category=category("coding"))

    _assert_constant_queries(client, "/creator/prompts/", add)
    html = client.get("/creator/prompts/").content.decode()
    assert html.count("/edit/") == 7
    assert "Not mine" not in html


# --- the catalogue ------------------------------------------------------------------------


def test_catalogue_lists_prompts_with_a_start_chat_link(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor", category=category("learning"))
    html = signed_in(user).get("/prompts/").content.decode()
    assert "Tutor" in html
    assert 'href="/chat/new/?prompt=tutor"' in html
    assert "Learning" in html
    assert prompt.slug == "tutor"


def test_platform_prompts_link_by_id_from_another_tenant(user: User, user_b: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    html = signed_in(user_b).get("/prompts/").content.decode()
    assert f'href="/chat/new/?prompt={prompt.uuid}"' in html


def test_catalogue_filters_by_category_and_text(user: User) -> None:
    create_prompt(owner=user, name="Tutor", category=category("learning"))
    create_prompt(owner=user, name="Reviewer", category=category("coding"), description="Code")
    client = signed_in(user)
    learning = client.get("/prompts/?category=learning").content.decode()
    assert "Tutor" in learning
    assert "Reviewer" not in learning
    found = client.get("/prompts/?q=code").content.decode()
    assert "Reviewer" in found
    assert "Tutor" not in found
    nothing = client.get("/prompts/?q=zebra").content.decode()
    assert "No prompts found" in nothing


def test_catalogue_page_takes_constant_queries(user: User) -> None:
    client = signed_in(user)
    categories = ["learning", "coding", "writing", None]

    def add(count: int) -> None:
        for n in range(count):
            slug = categories[n % len(categories)]
            create_prompt(owner=user, category=category(slug) if slug else None)

    _assert_constant_queries(client, "/prompts/", add)


def test_nav_links_to_my_prompts(user: User) -> None:
    html = signed_in(user).get("/").content.decode()
    assert 'href="/creator/prompts/"' in html
    assert 'href="/prompts/"' in html


# --- admin --------------------------------------------------------------------------------


def test_admin_lists_prompts_and_categories(staff_client: Client, user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor", allowed_models=[demo_model()])
    response = staff_client.get("/admin/marketplace/prompt/")
    assert response.status_code == 200
    assert "Tutor" in response.content.decode()
    assert staff_client.get(f"/admin/marketplace/prompt/{prompt.pk}/change/").status_code == 200
    assert staff_client.get("/admin/marketplace/prompt/?visibility=public").status_code == 200
    categories = staff_client.get("/admin/marketplace/category/")
    assert categories.status_code == 200
    assert "Mature" in categories.content.decode()


def test_admin_applies_the_same_rules(
    staff_client: Client, user: User, public_tenant: Tenant
) -> None:
    gpt = LLMModel.objects.get(slug="openai-gpt-4o")
    data = {
        "name": "Admin Tutor",
        "slug": "admin-tutor",
        "tenant": str(public_tenant.pk),
        "owner": str(user.pk),
        "is_active": "on",
        "description": "",
        "category": "",
        "visibility": "public",
        "system_prompt": "Teach.",
        "starter_messages": "Hello\nHi",
        "enabled_tools": ["generate_image"],
        "default_model": str(demo_model().pk),
        "allowed_models": [str(gpt.pk)],
        "forced_model": "",
    }
    refused = staff_client.post("/admin/marketplace/prompt/add/", data)
    assert refused.status_code == 200
    assert "The default model must be one of the allowed models." in refused.content.decode()
    with unscoped():
        assert not Prompt.objects.exists()

    data["allowed_models"] = [str(gpt.pk), str(demo_model().pk)]
    saved = staff_client.post("/admin/marketplace/prompt/add/", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    prompt = _stored(slug="admin-tutor")
    assert prompt.starter_messages == ["Hello", "Hi"]
    assert prompt.enabled_tools == ["generate_image"]
    assert sorted(m.slug for m in prompt.allowed_models.all()) == ["demo", "openai-gpt-4o"]


def test_admin_switches_prompts_off(staff_client: Client, user: User) -> None:
    prompt = create_prompt(owner=user)
    response = staff_client.post(
        "/admin/marketplace/prompt/",
        {"action": "switch_off", "_selected_action": [str(prompt.pk)]},
    )
    assert response.status_code == 302
    assert _stored(pk=prompt.pk).is_active is False
