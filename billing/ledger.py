"""The ledger's only writer: accounts, balanced transactions, holds.

Every function here runs inside ``transaction.atomic``. A transaction's entries sum to
zero (checked here, and on PostgreSQL again at commit by a deferred constraint trigger).

**One lock order.** Billing rows are locked in one global order, so two database
transactions never wait on each other in a cycle:

1. the row naming the operation, at most one (``WebhookEvent``, ``PendingSettlement``,
   ``TenantBillingPolicy``, ``MemberCap``, ``Payout``), locked first;
2. every account the operation will change, through ``accounts_lock()`` only, in one
   ``SELECT ... FOR UPDATE ORDER BY id`` taken before any other account is touched (a
   later ``transaction_post`` re-locks rows the transaction holds already: no wait);
3. rows written only under their account's lock (``Hold``, ``TopUp``, ``Refill``,
   ``DiscountCode``).

**No global hot row.** System accounts (``system:*``: provider costs, platform revenue,
Stripe clearing, promotions, dispute losses) are never locked and cache no balance: their
balance is the sum of their entries (``account_balance()``). Inserting an entry takes only
a key-share lock on its account, which does not conflict with another insert, so
settlements of different payers never wait on each other. Wallets, earnings and
commissions cache their balance, moved in the same database transaction as their entries
under their row lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import MICROS_PER_USD, Account, Entry, Hold, Transaction


class LedgerError(Exception):
    """A write that would break the ledger's rules (unbalanced, below a floor...)."""


class InsufficientFunds(LedgerError):
    pass


# --- accounts ------------------------------------------------------------------------------

SYSTEM_PREFIX = "system:"


def _account_get_or_create(*, key: str, **fields: Any) -> tuple[Account, bool]:
    account = Account.objects.filter(key=key).first()
    if account is not None:
        return account, False
    try:
        with transaction.atomic():
            return Account.objects.create(key=key, **fields), True
    except IntegrityError:  # created concurrently
        return Account.objects.get(key=key), False


def system_account(kind: str) -> Account:
    """A platform account (revenue, provider costs, Stripe clearing, promotional...)."""
    account, _created = _account_get_or_create(key=f"{SYSTEM_PREFIX}{kind}", kind=kind, floor=None)
    return account


def user_wallet(user: Any) -> Account:
    """The user's wallet (created on first use, with the sign-up credit if one is set)."""
    account, created = _account_get_or_create(
        key=f"user_wallet:{user.pk}", kind=Account.Kind.USER_WALLET, user=user, floor=0
    )
    credit = int(settings.SPARK_SIGNUP_CREDIT_USD * MICROS_PER_USD)
    if created and credit > 0:
        with transaction.atomic():
            transaction_post(
                kind=Transaction.Kind.SIGNUP_CREDIT,
                idempotency_key=f"signup-credit:{user.pk}",
                reference=f"user:{user.pk}",
                legs=[(system_account(Account.Kind.PROMOTIONAL), -credit), (account, credit)],
            )
        account.refresh_from_db()
    return account


def tenant_wallet(tenant: Any) -> Account:
    account, _created = _account_get_or_create(
        key=f"tenant_wallet:{tenant.pk}", kind=Account.Kind.TENANT_WALLET, tenant=tenant, floor=0
    )
    return account


def creator_earnings(user: Any) -> Account:
    """A creator's earnings. No floor: a dispute's clawback may take it below zero."""
    account, _created = _account_get_or_create(
        key=f"creator_earnings:{user.pk}", kind=Account.Kind.CREATOR_EARNINGS, user=user
    )
    return account


def curator_commission(user: Any) -> Account:
    """A curator's commission. No floor, like creators' earnings: a dispute's clawback may
    take it below zero."""
    account, _created = _account_get_or_create(
        key=f"curator_commission:{user.pk}", kind=Account.Kind.CURATOR_COMMISSION, user=user
    )
    return account


def is_system(account: Account) -> bool:
    """A platform account: never locked, no cached balance (see the module's docstring)."""
    return account.key.startswith(SYSTEM_PREFIX)


def account_balance(account: Account) -> int:
    """An account's balance: the cached one, or for a system account its entries' sum."""
    if is_system(account):
        total = Entry.objects.filter(account_id=account.pk).aggregate(total=Sum("amount"))
        return int(total["total"] or 0)
    return Account.objects.values_list("balance", flat=True).get(pk=account.pk)


def accounts_lock(ids: Iterable[int]) -> dict[int, Account]:
    """Lock these accounts and return them fresh from the database: the one way billing
    locks accounts, all of an operation's at once, in id order, in one statement."""
    ordered = sorted(set(ids))
    locked = Account.objects.select_for_update(of=("self",)).filter(pk__in=ordered).order_by("pk")
    found = {account.pk: account for account in locked}
    if len(found) != len(ordered):
        raise LedgerError(f"unknown accounts: {set(ordered) - set(found)}")
    return found


