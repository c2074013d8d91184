"""The model catalogue (which models Spark offers, at what price, with which abilities) and
users' own provider keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager

MICROS_PER_USD = 1_000_000


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GEMINI = "gemini", "Google Gemini"
    XAI = "xai", "xAI"
    OPENROUTER = "openrouter", "OpenRouter"
    OPENAI_COMPATIBLE = "openai_compatible", _("OpenAI-compatible server (Ollama, vLLM…)")
    DEMO = "demo", _("Demo (offline)")


class LLMModel(BaseModel):
    """A model in the catalogue. Prices are micro-USD per million tokens (integers)."""

    slug = models.SlugField(
        _("id"),
        max_length=120,
        unique=True,
        help_text=_("Public id used by the API, e.g. openai-gpt-4o."),
    )
    provider = models.CharField(_("provider"), max_length=32, choices=Provider.choices)
    model_id = models.CharField(_("provider's model id"), max_length=200)
    display_name = models.CharField(_("display name"), max_length=120)
    base_url = models.URLField(
        _("base URL"),
        blank=True,
        help_text=_("For OpenAI-compatible servers (Ollama, vLLM, LM Studio)."),
    )
    input_price = models.PositiveBigIntegerField(_("input price (µ$ per 1M tokens)"), default=0)
    output_price = models.PositiveBigIntegerField(_("output price (µ$ per 1M tokens)"), default=0)
    cached_input_price = models.PositiveBigIntegerField(
        _("cached input price (µ$ per 1M tokens)"), default=0
    )
    context_window = models.PositiveIntegerField(_("context window (tokens)"), default=128_000)
    max_output_tokens = models.PositiveIntegerField(_("max output tokens"), default=8_192)
    supports_tools = models.BooleanField(_("tools"), default=True)
    supports_vision = models.BooleanField(_("vision"), default=False)
    supports_thinking = models.BooleanField(_("thinking"), default=False)
    supports_caching = models.BooleanField(_("prompt caching"), default=False)
    supports_image_output = models.BooleanField(_("image output"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("model")
        verbose_name_plural = _("models")
        ordering = ["position", "display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model_id", "base_url"], name="llm_model_unique_per_provider"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def cost_micros(self, *, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> int:
        """The provider cost of a call, in micro-USD, rounded up to a whole micro-dollar."""
        uncached = max(input_tokens - cached_tokens, 0)
        total = (
            uncached * self.input_price
            + cached_tokens * self.cached_input_price
            + output_tokens * self.output_price
        )
        return -(-total // 1_000_000)  # ceiling division: never undercharge


class ToolPrice(BaseModel):
    """What one use of a tool costs the platform (its provider's list price), in micro-USD:
    an image by size and quality, a web search per call. Billing charges it with the
    platform's margin through the same ledger path as tokens."""

    tool = models.CharField(_("tool"), max_length=64, help_text=_("e.g. generate_image"))
    variant = models.CharField(
        _("variant"), max_length=64, blank=True, help_text=_("e.g. 1024x1024/medium")
    )
    price = models.PositiveBigIntegerField(_("price per use (µ$)"))

    class Meta:
        verbose_name = _("tool price")
        verbose_name_plural = _("tool prices")
        ordering = ["tool", "variant"]
        constraints = [
            models.UniqueConstraint(fields=["tool", "variant"], name="llm_one_price_per_tool_use")
        ]

    def __str__(self) -> str:
        return f"{self.tool} {self.variant}".strip()


class KeyMode(models.TextChoices):
    """Whose keys a user's calls may use (``accounts.User.llm_key_mode``)."""

    SYSTEM_ONLY = "system_only", _("Platform keys only")
    PREFER_OWN = "prefer_own", _("My own keys first, then the platform's")
    OWN_ONLY = "own_only", _("My own keys only")


class ByokProvider(models.TextChoices):
    """Providers for which users may bring their own key."""

    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GEMINI = "gemini", "Google Gemini"
    XAI = "xai", "xAI"
    OPENROUTER = "openrouter", "OpenRouter"


class UserProviderKey(BaseModel):
    """A user's own provider key (BYOK). Only its ciphertext and a mask are stored."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_keys"
    )
    provider = models.CharField(_("provider"), max_length=32, choices=ByokProvider.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    ciphertext = models.TextField(editable=False)
    first4 = models.CharField(max_length=4, editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    last_tested_at = models.DateTimeField(_("last tested"), null=True, blank=True)
    last_test_ok = models.BooleanField(_("last test passed"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("provider key")
        verbose_name_plural = _("provider keys")
        ordering = ["provider", "-created_at"]
        indexes = [models.Index(fields=["tenant", "user", "provider"])]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.masked}"

    @property
    def masked(self) -> str:
        """What the UI shows: ``sk-a…1234`` (first four and last four characters)."""
        return f"{self.first4}…{self.last4}"

    @property
    def key_id(self) -> str:
        """The key's id for health scoring and ``KeyUsed`` (never the key itself)."""
        return f"user:{self.uuid}"
