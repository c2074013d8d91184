"""Reads for spark.llm: explicit about whose data they return."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from spark.llm.models import UserProviderKey


def provider_key_list(*, user: Any) -> QuerySet[UserProviderKey]:
    """The user's own provider keys within the active tenant."""
    return UserProviderKey.objects.filter(user=user).order_by("provider", "-created_at")


def provider_key_get_for_user(*, user: Any, key_uuid: uuid_lib.UUID | str) -> UserProviderKey:
    """One of the user's keys, or 404 (also for another user's or tenant's key)."""
    try:
        return UserProviderKey.objects.get(user=user, uuid=key_uuid)
    except (UserProviderKey.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
