"""System accounts no longer cache a balance (it is the sum of their entries): the cached
column of ``system:*`` accounts goes to zero so that no settlement ever updates it."""

from django.db import migrations


def forward(apps, schema_editor):
    Account = apps.get_model("billing", "Account")
    Account.objects.filter(key__startswith="system:").update(balance=0)


def backward(apps, schema_editor):
    Account = apps.get_model("billing", "Account")
    Entry = apps.get_model("billing", "Entry")
    from django.db.models import Sum

    for account in Account.objects.filter(key__startswith="system:"):
        total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
        Account.objects.filter(pk=account.pk).update(balance=total or 0)


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_pending_settlements")]

    operations = [migrations.RunPython(forward, backward)]
