from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace import selectors
from marketplace.models import Category, Prompt
from spark.common import api_fields as strict
from spark.llm.models import MICROS_PER_USD, LLMModel


def usd_per_million(micros: int) -> str:
    """Micro-USD per 1M tokens as a USD decimal string: 2500000 → "2.50", 75000 → "0.075"."""
    value = (Decimal(micros) / Decimal(MICROS_PER_USD)).quantize(Decimal("0.000001"))
    whole, _dot, fraction = format(value, "f").rstrip("0").partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


DECIMAL_STRING = {"type": "string", "format": "decimal", "example": "2.50"}

# --- models --------------------------------------------------------------------------------


class CapabilitiesSerializer(serializers.Serializer[LLMModel]):
    tools = serializers.BooleanField(source="supports_tools")
    vision = serializers.BooleanField(source="supports_vision")
    thinking = serializers.BooleanField(source="supports_thinking")
    caching = serializers.BooleanField(source="supports_caching")
    image_output = serializers.BooleanField(source="supports_image_output")


class PricingSerializer(serializers.Serializer[LLMModel]):
    """Prices in USD per million tokens, as decimal strings (never floats)."""

    currency = serializers.SerializerMethodField()
    input_per_million = serializers.SerializerMethodField()
    output_per_million = serializers.SerializerMethodField()
    cached_input_per_million = serializers.SerializerMethodField()

    def get_currency(self, model: LLMModel) -> str:
        return "USD"

    @extend_schema_field(DECIMAL_STRING)
    def get_input_per_million(self, model: LLMModel) -> str:
        return usd_per_million(model.input_price)

    @extend_schema_field(DECIMAL_STRING)
    def get_output_per_million(self, model: LLMModel) -> str:
        return usd_per_million(model.output_price)

    @extend_schema_field(DECIMAL_STRING)
    def get_cached_input_per_million(self, model: LLMModel) -> str:
        return usd_per_million(model.cached_input_price)


class LLMModelSerializer(serializers.Serializer[LLMModel]):
    id = serializers.CharField(source="slug", help_text="The model's id in Spark's API.")
    name = serializers.CharField(source="display_name")
    provider = serializers.CharField()
    provider_name = serializers.CharField(source="get_provider_display")
    context_window = serializers.IntegerField()
    max_output_tokens = serializers.IntegerField()
    capabilities = CapabilitiesSerializer(source="*")
    pricing = PricingSerializer(source="*")


# --- prompts -------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["slug", "name", "icon", "age_restricted"]
        read_only_fields = fields


class ModelChoiceSerializer(serializers.Serializer[selectors.ModelChoice]):
    id = serializers.CharField(
        allow_null=True,
        help_text="The model id to start a chat with; null when the prompt hides its model.",
    )
    name = serializers.CharField(help_text="The model's name, or the prompt's when hidden.")
    is_default = serializers.BooleanField()
    context_window = serializers.IntegerField(source="model.context_window")
    capabilities = CapabilitiesSerializer(source="model")


def _avatar_url(prompt: Prompt, context: Mapping[str, Any]) -> str | None:
    if not prompt.avatar:
        return None
    request = context.get("request")
    url = prompt.avatar.url
    return request.build_absolute_uri(url) if request is not None else url


def _is_own(prompt: Prompt, context: Mapping[str, Any]) -> bool:
    request = context.get("request")
    return request is not None and prompt.owner_id == request.user.pk


class PromptListSerializer(serializers.Serializer[Prompt]):
    id = serializers.UUIDField(source="uuid")
    slug = serializers.CharField()
    chat_key = serializers.SerializerMethodField(
        help_text="What to pass as `prompt` when starting a chat (slug, or id for "
        "prompts from the platform catalogue)."
    )
    name = serializers.CharField()
    description = serializers.CharField()
    avatar_url = serializers.SerializerMethodField()
    category = CategorySerializer(allow_null=True)
    visibility = serializers.ChoiceField(choices=Prompt.Visibility.choices)
    creator = serializers.CharField(source="owner.display_name", help_text="May be empty.")
    is_own = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    def get_chat_key(self, prompt: Prompt) -> str:
        return selectors.prompt_chat_key(prompt=prompt, tenant=self.context.get("tenant"))

    def get_avatar_url(self, prompt: Prompt) -> str | None:
        return _avatar_url(prompt, self.context)

    def get_is_own(self, prompt: Prompt) -> bool:
        return _is_own(prompt, self.context)


