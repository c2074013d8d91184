"""Writes for security: the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from security.models import AuditLogEntry
from spark.common.net import client_ip


def audit_record(
    *,
    action: str,
    source: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    obj: models.Model | None = None,
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Append one audit entry. The actor defaults to the request's user."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    content_type = ContentType.objects.get_for_model(obj) if obj is not None else None
    return AuditLogEntry.objects.create(
        source=source,
        action=action,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        content_type=content_type,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes=changes or {},
        ip=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )
