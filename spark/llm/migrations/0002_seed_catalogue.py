"""The model catalogue Spark ships with (prices in micro-USD per million tokens).

Prices are the providers' list prices when this migration was written; staff edit them
in the admin. The demo model needs no key and no network.
"""

from django.db import migrations

M = 1_000_000  # micro-USD per USD

CATALOGUE = [
    # slug, provider, model id, display name, in $, out $, cached $, context, max out, flags
    ("demo", "demo", "demo", "Demo (offline)", 0, 0, 0, 32_000, 4_096, {"supports_tools": True}),
    (
        "openai-gpt-4-1",
        "openai",
        "gpt-4.1",
        "GPT-4.1",
        2.00,
        8.00,
        0.50,
        1_047_576,
        32_768,
        {"supports_vision": True, "supports_caching": True},
    ),
    (
        "openai-gpt-4-1-mini",
        "openai",
        "gpt-4.1-mini",
        "GPT-4.1 mini",
        0.40,
        1.60,
        0.10,
        1_047_576,
        32_768,
        {"supports_vision": True, "supports_caching": True},
    ),
    (
        "openai-gpt-4o",
        "openai",
        "gpt-4o",
        "GPT-4o",
        2.50,
        10.00,
        1.25,
        128_000,
        16_384,
        {"supports_vision": True, "supports_caching": True},
    ),
    (
        "openai-gpt-4o-mini",
        "openai",
        "gpt-4o-mini",
        "GPT-4o mini",
        0.15,
        0.60,
        0.075,
        128_000,
        16_384,
        {"supports_vision": True, "supports_caching": True},
    ),
    (
        "openai-o4-mini",
        "openai",
        "o4-mini",
        "o4-mini",
        1.10,
        4.40,
        0.275,
        200_000,
        100_000,
        {"supports_vision": True, "supports_thinking": True, "supports_caching": True},
    ),
    (
        "openai-gpt-image-1",
        "openai",
        "gpt-image-1",
        "GPT Image 1",
        5.00,
        40.00,
        1.25,
        32_000,
        4_096,
        {"supports_tools": False, "supports_image_output": True, "is_active": False},
    ),
    (
        "anthropic-claude-sonnet-4",
        "anthropic",
        "claude-sonnet-4-20250514",
        "Claude Sonnet 4",
        3.00,
        15.00,
        0.30,
        200_000,
        64_000,
        {"supports_vision": True, "supports_thinking": True, "supports_caching": True},
    ),
    (
        "anthropic-claude-opus-4",
        "anthropic",
        "claude-opus-4-20250514",
        "Claude Opus 4",
        15.00,
        75.00,
        1.50,
        200_000,
        32_000,
        {"supports_vision": True, "supports_thinking": True, "supports_caching": True},
    ),
    (
        "anthropic-claude-3-5-haiku",
        "anthropic",
        "claude-3-5-haiku-20241022",
        "Claude 3.5 Haiku",
        0.80,
        4.00,
        0.08,
        200_000,
        8_192,
        {"supports_vision": True, "supports_caching": True},
    ),
    (
        "gemini-2-5-pro",
        "gemini",
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        1.25,
        10.00,
        0.31,
        1_048_576,
        65_536,
        {"supports_vision": True, "supports_thinking": True, "supports_caching": True},
    ),
    (
        "gemini-2-5-flash",
        "gemini",
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        0.30,
        2.50,
        0.075,
        1_048_576,
        65_536,
        {"supports_vision": True, "supports_thinking": True, "supports_caching": True},
    ),
    ("xai-grok-3", "xai", "grok-3", "Grok 3", 3.00, 15.00, 0.75, 131_072, 16_384, {}),
    (
        "xai-grok-3-mini",
        "xai",
        "grok-3-mini",
        "Grok 3 mini",
        0.30,
        0.50,
        0.075,
        131_072,
        16_384,
        {"supports_thinking": True},
    ),
    (
        "openrouter-llama-3-3-70b",
        "openrouter",
        "meta-llama/llama-3.3-70b-instruct",
        "Llama 3.3 70B (OpenRouter)",
        0.13,
        0.40,
        0,
        131_072,
        8_192,
        {},
    ),
    (
        "ollama-llama3-1",
        "openai_compatible",
        "llama3.1",
        "Llama 3.1 (local Ollama)",
        0,
        0,
        0,
        128_000,
        8_192,
        {"base_url": "http://127.0.0.1:11434/v1", "is_active": False},
    ),
]


def seed(apps, schema_editor):
    LLMModel = apps.get_model("llm", "LLMModel")
    for position, (
        slug,
        provider,
        model_id,
        name,
        p_in,
        p_out,
        p_cached,
        context,
        max_out,
        flags,
    ) in enumerate(CATALOGUE):
        LLMModel.objects.update_or_create(
            slug=slug,
            defaults={
                "provider": provider,
                "model_id": model_id,
                "display_name": name,
                "input_price": round(p_in * M),
                "output_price": round(p_out * M),
                "cached_input_price": round(p_cached * M),
                "context_window": context,
                "max_output_tokens": max_out,
                "position": position * 10,
                **flags,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("llm", "LLMModel").objects.filter(
        slug__in=[row[0] for row in CATALOGUE]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
