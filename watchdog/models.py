"""The watchdog's rows: a prompt's policy, a conversation's supervision, every verdict.

``WatchdogPolicy`` is edited by the prompt's creator and in the admin; ``Supervision`` is
the escalation state of one conversation, written only by compare-and-set (its
``version``); ``WatchdogEvent`` records each verdict, what was done about it and what the
evaluator cost; ``JudgedText`` remembers which client-supplied texts were already judged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager


class Mode(models.TextChoices):
    """Post-watchdog presets; each brings a default steering persona (watchdog.presets)."""

    INTERVIEW = "interview", _("Interview")
    COACHING = "coaching", _("Coaching")
    EDUCATION = "education", _("Education")
    CUSTOM = "custom", _("Custom")


class FailureMode(models.TextChoices):
    """What the pre-watchdog does with a message when its evaluator fails or times out."""

    AUTO = "auto", _("Block for public or paid prompts, allow for the others")
    BLOCK = "block", _("Block the message")
    ALLOW = "allow", _("Let the message through")


class Stage(models.TextChoices):
    PRE = "pre", _("Pre-watchdog")
    POST = "post", _("Post-watchdog")
    OUTPUT = "output", _("Output guard")


class Verdict(models.TextChoices):
    ALLOW = "allow", _("Allow")
    STEER = "steer", _("Steer")
    BLOCK = "block", _("Block")


class EventType(models.TextChoices):
    """The pre-watchdog's categories and the post-watchdog's event types, in one list."""

    NONE = "none", _("None")
    SYSTEM_INFO_EXTRACTION = "system_info_extraction", _("System information extraction")
    PROMPT_INJECTION = "prompt_injection", _("Prompt injection")
    MALICIOUS_CODE = "malicious_code", _("Malicious code")
    JAILBREAK = "jailbreak", _("Jailbreak")
    OFF_TOPIC = "off_topic", _("Off topic")
    DRIFT = "drift", _("Drift")
    RABBIT_HOLE = "rabbit_hole", _("Rabbit hole")
    STUCK = "stuck", _("Stuck")
    INCONSISTENCY = "inconsistency", _("Inconsistency")
    SATURATION = "saturation", _("Saturation")
    SECURITY = "security", _("Security")
    ROLE_BREACH = "role_breach", _("Role breach")


PRE_CATEGORIES = (
    "system_info_extraction",
    "prompt_injection",
    "malicious_code",
    "jailbreak",
    "off_topic",
    "none",
)
POST_EVENT_TYPES = (
    "drift",
    "rabbit_hole",
    "stuck",
    "inconsistency",
    "saturation",
    "security",
    "role_breach",
    "none",
)


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    NUDGE = "nudge", _("Nudge")
    REDIRECT = "redirect", _("Redirect")
    ALERT = "alert", _("Alert")


class Level(models.IntegerChoices):
    """The escalation ladder of a conversation."""

    NONE = 0, _("None")
    STEERING = 1, _("Steering")
    DIRECTIVE = 2, _("Directive")
    REPEATED_DIRECTIVE = 3, _("Repeated directive")
    OVERRIDE = 4, _("Override")
    TAKEOVER = 5, _("Takeover")


class Action(models.TextChoices):
    """What the watchdog did about a verdict."""

    NONE = "none", _("Nothing")
    HINT = "hint", _("Hint for the next reply")
    STEERED = "steered", _("Hint for this reply")
    BLOCKED = "blocked", _("Message blocked")
    TAKEOVER = "takeover", _("Watchdog answers")
    LOCKED = "locked", _("Conversation locked")
    FAILED_OPEN = "failed_open", _("Evaluator failed: allowed")
    FAILED_CLOSED = "failed_closed", _("Evaluator failed: blocked")
    FAILED = "failed", _("Evaluator failed: no change")
    STALE = "stale", _("Too late: not applied")


class WatchdogPolicy(BaseModel):
    """How the watchdog supervises a prompt's conversations (pre and post sections)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    prompt = models.OneToOneField(
        "marketplace.Prompt", on_delete=models.CASCADE, related_name="watchdog_policy"
    )

    # Pre-watchdog: before the model is called.
    pre_enabled = models.BooleanField(_("pre-watchdog on"), default=True)
    pre_model = models.ForeignKey(
        "llm.LLMModel",
        verbose_name=_("pre-watchdog evaluator model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the platform's default evaluator, else the conversation's model."),
    )
    pre_objectives = models.JSONField(_("pre-watchdog objectives"), default=list, blank=True)
    pre_steering = models.TextField(_("pre-watchdog steering prompt"), blank=True)
    pre_frequency = models.PositiveSmallIntegerField(
        _("pre-watchdog frequency"),
        default=1,
        help_text=_(
            "The LLM guard judges every Nth user message; messages the local screen flags "
            "are always judged."
        ),
    )
    pre_may_take_over = models.BooleanField(_("pre-watchdog may take over"), default=False)
    pre_may_lock = models.BooleanField(_("pre-watchdog may lock"), default=True)
    failure_mode = models.CharField(
        _("when the guard fails"),
        max_length=8,
        choices=FailureMode.choices,
        default=FailureMode.AUTO,
    )

    # Post-watchdog: after each answer, in a worker.
    post_enabled = models.BooleanField(_("post-watchdog on"), default=True)
    post_model = models.ForeignKey(
        "llm.LLMModel",
        verbose_name=_("post-watchdog evaluator model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the platform's default evaluator, else the conversation's model."),
    )
    post_objectives = models.JSONField(_("post-watchdog objectives"), default=list, blank=True)
    post_steering = models.TextField(_("post-watchdog steering prompt"), blank=True)
    post_frequency = models.PositiveSmallIntegerField(
        _("post-watchdog frequency"),
        default=3,
        help_text=_("The post-watchdog judges the conversation after every Nth user message."),
    )
    post_may_take_over = models.BooleanField(_("post-watchdog may take over"), default=True)
    post_may_lock = models.BooleanField(_("post-watchdog may lock"), default=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.CUSTOM)
    hint_max_chars = models.PositiveSmallIntegerField(_("maximum hint length"), default=400)
    takeover_threshold = models.PositiveSmallIntegerField(
        _("takeover threshold"),
        default=5,
        help_text=_("After this many ignored hints the watchdog's model answers instead."),
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("watchdog policy")
        verbose_name_plural = _("watchdog policies")
        indexes = [models.Index(fields=["tenant", "prompt"])]

    def __str__(self) -> str:
        return str(_("Watchdog policy of %(prompt)s") % {"prompt": self.prompt})


class Supervision(BaseModel):
    """The escalation state of one conversation, written by compare-and-set on ``version``.

    ``memory`` holds the last verdicts in message order; the derived fields (``consecutive``,
    ``ignored``, ``level``, ``pending_hint``, ``takeover``) are recomputed from ``base_*`` and
    ``memory`` on every write, so verdicts that arrive out of order are folded in order.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        "chat.Conversation", on_delete=models.CASCADE, related_name="supervision"
    )
    version = models.PositiveIntegerField(default=0)
    consecutive = models.PositiveIntegerField(_("consecutive flags"), default=0)
    ignored = models.PositiveIntegerField(_("ignored hints"), default=0)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=0)
    pending_hint = models.TextField(_("pending hint"), blank=True)
    takeover = models.BooleanField(_("takeover"), default=False)
    # The state before ``memory`` (verdicts that fell out of the window).
    base_consecutive = models.PositiveIntegerField(default=0)
    base_ignored = models.PositiveIntegerField(default=0)
    base_hint = models.TextField(blank=True)
    memory = models.JSONField(default=list, blank=True)
    # Verdicts about messages up to this id are too late to change the state.
    floor_message_id = models.BigIntegerField(default=0)
    evaluations = models.PositiveIntegerField(_("evaluations"), default=0)

    objects = TenantManager()

    class Meta:
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        indexes = [models.Index(fields=["tenant", "-updated_at"])]

    def __str__(self) -> str:
        return str(_("Supervision of %(conversation)s") % {"conversation": self.conversation_id})


class WatchdogEvent(models.Model):
    """One verdict of the watchdog, what was done about it, and what the evaluator cost."""

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The answer of the turn: the pre-watchdog judged its user message, the post-watchdog it.
    message = models.ForeignKey(
        "chat.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prompt = models.ForeignKey(
        "marketplace.Prompt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices)
    event_type = models.CharField(
        _("event type"), max_length=32, choices=EventType.choices, default=EventType.NONE
    )
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.INFO
    )
    confidence = models.FloatField(_("confidence"), default=0.0)
    rationale = models.TextField(_("rationale"), blank=True)
    hint = models.TextField(_("hint"), blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=0)
    action = models.CharField(
        _("action"), max_length=16, choices=Action.choices, default=Action.NONE
    )
    rule = models.CharField(_("screen rule"), max_length=64, blank=True)
    evaluator_model = models.ForeignKey(
        "llm.LLMModel",
        verbose_name=_("evaluator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    evaluator_slug = models.CharField(_("evaluator"), max_length=120, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    cost_micros = models.BigIntegerField(_("cost (µ$)"), default=0)
    key_source = models.CharField(max_length=16, default="platform")
    error = models.CharField(_("error"), max_length=500, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("watchdog event")
        verbose_name_plural = _("watchdog events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["prompt", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "stage"],
                condition=Q(message__isnull=False),
                name="watchdog_event_once_per_message_and_stage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.verdict} {self.event_type} ({self.severity})"

    @property
    def failed(self) -> bool:
        return bool(self.error)


class JudgedText(models.Model):
    """Text a client supplied that the pre-watchdog let through, kept as a digest only.

    An OpenAI client re-sends the whole conversation on every call; what was judged once
    (under the same policy, for the same user) is not judged again. ``scope`` names the
    prompt and a fingerprint of its pre-watchdog settings, so a changed policy judges
    afresh; a row older than ``SPARK_WATCHDOG_JUDGED_TTL_SECONDS`` no longer counts.
    """

    created_at = models.DateTimeField(_("judged"), default=timezone.now)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    objects = TenantManager()

    class Meta:
        verbose_name = _("judged text")
        verbose_name_plural = _("judged texts")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "scope", "digest"], name="watchdog_judged_text_once"
            )
        ]

    def __str__(self) -> str:
        return self.digest
