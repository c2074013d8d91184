from __future__ import annotations

import itertools
from typing import Any

from accounts import tenancy
from accounts.models import Tenant, User
from marketplace import services
from marketplace.models import Category, Prompt
from spark.llm.models import LLMModel

_prompts = itertools.count(1)


def demo_model() -> LLMModel:
    return LLMModel.objects.get(slug="demo")


def category(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def create_prompt(*, owner: User, tenant: Tenant | None = None, **fields: Any) -> Prompt:
    """A prompt made by the real service, in the owner's home tenant unless told."""
    number = next(_prompts)
    fields.setdefault("name", f"Prompt {number}")
    fields.setdefault("system_prompt", "You are a helpful assistant.")
    fields.setdefault("default_model", demo_model())
    fields.setdefault("visibility", Prompt.Visibility.PUBLIC)
    return services.prompt_create(
        owner=owner, tenant=tenant or tenancy.home_tenant(owner), **fields
    )
