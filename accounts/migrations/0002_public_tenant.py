"""The one public tenant (Poe mode) exists from the first migration on."""

from django.db import migrations


def create_public_tenant(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    Tenant.objects.get_or_create(
        kind="public",
        defaults={"name": "Spark", "slug": "public", "allows_signup": True, "is_active": True},
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_public_tenant, migrations.RunPython.noop)]
