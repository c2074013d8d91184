from django.contrib import admin

from spark.llm.models import LLMModel


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