# --- transactions --------------------------------------------------------------------------

Leg = tuple[Account, int]


def _merge(legs: Sequence[Leg]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for account, amount in legs:
        if type(amount) is not int:  # no floats, Decimals or bools in the ledger
            raise LedgerError(f"amounts are integers of micro-USD, not {type(amount).__name__}")
        merged[account.pk] = merged.get(account.pk, 0) + amount
    return {pk: amount for pk, amount in merged.items() if amount != 0}


def transaction_post(
    *,
    kind: str,
    idempotency_key: str,
    reference: str,
    legs: Sequence[Leg],
    memo: str = "",
    created_by: Any = None,
    reverses: Transaction | None = None,
    below_floor_ok: bool = False,
) -> Transaction:
    """Write one balanced transaction, or return the one already written for this key.

    Raises ``InsufficientFunds`` when a wallet would go below its floor (unless
    ``below_floor_ok``: holds already reserved the money) and ``LedgerError`` when the
    legs do not sum to zero. Nothing is written when it raises, and the caller's
    transaction stays usable (the checks run before any write).
    """
    amounts = _merge(legs)
    if sum(amounts.values()) != 0:
        raise LedgerError(f"unbalanced transaction {idempotency_key}: {amounts}")
    cached = {account.pk for account, _amount in legs if not is_system(account)}
    # No savepoint: a caller's transaction (Settle) is already atomic, and nothing in
    # this block raises after a write except a database error, which dooms it anyway.
    with transaction.atomic(savepoint=False):
        accounts = accounts_lock(pk for pk in amounts if pk in cached)
        short = [
            pk
            for pk, amount in amounts.items()
            if amount < 0
            and pk in accounts
            and accounts[pk].floor is not None
            and accounts[pk].balance + amount < accounts[pk].floor  # type: ignore[operator]
            and not below_floor_ok
        ]
        if not short:
            try:
                with transaction.atomic():
                    txn = Transaction.objects.create(
                        kind=kind,
                        idempotency_key=idempotency_key,
                        reference=reference[:200],
                        memo=memo[:300],
                        created_by=created_by if getattr(created_by, "pk", None) else None,
                        reverses=reverses,
                    )
            except IntegrityError:  # this key was written already: that one stands
                return Transaction.objects.get(idempotency_key=idempotency_key)
            for pk, amount in amounts.items():
                if pk in accounts:
                    Account.objects.filter(pk=pk).update(balance=F("balance") + amount)
            Entry.objects.bulk_create(
                [
                    Entry(transaction=txn, account_id=pk, amount=amount)
                    for pk, amount in amounts.items()
                ]
            )
            return txn
    existing = Transaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    raise InsufficientFunds(f"accounts {short} would go below their floor")


@transaction.atomic
def transaction_reverse(
    *, original: Transaction, idempotency_key: str, memo: str = "", created_by: Any = None
) -> Transaction:
    """A new transaction with every entry of ``original`` negated."""
    legs = [(entry.account, -entry.amount) for entry in original.entries.select_related("account")]
    return transaction_post(
        kind=Transaction.Kind.REVERSAL,
        idempotency_key=idempotency_key,
        reference=f"txn:{original.uuid}",
        legs=legs,
        memo=memo,
        created_by=created_by,
        reverses=original,
    )


# --- holds ---------------------------------------------------------------------------------


def hold_place(*, account: Account, amount: int, reference: str, user: Any = None) -> Hold:
    """Reserve ``amount`` on a locked account (the caller checked it is available)."""
    assert transaction.get_connection().in_atomic_block
    Account.objects.filter(pk=account.pk).update(held=F("held") + amount)
    account.held += amount
    return Hold.objects.create(account=account, amount=amount, reference=reference, user=user)


def hold_release(*, hold_id: int, hold: Hold | None = None, locked: bool = False) -> Hold | None:
    """Release a hold once. Returns None if it was already released.

    ``locked``: the caller holds its account's row lock already (and passes the hold).
    """
    with transaction.atomic(savepoint=False):
        if hold is None:
            hold = Hold.objects.filter(pk=hold_id, released_at__isnull=True).first()
            if hold is None:
                return None
        if not locked:
            accounts_lock([hold.account_id])
        released = Hold.objects.filter(pk=hold_id, released_at__isnull=True).update(
            released_at=timezone.now()
        )
        if not released:
            return None
        Account.objects.filter(pk=hold.account_id).update(held=F("held") - hold.amount)
        return hold


def account_freeze(*, account: Account, reason: str) -> None:
    """Stop a wallet from spending (a payment dispute); staff unfreeze it in the admin."""
    Account.objects.filter(pk=account.pk).update(is_frozen=True, frozen_reason=reason[:200])


def account_unfreeze(*, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(is_frozen=False, frozen_reason="")
