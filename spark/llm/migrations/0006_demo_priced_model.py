"""A priced offline model: the demo's wallet, prices and refusals can be seen working.

"Demo Plus" answers like the free demo model (offline, no AI) but costs $1 / $4 per
million input / output tokens, so a chat with it is charged to the demo wallet (which
``seed_demo`` credits with a little money) and refused once the wallet is empty.
"""

from django.db import migrations

M = 1_000_000  # micro-USD per USD


def seed(apps, schema_editor):
    apps.get_model("llm", "LLMModel").objects.update_or_create(
        slug="demo-plus",
        defaults={
            "provider": "demo",
            "model_id": "demo-plus",
            "display_name": "Demo Plus (offline, priced)",
            "input_price": 1 * M,
            "output_price": 4 * M,
            "cached_input_price": 0,
            "context_window": 32_000,
            "max_output_tokens": 1_024,
            "position": 5,
            "supports_tools": True,
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("llm", "LLMModel").objects.filter(slug="demo-plus").delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0005_seed_tool_prices")]

    operations = [migrations.RunPython(seed, unseed)]
