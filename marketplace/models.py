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
