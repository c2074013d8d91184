"""The ledger's invariants, checked by ``manage.py ledger_check`` and after every test."""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.ledger import SYSTEM_PREFIX
from billing.models import Account, Entry, Hold, PendingSettlement, Transaction, UsageRecord
from chat.models import Message
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
        system = Q(key__startswith=SYSTEM_PREFIX)
        for account in accounts.exclude(system).exclude(balance=F("entries_total"))[:100]:
            problems.append(
                f"account {account.pk} ({account.key}) caches {account.balance} µ$ "
                f"but its entries sum to {account.entries_total}"  # type: ignore[attr-defined]
            )
        for system_row in Account.objects.filter(system).exclude(balance=0)[:100]:
            problems.append(
                f"system account {system_row.pk} ({system_row.key}) caches a balance; "
                "its balance is the sum of its entries"
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
        problems.extend(_unbilled_answers())
        single = (
            Transaction.objects.annotate(legs=Count("entries"))
            .filter(legs=1)
            .values_list("pk", flat=True)
        )
        for pk in single[:100]:
            problems.append(f"transaction {pk} has a single entry")
    return problems


def _unbilled_answers() -> list[str]:
    """Every generated answer has its usage record: an assistant message that has tokens and
    was not blocked or refused before the model. One waiting in a to-settle row is named as
    such (the settlement task will charge it)."""
    problems = []
    answer_records = UsageRecord.objects.filter(
        message_id=OuterRef("pk"), kind=UsageRecord.Kind.ANSWER
    )
    unbilled = (
        Message.objects.filter(role=Message.Role.ASSISTANT)
        .filter(Q(input_tokens__gt=0) | Q(output_tokens__gt=0))
        .exclude(status__in=[Message.Status.STREAMING, Message.Status.BLOCKED])
        .exclude(Exists(answer_records))
        .order_by("pk")
    )
    rows = list(unbilled.values_list("pk", "uuid")[:100])
    waiting = {
        row.message_id: row
        for row in PendingSettlement.objects.filter(
            message_id__in=[pk for pk, _uuid in rows], settled_at__isnull=True
        )
    }
    for pk, message_uuid in rows:
        pending = waiting.get(pk)
        if pending is not None:
            problems.append(
                f"answer {message_uuid} awaits settlement (to-settle row {pending.pk}, "
                f"{pending.attempts} attempt(s): {pending.last_error[:200]})"
            )
        else:
            problems.append(f"answer {message_uuid} was generated but has no usage record")
    for row in PendingSettlement.objects.filter(settled_at__isnull=True, message_id__isnull=True):
        problems.append(f"to-settle row {row.pk} ({row.key}) is not settled")
    return problems


def ledger_is_empty() -> bool:
    with unscoped():
        return (
            not Account.objects.exists()
            and not UsageRecord.objects.exists()
            and not PendingSettlement.objects.exists()
        )
