"""Reads for security: the admin's overview of offenders and rule hits, stored files."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.utils import timezone

from security.models import AuditLogEntry, Ban, StoredFile


def top_offenders(*, limit: int = 20) -> list[dict[str, Any]]:
    """The IPs banned most often, with their last ban and whether one is in force."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in Ban.objects.values("ip")
        .annotate(bans=Count("id"), last_banned=Max("created_at"), until=Max("expires_at"))
        .order_by("-bans", "-last_banned")[:limit]
    ]
    now = timezone.now()
    for row in rows:
        row["active"] = Ban.objects.filter(
            ip=row["ip"], lifted_at__isnull=True, expires_at__gt=now
        ).exists()
    return rows


def rule_hit_counts(*, limit: int = 50) -> list[dict[str, Any]]:
    """How many bans each instant-block rule caused, most first."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in Ban.objects.filter(reason=Ban.Reason.RULE)
        .values("category", "pattern")
        .annotate(hits=Count("id"), last_hit=Max("created_at"))
        .order_by("-hits", "category")[:limit]
    ]
    return rows


def category_hit_counts() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in Ban.objects.filter(reason=Ban.Reason.RULE)
        .values("category")
        .annotate(hits=Count("id"))
        .order_by("-hits")
    ]
    return rows


def recent_security_events(*, limit: int = 30) -> QuerySet[AuditLogEntry]:
    return AuditLogEntry.objects.filter(source=AuditLogEntry.Source.SECURITY)[:limit]


def stored_file_get_for_user(*, user: Any, file_uuid: uuid_lib.UUID | str) -> StoredFile:
    """One of the user's files in the active tenant, or 404 (for anyone else's too)."""
    try:
        return StoredFile.objects.get(owner=user, uuid=file_uuid)
    except (StoredFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


FILE_URL_SALT = "spark.security.file-url"


def stored_file_for_signed_token(*, token: str, user: Any) -> StoredFile:
    """The file a signed download link names, if the link is fresh and was made for ``user``.

    Anything else (bad or expired signature, another user's link, another tenant's file,
    a deleted file) is a 404, so a leaked link tells nobody anything.
    """
    try:
        payload = signing.loads(token, salt=FILE_URL_SALT, max_age=settings.SPARK_FILE_URL_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    if not getattr(user, "is_authenticated", False) or payload.get("u") != user.pk:
        raise Http404
    try:
        return StoredFile.objects.get(uuid=payload.get("f"))
    except (StoredFile.DoesNotExist, ValueError, TypeError, signing.BadSignature):
        raise Http404 from None
