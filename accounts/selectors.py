"""Reads for accounts: explicit about whose data they return."""

from __future__ import annotations

import uuid as uuid_lib

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import AlterEgo, ApiKey, Membership, User
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


def alter_ego_list(*, user: User) -> QuerySet[AlterEgo]:
    """The user's personas within the active tenant, the default first, then by name."""
    return AlterEgo.objects.filter(user=user).order_by("-is_default", "name", "pk")


def alter_ego_get_for_user(*, user: User, uuid: uuid_lib.UUID | str) -> AlterEgo:
    """One of the user's personas, or 404 (also for another user's or tenant's)."""
    try:
        return AlterEgo.objects.get(user=user, uuid=uuid)
    except (AlterEgo.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None


def alter_ego_default_for_user(*, user: User) -> AlterEgo | None:
    """The persona a new chat starts with, if the user chose one."""
    return AlterEgo.objects.filter(user=user, is_default=True).first()
