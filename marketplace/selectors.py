"""Who sees which prompt, and which models a prompt allows (one place for each rule)."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Tenant
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped


def _lookup(slug_or_uuid: str) -> Q:
    try:
        return Q(uuid=uuid_lib.UUID(str(slug_or_uuid)))
    except ValueError:
        return Q(slug=str(slug_or_uuid))


def prompt_get_for_chat(*, user: Any, tenant: Tenant, slug_or_uuid: str) -> Prompt:
    """A prompt the user may chat with: public/unlisted in their tenant or the platform
    catalogue, or their own private prompt. Anything else is 404."""
    reachable = Q(visibility__in=[Prompt.Visibility.PUBLIC, Prompt.Visibility.UNLISTED]) | Q(
        owner=user
    )
    found = (
        Prompt.objects.filter(_lookup(slug_or_uuid), reachable, is_active=True)
        .select_related("default_model", "forced_model", "category")
        .first()
    )
    if found is None and not tenant.is_public:
        with unscoped():
            found = (
                Prompt.objects.filter(
                    _lookup(slug_or_uuid),
                    tenant__kind=Tenant.Kind.PUBLIC,
                    visibility__in=[Prompt.Visibility.PUBLIC, Prompt.Visibility.UNLISTED],
                    is_active=True,
                )
                .select_related("default_model", "forced_model", "category")
                .first()
            )
    if found is None:
        raise Http404
    return found


def prompt_models(*, prompt: Prompt) -> list[LLMModel]:
    """The models a user may pick for this prompt, in catalogue order."""
    if prompt.forced_model_id is not None:
        return (
            [prompt.forced_model] if prompt.forced_model and prompt.forced_model.is_active else []
        )
    allowed = [m for m in prompt.allowed_models.all() if m.is_active]
    if allowed:
        return sorted(allowed, key=lambda m: (m.position, m.display_name))
    return [prompt.default_model] if prompt.default_model.is_active else []


def prompt_resolve_model(*, prompt: Prompt, requested_slug: str | None) -> LLMModel:
    """The model a conversation with this prompt uses: forced, else the requested one if
    allowed, else the default."""
    choices = prompt_models(prompt=prompt)
    if not choices:
        raise ApplicationError(
            _("This prompt's model is not available right now."), code="model_unavailable"
        )
    if prompt.forced_model_id is not None or not requested_slug:
        if prompt.forced_model_id is None and prompt.default_model in choices:
            return prompt.default_model
        return choices[0]
    for model in choices:
        if model.slug == requested_slug:
            return model
    raise ApplicationError(_("This prompt does not allow that model."), code="model_not_allowed")
