"""Reads for security: the admin's overview of offenders and rule hits, stored files."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.utils import timezone

from security.models import AuditLogEntry, Ban, StoredFile


def top_offenders(*, limit: int = 20) -> list[dict[str, Any]]:
    """The IPs banned most often, with their last ban and whether one is in force."""
    rows = list(
        Ban.objects.values("ip")
        .annotate(bans=Count("id"), last_banned=Max("created_at"), until=Max("expires_at"))
        .order_by("-bans", "-last_banned")[:limit]
    )
    now = timezone.now()
    for row in rows:
        row["active"] = Ban.objects.filter(
            ip=row["ip"], lifted_at__isnull=True, expires_at__gt=now
        ).exists()
    return rows


def rule_hit_counts(*, limit: int = 50) -> list[dict[str, Any]]:
    """How many bans each instant-block rule caused, most first."""
    return list(
        Ban.objects.filter(reason=Ban.Reason.RULE)
        .values("category", "pattern")
        .annotate(hits=Count("id"), last_hit=Max("created_at"))
        .order_by("-hits", "category")[:limit]
    )


def category_hit_counts() -> list[dict[str, Any]]:
    return list(
        Ban.objects.filter(reason=Ban.Reason.RULE)
        .values("category")
        .annotate(hits=Count("id"))
        .order_by("-hits")
    )


def recent_security_events(*, limit: int = 30) -> QuerySet[AuditLogEntry]:
    return AuditLogEntry.objects.filter(source=AuditLogEntry.Source.SECURITY)[:limit]


def stored_file_get_for_user(*, user: Any, file_uuid: uuid_lib.UUID | str) -> StoredFile:
    """One of the user's files in the active tenant, or 404 (for anyone else's too)."""
    try:
        return StoredFile.objects.get(owner=user, uuid=file_uuid)
    except (StoredFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