class PromptConfigurationSerializer(serializers.ModelSerializer[Prompt]):
    """What only the prompt's owner sees: its instructions and model policy."""

    default_model: serializers.SlugRelatedField[LLMModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    allowed_models: Any = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    forced_model: serializers.SlugRelatedField[LLMModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Prompt
        fields = ["system_prompt", "default_model", "allowed_models", "forced_model"]
        read_only_fields = fields


class PromptDetailSerializer(PromptListSerializer):
    starter_messages = serializers.ListField(child=serializers.CharField())
    enabled_tools = serializers.ListField(child=serializers.CharField())
    hide_model_name = serializers.BooleanField()
    models = serializers.SerializerMethodField(
        help_text="The models a user may pick for this prompt, the default marked."
    )
    configuration = serializers.SerializerMethodField(
        help_text="The prompt's instructions and model policy: for its owner only, else null."
    )

    @extend_schema_field(ModelChoiceSerializer(many=True))
    def get_models(self, prompt: Prompt) -> Any:
        choices = selectors.prompt_model_choices(prompt=prompt)
        return ModelChoiceSerializer(choices, many=True).data  # type: ignore[arg-type]

    @extend_schema_field(PromptConfigurationSerializer(allow_null=True))
    def get_configuration(self, prompt: Prompt) -> Any:
        if not _is_own(prompt, self.context):
            return None
        return PromptConfigurationSerializer(prompt).data


class PromptWriteSerializer(serializers.Serializer[Prompt]):
    """A prompt's fields for its owner (the avatar is uploaded on the creator page)."""

    name = strict.CharField(max_length=120)
    slug = strict.CharField(max_length=120, required=False, allow_blank=True)
    description = strict.CharField(max_length=2000, required=False, allow_blank=True)
    system_prompt = strict.CharField(max_length=50_000)
    default_model = strict.SlugRelatedField(slug_field="slug", queryset=LLMModel.objects.all())
    allowed_models = strict.SlugRelatedField(
        slug_field="slug", queryset=LLMModel.objects.all(), many=True, required=False
    )
    forced_model = strict.SlugRelatedField(
        slug_field="slug", queryset=LLMModel.objects.all(), required=False, allow_null=True
    )
    hide_model_name = strict.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=Prompt.Visibility.choices, required=False)
    enabled_tools = serializers.ListField(child=strict.CharField(), required=False)
    category = strict.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    starter_messages = serializers.ListField(
        child=strict.CharField(allow_blank=True), required=False
    )


# --- custom domains ------------------------------------------------------------------------


class DnsRecordSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="CNAME, TXT, A or AAAA.")
    name = serializers.CharField()
    value = serializers.CharField()


class PromptDomainSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="uuid")
    prompt = serializers.UUIDField(source="prompt.uuid")
    hostname = serializers.CharField(help_text="The ASCII (punycode) form.")
    display_hostname = serializers.CharField(help_text="As people write it (Unicode).")
    status = serializers.ChoiceField(
        choices=["unverified", "pending", "verified", "active", "failed", "suspended"]
    )
    verified_by = serializers.CharField(help_text="cname, txt, or empty.")
    records = serializers.SerializerMethodField(
        help_text="The DNS records to create: the CNAME, or (for an apex domain) the TXT "
        "challenge and the address records."
    )
    last_error = serializers.CharField(help_text="Why the last check failed; empty if it passed.")
    last_checked_at = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(DnsRecordSerializer(many=True))
    def get_records(self, domain: Any) -> Any:
        from marketplace.domains import domain_records

        return DnsRecordSerializer(domain_records(domain), many=True).data


class PromptDomainWriteSerializer(serializers.Serializer[Any]):
    prompt = strict.CharField(max_length=120, help_text="The prompt's id or slug.")
    hostname = strict.CharField(max_length=300, allow_blank=True, help_text="e.g. chat.example.com")
