"""Reads for the marketplace: who sees which prompt, and which models a prompt offers.

Every rule about prompt visibility lives here, in one place:

- The **catalogue** a user browses in a tenant holds the active ``public`` prompts of
  the tenants in ``catalog_tenant_ids`` (the tenant itself and the platform's public
  tenant), plus the user's own prompts there of any visibility.
- A prompt is **reachable by link** (slug or uuid) when it is in one of those tenants,
  active, and ``public`` or ``unlisted``, or the user's own.
- Prompts in an **age-restricted category** are hidden (listing and link) from users
  who have not confirmed they are adults (``User.shows_mature_content``), except from
  their owner.
- Anything else is missing: ``Http404``, whether it is another user's private prompt
  or another tenant's.
"""

from __future__ import annotations

import uuid as uuid_lib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import tenancy
from accounts.models import Tenant
from marketplace.models import Category, Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped

PROMPT_RELATED = ("tenant", "category", "owner", "default_model", "forced_model")


# --- who sees what -------------------------------------------------------------------------


def catalog_tenant_ids(*, tenant: Tenant | None) -> list[int]:
    """The tenants whose public prompts the users of ``tenant`` browse.

    Today: the tenant's own and the platform catalogue (the public tenant's). A
    tenant's catalogue policy (platform catalogue off, curated lists) changes this one
    function.
    """
    if tenant is None:
        return []
    ids = [tenant.pk]
    public = tenancy.public_tenant()
    if public.pk != tenant.pk:
        ids.append(public.pk)
    return ids


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _age_filter(user: Any) -> Q:
    """Age-restricted categories only for confirmed adults, and owners of the prompt."""
    if _signed_in(user) and user.shows_mature_content:
        return Q()
    allowed = Q(category__isnull=True) | Q(category__age_restricted=False)
    if _signed_in(user):
        allowed |= Q(owner=user)
    return allowed


def _reachable(*, user: Any, tenant: Tenant | None) -> QuerySet[Prompt]:
    """Active prompts in the tenant's catalogue tenants that the user's age allows.

    Reading the public tenant's prompts from another tenant crosses the scope, so the
    query runs unscoped and names its tenants explicitly.
    """
    with unscoped():
        prompts = Prompt.objects.filter(
            tenant_id__in=catalog_tenant_ids(tenant=tenant), is_active=True
        )
    return prompts.filter(_age_filter(user))


def prompt_catalog(
    *,
    user: Any,
    tenant: Tenant | None,
    category: str | None = None,
    query: str = "",
) -> QuerySet[Prompt]:
    """The prompts ``user`` browses in ``tenant`` (optionally one category, or a search).

    ``user`` may be anonymous: they see the public prompts of non-restricted categories.
    """
    listed = Q(visibility=Prompt.Visibility.PUBLIC)
    if _signed_in(user):
        listed |= Q(owner=user)
    prompts = _reachable(user=user, tenant=tenant).filter(listed)
    if category:
        prompts = prompts.filter(category__slug=category)
    query = query.strip()
    if query:
        prompts = prompts.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return prompts.select_related("category", "owner").order_by("name", "pk")


def prompt_get_for_chat(*, user: Any, tenant: Tenant | None, slug_or_uuid: str) -> Prompt:
    """The prompt to start a chat with, by slug or uuid, or ``Http404``.

    Public and unlisted prompts of the catalogue's tenants, and the user's own private
    ones. When the tenant and the platform catalogue both have the slug, the tenant's
    own prompt wins. The returned prompt has its models loaded (``prompt_models``
    needs no further query).
    """
    key = str(slug_or_uuid).strip()
    if not key:
        raise Http404
    match = Q(slug=key)
    key_uuid: uuid_lib.UUID | None = None
    try:
        key_uuid = uuid_lib.UUID(key)
    except ValueError:
        pass
    else:
        match |= Q(uuid=key_uuid)
    visible = Q(visibility__in=[Prompt.Visibility.PUBLIC, Prompt.Visibility.UNLISTED])
    if _signed_in(user):
        visible |= Q(owner=user)
    candidates = list(
        _reachable(user=user, tenant=tenant)
        .filter(match)
        .filter(visible)
        .select_related(*PROMPT_RELATED)
        .prefetch_related("allowed_models")
    )
    if not candidates:
        raise Http404
    own_tenant_id = tenant.pk if tenant is not None else None
    candidates.sort(key=lambda p: (p.uuid != key_uuid, p.tenant_id != own_tenant_id))
    return candidates[0]


