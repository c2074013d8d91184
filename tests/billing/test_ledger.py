"""The ledger: balanced, idempotent, integer, immutable, never below a wallet's floor."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.models import Tenant, User
from billing import ledger
from billing.invariants import ledger_violations
from billing.models import Account, Entry, Transaction, UsageRecord
from chat import services as chat_services
from chat.models import Message
from security.models import AuditLogEntry
from spark.tenancy.context import tenant_scope, unscoped

pytestmark = pytest.mark.django_db


def _post(key: str, legs: list[ledger.Leg]) -> Transaction:
    return ledger.transaction_post(
        kind=Transaction.Kind.GRANT, idempotency_key=key, reference="test", legs=legs
    )


def test_a_balanced_transaction_moves_the_wallet_and_the_system_account(user: User) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    txn = _post("t1", [(promo, -5_000_000), (wallet, 5_000_000)])
    wallet.refresh_from_db()
    promo.refresh_from_db()
    assert (wallet.balance, ledger.account_balance(promo)) == (5_000_000, -5_000_000)
    assert promo.balance == 0  # a system account caches nothing: no row every payer locks
    assert sorted(txn.entries.values_list("amount", flat=True)) == [-5_000_000, 5_000_000]
    assert ledger_violations() == []


def test_an_unbalanced_transaction_is_refused_and_writes_nothing(user: User) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    with pytest.raises(ledger.LedgerError):
        _post("bad", [(promo, -5), (wallet, 6)])
    assert not Transaction.objects.filter(idempotency_key="bad").exists()
    assert not Entry.objects.exists()
    wallet.refresh_from_db()
    assert wallet.balance == 0


@pytest.mark.parametrize("amount", [1.5, Decimal("1"), True])
def test_only_integer_micro_dollars_enter_the_ledger(user: User, amount: object) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    with pytest.raises(ledger.LedgerError):
        _post("float", [(promo, -1), (wallet, amount)])  # type: ignore[list-item]
    assert not Entry.objects.exists()


def test_the_same_idempotency_key_writes_once(user: User) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    first = _post("once", [(promo, -10), (wallet, 10)])
    second = _post("once", [(promo, -10), (wallet, 10)])
    assert first.pk == second.pk
    wallet.refresh_from_db()
    assert wallet.balance == 10
    assert Entry.objects.count() == 2


def test_a_wallet_cannot_go_below_its_floor(user: User) -> None:
    wallet = ledger.user_wallet(user)
    revenue = ledger.system_account(Account.Kind.PLATFORM_REVENUE)
    with pytest.raises(ledger.InsufficientFunds):
        _post("overdraw", [(wallet, -1), (revenue, 1)])
    assert not Entry.objects.exists()


def test_the_database_refuses_a_wallet_below_its_floor_even_past_the_service(
    user: User,
) -> None:
    wallet = ledger.user_wallet(user)
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)
    wallet.refresh_from_db()
    assert wallet.balance == 0


def test_a_reversal_is_a_new_transaction_that_cancels_the_first(user: User) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    original = _post("orig", [(promo, -700), (wallet, 700)])
    reversal = ledger.transaction_reverse(original=original, idempotency_key="orig:reversed")
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert reversal.reverses_id == original.pk
    assert Transaction.objects.count() == 2


def test_entries_are_immutable_in_the_database_or_caught_by_the_check(user: User) -> None:
    """PostgreSQL refuses the UPDATE (a trigger); elsewhere ledger_check names the damage."""
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    _post("imm", [(promo, -100), (wallet, 100)])
    entry = Entry.objects.get(account=wallet)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            Entry.objects.filter(pk=entry.pk).update(amount=1_000_000)
        assert Entry.objects.get(pk=entry.pk).amount == 100
        assert ledger_violations() == []
    else:
        Entry.objects.filter(pk=entry.pk).update(amount=1_000_000)
        problems = ledger_violations()
        assert any("does not balance" in p for p in problems)
        assert any(f"account {wallet.pk}" in p for p in problems)
        Entry.objects.filter(pk=entry.pk).update(amount=100)  # repair for the teardown check


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_write_cannot_commit_on_postgresql_or_is_reported(user: User) -> None:
    wallet = ledger.user_wallet(user)
    txn = Transaction.objects.create(kind="grant", idempotency_key="raw", reference="raw")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            Entry.objects.create(transaction=txn, account=wallet, amount=5)
        assert not Entry.objects.exists()
    else:
        Entry.objects.create(transaction=txn, account=wallet, amount=5)
        out, err = StringIO(), StringIO()
        with pytest.raises(CommandError):
            call_command("ledger_check", stdout=out, stderr=err)
        assert f"transaction {txn.pk} does not balance" in err.getvalue()
        Entry.objects.filter(transaction=txn).delete()  # repair for the teardown check


def test_ledger_check_passes_on_a_sound_ledger_and_names_each_violation(user: User) -> None:
    wallet = ledger.user_wallet(user)
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    _post("ok", [(promo, -100), (wallet, 100)])
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert "consistent" in out.getvalue()

    Account.objects.filter(pk=wallet.pk).update(balance=90)  # a cached balance gone wrong
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ledger_check", stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert f"account {wallet.pk} (user_wallet:{user.pk}) caches 90 µ$" in err.getvalue()
    Account.objects.filter(pk=wallet.pk).update(balance=100)


def test_wallet_grant_command_credits_from_promotions_and_is_audited(user: User) -> None:
    out = StringIO()
    call_command(
        "wallet_grant",
        "--email",
        user.email.upper(),
        "--amount-usd",
        "2.50",
        "--reason",
        "conference",
        stdout=out,
    )
    wallet = ledger.user_wallet(user)
    assert wallet.balance == 2_500_000
    txn = Transaction.objects.get(kind=Transaction.Kind.GRANT)
    assert txn.memo == "conference"
    promo = ledger.system_account(Account.Kind.PROMOTIONAL)
    assert ledger.account_balance(promo) == -2_500_000
    entry = AuditLogEntry.objects.get(action="wallet_grant")
    assert entry.changes["amount_micros"] == 2_500_000
    assert entry.object_id == str(txn.pk)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com", "--amount-usd", "1", "--reason", "x"], "no user"),
        (["--amount-usd", "abc", "--reason", "x"], "number"),
        (["--amount-usd", "0.0000001", "--reason", "x"], "precision"),
        (["--amount-usd", "-3", "--reason", "x"], "positive"),
    ],
)
def test_wallet_grant_command_refuses_bad_input_and_writes_nothing(
    user: User, args: list[str], message: str
) -> None:
    if "--email" not in args:
        args = ["--email", user.email, *args]
    with pytest.raises(CommandError, match=message):
        call_command("wallet_grant", *args, stdout=StringIO())
    assert not Transaction.objects.exists()


def test_new_wallets_start_with_the_signup_credit_when_set(settings: object, user: User) -> None:
    settings.SPARK_SIGNUP_CREDIT_USD = Decimal("1.25")  # type: ignore[attr-defined]
    wallet = ledger.user_wallet(user)
    again = ledger.user_wallet(user)
    assert wallet.balance == again.balance == 1_250_000
    assert Transaction.objects.filter(kind=Transaction.Kind.SIGNUP_CREDIT).count() == 1


def test_no_free_money_by_default(user: User) -> None:
    assert ledger.user_wallet(user).balance == 0
    assert not Transaction.objects.exists()


def test_ledger_check_names_a_generated_answer_without_its_usage_record(
    user: User, public_tenant: Tenant
) -> None:
    # Given an answer with tokens that nothing charged, beside one that was charged
    wallet = ledger.user_wallet(user)
    with tenant_scope(public_tenant):
        conversation = chat_services.conversation_create(user=user, tenant=public_tenant)
        unbilled, billed = (
            Message.objects.create(
                tenant=public_tenant,
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                status=Message.Status.COMPLETE,
                content="An answer.",
                input_tokens=12,
                output_tokens=30,
            )
            for _ in range(2)
        )
        UsageRecord.objects.create(
            tenant=public_tenant,
            user=user,
            payer=wallet,
            message=billed,
            model_slug="demo",
            output_tokens=30,
            idempotency_key=f"answer:{billed.uuid}",
        )

    # When the ledger is checked
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=StringIO(), stderr=err)

    # Then the unbilled answer is named, and only it
    assert err.getvalue().splitlines() == [
        f"answer {unbilled.uuid} was generated but has no usage record"
    ]
    with unscoped():
        Message.objects.filter(pk=unbilled.pk).delete()  # repair for the teardown check
