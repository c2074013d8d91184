from django.contrib import admin
from django.http import HttpRequest

from spark.llm.models import LLMModel, ToolPrice, UserProviderKey


@admin.register(LLMModel)
class LLMModelAdmin(admin.ModelAdmin[LLMModel]):
    list_display = [
        "display_name",
        "slug",
        "provider",
        "model_id",
        "input_price",
        "output_price",
        "cached_input_price",
        "context_window",
        "is_active",
        "position",
    ]
    list_editable = ["is_active", "position"]
    list_filter = ["provider", "is_active", "supports_tools", "supports_vision"]
    search_fields = ["display_name", "slug", "model_id"]
    prepopulated_fields = {"slug": ("display_name",)}


@admin.register(UserProviderKey)
class UserProviderKeyAdmin(admin.ModelAdmin[UserProviderKey]):
    """Users' own keys: staff see the mask, never the key, and cannot add one for a user."""

    list_display = ["user", "provider", "label", "masked", "last_test_ok", "created_at"]
    list_filter = ["provider", "last_test_ok"]
    search_fields = ["user__email", "label"]
    list_select_related = ["user"]
    readonly_fields = (
        "user",
        "tenant",
        "provider",
        "label",
        "masked",
        "last_tested_at",
        "last_test_ok",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ToolPrice)
class ToolPriceAdmin(admin.ModelAdmin[ToolPrice]):
    list_display = ["tool", "variant", "price"]
    list_editable = ["price"]
    list_filter = ["tool"]
