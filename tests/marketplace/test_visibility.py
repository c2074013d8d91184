"""Who sees which prompt: the catalogue, links by slug or id, age-restricted categories."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.http import Http404
from django.test import Client

from accounts import tenancy
from accounts.models import Tenant, User
from marketplace import selectors
from marketplace.models import Prompt
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import category, create_prompt, create_user

pytestmark = pytest.mark.django_db

PUBLIC, UNLISTED, PRIVATE = (
    Prompt.Visibility.PUBLIC,
    Prompt.Visibility.UNLISTED,
    Prompt.Visibility.PRIVATE,
)


@dataclass(frozen=True)
class Case:
    home: str  # where the prompt lives: "b" (a curator tenant) or "public"
    visibility: str
    viewer: str  # "owner", "neighbour" (same tenant), "outsider" (another tenant)
    listed: bool  # in the viewer's catalogue
    reachable: bool  # opens by slug or id (chat, API detail)


CASES = [
    # A tenant's prompts: only that tenant's users, by visibility.
    Case("b", PUBLIC, "owner", listed=True, reachable=True),
    Case("b", PUBLIC, "neighbour", listed=True, reachable=True),
    Case("b", PUBLIC, "outsider", listed=False, reachable=False),
    Case("b", UNLISTED, "owner", listed=True, reachable=True),
    Case("b", UNLISTED, "neighbour", listed=False, reachable=True),
    Case("b", UNLISTED, "outsider", listed=False, reachable=False),
    Case("b", PRIVATE, "owner", listed=True, reachable=True),
    Case("b", PRIVATE, "neighbour", listed=False, reachable=False),
    Case("b", PRIVATE, "outsider", listed=False, reachable=False),
    # The public tenant's prompts are the platform catalogue, seen from every tenant.
    Case("public", PUBLIC, "owner", listed=True, reachable=True),
    Case("public", PUBLIC, "neighbour", listed=True, reachable=True),
    Case("public", PUBLIC, "outsider", listed=True, reachable=True),
    Case("public", UNLISTED, "neighbour", listed=False, reachable=True),
    Case("public", UNLISTED, "outsider", listed=False, reachable=True),
    Case("public", PRIVATE, "owner", listed=True, reachable=True),
    Case("public", PRIVATE, "neighbour", listed=False, reachable=False),
    Case("public", PRIVATE, "outsider", listed=False, reachable=False),
]


def _case_id(case: Case) -> str:
    return f"{case.home}-{case.visibility}-{case.viewer}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_visibility_rules(
    case: Case, public_tenant: Tenant, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    home = public_tenant if case.home == "public" else tenant_b
    owner = create_user(tenant=home, email="owner@example.com")
    viewers = {
        "owner": owner,
        "neighbour": create_user(tenant=home, email="neighbour@example.com"),
        "outsider": create_user(tenant=tenant_a, email="outsider@example.com"),
    }
    viewer = viewers[case.viewer]
    prompt = create_prompt(owner=owner, tenant=home, name="Tutor", visibility=case.visibility)
    viewer_tenant = tenancy.home_tenant(viewer)

    catalogue = selectors.prompt_catalog(user=viewer, tenant=viewer_tenant)
    assert (prompt in catalogue) is case.listed

    for key in (prompt.slug, str(prompt.uuid)):
        if case.reachable:
            found = selectors.prompt_get_for_chat(
                user=viewer, tenant=viewer_tenant, slug_or_uuid=key
            )
            assert found == prompt
        else:
            with pytest.raises(Http404):
                selectors.prompt_get_for_chat(user=viewer, tenant=viewer_tenant, slug_or_uuid=key)

    response = signed_in(viewer).get(f"/api/v1/prompts/{prompt.uuid}/")
    assert response.status_code == (200 if case.reachable else 404)
    listing = signed_in(viewer).get("/api/v1/prompts/").json()["results"]
    assert (str(prompt.uuid) in {p["id"] for p in listing}) is case.listed


def test_private_prompt_of_another_user_is_404(user_b: User, tenant_b: Tenant) -> None:
    prompt = create_prompt(owner=user_b, visibility=PRIVATE)
    neighbour = create_user(tenant=tenant_b, email="n@b.example")
    response = signed_in(neighbour).get(f"/api/v1/prompts/{prompt.slug}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_switched_off_prompt_starts_no_chat_even_for_its_owner(user: User) -> None:
    prompt = create_prompt(owner=user)
    with unscoped():
        Prompt.objects.filter(pk=prompt.pk).update(is_active=False)
    tenant = tenancy.home_tenant(user)
    assert list(selectors.prompt_catalog(user=user, tenant=tenant)) == []
    with pytest.raises(Http404):
        selectors.prompt_get_for_chat(user=user, tenant=tenant, slug_or_uuid=prompt.slug)
    page = signed_in(user).get("/creator/prompts/").content.decode()
    assert prompt.name in page
    assert "switched off" in page


def test_tenant_prompt_wins_over_platform_prompt_with_the_same_slug(
    public_tenant: Tenant, user_b: User
) -> None:
    creator = create_user(tenant=public_tenant, email="creator@example.com")
    platform = create_prompt(owner=creator, name="Tutor")
    own = create_prompt(owner=user_b, name="Tutor")
    assert platform.slug == own.slug == "tutor"
    tenant_b = tenancy.home_tenant(user_b)

    by_slug = selectors.prompt_get_for_chat(user=user_b, tenant=tenant_b, slug_or_uuid="tutor")
    assert by_slug == own
    by_uuid = selectors.prompt_get_for_chat(
        user=user_b, tenant=tenant_b, slug_or_uuid=str(platform.uuid)
    )
    assert by_uuid == platform
    assert selectors.prompt_chat_key(prompt=platform, tenant=tenant_b) == str(platform.uuid)
    assert selectors.prompt_chat_key(prompt=own, tenant=tenant_b) == "tutor"


def test_anonymous_visitors_see_only_public_prompts(public_tenant: Tenant, user: User) -> None:
    create_prompt(owner=user, name="Open")
    create_prompt(owner=user, name="Hidden", visibility=UNLISTED)
    response = Client().get("/prompts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open" in html
    assert "Hidden" not in html


# --- age-restricted categories ------------------------------------------------------------


def test_mature_prompts_are_hidden_until_the_user_confirms_they_are_adult(
    public_tenant: Tenant, user: User
) -> None:
    creator = create_user(tenant=public_tenant, email="creator@example.com")
    mature = create_prompt(owner=creator, name="Night Owl", category=category("mature"))
    assert category("mature").age_restricted

    assert mature not in selectors.prompt_catalog(user=user, tenant=public_tenant)
    with pytest.raises(Http404):
        selectors.prompt_get_for_chat(user=user, tenant=public_tenant, slug_or_uuid=mature.slug)
    assert "mature" not in {c.slug for c in selectors.category_list(user=user)}

    user.shows_mature_content = True
    user.save(update_fields=["shows_mature_content"])
    assert mature in selectors.prompt_catalog(user=user, tenant=public_tenant)
    assert (
        selectors.prompt_get_for_chat(user=user, tenant=public_tenant, slug_or_uuid=mature.slug)
        == mature
    )
    assert "mature" in {c.slug for c in selectors.category_list(user=user)}


def test_owner_sees_their_own_mature_prompt(public_tenant: Tenant, user: User) -> None:
    mature = create_prompt(owner=user, category=category("mature"))
    assert mature in selectors.prompt_catalog(user=user, tenant=public_tenant)


def test_anonymous_visitors_never_see_mature_prompts(public_tenant: Tenant, user: User) -> None:
    create_prompt(owner=user, name="Night Owl", category=category("mature"))
    assert "Night Owl" not in Client().get("/prompts/").content.decode()


def test_profile_page_confirms_adulthood(user: User) -> None:
    client = signed_in(user)
    page = client.get("/settings/").content.decode()
    assert "I am 18 or older" in page
    response = client.post(
        "/settings/", {"display_name": "Pat", "language": "", "shows_mature_content": "on"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.shows_mature_content is True
