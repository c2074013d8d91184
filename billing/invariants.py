"""The ledger's invariants, checked by ``manage.py ledger_check`` and after every test."""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.models import Account, Entry, Hold, Transaction, UsageRecord
from spark.tenancy.context import unscoped


def ledger_violations() -> list[str]:
    """Every broken invariant, one readable line each (empty: the ledger is sound)."""
    problems: list[str] = []
    with unscoped():
        unbalanced = (
            Entry.objects.values("transaction_id")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
            .order_by("transaction_id")
        )
        for row in unbalanced[:100]:
            problems.append(
                f"transaction {row['transaction_id']} does not balance (sums to {row['total']})"
            )
        sums = (
            Entry.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        held = (
            Hold.objects.filter(account=OuterRef("pk"), released_at__isnull=True)
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        accounts = Account.objects.annotate(
            entries_total=Coalesce(Subquery(sums), 0), holds_total=Coalesce(Subquery(held), 0)
        )
        for account in accounts.exclude(balance=F("entries_total"))[:100]:
            problems.append(
                f"account {account.pk} ({account.key}) caches {account.balance} µ$ "
                f"but its entries sum to {account.entries_total}"  # type: ignore[attr-defined]
            )
        for account in accounts.exclude(held=F("holds_total"))[:100]:
            problems.append(
                f"account {account.pk} ({account.key}) holds {account.held} µ$ "
                f"but its open holds sum to {account.holds_total}"  # type: ignore[attr-defined]
            )
        below = Account.objects.filter(floor__isnull=False, balance__lt=F("floor"))
        for wallet in below[:100]:
            problems.append(
                f"wallet {wallet.pk} ({wallet.key}) is at {wallet.balance} µ$, "
                f"below its floor of {wallet.floor}"
            )
        unpaid = UsageRecord.objects.filter(transaction__isnull=True).exclude(total=0)
        for record in unpaid[:100]:
            problems.append(f"usage record {record.pk} ({record.total} µ$) has no transaction")
        single = (
            Transaction.objects.annotate(legs=Count("entries"))
            .filter(legs=1)
            .values_list("pk", flat=True)
        )
        for pk in single[:100]:
            problems.append(f"transaction {pk} has a single entry")
    return problems


def ledger_is_empty() -> bool:
    with unscoped():
        return not Account.objects.exists() and not UsageRecord.objects.exists()
