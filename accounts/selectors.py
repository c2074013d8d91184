"""Reads for accounts: explicit about whose data they return."""

from __future__ import annotations

import uuid as uuid_lib

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import ApiKey, Membership, User
from spark.llm.types import KeyContext


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys within the active tenant (revoked ones included, newest first)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def api_key_get_for_user(*, user: User, key_uuid: uuid_lib.UUID | str) -> ApiKey:
    """One of the user's keys, or 404 (also for another user's or tenant's key)."""
    try:
        return ApiKey.objects.get(user=user, uuid=key_uuid)
    except (ApiKey.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def membership_for_user(*, user: User) -> Membership | None:
    """The user's membership in the active tenant, if any."""
    return Membership.objects.filter(user=user).select_related("tenant").first()


def key_context_for_user(*, user: User) -> KeyContext:
    """Whose provider keys the user's LLM calls may use (pass it to the gateway)."""
    return KeyContext(user_id=user.pk, mode=user.llm_key_mode)  # type: ignore[arg-type]
