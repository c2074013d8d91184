"""REST: the prompt catalogue, a prompt's details, creators' writes, the model catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant, User
from marketplace.api.serializers import usd_per_million
from marketplace.models import Prompt
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, category, create_prompt, create_user, demo_model
from tests.isolation import RESOURCES

pytestmark = pytest.mark.django_db


def _model(slug: str) -> LLMModel:
    return LLMModel.objects.get(slug=slug)


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


def test_catalogue_lists_prompts_in_pages(user: User) -> None:
    prompt = create_prompt(
        owner=user, name="Tutor", description="Teaches.", category=category("learning")
    )
    body = signed_in(user).get("/api/v1/prompts/").json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["results"] == [
        {
            "id": str(prompt.uuid),
            "slug": "tutor",
            "chat_key": "tutor",
            "name": "Tutor",
            "description": "Teaches.",
            "avatar_url": None,
            "category": {
                "slug": "learning",
                "name": "Learning",
                "icon": "🎓",
                "age_restricted": False,
            },
            "visibility": "public",
            "creator": user.display_name,
            "is_own": True,
            "updated_at": body["results"][0]["updated_at"],
        }
    ]


def test_catalogue_filters_by_category_and_text(user: User) -> None:
    create_prompt(owner=user, name="Tutor", category=category("learning"))
    create_prompt(owner=user, name="Reviewer", category=category("coding"), description="Code")
    client = signed_in(user)

    def names(query: str) -> list[str]:
        return [p["name"] for p in client.get(f"/api/v1/prompts/{query}").json()["results"]]

    assert names("?category=learning") == ["Tutor"]
    assert names("?q=CODE") == ["Reviewer"]
    assert names("?category=coding&q=tutor") == []
    assert names("") == ["Reviewer", "Tutor"]


def test_catalogue_pages_follow_page_size(user: User) -> None:
    for n in range(3):
        create_prompt(owner=user, name=f"Prompt {n}")
    client = signed_in(user)
    first = client.get("/api/v1/prompts/?page_size=2").json()
    assert first["count"] == 3
    assert [p["name"] for p in first["results"]] == ["Prompt 0", "Prompt 1"]
    second = client.get(first["next"]).json()
    assert [p["name"] for p in second["results"]] == ["Prompt 2"]


def test_catalogue_api_takes_constant_queries(user: User) -> None:
    client = signed_in(user)

    def add(count: int) -> None:
        for _ in range(count):
            create_prompt(owner=user, category=category("coding"))

    _assert_constant_queries(client, "/api/v1/prompts/", add)


def test_detail_shows_models_starters_and_tools(user: User, public_tenant: Tenant) -> None:
    prompt = create_prompt(
        owner=user,
        name="Researcher",
        default_model=_model("openai-gpt-4o"),
        allowed_models=[demo_model(), _model("openai-gpt-4o")],
        enabled_tools=["web_search"],
        starter_messages=["Find sources on bees"],
    )
    reader = create_user(tenant=public_tenant, email="reader@example.com")
    body = signed_in(reader).get(f"/api/v1/prompts/{prompt.slug}/").json()
    assert body["starter_messages"] == ["Find sources on bees"]
    assert body["enabled_tools"] == ["web_search"]
    assert body["hide_model_name"] is False
    assert body["is_own"] is False
    assert body["configuration"] is None
    assert [(m["id"], m["name"], m["is_default"]) for m in body["models"]] == [
        ("demo", "Demo (offline)", False),
        ("openai-gpt-4o", "GPT-4o", True),
    ]
    assert body["models"][1]["context_window"] == 128_000
    assert body["models"][1]["capabilities"]["vision"] is True


def test_detail_hides_the_model_name_when_the_prompt_asks(
    user: User, public_tenant: Tenant
) -> None:
    prompt = create_prompt(
        owner=user,
        name="Interview Coach",
        hide_model_name=True,
        default_model=_model("openai-gpt-4o"),
    )
    reader = create_user(tenant=public_tenant, email="reader@example.com")
    response = signed_in(reader).get(f"/api/v1/prompts/{prompt.uuid}/")
    body = response.json()
    assert body["models"] == [
        {
            "id": None,
            "name": "Interview Coach",
            "is_default": True,
            "context_window": 128_000,
            "capabilities": {
                "tools": True,
                "vision": True,
                "thinking": False,
                "caching": True,
                "image_output": False,
            },
        }
    ]
    text = response.content.decode()
    assert "gpt-4o" not in text.lower()
    assert "GPT-4o" not in text


def test_owner_sees_the_configuration(user: User) -> None:
    prompt = create_prompt(
        owner=user, system_prompt="Secret sauce.", forced_model=_model("openai-gpt-4o-mini")
    )
    body = signed_in(user).get(f"/api/v1/prompts/{prompt.slug}/").json()
    assert body["configuration"] == {
        "system_prompt": "Secret sauce.",
        "default_model": "demo",
        "allowed_models": [],
        "forced_model": "openai-gpt-4o-mini",
    }


def test_unknown_prompt_is_json_404(user: User) -> None:
    response = signed_in(user).get("/api/v1/prompts/no-such-prompt/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_creator_creates_and_updates_a_prompt_through_the_api(user: User) -> None:
    _key, raw = ApiKeyFactory.create(user=user)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    created = client.post(
        "/api/v1/prompts/",
        {
            "name": "Haiku Bot",
            "system_prompt": "Answer in haiku.",
            "default_model": "demo",
            "category": "creative",
            "starter_messages": ["Spring rain"],
            "visibility": "unlisted",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "haiku-bot"
    assert body["visibility"] == "unlisted"
    assert body["configuration"]["system_prompt"] == "Answer in haiku."

    patched = client.patch(
        "/api/v1/prompts/haiku-bot/",
        {"description": "Short poems.", "enabled_tools": ["generate_image"]},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.json()
    with unscoped():
        stored = Prompt.objects.get(slug="haiku-bot")
    assert stored.description == "Short poems."
    assert stored.enabled_tools == ["generate_image"]
    assert stored.owner == user


def test_api_rule_errors_name_their_field(user: User) -> None:
    response = signed_in(user).post(
        "/api/v1/prompts/",
        {
            "name": "Bad",
            "system_prompt": "x",
            "default_model": "demo",
            "allowed_models": ["openai-gpt-4o"],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "default_model: The default model must be one of the allowed models.",
        "details": {"default_model": ["The default model must be one of the allowed models."]},
    }
    with unscoped():
        assert not Prompt.objects.exists()


def test_only_the_owner_may_patch(user: User, public_tenant: Tenant) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    other = create_user(tenant=public_tenant, email="other@example.com")
    response = signed_in(other).patch(
        f"/api/v1/prompts/{prompt.uuid}/", {"name": "Hacked"}, content_type="application/json"
    )
    assert response.status_code == 404
    with unscoped():
        assert Prompt.objects.get(pk=prompt.pk).name == "Tutor"


def test_model_catalogue_lists_active_models_with_decimal_prices(user: User) -> None:
    models = signed_in(user).get("/api/v1/models/").json()
    ids = [m["id"] for m in models]
    assert "demo" in ids
    assert "ollama-llama3-1" not in ids  # switched off in the catalogue
    gpt = next(m for m in models if m["id"] == "openai-gpt-4o-mini")
    assert gpt == {
        "id": "openai-gpt-4o-mini",
        "name": "GPT-4o mini",
        "provider": "openai",
        "provider_name": "OpenAI",
        "context_window": 128_000,
        "max_output_tokens": 16_384,
        "capabilities": {
            "tools": True,
            "vision": True,
            "thinking": False,
            "caching": True,
            "image_output": False,
        },
        "pricing": {
            "currency": "USD",
            "input_per_million": "0.15",
            "output_per_million": "0.60",
            "cached_input_per_million": "0.075",
        },
    }


@pytest.mark.parametrize(
    ("micros", "text"),
    [(0, "0.00"), (2_500_000, "2.50"), (10_000_000, "10.00"), (75_000, "0.075"), (1, "0.000001")],
)
def test_prices_are_exact_decimal_strings(micros: int, text: str) -> None:
    assert usd_per_million(micros) == text


def test_api_needs_authentication(db: None) -> None:
    for path in ("/api/v1/prompts/", "/api/v1/models/", "/api/v1/alter-egos/"):
        response = Client().get(path)
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"


def test_schema_describes_the_marketplace_endpoints(client: Client) -> None:
    schema: dict[str, Any] = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/prompts/",
        "/api/v1/prompts/{key}/",
        "/api/v1/models/",
        "/api/v1/alter-egos/",
        "/api/v1/alter-egos/{alter_ego_id}/",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/prompts/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/prompts/{key}/"]) >= {"get", "patch"}
    assert set(schema["paths"]["/api/v1/alter-egos/{alter_ego_id}/"]) >= {"get", "patch", "delete"}
    params = {p["name"] for p in schema["paths"]["/api/v1/prompts/"]["get"]["parameters"]}
    assert {"category", "q", "page"} <= params


@pytest.mark.parametrize("name", ["prompt", "alter_ego"])
def test_owner_reaches_the_isolation_matrix_endpoints(name: str, user_b: User) -> None:
    """The 404s of tests/isolation.py are meaningful: the owner gets 200 from each GET."""
    resource = next(r for r in RESOURCES if r.name == name)
    with unscoped():
        obj = resource.create(user_b)
    _key, raw = ApiKeyFactory.create(user=user_b)
    for endpoint in resource.endpoints(obj):
        if endpoint.method != "GET":
            continue
        client = Client(headers={"Authorization": f"Bearer {raw}"}) if endpoint.bearer else None
        response = (client or signed_in(user_b)).get(endpoint.path)
        assert response.status_code == 200, f"{endpoint} answered {response.status_code}"
