"""Admin console: prompts (moderation) and the marketplace's categories."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from marketplace import services
from marketplace.forms import PromptAdminForm
from marketplace.models import Category, Prompt


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin[Prompt]):
    form = PromptAdminForm
    list_display = [
        "name",
        "slug",
        "tenant",
        "owner",
        "visibility",
        "category",
        "default_model",
        "is_active",
        "updated_at",
    ]
    list_filter = [
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "visibility",
        "category",
        "is_active",
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["tenant", "owner", "category", "default_model"]
    search_fields = ["name", "slug", "description", "owner__email", "tenant__name"]
    autocomplete_fields = ["owner", "tenant", "default_model", "forced_model"]
    filter_horizontal = ["allowed_models"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    actions = ["switch_off", "switch_on"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "uuid", "tenant", "owner", "is_active")}),
        (_("Listing"), {"fields": ("description", "avatar", "category", "visibility")}),
        (_("Behaviour"), {"fields": ("system_prompt", "starter_messages", "enabled_tools")}),
        (
            _("Models"),
            {"fields": ("default_model", "allowed_models", "forced_model", "hide_model_name")},
        ),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.action(description=_("Switch off selected prompts (hidden, no new chats)"))
    def switch_off(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        services.prompts_set_active(prompts=queryset, is_active=False)

    @admin.action(description=_("Switch on selected prompts"))
    def switch_on(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        services.prompts_set_active(prompts=queryset, is_active=True)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "slug", "icon", "age_restricted", "position"]
    list_editable = ["age_restricted", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
