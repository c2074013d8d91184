"""`make run` seeds a small catalogue that works with the offline model, idempotently."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Tenant
from marketplace import selectors
from marketplace.models import Prompt
from spark.tenancy.context import unscoped

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple[str, str, str, object]]:
    with unscoped():
        return [
            (p.tenant.slug, p.slug, p.visibility, p.updated_at)
            for p in Prompt.objects.select_related("tenant").order_by("tenant__slug", "slug")
        ]


def test_seed_demo_creates_the_demo_prompts_once() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo prompts (7 created now) at /prompts/: writing-coach, code-reviewer" in (
        out.getvalue()
    )
    first = _snapshot()

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "Demo prompts (0 created now)" in again.getvalue()
    assert _snapshot() == first


def test_demo_prompts_cover_the_features_and_use_the_offline_model() -> None:
    call_command("seed_demo", "--quiet")
    with unscoped():
        public = Prompt.objects.filter(tenant__kind=Tenant.Kind.PUBLIC).select_related(
            "owner", "category", "default_model"
        )
        prompts = list(public.prefetch_related("allowed_models"))
        curio = Prompt.objects.select_related("owner").get(tenant__slug="curio")

    listed = [p for p in prompts if p.visibility == Prompt.Visibility.PUBLIC]
    assert len(listed) >= 5
    assert len({p.category_id for p in listed}) == len(listed)
    assert {p.owner.email for p in prompts} == {"creator@spark.local"}
    assert all(p.default_model.slug == "demo" for p in prompts)
    assert all(len(p.starter_messages) in (2, 3) for p in prompts)
    assert all(len(p.system_prompt) > 200 for p in prompts)
    assert any(p.enabled_tools == ["web_search"] for p in prompts)
    assert any(p.enabled_tools == ["generate_image"] for p in prompts)
    assert any(p.hide_model_name for p in prompts)
    assert [p.slug for p in prompts if p.visibility == Prompt.Visibility.UNLISTED] == [
        "weekly-planner"
    ]
    assert curio.owner.email == "curator@curio.example"
    for prompt in prompts:
        assert selectors.prompt_resolve_model(prompt=prompt).slug == "demo"