def prompt_list_for_owner(*, user: Any) -> QuerySet[Prompt]:
    """The user's prompts in the active tenant, any visibility, recently changed first."""
    return (
        Prompt.objects.filter(owner=user)
        .select_related("category", "default_model", "forced_model")
        .order_by("-updated_at", "-pk")
    )


def prompt_get_for_owner(*, user: Any, slug_or_uuid: str) -> Prompt:
    """One of the user's prompts in the active tenant (to edit it), or ``Http404``."""
    key = str(slug_or_uuid).strip()
    try:
        match = Q(uuid=uuid_lib.UUID(key))
    except ValueError:
        match = Q(slug=key)
    prompt = (
        Prompt.objects.filter(match, owner=user)
        .select_related(*PROMPT_RELATED)
        .prefetch_related("allowed_models")
        .first()
    )
    if prompt is None:
        raise Http404
    return prompt


# --- categories and tools ---------------------------------------------------------------------


def category_list(*, user: Any) -> QuerySet[Category]:
    """The categories the user may browse (age-restricted ones for confirmed adults)."""
    categories = Category.objects.all()
    if not (_signed_in(user) and user.shows_mature_content):
        categories = categories.filter(age_restricted=False)
    return categories.order_by("position", "name")


def tool_choices() -> list[tuple[str, str]]:
    """The tools a prompt may enable: ``SPARK_TOOL_CHOICES`` (name, label)."""
    return [(name, str(label)) for name, label in settings.SPARK_TOOL_CHOICES]


def tool_names() -> list[str]:
    return [name for name, _label in settings.SPARK_TOOL_CHOICES]


# --- model policy -----------------------------------------------------------------------------


def prompt_models(*, prompt: Prompt) -> list[LLMModel]:
    """The models a conversation with this prompt may use, the default's position kept.

    A forced model: only it. Else the allowed models that are active. Else the default
    model. Inactive models are never offered (empty list: nothing is available now).
    """
    if prompt.forced_model_id is not None:
        forced = prompt.forced_model
        return [forced] if forced is not None and forced.is_active else []
    allowed = [model for model in prompt.allowed_models.all() if model.is_active]
    if allowed:
        return allowed
    return [prompt.default_model] if prompt.default_model.is_active else []


def prompt_resolve_model(*, prompt: Prompt, requested_slug: str | None = None) -> LLMModel:
    """The model to answer with, given what the user picked (or nothing).

    A forced model wins whatever was picked; no pick means the default model (or the
    first available one). A pick the prompt does not offer is refused.
    """
    models = prompt_models(prompt=prompt)
    if not models:
        raise ApplicationError(
            _("The model this prompt uses is not available right now."),
            code="model_unavailable",
            status_code=503,
        )
    if prompt.forced_model_id is not None or not requested_slug:
        return next((m for m in models if m.pk == prompt.default_model_id), models[0])
    for model in models:
        if model.slug == requested_slug:
            return model
    message = _("This prompt does not allow that model.")
    raise ApplicationError(message, code="model_not_allowed", details={"model": [message]})


@dataclass(frozen=True)
class ModelChoice:
    """A model as users see it in a prompt's picker."""

    id: str | None  # the slug to send back; None when the prompt hides its model
    name: str
    is_default: bool
    model: LLMModel  # for capabilities and limits; never show its name when hidden


def prompt_model_label(*, prompt: Prompt, model: LLMModel) -> str:
    """What to call the model in front of users: the prompt's name when it hides it."""
    return prompt.name if prompt.hide_model_name else model.display_name


def prompt_model_choices(*, prompt: Prompt) -> list[ModelChoice]:
    """The picker for a prompt. A prompt that hides its model offers one nameless choice."""
    models = prompt_models(prompt=prompt)
    if not models:
        return []
    if prompt.hide_model_name:
        model = prompt_resolve_model(prompt=prompt)
        return [ModelChoice(id=None, name=prompt.name, is_default=True, model=model)]
    default = prompt_resolve_model(prompt=prompt)
    return [
        ModelChoice(id=m.slug, name=m.display_name, is_default=m.pk == default.pk, model=m)
        for m in models
    ]


def active_models() -> QuerySet[LLMModel]:
    """The catalogue's models users may pick (staff switch models off in the admin)."""
    return LLMModel.objects.filter(is_active=True).order_by("position", "display_name")


def prompt_chat_key(*, prompt: Prompt, tenant: Tenant | None) -> str:
    """How to name the prompt in a chat link (``/chat/new/?prompt=<key>``).

    Its slug within its own tenant; its uuid when it comes from the platform catalogue,
    since the tenant may have a prompt with the same slug (which would win).
    """
    if tenant is not None and prompt.tenant_id == tenant.pk:
        return prompt.slug
    return str(prompt.uuid)
