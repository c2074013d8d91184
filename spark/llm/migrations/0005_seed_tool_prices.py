"""Tool prices at their providers' list prices (December 2026; staff edit them in the
admin): gpt-image-1 per image by size and quality, a web search call."""

from django.db import migrations

PRICES = {
    ("generate_image", "1024x1024/low"): 11_000,
    ("generate_image", "1024x1024/medium"): 42_000,
    ("generate_image", "1024x1024/high"): 167_000,
    ("generate_image", "1024x1536/low"): 16_000,
    ("generate_image", "1024x1536/medium"): 63_000,
    ("generate_image", "1024x1536/high"): 250_000,
    ("generate_image", "1536x1024/low"): 16_000,
    ("generate_image", "1536x1024/medium"): 63_000,
    ("generate_image", "1536x1024/high"): 250_000,
    ("web_search", ""): 5_000,
}


def seed(apps, schema_editor):
    ToolPrice = apps.get_model("llm", "ToolPrice")
    for (tool, variant), price in PRICES.items():
        ToolPrice.objects.get_or_create(tool=tool, variant=variant, defaults={"price": price})


def unseed(apps, schema_editor):
    ToolPrice = apps.get_model("llm", "ToolPrice")
    for tool, variant in PRICES:
        ToolPrice.objects.filter(tool=tool, variant=variant).delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0004_tool_prices")]

    operations = [migrations.RunPython(seed, unseed)]
