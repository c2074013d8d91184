"""Security records: the audit log, bans and their history, Cloudflare blocks, stored files.

The live ban state (is this IP banned right now?) is in the cache, shared by every web
instance; these rows are the durable history the admin shows and the audit trail.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager


class AuditLogEntry(models.Model):
    """Who did what, to which object, when and from where. Append-only."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("Admin console")
        APP = "app", _("Application")
        SYSTEM = "system", _("System")
        SECURITY = "security", _("Security")

    class Action(models.TextChoices):
        ADD = "add", _("Added")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")
        ACTION = "action", _("Admin action")
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
        SIGN_OUT = "sign_out", _("Signed out")
        API_KEY_CREATE = "api_key_create", _("API key created")
        API_KEY_REVOKE = "api_key_revoke", _("API key revoked")
        API_KEY_REJECTED = "api_key_rejected", _("Invalid API key used")
        ROLE_CHANGE = "role_change", _("Role changed")
        BAN = "ban", _("Client banned")
        UNBAN = "unban", _("Client unbanned")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    action = models.CharField(_("action"), max_length=32, db_index=True, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(_("who (email)"), max_length=254, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["ip", "-created_at"]),
            models.Index(fields=["action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_email or 'system'} {self.action} {self.object_repr}"


class Ban(models.Model):
    """One ban of one client IP: why, for how long, and whether staff lifted it."""

    class Reason(models.TextChoices):
        RULE = "rule", _("Matched a block rule")
        NOT_FOUND = "not_found", _("Repeated 404s")
        AUTH_FAILURES = "auth_failures", _("Repeated failed sign-ins")
        MANUAL = "manual", _("Banned by staff")

    created_at = models.DateTimeField(_("banned at"), auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    category = models.CharField(_("rule category"), max_length=40, blank=True)
    pattern = models.CharField(_("rule"), max_length=200, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    offence = models.PositiveIntegerField(_("offence number"), default=1)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("ban history")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["ip", "-created_at"]),
            models.Index(fields=["reason", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.ip} ({self.get_reason_display()})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and self.expires_at > timezone.now()


class ActiveBan(Ban):
    """The bans in force now (a proxy, so the admin can list them apart with an unban action)."""

    class Meta:
        proxy = True
        verbose_name = _("active ban")
        verbose_name_plural = _("active bans")


class CloudflareBlock(BaseModel):
    """A persistent offender pushed to Cloudflare as an IP access rule (and later removed)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active at Cloudflare")
        FAILED = "failed", _("Failed (retrying)")
        REMOVED = "removed", _("Removed")

    OPEN = (Status.PENDING, Status.ACTIVE, Status.FAILED)

    ip = models.GenericIPAddressField(_("IP address"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    rule_id = models.CharField(_("Cloudflare rule id"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Cloudflare block")
        verbose_name_plural = _("Cloudflare blocks")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ip"],
                condition=models.Q(status__in=["pending", "active", "failed"]),
                name="security_cloudflare_one_open_block_per_ip",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ip} ({self.get_status_display()})"


class StoredFile(BaseModel):
    """An uploaded file: checked, re-encoded when it is an image, stored under a generated key.

    The client's file name is kept for display only; it never reaches a storage path.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        AVATAR = "avatar", _("Avatar")
        DOCUMENT = "document", _("Document")
        AUDIO = "audio", _("Audio")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stored_files"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    storage_key = models.CharField(_("storage key"), max_length=200, unique=True, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("original name"), max_length=200, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "owner", "-created_at"])]

    def __str__(self) -> str:
        return self.original_name or str(self.uuid)
