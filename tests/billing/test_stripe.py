"""Stripe through the official SDK against the fake: top-ups, discount codes, webhooks,
auto-refill, Connect payouts, disputes."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, close_old_connections, connection
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import Membership, Tenant, User
from billing import ledger, payments, services
from billing.models import (
    MICROS_PER_USD,
    Account,
    ConnectAccount,
    DiscountCode,
    Entry,
    Payout,
    PromptPricing,
    Refill,
    TenantBillingPolicy,
    TopUp,
    Transaction,
    UsageRecord,
    WebhookEvent,
)
from chat.models import Conversation
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.billing.conftest import afund, balance, conversation_for, make_priced_model, send
from tests.conftest import signed_in
from tests.factories import create_prompt, create_user
from tests.fakes.llm import Reply
from tests.fakes.stripe_server import FakeStripe

# Webhooks are processed after the request's transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK = "/billing/stripe/webhook/"


def deliver(client: Client, payload: str, header: str) -> int:
    response = client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    return response.status_code


def start_topup(user: User, tenant: Tenant, amount_usd: int = 20, code: str = "") -> TopUp:
    return payments.topup_start(
        user=user,
        tenant=tenant,
        amount_usd=amount_usd,
        code=code,
        success_url="http://testserver/ok",
        cancel_url="http://testserver/cancel",
    )


# --- top-ups and webhooks --------------------------------------------------------------------


def test_a_paid_checkout_credits_the_wallet_once_through_the_webhook(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    response = signed_in(user).post("/billing/topup/", {"amount_usd": "20"})
    assert response.status_code == 302
    [session] = fake_stripe.sessions.values()
    assert response["Location"] == session["url"]
    assert session["amount_total"] == 2000
    assert ledger.user_wallet(user).balance == 0  # nothing until Stripe confirms

    paid = fake_stripe.complete_session(session["id"])
    payload, header = fake_stripe.signed_event("checkout.session.completed", paid)
    assert deliver(client, payload, header) == 200

    assert balance(ledger.user_wallet(user)) == 20 * MICROS_PER_USD
    with unscoped():
        topup = TopUp.objects.get()
    assert (topup.status, topup.amount_paid_cents) == ("paid", 2000)
    assert topup.stripe_payment_intent_id == paid["payment_intent"]
    assert WebhookEvent.objects.get().processed_at is not None


def test_when_stripe_cannot_be_reached_the_top_up_fails_clearly_and_gives_its_code_back(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, settings: Any
) -> None:
    code = DiscountCode.objects.create(code="SAVE10", kind="percent", percent_bp=1000, max_uses=1)
    with socket.socket() as closed:  # a port that nothing listens on
        closed.bind(("127.0.0.1", 0))
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(payments.PaymentsUnavailable) as raised:
        start_topup(user, public_tenant, 20, code="SAVE10")
    assert raised.value.status_code == 503 and raised.value.code == "payments_unavailable"
    with unscoped():
        assert TopUp.objects.get().status == TopUp.Status.EXPIRED
        code.refresh_from_db()
        assert code.used_count == 0
    assert not Entry.objects.exists()


def test_webhook_replays_and_out_of_order_events_credit_once(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    topup = start_topup(user, public_tenant, 30)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    completed = fake_stripe.signed_event("checkout.session.completed", paid)
    async_paid = fake_stripe.signed_event("checkout.session.async_payment_succeeded", paid)
    expired_late = fake_stripe.signed_event(
        "checkout.session.expired", {**paid, "status": "expired"}
    )

    for payload, header in [async_paid, completed, completed, expired_late, async_paid]:
        assert deliver(client, payload, header) == 200

    assert balance(ledger.user_wallet(user)) == 30 * MICROS_PER_USD
    assert Transaction.objects.filter(kind=Transaction.Kind.TOPUP).count() == 1
    assert WebhookEvent.objects.count() == 3
    with unscoped():
        assert TopUp.objects.get().status == "paid"


def test_the_amount_actually_paid_is_credited(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    topup = start_topup(user, public_tenant, 50)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "", amount_total=4000)
    assert deliver(client, *fake_stripe.signed_event("checkout.session.completed", paid)) == 200
    assert balance(ledger.user_wallet(user)) == 40 * MICROS_PER_USD


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=1,v1=deadbeef",
        "garbage",
        None,  # signed with another secret
        "stale",  # signed correctly, but long ago
    ],
)
def test_a_bad_signature_is_refused_with_400_and_writes_nothing(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client, header: Any
) -> None:
    topup = start_topup(user, public_tenant, 20)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    payload = json.dumps(fake_stripe.event("checkout.session.completed", paid))
    if header is None:
        header = fake_stripe.sign(payload, secret="whsec_someone_else")
    elif header == "stale":
        header = fake_stripe.sign(payload, timestamp=int(timezone.now().timestamp()) - 3600)
    assert deliver(client, payload, header) == 400
    assert not WebhookEvent.objects.exists()
    assert not Entry.objects.exists()
    assert balance(ledger.user_wallet(user)) == 0


def test_a_tampered_payload_is_refused(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    topup = start_topup(user, public_tenant, 20)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    payload, header = fake_stripe.signed_event("checkout.session.completed", paid)
    tampered = payload.replace('"amount_total": 2000', '"amount_total": 200000')
    assert tampered != payload
    assert deliver(client, tampered, header) == 400
    assert not Entry.objects.exists()


def test_a_flood_of_webhook_posts_is_cut_off_with_429(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    with override_settings(SPARK_RATE_LIMITS={**settings.SPARK_RATE_LIMITS, "webhook": "2/m"}):
        assert deliver(client, "{}", "garbage") == 400
        assert deliver(client, "{}", "garbage") == 400
        response = client.post(
            WEBHOOK, data="{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="x"
        )
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1  # Stripe retries later; nothing is lost
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("amount", ["4", "501", "abc"])
def test_top_ups_outside_five_to_five_hundred_dollars_are_refused(
    fake_stripe: FakeStripe, user: User, amount: str
) -> None:
    response = signed_in(user).post("/billing/topup/", {"amount_usd": amount})
    assert response.status_code == 302 and response["Location"] == "/billing/wallet/"
    assert fake_stripe.sessions == {}
    with unscoped():
        assert not TopUp.objects.exists()


# --- discount codes -------------------------------------------------------------------------


def test_a_percentage_code_lowers_the_price_and_the_discount_comes_from_promotions(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    DiscountCode.objects.create(code="SPRING25", kind="percent", percent_bp=2500, max_uses=10)
    topup = start_topup(user, public_tenant, 40, code="spring25")
    session = fake_stripe.sessions[topup.stripe_session_id or ""]
    assert session["amount_total"] == 3000
    paid = fake_stripe.complete_session(session["id"])
    assert deliver(client, *fake_stripe.signed_event("checkout.session.completed", paid)) == 200
    assert balance(ledger.user_wallet(user)) == 40 * MICROS_PER_USD
    assert balance(ledger.system_account(Account.Kind.PROMOTIONAL)) == -10 * MICROS_PER_USD
    assert DiscountCode.objects.get().used_count == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"expires_at": timezone.now() - timedelta(days=1)}, "not valid"),
        ({"max_uses": 0}, "used up"),
        ({"is_active": False}, "not valid"),
        ({"scope": "tenant"}, "not valid"),  # another tenant's code
    ],
)
def test_expired_used_up_or_foreign_codes_are_refused(
    fake_stripe: FakeStripe,
    user: User,
    public_tenant: Tenant,
    tenant_b: Tenant,
    fields: dict[str, Any],
    error: str,
) -> None:
    if fields.get("scope") == "tenant":
        fields["tenant"] = tenant_b
    DiscountCode.objects.create(code="NOPE", kind="fixed", amount=5 * MICROS_PER_USD, **fields)
    with pytest.raises(services.ApplicationError, match=error):
        start_topup(user, public_tenant, 20, code="NOPE")
    assert fake_stripe.sessions == {}
    assert DiscountCode.objects.get().used_count == 0


def test_a_code_with_one_use_left_redeemed_by_two_concurrent_checkouts_is_used_once(
    fake_stripe: FakeStripe, public_tenant: Tenant
) -> None:
    DiscountCode.objects.create(code="LAST", kind="fixed", amount=5 * MICROS_PER_USD, max_uses=1)
    buyers = [create_user(tenant=public_tenant, email=f"buyer{n}@example.com") for n in range(2)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def checkout(buyer: User) -> None:
        barrier.wait()
        try:
            start_topup(buyer, public_tenant, 20, code="LAST")
            results.append("ok")
        except services.ApplicationError as error:
            results.append(error.code)
        except OperationalError:
            results.append("locked")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=checkout, args=(b,)) for b in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["code_used_up", "ok"]
    assert DiscountCode.objects.get().used_count == 1
    assert len(fake_stripe.sessions) == 1
    with unscoped():
        assert TopUp.objects.filter(discount_code__isnull=False).count() == 1


def test_an_expired_checkout_gives_the_code_use_back(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    DiscountCode.objects.create(code="ONCE", kind="fixed", amount=5 * MICROS_PER_USD, max_uses=1)
    topup = start_topup(user, public_tenant, 20, code="ONCE")
    session = {**fake_stripe.sessions[topup.stripe_session_id or ""], "status": "expired"}
    assert deliver(client, *fake_stripe.signed_event("checkout.session.expired", session)) == 200
    assert DiscountCode.objects.get().used_count == 0
    start_topup(user, public_tenant, 20, code="ONCE")
    assert DiscountCode.objects.get().used_count == 1


# --- enterprise: saved card and auto-refill ----------------------------------------------------


def save_card(fake: FakeStripe, manager: User, tenant: Tenant, client: Client) -> None:
    url = payments.card_setup_start(
        user=manager, tenant=tenant, success_url="http://x/ok", cancel_url="http://x/no"
    )
    session_id = url.rsplit("/", 1)[1]
    done = fake.complete_session(session_id)
    assert deliver(client, *fake.signed_event("checkout.session.completed", done)) == 200


@pytest.fixture
def manager(tenant_a: Tenant) -> User:
    return create_user(tenant=tenant_a, email="boss@a.example", role=Membership.Role.MANAGER)


def test_auto_refill_charges_the_saved_card_once_when_the_wallet_drops(
    fake_stripe: FakeStripe, tenant_a: Tenant, manager: User, client: Client
) -> None:
    save_card(fake_stripe, manager, tenant_a, client)
    with unscoped():
        policy = TenantBillingPolicy.objects.get(tenant=tenant_a)
    assert policy.card_label == "Visa •••• 4242"
    services.auto_refill_configure(
        tenant=tenant_a, enabled=True, threshold=10 * MICROS_PER_USD, amount=50 * MICROS_PER_USD
    )

    refill = payments.auto_refill_run(tenant=tenant_a)
    again = payments.auto_refill_run(tenant=tenant_a)  # above the threshold now

    assert refill is not None and refill.status == "succeeded"
    assert again is None
    assert balance(ledger.tenant_wallet(tenant_a)) == 50 * MICROS_PER_USD
    [intent] = fake_stripe.payment_intents.values()
    assert (intent["amount"], intent["customer"]) == (5000, policy.stripe_customer_id)
    # Stripe's own confirmation arrives later: it does not credit twice.
    event = fake_stripe.signed_event("payment_intent.succeeded", intent)
    assert deliver(client, *event) == 200
    assert balance(ledger.tenant_wallet(tenant_a)) == 50 * MICROS_PER_USD


def test_a_declined_refill_notifies_managers_and_stops_until_the_card_is_fixed(
    fake_stripe: FakeStripe, tenant_a: Tenant, manager: User, client: Client
) -> None:
    save_card(fake_stripe, manager, tenant_a, client)
    services.auto_refill_configure(
        tenant=tenant_a, enabled=True, threshold=10 * MICROS_PER_USD, amount=50 * MICROS_PER_USD
    )
    with unscoped():
        card = TenantBillingPolicy.objects.get(tenant=tenant_a).stripe_payment_method_id
    fake_stripe.decline_payment_methods.add(card)

    failed = payments.auto_refill_run(tenant=tenant_a)
    assert failed is not None and failed.status == "failed"
    assert "insufficient funds" in failed.failure
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert payments.auto_refill_run(tenant=tenant_a) is None  # no further attempts
    assert len(fake_stripe.payment_intents) == 1
    assert balance(ledger.tenant_wallet(tenant_a)) == 0

    save_card(fake_stripe, manager, tenant_a, client)  # a new card resumes auto-refill
    refill = payments.auto_refill_run(tenant=tenant_a)
    assert refill is not None and refill.status == "succeeded"
    assert balance(ledger.tenant_wallet(tenant_a)) == 50 * MICROS_PER_USD


def test_settling_below_the_threshold_triggers_a_refill(
    fake_stripe: FakeStripe, tenant_a: Tenant, manager: User, client: Client
) -> None:
    from tests.billing.conftest import fund_tenant, make_priced_model

    model = make_priced_model()
    save_card(fake_stripe, manager, tenant_a, client)
    services.auto_refill_configure(
        tenant=tenant_a, enabled=True, threshold=1 * MICROS_PER_USD, amount=20 * MICROS_PER_USD
    )
    fund_tenant(tenant_a, MICROS_PER_USD)
    member = create_user(tenant=tenant_a, email="dev@a.example")
    from django.db import transaction

    from billing.services import Use

    with unscoped(), transaction.atomic():
        services.uses_settle(
            tenant=tenant_a,
            user=member,
            prompt=None,
            model=model,
            uses=[Use("answer", "", model, 0, 10, 0, 0, "platform", "answer:x")],
            conversation_id=None,
            message_id=None,
            hold_id=None,
        )
    with unscoped():
        assert Refill.objects.get().status == "succeeded"
    assert balance(ledger.tenant_wallet(tenant_a)) == MICROS_PER_USD - 120 + 20 * MICROS_PER_USD


# --- Connect and payouts ------------------------------------------------------------------------


@pytest.fixture
def creator(public_tenant: Tenant) -> User:
    return create_user(tenant=public_tenant, email="creator@example.com")


def onboard(fake: FakeStripe, creator: User, client: Client) -> ConnectAccount:
    response = signed_in(creator).post("/billing/earnings/connect/")
    assert response.status_code == 302
    connect = ConnectAccount.objects.get(user=creator)
    assert response["Location"].endswith(f"/onboard/{connect.stripe_account_id}")
    account = {**fake.accounts[connect.stripe_account_id], "details_submitted": True}
    account["payouts_enabled"] = True
    assert deliver(client, *fake.signed_event("account.updated", account)) == 200
    connect.refresh_from_db()
    assert connect.payouts_enabled
    return connect


def earn(creator: User, micros: int, *, days_ago: int = 30) -> None:
    """Creator earnings as usage of their paid prompt books them, ``days_ago`` days ago."""
    with time_machine.travel(timezone.now() - timedelta(days=days_ago)), unscoped():
        ledger.transaction_post(
            kind=Transaction.Kind.USAGE,
            idempotency_key=f"earn:{creator.pk}:{micros}:{days_ago}",
            reference="test",
            legs=[
                (ledger.system_account(Account.Kind.PLATFORM_REVENUE), -micros),
                (ledger.creator_earnings(creator), micros),
            ],
        )


def test_available_earnings_above_the_threshold_are_paid_once(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    onboard(fake_stripe, creator, client)
    earn(creator, 60 * MICROS_PER_USD + 123)  # 123 µ$ stay: payouts are whole cents
    earn(creator, 5 * MICROS_PER_USD, days_ago=1)  # still pending

    payments.payouts_run()
    payments.payouts_run()

    [transfer] = fake_stripe.transfers.values()
    assert transfer["amount"] == 6000
    payout = Payout.objects.get()
    assert (payout.status, payout.stripe_transfer_id) == ("paid", transfer["id"])
    earnings = ledger.creator_earnings(creator)
    assert (earnings.balance, earnings.held) == (5 * MICROS_PER_USD + 123, 0)
    page = signed_in(creator).get("/billing/earnings/").content.decode()
    assert "$60.00" in page and "$5.00" in page


def test_below_the_threshold_or_without_connect_nothing_is_paid(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    earn(creator, 100 * MICROS_PER_USD)
    assert payments.payout_start(user=creator) is None  # no Connect account yet
    onboard(fake_stripe, creator, client)
    other = create_user(tenant=Tenant.objects.get(kind="public"), email="small@example.com")
    ConnectAccount.objects.create(user=other, stripe_account_id="acct_small", payouts_enabled=True)
    earn(other, 49 * MICROS_PER_USD)
    assert payments.payout_start(user=other) is None
    assert all(t["destination"] != "acct_small" for t in fake_stripe.transfers.values())


def test_a_payout_cannot_happen_twice_even_when_the_write_after_the_transfer_fails(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    connect = onboard(fake_stripe, creator, client)
    earn(creator, 80 * MICROS_PER_USD)

    def refuse_ledger_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "billing_transaction" in sql and sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_ledger_writes), pytest.raises(OperationalError):
        payments.payout_start(user=creator)

    assert len(fake_stripe.transfers) == 1  # Stripe made the transfer...
    payout = Payout.objects.get()
    assert payout.status == "pending"  # ...but Spark did not record it
    earnings = ledger.creator_earnings(creator)
    assert (earnings.balance, earnings.held) == (80 * MICROS_PER_USD, 80 * MICROS_PER_USD)
    assert payments.payout_start(user=creator) is None  # the held money cannot go again

    assert payments.payouts_reconcile(older_than_seconds=0) == 1
    assert payments.payouts_reconcile(older_than_seconds=0) == 0

    assert len(fake_stripe.transfers) == 1  # the same idempotency key: the same transfer
    payout.refresh_from_db()
    [transfer] = fake_stripe.transfers.values()
    assert (payout.status, payout.stripe_transfer_id) == ("paid", transfer["id"])
    assert transfer["destination"] == connect.stripe_account_id
    earnings.refresh_from_db()
    assert (earnings.balance, earnings.held) == (0, 0)
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 1


def test_a_refused_transfer_fails_the_payout_and_keeps_the_earnings(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    onboard(fake_stripe, creator, client)
    earn(creator, 80 * MICROS_PER_USD)
    fake_stripe.fail_transfers = "balance_insufficient"
    payout = payments.payout_start(user=creator)
    assert payout is not None and payout.status == "failed"
    earnings = ledger.creator_earnings(creator)
    assert (earnings.balance, earnings.held) == (80 * MICROS_PER_USD, 0)
    assert not Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).exists()


def test_a_reversed_transfer_restores_the_earnings_once(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    onboard(fake_stripe, creator, client)
    earn(creator, 80 * MICROS_PER_USD)
    payout = payments.payout_start(user=creator)
    assert payout is not None
    transfer = {**fake_stripe.transfers[payout.stripe_transfer_id or ""], "reversed": True}
    transfer["amount_reversed"] = transfer["amount"]
    event = fake_stripe.signed_event("transfer.reversed", transfer)
    assert deliver(client, *event) == 200
    assert deliver(client, *event) == 200
    assert ledger.creator_earnings(creator).balance == 80 * MICROS_PER_USD
    payout.refresh_from_db()
    assert payout.status == "reversed"


# --- disputes -------------------------------------------------------------------------------------


def test_a_dispute_reverses_the_credit_claws_back_creator_earnings_and_freezes_the_wallet(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, creator: User, client: Client
) -> None:
    model = make_priced_model()
    topup = start_topup(user, public_tenant, 10)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    assert deliver(client, *fake_stripe.signed_event("checkout.session.completed", paid)) == 200
    prompt = create_prompt(owner=creator, default_model=model)
    PromptPricing.objects.create(
        tenant=prompt.tenant, prompt=prompt, markup_per_million=100 * MICROS_PER_USD
    )
    from django.db import transaction

    from billing.services import Use

    with unscoped(), transaction.atomic():  # $6.12 of use of the creator's paid prompt
        services.uses_settle(
            tenant=public_tenant,
            user=user,
            prompt=prompt,
            model=model,
            uses=[Use("answer", "", model, 0, 50_000, 0, 0, "platform", "answer:dispute")],
            conversation_id=None,
            message_id=None,
            hold_id=None,
        )
    with unscoped():
        record = UsageRecord.objects.get()
    assert record.creator_fee == 3_500_000  # 70 % of $5 markup
    wallet = ledger.user_wallet(user)
    left = wallet.balance
    assert left == 10 * MICROS_PER_USD - record.total

    dispute = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": 1000,
        "charge": "ch_test_1",
        "payment_intent": paid["payment_intent"],
        "reason": "fraudulent",
        "status": "needs_response",
    }
    event = fake_stripe.signed_event("charge.dispute.created", dispute)
    assert deliver(client, *event) == 200
    assert deliver(client, *event) == 200

    wallet.refresh_from_db()
    assert (wallet.balance, wallet.is_frozen) == (0, True)
    assert ledger.creator_earnings(creator).balance == 0  # clawed back in full
    assert Transaction.objects.filter(kind=Transaction.Kind.DISPUTE).count() == 1
    with unscoped():
        assert TopUp.objects.get().status == "disputed"
    with pytest.raises(services.PaymentRequired) as refused:
        services.turn_reserve(
            tenant=public_tenant, user=user, prompt=None, model=model, input_tokens=1, reference="x"
        )
    assert refused.value.code == "wallet_frozen"


# --- disputes after a reader spent on a site (a curator's or the public one) --------------------

MARKUP = 1_000 * MICROS_PER_USD  # $1,000 per 1M tokens: 1_000 µ$ a token
# One answer through the creator's paid prompt (20 input and 80 output tokens of priced-gpt):
# provider 800 µ$; the paid-prompt margin (10 %) 80; the markup 100 tokens × 1_000 µ$ =
# 100_000, 70 % of it to the creator; the platform's take 80 + 30_000 = 30_080, of which the
# curator earns 20 % (6_016) and the platform keeps 24_064.
ANSWER, CREATOR_FEE, CURATOR_FEE = 100_880, 70_000, 6_016


@dataclass(frozen=True)
class Site:
    tenant: Tenant
    reader: User  # spends from their wallet on the site
    creator: User  # owns the paid prompt
    curator: User | None  # the site's owner, earning the commission


@sync_to_async
def site_open(tenant: Tenant, reader: User) -> tuple[Site, Conversation]:
    """A paid prompt on ``tenant`` (with its curator, on a curator's site) and the reader's
    conversation with it."""
    curator = None
    if tenant.kind == Tenant.Kind.CURATOR:
        curator = create_user(tenant=tenant, email="cora@b.example", role=Membership.Role.OWNER)
    creator = create_user(tenant=tenant, email="maker@example.com")
    model = LLMModel.objects.filter(slug="priced-gpt").first() or make_priced_model()
    prompt = create_prompt(owner=creator, tenant=tenant, default_model=model)
    with unscoped():
        PromptPricing.objects.create(tenant=tenant, prompt=prompt, markup_per_million=MARKUP)
    site = Site(tenant=tenant, reader=reader, creator=creator, curator=curator)
    return site, conversation_for(reader, tenant, prompt=prompt)


@sync_to_async
def topup_pay(fake: FakeStripe, client: Client, site: Site, amount_usd: int) -> str:
    """The reader tops up through Checkout, confirmed by Stripe's signed webhook; the
    payment's intent (what a dispute names)."""
    topup = start_topup(site.reader, site.tenant, amount_usd)
    paid = fake.complete_session(topup.stripe_session_id or "")
    assert deliver(client, *fake.signed_event("checkout.session.completed", paid)) == 200
    return str(paid["payment_intent"])


async def answers(llm_fakes: Any, site: Site, conversation: Conversation, count: int) -> None:
    for n in range(count):
        llm_fakes.openai.script(Reply(f"Answer {n}.", input_tokens=20, output_tokens=80))
        outcome, turn = await send(
            site.reader, site.tenant, conversation, f"Question {n}", client_id=f"q-{n}"
        )
        assert (outcome.status, turn.cost_micros) == ("complete", ANSWER)


def dispute_event(fake: FakeStripe, intent: str, cents: int) -> tuple[str, str]:
    """``charge.dispute.created`` for the payment, signed (a new event id at each call, as
    Stripe's redeliveries of one dispute may carry)."""
    dispute = {
        "id": "dp_curated",
        "object": "dispute",
        "amount": cents,
        "charge": "ch_curated",
        "payment_intent": intent,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    return fake.signed_event("charge.dispute.created", dispute)


adeliver = sync_to_async(deliver)


@sync_to_async
def balances(site: Site) -> dict[str, int]:
    """What each party holds, in µ$ (the platform's dispute losses are negative)."""
    found = {
        "wallet": balance(ledger.user_wallet(site.reader)),
        "creator": balance(ledger.creator_earnings(site.creator)),
        "dispute_loss": balance(ledger.system_account(Account.Kind.DISPUTE_LOSS)),
    }
    if site.curator is not None:
        found["curator"] = balance(ledger.curator_commission(site.curator))
    return found


@sync_to_async
def ledger_state() -> tuple[list[tuple[Any, ...]], int, int, list[str]]:
    """Every account's balance, hold and freeze, the rows of the ledger and the webhook
    events not applied."""
    with unscoped():
        accounts = list(
            Account.objects.order_by("key").values_list("key", "balance", "held", "is_frozen")
        )
        unapplied = list(
            WebhookEvent.objects.filter(processed_at__isnull=True).values_list("type", flat=True)
        )
        return accounts, Transaction.objects.count(), Entry.objects.count(), unapplied


@sync_to_async
def ledger_check() -> str:
    out = StringIO()
    call_command("ledger_check", stdout=out)  # raises CommandError on any violation
    return out.getvalue()


@sync_to_async
def dispute_entries() -> dict[str, int]:
    with unscoped():
        txn = Transaction.objects.get(kind=Transaction.Kind.DISPUTE)
        return dict(txn.entries.values_list("account__key", "amount"))


async def test_a_dispute_on_a_curators_site_claws_back_the_commission_on_the_spent_money(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    tenant_b: Tenant,
    user_b: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(tenant_b, user_b)
    assert site.curator is not None
    intent = await topup_pay(fake_stripe, client, site, 10)
    await answers(llm_fakes, site, conversation, 3)
    assert await balances(site) == {
        "wallet": 10 * MICROS_PER_USD - 3 * ANSWER,
        "creator": 3 * CREATOR_FEE,
        "curator": 3 * CURATOR_FEE,
        "dispute_loss": 0,
    }

    event = dispute_event(fake_stripe, intent, 1_000)
    assert await adeliver(client, *event) == 200

    # What is left of the $10 goes back; the three answers were spent from it: the creator
    # and the curator give back what they earned on them, the platform loses the rest.
    assert await balances(site) == {
        "wallet": 0,
        "creator": 0,
        "curator": 0,
        "dispute_loss": -3 * (ANSWER - CREATOR_FEE - CURATOR_FEE),
    }
    assert await dispute_entries() == {
        "system:stripe_clearing": 10 * MICROS_PER_USD,
        f"user_wallet:{user_b.pk}": -(10 * MICROS_PER_USD - 3 * ANSWER),
        f"creator_earnings:{site.creator.pk}": -3 * CREATOR_FEE,
        f"curator_commission:{site.curator.pk}": -3 * CURATOR_FEE,
        "system:dispute_loss": -3 * (ANSWER - CREATOR_FEE - CURATOR_FEE),
    }
    assert "consistent" in await ledger_check()

    before = await ledger_state()
    assert await adeliver(client, *event) == 200  # the same event again
    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200  # anew
    assert await ledger_state() == before


async def test_only_the_commission_on_what_was_spent_from_the_disputed_top_up_is_clawed_back(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    tenant_b: Tenant,
    user_b: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(tenant_b, user_b)
    await afund(user_b, 150_000)  # credit the reader had before the top-up
    intent = await topup_pay(fake_stripe, client, site, 5)
    await answers(llm_fakes, site, conversation, 3)

    assert await adeliver(client, *dispute_event(fake_stripe, intent, 500)) == 200

    # The wallet covers 4_847_360 µ$ of the $5; the other 152_640 were spent from it: the
    # newest answer in full and 51_760 µ$ of the one before, whose shares count pro rata
    # (rounded down), as for creators.
    spent = 5 * MICROS_PER_USD - (150_000 + 5 * MICROS_PER_USD - 3 * ANSWER)
    assert spent == ANSWER + 51_760
    creator_back = CREATOR_FEE + CREATOR_FEE * 51_760 // ANSWER
    curator_back = CURATOR_FEE + CURATOR_FEE * 51_760 // ANSWER
    assert (creator_back, curator_back) == (105_915, 9_102)
    assert await balances(site) == {
        "wallet": 0,
        "creator": 3 * CREATOR_FEE - creator_back,
        "curator": 3 * CURATOR_FEE - curator_back,
        "dispute_loss": -(spent - creator_back - curator_back),
    }
    assert "consistent" in await ledger_check()


@sync_to_async
def paid_out(site: Site, *, creator: int, curator: int) -> None:
    """The creator's earnings and the curator's commission transferred out (as a payout
    books it: to Stripe clearing)."""
    assert site.curator is not None
    for account, micros in (
        (ledger.creator_earnings(site.creator), creator),
        (ledger.curator_commission(site.curator), curator),
    ):
        ledger.transaction_post(
            kind=Transaction.Kind.PAYOUT,
            idempotency_key=f"paid-out:{account.key}",
            reference=f"transfer:tr_{account.key}",
            legs=[
                (account, -micros),
                (ledger.system_account(Account.Kind.STRIPE_CLEARING), micros),
            ],
        )


async def test_a_commission_already_paid_out_is_clawed_back_below_zero_as_creators_are(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    tenant_b: Tenant,
    user_b: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(tenant_b, user_b)
    intent = await topup_pay(fake_stripe, client, site, 10)
    await answers(llm_fakes, site, conversation, 2)
    await paid_out(site, creator=2 * CREATOR_FEE, curator=2 * CURATOR_FEE)

    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200

    # Commission and earnings have no floor: what was paid out is owed from future earnings.
    assert await balances(site) == {
        "wallet": 0,
        "creator": -2 * CREATOR_FEE,
        "curator": -2 * CURATOR_FEE,
        "dispute_loss": -2 * (ANSWER - CREATOR_FEE - CURATOR_FEE),
    }
    assert "consistent" in await ledger_check()


async def test_the_commission_is_clawed_back_from_the_curator_who_earned_it(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    tenant_b: Tenant,
    user_b: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(tenant_b, user_b)
    assert site.curator is not None
    intent = await topup_pay(fake_stripe, client, site, 10)
    await answers(llm_fakes, site, conversation, 2)
    successor = await sync_to_async(create_user)(tenant=tenant_b, email="next@b.example")
    policy = await sync_to_async(services.tenant_policy_get_or_create)(tenant=tenant_b)
    with unscoped():  # the site names another curator after the answers were paid
        await TenantBillingPolicy.objects.filter(pk=policy.pk).aupdate(curator=successor)

    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200

    assert (await balances(site))["curator"] == 0
    entries = await dispute_entries()
    assert entries[f"curator_commission:{site.curator.pk}"] == -2 * CURATOR_FEE
    assert f"curator_commission:{successor.pk}" not in entries
    with unscoped():
        assert not await Account.objects.filter(key=f"curator_commission:{successor.pk}").aexists()


async def test_a_dispute_on_the_public_site_claws_back_creators_only_as_before(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    public_tenant: Tenant,
    user: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(public_tenant, user)
    intent = await topup_pay(fake_stripe, client, site, 10)
    await answers(llm_fakes, site, conversation, 3)

    event = dispute_event(fake_stripe, intent, 1_000)
    assert await adeliver(client, *event) == 200

    assert await balances(site) == {
        "wallet": 0,
        "creator": 0,
        "dispute_loss": -3 * (ANSWER - CREATOR_FEE),  # no curator: the platform's whole take
    }
    assert await dispute_entries() == {
        "system:stripe_clearing": 10 * MICROS_PER_USD,
        f"user_wallet:{user.pk}": -(10 * MICROS_PER_USD - 3 * ANSWER),
        f"creator_earnings:{site.creator.pk}": -3 * CREATOR_FEE,
        "system:dispute_loss": -3 * (ANSWER - CREATOR_FEE),
    }
    with unscoped():
        assert not await Account.objects.filter(kind=Account.Kind.CURATOR_COMMISSION).aexists()
    assert "consistent" in await ledger_check()

    before = await ledger_state()
    assert await adeliver(client, *event) == 200
    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200
    assert await ledger_state() == before


@sync_to_async
def free_conversation(site: Site) -> Conversation:
    """The reader's conversation with a free prompt of the same creator on the same site."""
    model = LLMModel.objects.get(slug="priced-gpt")
    prompt = create_prompt(owner=site.creator, tenant=site.tenant, default_model=model)
    return conversation_for(site.reader, site.tenant, prompt=prompt)


async def test_free_answers_spent_from_the_disputed_money_shield_older_earnings(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    public_tenant: Tenant,
    user: User,
    client: Client,
    _turns_finish: None,
) -> None:
    """The disputed money paid for the newest uses, whoever earned on them: free answers
    spent after a paid one take their part of it, so the creator gives back only the part
    of the paid answer that the disputed money still covered."""
    site, paid = await site_open(public_tenant, user)
    await afund(user, 150_000)  # credit the reader had before the top-up
    intent = await topup_pay(fake_stripe, client, site, 5)
    await answers(llm_fakes, site, paid, 3)
    free = await free_conversation(site)
    free_costs = []
    for n in range(2):
        llm_fakes.openai.script(Reply(f"Free {n}.", input_tokens=20, output_tokens=80))
        outcome, turn = await send(user, public_tenant, free, f"Free {n}", client_id=f"f-{n}")
        assert outcome.status == "complete" and 0 < turn.cost_micros < ANSWER
        free_costs.append(turn.cost_micros)

    assert await adeliver(client, *dispute_event(fake_stripe, intent, 500)) == 200

    # As in the curator's case, 152_640 µ$ plus the free answers were spent from the $5;
    # the free answers (newest) take their own cost of it, leaving the paid ones the same
    # 152_640: the newest paid answer in full and 51_760 µ$ of the one before.
    spent = 3 * ANSWER + sum(free_costs) - 150_000
    paid_part = spent - sum(free_costs)
    assert paid_part == ANSWER + 51_760
    creator_back = CREATOR_FEE + CREATOR_FEE * 51_760 // ANSWER
    assert await balances(site) == {
        "wallet": 0,
        "creator": 3 * CREATOR_FEE - creator_back,
        "dispute_loss": -(spent - creator_back),
    }
    assert "consistent" in await ledger_check()


async def test_a_dispute_delivered_again_after_staff_unfroze_the_wallet_changes_nothing(
    fake_stripe: FakeStripe,
    llm_fakes: Any,
    tenant_b: Tenant,
    user_b: User,
    client: Client,
    _turns_finish: None,
) -> None:
    site, conversation = await site_open(tenant_b, user_b)
    intent = await topup_pay(fake_stripe, client, site, 10)
    await answers(llm_fakes, site, conversation, 1)
    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200
    wallet = await sync_to_async(ledger.user_wallet)(user_b)
    assert wallet.is_frozen
    await sync_to_async(ledger.account_unfreeze)(account=wallet)  # the admin's action
    before = await ledger_state()

    assert await adeliver(client, *dispute_event(fake_stripe, intent, 1_000)) == 200

    assert await ledger_state() == before
    await wallet.arefresh_from_db()
    assert not wallet.is_frozen


@pytest.mark.parametrize("outcome", ["payment_intent.succeeded", "payment_intent.payment_failed"])
def test_a_refill_stripe_settles_later_is_booked_by_its_webhook(
    fake_stripe: FakeStripe, tenant_a: Tenant, manager: User, client: Client, outcome: str
) -> None:
    save_card(fake_stripe, manager, tenant_a, client)
    services.auto_refill_configure(
        tenant=tenant_a, enabled=True, threshold=10 * MICROS_PER_USD, amount=50 * MICROS_PER_USD
    )
    fake_stripe.intent_status = "processing"
    refill = payments.auto_refill_run(tenant=tenant_a)
    assert refill is not None and refill.status == "pending"
    assert payments.auto_refill_run(tenant=tenant_a) is not None  # the same refill, same key
    [intent] = fake_stripe.payment_intents.values()
    assert len(fake_stripe.payment_intents) == 1
    if outcome == "payment_intent.payment_failed":
        intent = {**intent, "last_payment_error": {"message": "Your card was declined."}}
    event = fake_stripe.signed_event(outcome, intent)
    assert deliver(client, *event) == 200
    assert deliver(client, *event) == 200
    refill.refresh_from_db()
    if outcome == "payment_intent.succeeded":
        assert refill.status == "succeeded"
        assert balance(ledger.tenant_wallet(tenant_a)) == 50 * MICROS_PER_USD
        assert mail.outbox == []
    else:
        assert (refill.status, refill.failure) == ("failed", "Your card was declined.")
        assert balance(ledger.tenant_wallet(tenant_a)) == 0
        assert [m.to for m in mail.outbox] == [[manager.email]]
        with unscoped():
            assert TenantBillingPolicy.objects.get(tenant=tenant_a).refill_failed_at is not None


def test_an_event_whose_processing_failed_is_retried_later_and_applied_once(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    topup = start_topup(user, public_tenant, 20)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    payload, header = fake_stripe.signed_event("checkout.session.completed", paid)

    def ledger_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "billing_transaction" in sql and sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(ledger_down):
        assert deliver(client, payload, header) == 200  # stored; processing failed
    event = WebhookEvent.objects.get()
    assert (event.processed_at, event.attempts) == (None, 1)
    assert "went away" in event.error
    assert balance(ledger.user_wallet(user)) == 0

    assert payments.webhooks_retry(older_than_seconds=-1) == 1
    assert payments.webhooks_retry(older_than_seconds=-1) == 0
    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""
    assert balance(ledger.user_wallet(user)) == 20 * MICROS_PER_USD


# --- events out of order, replays, payouts past the idempotency window ------------------------


def _dispute(intent: str, cents: int, dispute_id: str = "dp_early") -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": cents,
        "charge": "ch_early",
        "payment_intent": intent,
        "reason": "fraudulent",
        "status": "needs_response",
    }


def test_a_dispute_that_arrives_before_its_checkout_waits_and_applies_once_it_is_booked(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    # Given a paid checkout whose dispute Stripe delivers first
    topup = start_topup(user, public_tenant, 10)
    paid = fake_stripe.complete_session(topup.stripe_session_id or "")
    dispute = fake_stripe.signed_event(
        "charge.dispute.created", _dispute(str(paid["payment_intent"]), 1000)
    )
    checkout = fake_stripe.signed_event("checkout.session.completed", paid)

    # When the dispute comes first
    assert deliver(client, *dispute) == 200

    # Then it is kept, not applied and not marked processed
    waiting = WebhookEvent.objects.get(type="charge.dispute.created")
    assert waiting.processed_at is None and waiting.error.startswith("waiting: dispute dp_early")
    assert not Transaction.objects.filter(kind=Transaction.Kind.DISPUTE).exists()

    # When the checkout lands, and then both are delivered again
    assert deliver(client, *checkout) == 200
    assert deliver(client, *dispute) == 200
    assert deliver(client, *checkout) == 200
    assert payments.webhooks_retry(older_than_seconds=0) == 0

    # Then the credit was given and taken back, each once, and the wallet is frozen
    assert Transaction.objects.filter(kind=Transaction.Kind.TOPUP).count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.DISPUTE).count() == 1
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    wallet = ledger.user_wallet(user)
    assert (wallet.balance, wallet.is_frozen) == (0, True)
    with unscoped():
        assert TopUp.objects.get().status == "disputed"


def test_a_dispute_that_never_finds_its_payment_is_left_for_staff_after_bounded_retries(
    fake_stripe: FakeStripe, client: Client
) -> None:
    dispute = fake_stripe.signed_event("charge.dispute.created", _dispute("pi_unknown", 500))
    assert deliver(client, *dispute) == 200

    for _ in range(payments.WEBHOOK_MAX_ATTEMPTS + 2):
        payments.webhooks_retry(older_than_seconds=0)

    event = WebhookEvent.objects.get()
    assert event.processed_at is None  # never marked processed without its effect
    assert event.attempts == payments.WEBHOOK_MAX_ATTEMPTS  # and retried a bounded number
    assert event.error.startswith("waiting: dispute dp_early: payment pi_unknown")
    assert not Transaction.objects.filter(kind=Transaction.Kind.DISPUTE).exists()


def _paid_out(fake: FakeStripe, creator: User, client: Client, usd: int) -> Payout:
    onboard(fake, creator, client)
    earn(creator, usd * MICROS_PER_USD)
    payout = payments.payout_start(user=creator)
    assert payout is not None and payout.status == "paid"
    return payout


def test_two_partial_reversals_of_a_transfer_each_restore_earnings_once_in_any_order(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    # Given a payout of $80 Stripe reverses twice, $20 then $30
    payout = _paid_out(fake_stripe, creator, client, 80)
    transfer_id = payout.stripe_transfer_id or ""
    first = fake_stripe.signed_event(
        "transfer.reversed", fake_stripe.reverse_transfer(transfer_id, 2000)
    )
    second = fake_stripe.signed_event(
        "transfer.reversed", fake_stripe.reverse_transfer(transfer_id, 3000)
    )

    # When the events come in the wrong order, then again
    for event in (second, first, second, first):
        assert deliver(client, *event) == 200

    # Then each reversal came back once, and the payout is not fully reversed
    assert balance(ledger.creator_earnings(creator)) == 50 * MICROS_PER_USD
    keys = set(
        Transaction.objects.filter(kind=Transaction.Kind.PAYOUT_REVERSAL).values_list(
            "idempotency_key", flat=True
        )
    )
    reversals = fake_stripe.transfers[transfer_id]["reversals"]["data"]
    assert keys == {f"transfer-reversal:{reversal['id']}" for reversal in reversals}
    payout.refresh_from_db()
    assert payout.status == "paid"


def test_a_reversal_that_arrives_before_the_payout_is_recorded_records_it_then_reverses(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    # Given a transfer Stripe made while Spark's write after it failed
    onboard(fake_stripe, creator, client)
    earn(creator, 80 * MICROS_PER_USD)

    def refuse_ledger_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "billing_transaction" in sql and sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_ledger_writes), pytest.raises(OperationalError):
        payments.payout_start(user=creator)
    [transfer_id] = fake_stripe.transfers
    reversed_event = fake_stripe.signed_event(
        "transfer.reversed", fake_stripe.reverse_transfer(transfer_id, 8000)
    )

    # When Stripe reports the full reversal first, then the reconciler runs
    assert deliver(client, *reversed_event) == 200
    assert payments.payouts_reconcile(older_than_seconds=0) == 0

    # Then the payout was booked and reversed, once each: the earnings are whole again
    payout = Payout.objects.get()
    assert (payout.status, payout.stripe_transfer_id) == ("reversed", transfer_id)
    earnings = ledger.creator_earnings(creator)
    assert (earnings.balance, earnings.held) == (80 * MICROS_PER_USD, 0)
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT_REVERSAL).count() == 1
    assert len(fake_stripe.transfers) == 1


def test_a_payout_pending_past_stripes_idempotency_window_is_reconciled_not_paid_twice(
    fake_stripe: FakeStripe, creator: User, client: Client
) -> None:
    # Given a transfer Stripe made, a payout Spark left pending for more than a day, and
    # Stripe having forgotten the idempotency key
    onboard(fake_stripe, creator, client)
    earn(creator, 80 * MICROS_PER_USD)

    def refuse_ledger_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "billing_transaction" in sql and sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_ledger_writes), pytest.raises(OperationalError):
        payments.payout_start(user=creator)
    Payout.objects.update(created_at=timezone.now() - timedelta(hours=25))
    fake_stripe.idempotent.clear()

    # When the reconciler runs (twice)
    assert payments.payouts_reconcile(older_than_seconds=0) == 1
    assert payments.payouts_reconcile(older_than_seconds=0) == 0

    # Then it found the transfer at Stripe by its metadata and recorded it: one transfer
    [transfer] = fake_stripe.transfers.values()
    payout = Payout.objects.get()
    assert (payout.status, payout.stripe_transfer_id) == ("paid", transfer["id"])
    assert transfer["metadata"] == {"payout": str(payout.uuid)}
    earnings = ledger.creator_earnings(creator)
    assert (earnings.balance, earnings.held) == (0, 0)
    assert Transaction.objects.filter(kind=Transaction.Kind.PAYOUT).count() == 1
