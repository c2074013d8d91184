"""One lock order: settlements, top-ups (webhooks), payouts and auto-refills on overlapping
accounts, from many threads at once, never deadlock and leave the ledger sound."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from accounts.models import Membership, Tenant, User
from billing import ledger, payments, services
from billing.invariants import ledger_violations
from billing.models import (
    MICROS_PER_USD,
    Account,
    ConnectAccount,
    PromptPricing,
    TenantBillingPolicy,
    TopUp,
    UsageRecord,
    WebhookEvent,
)
from spark.tenancy.context import tenant_scope, unscoped
from tests.billing.conftest import fund, fund_tenant, make_priced_model
from tests.factories import create_prompt, create_user
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db(transaction=True)

OPERATIONS = 240
# PostgreSQL runs them from 20 threads; SQLite (one writer at a time, by design) from one:
# there the test still checks that every kind of operation leaves the ledger sound.
THREADS = 20


def _threads() -> int:
    return THREADS if connection.vendor == "postgresql" else 1


def test_settlements_topups_payouts_and_refills_on_shared_accounts_never_deadlock(
    fake_stripe: FakeStripe, tenant_a: Tenant, public_tenant: Tenant, settings: Any
) -> None:
    # Given accounts created in the order that made the old locking deadlock: the clearing
    # account, then the creator's earnings, then the wallets that pay the creator
    settings.SPARK_PAYOUT_THRESHOLD_USD = 0
    settings.SPARK_EARNINGS_HOLD_DAYS = 0
    ledger.system_account(Account.Kind.STRIPE_CLEARING)
    creator = create_user(tenant=public_tenant, email="maker@example.com")
    ledger.creator_earnings(creator)
    ConnectAccount.objects.create(
        user=creator, stripe_account_id="acct_maker", payouts_enabled=True
    )
    model = make_priced_model()
    prompt = create_prompt(owner=creator, tenant=tenant_a, default_model=model)
    with unscoped():
        PromptPricing.objects.create(
            tenant=tenant_a, prompt=prompt, markup_per_million=100 * MICROS_PER_USD
        )
        TenantBillingPolicy.objects.create(
            tenant=tenant_a,
            payer=TenantBillingPolicy.Payer.TENANT,
            auto_refill_enabled=True,
            refill_threshold=10**12,  # always below it: every run refills
            refill_amount=5 * MICROS_PER_USD,
            stripe_customer_id="cus_team",
            stripe_payment_method_id="pm_team",
        )
    fund_tenant(tenant_a, 1_000 * MICROS_PER_USD)
    members = [
        create_user(tenant=tenant_a, email=f"m{n}@a.example", role=Membership.Role.MEMBER)
        for n in range(4)
    ]
    readers = [create_user(tenant=public_tenant, email=f"r{n}@example.com") for n in range(4)]
    for reader in readers:
        fund(reader, 100 * MICROS_PER_USD)
    payers: list[tuple[User, Tenant]] = [(m, tenant_a) for m in members] + [
        (r, public_tenant) for r in readers
    ]
    topup_events = _stored_topups(payers, count=OPERATIONS // 4)

    def settle(n: int) -> None:
        user, tenant = payers[n % len(payers)]
        with tenant_scope(tenant):
            reservation = services.turn_reserve(
                tenant=tenant,
                user=user,
                prompt=prompt,
                model=model,
                input_tokens=10,
                reference=f"stress:{n}",
            )
            with transaction.atomic():
                services.uses_settle(
                    tenant=tenant,
                    user=user,
                    prompt=prompt,
                    model=model,
                    uses=[
                        services.Use(
                            kind=UsageRecord.Kind.ANSWER,
                            detail="",
                            model=model,
                            input_tokens=10,
                            output_tokens=20,
                            cached_tokens=0,
                            reasoning_tokens=0,
                            key_source="platform",
                            idempotency_key=f"stress:{n}",
                        )
                    ],
                    conversation_id=None,
                    message_id=None,
                    hold_id=reservation.hold_id,
                    plan=reservation.plan,
                )

    def top_up(n: int) -> None:
        with unscoped():
            payments.webhook_process(event_pk=topup_events[n // 4])

    def pay_out(n: int) -> None:
        with unscoped():
            payments.payout_start(user=creator)

    def refill(n: int) -> None:
        with unscoped():
            payments.auto_refill_run(tenant=tenant_a)

    kinds: list[Callable[[int], None]] = [settle, top_up, pay_out, refill]
    errors: list[str] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            kinds[n % len(kinds)](n)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            with lock:
                errors.append(f"{kinds[n % len(kinds)].__name__} {n}: {error!r}")
        finally:
            connection.close()

    # When they all run at once
    with ThreadPoolExecutor(max_workers=_threads()) as pool:
        list(pool.map(run, range(OPERATIONS)))

    # Then none failed (no deadlock, nothing to retry), every top-up applied, the ledger
    # is sound and every settlement was charged
    assert errors == []
    with unscoped():
        assert list(WebhookEvent.objects.exclude(error="").values_list("error", flat=True)) == []
        assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
        assert UsageRecord.objects.count() == OPERATIONS // 4
        assert TopUp.objects.exclude(status=TopUp.Status.PAID).count() == 0
    assert ledger_violations() == []


def _stored_topups(payers: list[tuple[User, Tenant]], *, count: int) -> list[int]:
    """Paid Checkout sessions for the payers' wallets, stored as Stripe's webhook delivers
    them (each applied by ``webhook_process``)."""
    events = []
    for n in range(count):
        user, tenant = payers[n % len(payers)]
        account = ledger.tenant_wallet(tenant) if n % 2 else ledger.user_wallet(user)
        with unscoped():
            topup = TopUp.objects.create(
                tenant=tenant,
                user=user,
                account=account,
                amount=5 * MICROS_PER_USD,
                stripe_session_id=f"cs_stress_{n}",
            )
            session = {
                "id": topup.stripe_session_id,
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": 500,
                "payment_intent": f"pi_stress_{n}",
                "metadata": {"topup": str(topup.uuid)},
            }
            payload = {"id": f"evt_stress_{n}", "type": "checkout.session.completed"}
            payload["data"] = {"object": session}  # type: ignore[assignment]
            event = WebhookEvent.objects.create(
                event_id=payload["id"], type=payload["type"], payload=json.dumps(payload)
            )
        events.append(event.pk)
    return events


def test_a_settlement_never_holds_the_payer_while_it_waits_for_another_account(
    public_tenant: Tenant, tenant_a: Tenant
) -> None:
    """The old order locked the payer, then the transaction's accounts: a settlement waiting
    for the creator's earnings held the wallet that a top-up (locking in id order) needed
    next, a cycle PostgreSQL breaks by killing one of them."""
    # Given the creator's earnings (a lower id) and the reader's wallet a paid answer moves
    creator = create_user(tenant=public_tenant, email="maker@example.com")
    earnings = ledger.creator_earnings(creator)
    reader = create_user(tenant=public_tenant, email="reader@example.com")
    fund(reader, 10 * MICROS_PER_USD)
    wallet = ledger.user_wallet(reader)
    assert earnings.pk < wallet.pk
    model = make_priced_model()
    prompt = create_prompt(owner=creator, tenant=tenant_a, default_model=model)
    with unscoped():
        PromptPricing.objects.create(
            tenant=tenant_a, prompt=prompt, markup_per_million=100 * MICROS_PER_USD
        )
    with tenant_scope(public_tenant):
        reservation = services.turn_reserve(
            tenant=public_tenant,
            user=reader,
            prompt=prompt,
            model=model,
            input_tokens=10,
            reference="order",
        )
    use = services.Use(
        kind=UsageRecord.Kind.ANSWER,
        detail="",
        model=model,
        input_tokens=10,
        output_tokens=20,
        cached_tokens=0,
        reasoning_tokens=0,
        key_source="platform",
        idempotency_key="order",
    )
    errors: list[str] = []

    def settle() -> None:
        try:
            with tenant_scope(public_tenant), transaction.atomic():
                services.uses_settle(
                    tenant=public_tenant,
                    user=reader,
                    prompt=prompt,
                    model=model,
                    uses=[use],
                    conversation_id=None,
                    message_id=None,
                    hold_id=reservation.hold_id,
                    plan=reservation.plan,
                )
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(repr(error))
        finally:
            connection.close()

    if connection.vendor != "postgresql":
        # SQLite has no row locks (a writer locks the whole database): nothing can cross.
        settle()
    else:
        # When another transaction, locking in id order, holds the earnings while the
        # settlement starts, then asks for the wallet
        other = _raw_connection()
        try:
            other.execute("SET lock_timeout = '5s'")
            other.execute("SELECT id FROM billing_account WHERE id = %s FOR UPDATE", [earnings.pk])
            worker = threading.Thread(target=settle)
            worker.start()
            _wait_for_a_lock_wait(other, deadline_seconds=10)
            other.execute("SELECT id FROM billing_account WHERE id = %s FOR UPDATE", [wallet.pk])
            other.commit()
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(f"the other transaction: {error!r}")
            other.rollback()
        finally:
            other.close()
            worker.join(timeout=30)

    # Then both went through, one after the other, and the answer was charged once
    assert errors == []
    with unscoped():
        assert UsageRecord.objects.filter(idempotency_key="order").count() == 1
    assert ledger_violations() == []


def _raw_connection() -> Any:
    import psycopg

    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "dbname")
    return psycopg.connect(**{key: value for key, value in params.items() if key in keep})


def _wait_for_a_lock_wait(other: Any, *, deadline_seconds: float) -> None:
    """Until a session of this database waits for a row lock (the settlement)."""
    import time

    deadline = time.monotonic() + deadline_seconds
    with _raw_connection() as watcher:
        watcher.autocommit = True
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] > 0:
                return
    raise AssertionError("the settlement never waited for the earnings' lock")


def test_a_settlement_does_not_wait_for_the_platform_accounts(
    user: User, public_tenant: Tenant
) -> None:
    """System accounts are not locked, so another transaction writing one (on PostgreSQL:
    holding its row lock open) does not make settlements wait: there is no global hot row."""
    model = make_priced_model()
    fund(user, 10 * MICROS_PER_USD)
    revenue = ledger.system_account(Account.Kind.PLATFORM_REVENUE)
    costs = ledger.system_account(Account.Kind.PROVIDER_COST)
    use = services.Use(
        kind=UsageRecord.Kind.ANSWER,
        detail="",
        model=model,
        input_tokens=10,
        output_tokens=20,
        cached_tokens=0,
        reasoning_tokens=0,
        key_source="platform",
        idempotency_key="no-hot-row",
    )
    other = _raw_connection() if connection.vendor == "postgresql" else None
    try:
        if other is not None:
            # Given another transaction that updated both platform accounts and is still open
            other.execute(
                "UPDATE billing_account SET updated_at = now() WHERE id IN (%s, %s)",
                [revenue.pk, costs.pk],
            )
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
        # When a settlement is written meanwhile
        with tenant_scope(public_tenant), transaction.atomic():
            services.uses_settle(
                tenant=public_tenant,
                user=user,
                prompt=None,
                model=model,
                uses=[use],
                conversation_id=None,
                message_id=None,
                hold_id=None,
            )
    finally:
        if other is not None:
            other.rollback()
            other.close()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    # Then it did not wait (no lock timeout), and the platform's accounts hold their share
    assert ledger.account_balance(costs) == 200  # 20 output tokens × 10 µ$
    assert ledger.account_balance(revenue) == 40  # the 20 % margin
    assert ledger_violations() == []
