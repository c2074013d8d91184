"""Prompts as products: the core of ``Prompt`` and the categories it is filed under."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager


class Category(BaseModel):
    """A marketplace category (platform-wide). Age-restricted ones need an adult user."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    icon = models.CharField(_("icon"), max_length=16, blank=True, help_text=_("An emoji."))
    age_restricted = models.BooleanField(_("age-restricted"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Prompt(BaseModel):
    """A prompt is a product: a system prompt with a model policy, tools and a page."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: listed in the catalogue")
        UNLISTED = "unlisted", _("Unlisted: anyone with the link")
        PRIVATE = "private", _("Private: only me")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="prompts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prompts"
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    avatar = models.ImageField(_("avatar"), upload_to="prompt-avatars/", blank=True)
    system_prompt = models.TextField(_("system prompt"), max_length=50_000)
    default_model = models.ForeignKey(
        "llm.LLMModel",
        verbose_name=_("default model"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    allowed_models = models.ManyToManyField(
        "llm.LLMModel",
        verbose_name=_("allowed models"),
        blank=True,
        related_name="+",
        help_text=_("Models users may pick. Empty: only the default model."),
    )
    forced_model = models.ForeignKey(
        "llm.LLMModel",
        verbose_name=_("forced model"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("If set, every conversation uses this model whatever users pick."),
    )
    hide_model_name = models.BooleanField(
        _("hide the model name"),
        default=False,
        help_text=_("Users see the prompt's name instead of the model's."),
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    enabled_tools = models.JSONField(
        _("enabled tools"),
        default=list,
        blank=True,
        help_text=_("Names of the tools the model may call."),
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prompts",
    )
    starter_messages = models.JSONField(
        _("conversation starters"),
        default=list,
        blank=True,
        help_text=_("Suggested first messages shown in a new chat."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "slug"], name="marketplace_prompt_slug_per_tenant"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "visibility", "is_active"]),
            models.Index(fields=["tenant", "owner"]),
        ]

    def __str__(self) -> str:
        return self.name


class LandingPage(BaseModel):
    """A prompt's landing page, served on ``<subdomain>.<SPARK_LANDING_DOMAIN>``.

    Every save is a ``LandingPageVersion``; visitors see the published one (or, with none
    published, the built-in page made from the prompt's own fields).
    """

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="landing_pages"
    )
    prompt = models.OneToOneField(Prompt, on_delete=models.CASCADE, related_name="landing_page")
    subdomain = models.CharField(_("subdomain"), max_length=63, unique=True)
    published_version = models.ForeignKey(
        "LandingPageVersion",
        verbose_name=_("published version"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("landing page")
        verbose_name_plural = _("landing pages")
        indexes = [models.Index(fields=["tenant", "prompt"])]

    def __str__(self) -> str:
        return self.subdomain


class LandingPageVersion(BaseModel):
    """One saved state of a landing page: its source, and the sanitised HTML served."""

    class Format(models.TextChoices):
        HTML = "html", _("HTML")
        MARKDOWN = "markdown", _("Markdown")

    class Origin(models.TextChoices):
        EDITOR = "editor", _("Written in the editor")
        WIZARD = "wizard", _("Designed by the AI wizard")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("page title"), max_length=120)
    description = models.CharField(_("page description"), max_length=300, blank=True)
    source_format = models.CharField(
        _("format"), max_length=16, choices=Format.choices, default=Format.HTML
    )
    source = models.TextField(_("page source"))
    css = models.TextField(_("stylesheet"), blank=True)
    css_hash = models.CharField(max_length=64, blank=True)
    html = models.TextField(_("sanitised HTML"))
    origin = models.CharField(
        _("made by"), max_length=16, choices=Origin.choices, default=Origin.EDITOR
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    wizard_brief = models.JSONField(_("wizard answers"), default=dict, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("landing page version")
        verbose_name_plural = _("landing page versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "number"], name="marketplace_landing_version_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "page", "css_hash"])]

    def __str__(self) -> str:
        return f"{self.page} v{self.number}"


class LandingDailyStat(models.Model):
    """A landing page's counts for one day (UTC): the only analytics kept for long."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="landing_stats")
    day = models.DateField(_("day"))
    visits = models.PositiveIntegerField(_("visits"), default=0)
    unique_visitors = models.PositiveIntegerField(_("unique visitors"), default=0)
    bot_visits = models.PositiveIntegerField(_("visits by bots"), default=0)
    cta_clicks = models.PositiveIntegerField(_("call-to-action clicks"), default=0)

    objects = TenantManager()

    class Meta:
        verbose_name = _("landing page daily count")
        verbose_name_plural = _("landing page daily counts")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "day"], name="marketplace_landing_stat_day"),
        ]
        indexes = [models.Index(fields=["tenant", "prompt", "day"])]

    def __str__(self) -> str:
        return f"{self.prompt_id} {self.day}"


class LandingVisitor(models.Model):
    """That someone visited a page on a day, as a keyed hash that changes every day.

    The hash is an HMAC of the address and user agent with a key derived from the secret
    key and the day, so it cannot be reversed, nor linked across days; rows are deleted
    after SPARK_LANDING_VISITOR_HASH_DAYS. Only ``LandingDailyStat`` is kept.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    fingerprint = models.CharField(max_length=64)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "day", "fingerprint"], name="marketplace_landing_visitor_day"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "day"])]

    def __str__(self) -> str:
        return f"{self.prompt_id} {self.day}"


class PromptDomain(BaseModel):
    """A domain a creator owns that serves one prompt's landing page (``marketplace.domains``).

    ``hostname`` is the ASCII (punycode) form, lowercase, unique platform-wide: a host
    serves one site. Lifecycle: unverified → pending → verified → active, plus ``failed``
    (not verified in time) and ``suspended`` (a re-check failed: it stops serving).
    """

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Waiting for its DNS records")
        PENDING = "pending", _("Checking its DNS records")
        VERIFIED = "verified", _("Verified: ready to activate")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Not verified in time")
        SUSPENDED = "suspended", _("Suspended: its DNS records changed")

    class Method(models.TextChoices):
        CNAME = "cname", _("CNAME record")
        TXT = "txt", _("TXT and address records")

    SERVING = (Status.ACTIVE,)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="domains")
    hostname = models.CharField(_("domain"), max_length=253, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UNVERIFIED
    )
    token = models.CharField(_("verification token"), max_length=64, editable=False)
    verified_by = models.CharField(
        _("verified by"), max_length=8, choices=Method.choices, blank=True
    )
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    check_failures = models.PositiveIntegerField(_("failed checks in a row"), default=0)
    last_error = models.CharField(_("last problem"), max_length=300, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended"), null=True, blank=True)
    fee_reference = models.CharField(
        _("slot fee"), max_length=80, blank=True, help_text=_("The ledger's key for the fee paid.")
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("prompt domain")
        verbose_name_plural = _("prompt domains")
        ordering = ["hostname"]
        indexes = [
            models.Index(fields=["tenant", "prompt"]),
            models.Index(fields=["status", "next_check_at"]),
        ]

    def __str__(self) -> str:
        return self.hostname

    @property
    def display_hostname(self) -> str:
        """The domain as people write it (Unicode for an IDN)."""
        from marketplace.domains import hostname_display

        return hostname_display(self.hostname)
