"""The security console: audit log, security events, bans (active and history), Cloudflare
blocks, stored files. Everything here is read-only except the unban and retry actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from security import services
from security.models import ActiveBan, AuditLogEntry, Ban, CloudflareBlock, StoredFile
from spark.common.admin import ReadOnlyAdmin


class SecurityEventFilter(admin.SimpleListFilter):
    title = _("kind of event")
    parameter_name = "events"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("security", _("Security events only"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "security":
            return queryset.filter(
                action__in=[
                    AuditLogEntry.Action.SIGN_IN,
                    AuditLogEntry.Action.SIGN_IN_FAILED,
                    AuditLogEntry.Action.API_KEY_CREATE,
                    AuditLogEntry.Action.API_KEY_REVOKE,
                    AuditLogEntry.Action.API_KEY_REJECTED,
                    AuditLogEntry.Action.ROLE_CHANGE,
                    AuditLogEntry.Action.BAN,
                    AuditLogEntry.Action.UNBAN,
                ]
            )
        return queryset


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor_email",
        "source",
        "action",
        "object_repr",
        "content_type",
        "ip",
        "user_agent",
    ]
    list_filter = [
        SecurityEventFilter,
        "source",
        "action",
        "content_type",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["actor_email", "object_repr", "object_id", "ip", "user_agent", "path"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type"]


@admin.register(Ban)
class BanAdmin(ReadOnlyAdmin):
    """Ban history: every ban ever made, with why and for how long."""

    list_display = [
        "created_at",
        "ip",
        "reason",
        "category",
        "pattern",
        "offence",
        "expires_at",
        "lifted_at",
        "path",
    ]
    list_filter = ["reason", "category", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["ip", "path", "user_agent", "pattern"]
    date_hierarchy = "created_at"
    actions = ["unban"]

    @admin.action(description=_("Unban the selected clients"))
    def unban(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        ips = sorted(set(queryset.values_list("ip", flat=True)))
        for ip in ips:
            services.ban_lift(ip=ip, actor=request.user, request=request)
        messages.success(request, _("%(count)d clients were unbanned.") % {"count": len(ips)})


@admin.register(ActiveBan)
class ActiveBanAdmin(BanAdmin):
    """The bans in force now."""

    date_hierarchy = None  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ban]:
        return (
            super()
            .get_queryset(request)
            .filter(lifted_at__isnull=True, expires_at__gt=timezone.now())
        )


@admin.register(CloudflareBlock)
class CloudflareBlockAdmin(ReadOnlyAdmin):
    list_display = [
        "ip",
        "status",
        "attempts",
        "last_error",
        "rule_id",
        "created_at",
        "expires_at",
        "removed_at",
    ]
    list_filter = ["status"]
    search_fields = ["ip", "rule_id"]
    actions = ["retry"]

    @admin.action(description=_("Push the selected failed blocks again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[CloudflareBlock]) -> None:
        from security import tasks

        failed = list(queryset.filter(status=CloudflareBlock.Status.FAILED))
        for block in failed:
            tasks.cloudflare_block_push.delay(block_id=block.pk)
        messages.success(request, _("%(count)d blocks queued again.") % {"count": len(failed)})


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "kind", "content_type", "size", "owner", "tenant", "created_at"]
    list_filter = ["kind", "content_type", "tenant"]
    search_fields = ["uuid", "sha256", "owner__email", "original_name"]
    list_select_related = ["owner", "tenant"]
