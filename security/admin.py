from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from security.models import AuditLogEntry


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin[AuditLogEntry]):
    """Viewable and filterable, never editable."""

    list_display = [
        "created_at",
        "actor_email",
        "source",
        "action",
        "object_repr",
        "content_type",
        "ip",
    ]
    list_filter = ["source", "action", "content_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_email", "object_repr", "object_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type"]
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
