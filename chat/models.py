"""Conversations, their messages, and the folders users file them in."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager

FEEDBACK_REASON_MAX = 1000


class Folder(BaseModel):
    """A user's folder of conversations; folders nest."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_folders"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=80)
    color = models.CharField(_("colour"), max_length=7, blank=True)
    position = models.IntegerField(_("position"), default=0)

    objects = TenantManager()

    class Meta:
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        ordering = ["position", "name"]
        indexes = [models.Index(fields=["tenant", "user", "parent"])]

    def __str__(self) -> str:
        return self.name


class Conversation(BaseModel):
    class Source(models.TextChoices):
        WEB = "web", _("Chat")
        API = "api", _("API")
        WHATSAPP = "whatsapp", _("WhatsApp")
        VOICE = "voice", _("Voice")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    source = models.CharField(
        _("started from"), max_length=16, choices=Source.choices, default=Source.WEB
    )
    system_prompt = models.TextField(
        _("system prompt"),
        blank=True,
        max_length=50_000,
        help_text=_("For conversations without a prompt; with one, added to its instructions."),
    )
    folder = models.ForeignKey(
        Folder, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    position = models.IntegerField(_("position"), default=0)
    prompt = models.ForeignKey(
        "marketplace.Prompt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.ForeignKey(
        "llm.LLMModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    alter_ego = models.ForeignKey(
        "accounts.AlterEgo", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    lock_reason = models.CharField(_("lock reason"), max_length=200, blank=True)
    # Pinned ones head the sidebar; archived ones leave it (and stay searchable).
    pinned_at = models.DateTimeField(_("pinned"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["tenant", "user", "-last_activity_at"]),
            models.Index(fields=["tenant", "user", "folder", "position"]),
        ]

    def __str__(self) -> str:
        return self.title or str(self.uuid)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Message(BaseModel):
    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")
        TOOL = "tool", _("Tool")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("Streaming")
        COMPLETE = "complete", _("Complete")
        INTERRUPTED = "interrupted", _("Interrupted")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        BLOCKED = "blocked", _("Blocked")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    content = models.TextField(_("content"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COMPLETE
    )
    client_id = models.CharField(max_length=64, blank=True)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        help_text=_("For an assistant message: the user message it answers."),
    )
    model_label = models.CharField(_("model"), max_length=120, blank=True)
    tool_calls = models.JSONField(default=list, blank=True)
    tool_call_id = models.CharField(max_length=120, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_micros = models.BigIntegerField(_("cost (µ$)"), default=0)
    # What the cost is made of: [{"kind", "detail", "cost_micros"}] (chat.costs).
    cost_parts = models.JSONField(default=list, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    superseded = models.BooleanField(
        default=False, help_text=_("Replaced by an edit or a regeneration; kept for the record.")
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "conversation", "created_at"]),
            models.Index(fields=["status", "updated_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~models.Q(client_id=""),
                name="chat_message_client_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ConversationShare(BaseModel):
    """A read-only link to a snapshot of a conversation, opened by anyone with the link.

    The snapshot is taken when the link is made (later messages are not in it) and holds
    only what a reader may see: the title, the prompt's name, and each message's role,
    text and model label. Never the system prompt, the user's own instructions, their
    alter ego or their e-mail. Revoking keeps the row (the link answers 404 from then on).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    token = models.CharField(max_length=64, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    prompt_name = models.CharField(_("prompt"), max_length=200, blank=True)
    # The prompt's uuid, so that a viewer may continue with it if they can use it.
    prompt_key = models.CharField(max_length=64, blank=True, editable=False)
    # [{"role", "content", "model_label", "created_at"}], oldest first (chat.services).
    messages = models.JSONField(default=list, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("shared conversation")
        verbose_name_plural = _("shared conversations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "conversation", "-created_at"])]

    def __str__(self) -> str:
        return self.title or str(self.uuid)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MessageFeedback(BaseModel):
    """The user's thumbs up or down on an answer, with an optional reason (one per answer).

    ``prompt`` is the conversation's prompt when rated, so that its creator's statistics
    count ratings without reading conversations.
    """

    class Rating(models.TextChoices):
        UP = "up", _("Good answer")
        DOWN = "down", _("Bad answer")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(
        "marketplace.Prompt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.CharField(_("rating"), max_length=8, choices=Rating.choices)
    reason = models.TextField(_("reason"), blank=True, max_length=FEEDBACK_REASON_MAX)

    objects = TenantManager()

    class Meta:
        verbose_name = _("answer feedback")
        verbose_name_plural = _("answer feedback")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["prompt", "rating", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}: {self.reason[:40]}"
