"""Money in and out through Stripe: top-ups with discount codes, saved cards and
auto-refill, Connect onboarding and payouts, and the webhook events that confirm them.

Pattern for every Stripe call that moves money: write our intent first (a row with an
idempotency key), commit, call Stripe with that key, then record the result and the
ledger transaction together in one database transaction. If that last write fails, the
row stays ``pending`` and a reconciliation task repeats the call with the same key:
Stripe answers with the object it already made, never a second one.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Tenant, User
from billing import ledger
from billing.integrations import stripe_gateway as gateway
from billing.models import (
    BASIS_POINTS,
    MICROS_PER_CENT,
    MICROS_PER_USD,
    Account,
    ConnectAccount,
    DiscountCode,
    Entry,
    Hold,
    Payout,
    PendingSettlement,
    Refill,
    TenantBillingPolicy,
    TopUp,
    Transaction,
    UsageRecord,
    WebhookEvent,
)
from billing.services import managers_notify, tenant_policy_get_or_create, usd
from spark.common.exceptions import ApplicationError
from spark.tenancy.context import unscoped

logger = logging.getLogger(__name__)

MIN_CHARGE_CENTS = 50  # Stripe's minimum charge in USD
# Stripe keeps idempotency keys for 24 hours: a payout pending longer is looked up at Stripe
# (by its metadata) before it is sent again, since its key no longer protects it.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


class EventNotReady(Exception):
    """A Stripe event that depends on one not applied yet (a dispute of a payment whose
    checkout is not booked): kept unprocessed and tried again, never dropped."""


def cents_to_micros(cents: int) -> int:
    return int(cents) * MICROS_PER_CENT


# --- discount codes ------------------------------------------------------------------------


class PaymentsUnavailable(ApplicationError):
    """Stripe could not be reached or refused the call: the user may try again later."""

    status_code = 503
    default_code = "payments_unavailable"

    def __init__(self) -> None:
        super().__init__(_("Payments are not available right now. Please try again."))


def _code_applies(code: DiscountCode, *, user: User, tenant: Tenant) -> bool:
    if code.scope == DiscountCode.Scope.PLATFORM:
        return True
    if code.scope == DiscountCode.Scope.TENANT:
        return code.tenant_id == tenant.pk
    if code.creator_id is None:
        return False
    with unscoped():  # a creator's code: users of a storefront the creator owns
        return (
            tenant.kind == Tenant.Kind.STOREFRONT
            and Membership.objects.filter(
                tenant=tenant, user_id=code.creator_id, role=Membership.Role.OWNER
            ).exists()
        )


def discount_redeem(
    *, code: str, user: User, tenant: Tenant, amount: int
) -> tuple[DiscountCode, int]:
    """Use one of the code's uses (atomically: concurrent redemptions of the last use let
    exactly one through) and return the discount in micro-USD."""
    now = timezone.now()
    found = DiscountCode.objects.filter(code__iexact=code.strip(), is_active=True).first()
    invalid = ApplicationError(_("This code is not valid."), code="invalid_code")
    if found is None or (found.expires_at is not None and found.expires_at <= now):
        raise invalid
    if not _code_applies(found, user=user, tenant=tenant):
        raise invalid
    claimed = (
        DiscountCode.objects.filter(pk=found.pk, is_active=True)
        .filter(Q(max_uses__isnull=True) | Q(used_count__lt=F("max_uses")))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .update(used_count=F("used_count") + 1)
    )
    if claimed != 1:
        raise ApplicationError(_("This code has been used up."), code="code_used_up")
    if found.kind == DiscountCode.Kind.PERCENT:
        discount = amount * min(found.percent_bp, BASIS_POINTS) // BASIS_POINTS
    else:
        discount = min(found.amount, amount)
    return found, discount - discount % MICROS_PER_CENT  # whole cents


def _discount_give_back(topup: TopUp) -> None:
    if topup.discount_code_id is not None:
        DiscountCode.objects.filter(pk=topup.discount_code_id, used_count__gt=0).update(
            used_count=F("used_count") - 1
        )


# --- top-ups -------------------------------------------------------------------------------


def topup_start(
    *,
    user: User,
    tenant: Tenant,
    amount_usd: int,
    code: str = "",
    success_url: str,
    cancel_url: str,
    for_tenant: bool = False,
) -> TopUp:
    """Open a Checkout session adding ``amount_usd`` to the user's (or the tenant's) wallet.

    Nothing is credited here: the wallet moves when Stripe confirms the payment.
    """
    if not settings.SPARK_TOPUP_MIN_USD <= amount_usd <= settings.SPARK_TOPUP_MAX_USD:
        raise ApplicationError(
            _("Top-ups are between $%(min)s and $%(max)s.")
            % {"min": settings.SPARK_TOPUP_MIN_USD, "max": settings.SPARK_TOPUP_MAX_USD},
            code="invalid_amount",
        )
    amount = amount_usd * MICROS_PER_USD
    if for_tenant:
        if not _is_manager(user=user, tenant=tenant):
            raise ApplicationError(
                _("Only managers fund the team."), code="not_found", status_code=404
            )
        account = ledger.tenant_wallet(tenant)
    else:
        account = ledger.user_wallet(user)
    with transaction.atomic():
        discount_code, discount = None, 0
        if code.strip():
            discount_code, discount = discount_redeem(
                code=code, user=user, tenant=tenant, amount=amount
            )
        to_pay_cents = (amount - discount) // MICROS_PER_CENT
        if to_pay_cents < MIN_CHARGE_CENTS:
            raise ApplicationError(
                _("With this code there is nothing left to pay; ask us for a grant instead."),
                code="invalid_code",
            )
        with unscoped():
            topup = TopUp.objects.create(
                tenant=tenant,
                user=user,
                account=account,
                amount=amount,
                discount_code=discount_code,
                discount=discount,
            )
    try:
        session = gateway.checkout_payment_create(
            amount_cents=to_pay_cents,
            description=_("%(site)s credit: %(amount)s")
            % {"site": settings.SPARK_SITE_NAME, "amount": usd(amount)},
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"topup": str(topup.uuid)},
            customer_email=user.email,
            idempotency_key=f"checkout:{topup.uuid}",
        )
    except gateway.StripeError:
        with transaction.atomic(), unscoped():
            TopUp.objects.filter(pk=topup.pk).update(status=TopUp.Status.EXPIRED)
            _discount_give_back(topup)
        raise PaymentsUnavailable from None
    with unscoped():
        TopUp.objects.filter(pk=topup.pk).update(stripe_session_id=session.id)
    topup.stripe_session_id = session.id
    topup.checkout_url = session.url  # type: ignore[attr-defined]
    return topup


def _is_manager(*, user: User, tenant: Tenant) -> bool:
    with unscoped():
        return Membership.objects.filter(
            user=user, tenant=tenant, role__in=[Membership.Role.OWNER, Membership.Role.MANAGER]
        ).exists()


def _topup_for_session(session: dict[str, Any]) -> TopUp | None:
    with unscoped():
        topup = TopUp.objects.filter(stripe_session_id=session.get("id")).first()
        if topup is None and (session.get("metadata") or {}).get("topup"):
            topup = TopUp.objects.filter(uuid=session["metadata"]["topup"]).first()
    return topup


def topup_complete(*, session: dict[str, Any]) -> TopUp | None:
    """Credit the wallet with what was actually paid (and the discount, from promotions)."""
    topup = _topup_for_session(session)
    if topup is None:
        logger.warning("checkout session %s matches no top-up", session.get("id"))
        return None
    if topup.mode == TopUp.Mode.SETUP:
        _card_saved(topup=topup, session=session)
        return topup
    if session.get("payment_status") != "paid":
        return topup  # an asynchronous payment: its own event follows
    paid_cents = int(session.get("amount_total") or 0)
    paid = cents_to_micros(paid_cents)
    credit = paid + topup.discount
    with transaction.atomic(), unscoped():
        legs: list[ledger.Leg] = [
            (ledger.system_account(Account.Kind.STRIPE_CLEARING), -paid),
            (topup.account, credit),
        ]
        if topup.discount:
            legs.append((ledger.system_account(Account.Kind.PROMOTIONAL), -topup.discount))
        ledger.transaction_post(
            kind=Transaction.Kind.TOPUP,
            idempotency_key=f"topup:{topup.uuid}",
            reference=f"checkout:{session.get('id')}",
            legs=legs,
            created_by=topup.user,
        )
        TopUp.objects.filter(pk=topup.pk).exclude(status=TopUp.Status.DISPUTED).update(
            status=TopUp.Status.PAID,
            amount_paid_cents=paid_cents,
            stripe_payment_intent_id=session.get("payment_intent") or "",
        )
        _waiting_events_wake(intent=str(session.get("payment_intent") or ""))
    return topup


def _waiting_events_wake(*, intent: str) -> None:
    """Disputes of this payment that arrived before it was booked: apply them now."""
    if not intent:
        return
    from billing import tasks

    waiting = WebhookEvent.objects.filter(
        processed_at__isnull=True, type="charge.dispute.created", payload__contains=intent
    ).values_list("pk", flat=True)

    def wake(pks: list[int]) -> None:
        for pk in pks:
            tasks.webhook_process.delay(event_pk=pk)

    pks = list(waiting)
    if pks:
        transaction.on_commit(lambda: wake(pks))


def topup_expire(*, session: dict[str, Any]) -> None:
    topup = _topup_for_session(session)
    if topup is None:
        return
    with transaction.atomic(), unscoped():
        expired = TopUp.objects.filter(pk=topup.pk, status=TopUp.Status.OPEN).update(
            status=TopUp.Status.EXPIRED
        )
        if expired:
            _discount_give_back(topup)


# --- saved cards and auto-refill -----------------------------------------------------------


def card_setup_start(*, user: User, tenant: Tenant, success_url: str, cancel_url: str) -> str:
    """A Checkout session (setup mode) where a manager saves the team's card."""
    if not _is_manager(user=user, tenant=tenant):
        raise ApplicationError(_("Only managers fund the team."), code="not_found", status_code=404)
    policy_row = tenant_policy_get_or_create(tenant=tenant)
    try:
        if not policy_row.stripe_customer_id:
            customer = gateway.customer_create(
                email=user.email,
                name=tenant.name,
                metadata={"tenant": str(tenant.uuid)},
                idempotency_key=f"customer:tenant:{tenant.uuid}",
            )
            with unscoped():
                TenantBillingPolicy.objects.filter(pk=policy_row.pk).update(
                    stripe_customer_id=customer
                )
            policy_row.stripe_customer_id = customer
        with unscoped():
            topup = TopUp.objects.create(
                tenant=tenant,
                user=user,
                account=ledger.tenant_wallet(tenant),
                mode=TopUp.Mode.SETUP,
                amount=0,
            )
        session = gateway.checkout_setup_create(
            customer_id=policy_row.stripe_customer_id,
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"topup": str(topup.uuid)},
            idempotency_key=f"checkout:{topup.uuid}",
        )
    except gateway.StripeError:
        raise PaymentsUnavailable from None
    with unscoped():
        TopUp.objects.filter(pk=topup.pk).update(stripe_session_id=session.id)
    return session.url


def _card_saved(*, topup: TopUp, session: dict[str, Any]) -> None:
    setup_intent = session.get("setup_intent")
    if not setup_intent:
        return
    method = gateway.setup_intent_payment_method(str(setup_intent))
    label = gateway.card_label(method)
    with transaction.atomic(), unscoped():
        TenantBillingPolicy.objects.filter(tenant_id=topup.tenant_id).update(
            stripe_payment_method_id=method,
            card_label=label[:60],
            refill_failed_at=None,
            refill_failure="",
            updated_at=timezone.now(),
        )
        TopUp.objects.filter(pk=topup.pk).update(status=TopUp.Status.PAID)


def auto_refill_run(*, tenant: Tenant) -> Refill | None:
    """Charge the tenant's saved card off-session if its wallet is below the threshold."""
    with transaction.atomic(), unscoped():
        policy_row = (
            TenantBillingPolicy.objects.select_for_update(of=("self",))
            .filter(tenant=tenant)
            .first()
        )
        if (
            policy_row is None
            or not policy_row.auto_refill_enabled
            or policy_row.refill_failed_at is not None
            or not policy_row.stripe_payment_method_id
            or policy_row.refill_amount <= 0
        ):
            return None
        wallet = ledger.tenant_wallet(tenant)
        if wallet.balance - wallet.held >= policy_row.refill_threshold:
            return None
        refill = Refill.objects.filter(tenant=tenant, status=Refill.Status.PENDING).first()
        if refill is None:
            refill = Refill.objects.create(
                tenant=tenant, account=wallet, amount=policy_row.refill_amount
            )
    return refill_send(refill=refill, policy_row=policy_row)


def refill_send(*, refill: Refill, policy_row: TenantBillingPolicy) -> Refill:
    try:
        charge = gateway.charge_off_session(
            amount_cents=refill.amount // MICROS_PER_CENT,
            customer_id=policy_row.stripe_customer_id,
            payment_method_id=policy_row.stripe_payment_method_id,
            metadata={"refill": str(refill.uuid)},
            idempotency_key=f"refill:{refill.uuid}",
        )
    except gateway.PaymentDeclined as declined:
        return refill_fail(refill=refill, reason=declined.message)
    except gateway.StripeUnavailable:
        logger.warning("auto-refill %s: Stripe unavailable, will retry", refill.uuid)
        return refill
    if charge.status == "succeeded":
        return refill_succeed(refill=refill, payment_intent_id=charge.payment_intent_id)
    return refill  # processing: the payment_intent webhook settles it


def refill_succeed(*, refill: Refill, payment_intent_id: str) -> Refill:
    with transaction.atomic(), unscoped():
        ledger.transaction_post(
            kind=Transaction.Kind.REFILL,
            idempotency_key=f"refill:{refill.uuid}",
            reference=f"payment_intent:{payment_intent_id}",
            legs=[
                (ledger.system_account(Account.Kind.STRIPE_CLEARING), -refill.amount),
                (refill.account, refill.amount),
            ],
        )
        Refill.objects.filter(pk=refill.pk).update(
            status=Refill.Status.SUCCEEDED,
            stripe_payment_intent_id=payment_intent_id,
            updated_at=timezone.now(),
        )
    refill.refresh_from_db()
    return refill


def refill_fail(*, refill: Refill, reason: str) -> Refill:
    """A declined refill: stop auto-refill until a manager fixes the card, and tell them."""
    with transaction.atomic(), unscoped():
        # The lock order: the tenant's policy row before the refill (as auto_refill_run).
        TenantBillingPolicy.objects.select_for_update(of=("self",)).filter(
            tenant_id=refill.tenant_id
        ).first()
        failed = Refill.objects.filter(pk=refill.pk, status=Refill.Status.PENDING).update(
            status=Refill.Status.FAILED, failure=reason[:300], updated_at=timezone.now()
        )
        if failed:
            TenantBillingPolicy.objects.filter(tenant_id=refill.tenant_id).update(
                refill_failed_at=timezone.now(), refill_failure=reason[:300]
            )
            tenant = Tenant.objects.get(pk=refill.tenant_id)
            managers_notify(
                tenant=tenant,
                subject=_("Auto-refill failed for %(tenant)s") % {"tenant": tenant.name},
                body=_(
                    "We could not charge your saved card %(amount)s: %(reason)s\n"
                    "Auto-refill is paused until you update the card on your team page."
                )
                % {"amount": usd(refill.amount), "reason": reason},
            )
    refill.refresh_from_db()
    return refill


def _refill_for_intent(intent: dict[str, Any]) -> Refill | None:
    uuid = (intent.get("metadata") or {}).get("refill")
    if not uuid:
        return None
    with unscoped():
        return Refill.objects.filter(uuid=uuid).first()


# --- Connect and payouts ---------------------------------------------------------------------


def connect_onboarding_link(*, user: User, refresh_url: str, return_url: str) -> str:
    """Create the creator's Express account if needed; the URL of Stripe's onboarding."""
    try:
        connect = ConnectAccount.objects.filter(user=user).first()
        if connect is None:
            account_id = gateway.express_account_create(
                email=user.email,
                metadata={"user": str(user.uuid)},
                idempotency_key=f"connect:{user.uuid}",
            )
            try:
                connect = ConnectAccount.objects.create(user=user, stripe_account_id=account_id)
            except IntegrityError:
                connect = ConnectAccount.objects.get(user=user)
        return gateway.account_link_create(
            account_id=connect.stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except gateway.StripeError:
        raise PaymentsUnavailable from None


def connect_account_update(*, account: dict[str, Any]) -> None:
    ConnectAccount.objects.filter(stripe_account_id=account.get("id")).update(
        details_submitted=bool(account.get("details_submitted")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        updated_at=timezone.now(),
    )


def earnings_pending(account: Account) -> int:
    """Earnings still inside the dispute window (not yet payable)."""
    since = timezone.now() - timedelta(days=settings.SPARK_EARNINGS_HOLD_DAYS)
    recent = Entry.objects.filter(
        account=account,
        amount__gt=0,
        created_at__gte=since,
        transaction__kind=Transaction.Kind.USAGE,
    ).aggregate(total=Sum("amount"))["total"]
    return min(int(recent or 0), max(account.balance, 0))


def earnings_available(account: Account) -> int:
    return max(account.balance - account.held - earnings_pending(account), 0)


def payout_start(*, user: User) -> Payout | None:
    """Pay the creator's available earnings if they reach the threshold (once)."""
    connect = ConnectAccount.objects.filter(user=user, payouts_enabled=True).first()
    if connect is None:
        return None
    earnings = ledger.creator_earnings(user)
    threshold = settings.SPARK_PAYOUT_THRESHOLD_USD * MICROS_PER_USD
    with transaction.atomic():
        account = ledger.accounts_lock([earnings.pk])[earnings.pk]
        if Payout.objects.filter(account=account, status=Payout.Status.PENDING).exists():
            return None
        available = earnings_available(account)
        amount = available - available % MICROS_PER_CENT
        if amount < threshold or amount <= 0:
            return None
        hold = ledger.hold_place(
            account=account, amount=amount, reference=f"payout:{user.pk}", user=user
        )
        payout = Payout.objects.create(user=user, account=account, hold=hold, amount=amount)
    return payout_send(payout=payout, destination=connect.stripe_account_id)


def payout_send(*, payout: Payout, destination: str) -> Payout:
    """Ask Stripe for the transfer (the payout's key makes a repeat return the same one)."""
    try:
        transfer_id = gateway.transfer_create(
            amount_cents=payout.amount // MICROS_PER_CENT,
            destination=destination,
            metadata={"payout": str(payout.uuid)},
            idempotency_key=payout.idempotency_key,
        )
    except gateway.PaymentDeclined as refused:
        return payout_fail(payout=payout, reason=refused.message)
    except gateway.StripeUnavailable:
        logger.warning("payout %s: Stripe unavailable, the reconciler will retry", payout.uuid)
        return payout
    return payout_record_transfer(payout=payout, transfer_id=transfer_id)


@transaction.atomic
def payout_record_transfer(*, payout: Payout, transfer_id: str) -> Payout:
    """Book a transfer Stripe made: the ledger and the payout row, together."""
    locked = Payout.objects.select_for_update(of=("self",)).get(pk=payout.pk)
    if locked.status != Payout.Status.PENDING:
        return locked
    ledger.transaction_post(
        kind=Transaction.Kind.PAYOUT,
        idempotency_key=locked.idempotency_key,
        reference=f"transfer:{transfer_id}",
        legs=[
            (locked.account, -locked.amount),
            (ledger.system_account(Account.Kind.STRIPE_CLEARING), locked.amount),
        ],
        below_floor_ok=True,
    )
    if locked.hold_id is not None:
        ledger.hold_release(hold_id=locked.hold_id)
    Payout.objects.filter(pk=locked.pk).update(
        status=Payout.Status.PAID, stripe_transfer_id=transfer_id, updated_at=timezone.now()
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def payout_fail(*, payout: Payout, reason: str) -> Payout:
    locked = Payout.objects.select_for_update(of=("self",)).get(pk=payout.pk)
    if locked.status != Payout.Status.PENDING:
        return locked
    if locked.hold_id is not None:
        ledger.hold_release(hold_id=locked.hold_id)
    Payout.objects.filter(pk=locked.pk).update(
        status=Payout.Status.FAILED, failure=reason[:300], updated_at=timezone.now()
    )
    locked.refresh_from_db()
    return locked


def payouts_reconcile(*, older_than_seconds: int = 60) -> int:
    """Finish payouts left pending (a crash or a failed write after the transfer)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    done = 0
    for payout in Payout.objects.filter(status=Payout.Status.PENDING, created_at__lte=cutoff):
        connect = ConnectAccount.objects.filter(user_id=payout.user_id).first()
        if connect is None:
            payout_fail(payout=payout, reason="no Connect account")
            continue
        if payout_resume(payout=payout, destination=connect.stripe_account_id).status != (
            Payout.Status.PENDING
        ):
            done += 1
    return done


def payout_resume(*, payout: Payout, destination: str) -> Payout:
    """Finish a pending payout. Within Stripe's idempotency window the same key makes a
    repeat return the transfer already made; after it, the transfer is looked up at Stripe
    by the payout named in its metadata and recorded, and only sent if there is none."""
    if timezone.now() - payout.created_at < IDEMPOTENCY_WINDOW:
        return payout_send(payout=payout, destination=destination)
    try:
        found = gateway.transfer_find(
            destination=destination,
            metadata_key="payout",
            value=str(payout.uuid),
            since=int((payout.created_at - timedelta(hours=1)).timestamp()),
        )
    except gateway.StripeError:
        logger.warning("payout %s: Stripe unavailable for the lookup, will retry", payout.uuid)
        return payout
    if found is not None:
        logger.info("payout %s: reconciled with transfer %s found at Stripe", payout.uuid, found)
        return payout_record_transfer(payout=payout, transfer_id=found)
    return payout_send(payout=payout, destination=destination)


def payouts_run() -> int:
    """Pay every creator whose available earnings reached the threshold."""
    paid = 0
    for connect in ConnectAccount.objects.filter(payouts_enabled=True).select_related("user"):
        payout = payout_start(user=connect.user)
        if payout is not None and payout.status == Payout.Status.PAID:
            paid += 1
    return paid


def _payout_for_transfer(transfer: dict[str, Any]) -> Payout | None:
    """The payout a transfer paid (by its id, or by the payout the metadata names), locked."""
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .filter(stripe_transfer_id=transfer.get("id"))
        .first()
    )
    named = (transfer.get("metadata") or {}).get("payout")
    if payout is None and named:
        payout = Payout.objects.select_for_update(of=("self",)).filter(uuid=named).first()
    return payout


def transfer_reversed(*, transfer: dict[str, Any]) -> None:
    """A transfer Stripe reversed, in part or in full (or that failed): the creator's
    earnings come back. Each reversal is booked once, keyed by the reversal's own id, so
    two partial reversals of one transfer both count, in whatever order their events come."""
    transfer_id = str(transfer.get("id") or "")
    with transaction.atomic():
        payout = _payout_for_transfer(transfer)
        if payout is None:
            logger.warning("reversed transfer %s matches no payout of Spark's", transfer_id)
            return
        if payout.status == Payout.Status.PENDING:
            # The reversal came before Spark recorded the transfer: record it first.
            payout = payout_record_transfer(payout=payout, transfer_id=transfer_id)
        reversals = [
            (f"transfer-reversal:{reversal['id']}", int(reversal.get("amount") or 0))
            for reversal in (transfer.get("reversals") or {}).get("data") or []
        ]
        if not reversals:  # transfer.failed, or an object without its reversals
            cents = int(transfer.get("amount_reversed") or transfer.get("amount") or 0)
            reversals = [(f"transfer-reversed:{transfer_id}", cents)]
        booked = (
            Entry.objects.filter(
                account=payout.account,
                transaction__kind=Transaction.Kind.PAYOUT_REVERSAL,
                transaction__reference=f"transfer:{transfer_id}",
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        for key, cents in sorted(reversals):
            if Transaction.objects.filter(idempotency_key=key).exists():
                continue
            amount = min(cents_to_micros(cents), payout.amount - booked)
            if amount <= 0:
                continue
            ledger.transaction_post(
                kind=Transaction.Kind.PAYOUT_REVERSAL,
                idempotency_key=key,
                reference=f"transfer:{transfer_id}",
                legs=[
                    (ledger.system_account(Account.Kind.STRIPE_CLEARING), -amount),
                    (payout.account, amount),
                ],
            )
            booked += amount
        if booked >= payout.amount:
            Payout.objects.filter(pk=payout.pk).update(
                status=Payout.Status.REVERSED, updated_at=timezone.now()
            )


# --- disputes --------------------------------------------------------------------------------


def dispute_open(*, dispute: dict[str, Any]) -> None:
    """A chargeback: take the credit back, claw back what creators and curators earned on
    what was spent, and freeze the wallet. Once per dispute: a redelivery changes nothing."""
    intent = str(dispute.get("payment_intent") or "")
    with unscoped():
        topup = TopUp.objects.filter(stripe_payment_intent_id=intent).first() if intent else None
        refill = (
            Refill.objects.filter(stripe_payment_intent_id=intent).first()
            if intent and topup is None
            else None
        )
    source = topup or refill
    if source is None:
        raise EventNotReady(
            f"dispute {dispute.get('id')}: payment {intent or '(none)'} is not booked yet"
        )
    amount = cents_to_micros(int(dispute.get("amount") or 0))
    idempotency_key = f"dispute:{dispute.get('id')}"
    with transaction.atomic(), unscoped():
        # Every account the clawback may take from, locked with the wallet in one statement
        # (the ledger's lock order): the earners of the uses the whole amount could have paid.
        wallet_row = Account.objects.get(pk=source.account_id)
        earners = _clawbacks(wallet=wallet_row, since=source.created_at, spent=amount)
        locked = ledger.accounts_lock([source.account_id, *(a.pk for a, _amount in earners)])
        wallet = locked[source.account_id]
        if Transaction.objects.filter(idempotency_key=idempotency_key).exists():
            return  # booked already (under the wallet's lock: no concurrent delivery races)
        debit = min(amount, max(wallet.balance - (wallet.floor or 0), 0))
        spent = amount - debit
        legs: list[ledger.Leg] = [
            (ledger.system_account(Account.Kind.STRIPE_CLEARING), amount),
            (wallet, -debit),
            (ledger.system_account(Account.Kind.DISPUTE_LOSS), -spent),
        ]
        for earner_account, clawback in _clawbacks(
            wallet=wallet, since=source.created_at, spent=spent
        ):
            legs.append((earner_account, -clawback))
            legs.append((ledger.system_account(Account.Kind.DISPUTE_LOSS), clawback))
        ledger.transaction_post(
            kind=Transaction.Kind.DISPUTE,
            idempotency_key=idempotency_key,
            reference=f"payment_intent:{intent}",
            legs=legs,
            memo=str(dispute.get("reason") or "")[:300],
        )
        ledger.account_freeze(account=wallet, reason=f"dispute {dispute.get('id')}")
        if topup is not None:
            TopUp.objects.filter(pk=topup.pk).update(status=TopUp.Status.DISPUTED)


def _clawbacks(*, wallet: Account, since: Any, spent: int) -> list[tuple[Account, int]]:
    """What creators and curators give back: their shares of what the wallet spent since
    the disputed payment, up to ``spent``."""
    if spent <= 0:
        return []
    uses = _spent_uses(UsageRecord.objects.filter(payer=wallet, created_at__gte=since), spent=spent)
    return _creator_clawbacks(uses) + _curator_clawbacks(uses)


# A use the disputed money paid for: the record and the part of its charge the money covered.
SpentUse = tuple[UsageRecord, int]


def _spent_uses(records: QuerySet[UsageRecord], *, spent: int) -> list[SpentUse]:
    """The uses the last ``spent`` µ$ paid for, newest first: whole records while the money
    covers them, then part of the oldest one. Every use counts, whoever earned on it."""
    uses: list[SpentUse] = []
    remaining = spent
    for record in records.select_related("prompt").order_by("-created_at", "-id").iterator():
        if remaining <= 0:
            break
        covered = min(record.charged, remaining)
        if covered > 0:  # nothing collected for it: none of the spent money
            uses.append((record, covered))
            remaining -= covered
    return uses


def _share(fee: int, record: UsageRecord, covered: int) -> int:
    """``fee``'s part of a use the spent money covered (rounded down when only partly)."""
    return fee if covered >= record.charged else fee * covered // record.charged


def _creator_clawbacks(uses: list[SpentUse]) -> list[tuple[Account, int]]:
    """Creators' earnings on the spent money (the uses of their paid prompts; a deleted
    prompt's creator is unknown and keeps them)."""
    per_creator: dict[int, int] = {}
    for record, covered in uses:
        if record.creator_fee > 0 and record.prompt is not None:
            owner = record.prompt.owner_id
            per_creator[owner] = per_creator.get(owner, 0) + _share(
                record.creator_fee, record, covered
            )
    result = []
    for creator_id, amount in per_creator.items():
        if amount > 0:
            creator = User.objects.get(pk=creator_id)
            result.append((ledger.creator_earnings(creator), amount))
    return result


def _curator_clawbacks(uses: list[SpentUse]) -> list[tuple[Account, int]]:
    """Curators' commissions on the spent money (the uses on their sites), each taken from
    the commission account its use paid (the site may name another curator since)."""
    earning = [(record, covered) for record, covered in uses if record.curator_fee > 0]
    paid_to: dict[int | None, int] = dict(
        Entry.objects.filter(
            transaction_id__in=[record.transaction_id for record, _covered in earning],
            account__kind=Account.Kind.CURATOR_COMMISSION,
        ).values_list("transaction_id", "account_id")
    )
    per_account: dict[int, int] = {}
    for record, covered in earning:
        account_id = paid_to.get(record.transaction_id)
        if account_id is not None:
            per_account[account_id] = per_account.get(account_id, 0) + _share(
                record.curator_fee, record, covered
            )
    accounts = Account.objects.filter(pk__in=[pk for pk, amount in per_account.items() if amount])
    return [(account, per_account[account.pk]) for account in accounts.order_by("pk")]


# --- webhooks --------------------------------------------------------------------------------


def webhook_receive(*, payload: bytes, signature: str) -> WebhookEvent:
    """Verify, store the raw event once (unique by its id), and process it after commit."""
    event = gateway.webhook_verify(payload=payload, signature=signature)
    with transaction.atomic():
        stored, created = WebhookEvent.objects.get_or_create(
            event_id=event["id"],
            defaults={"type": str(event["type"])[:80], "payload": payload.decode("utf-8")},
        )
        if created or stored.processed_at is None:
            from billing import tasks

            pk = stored.pk
            transaction.on_commit(lambda: tasks.webhook_process.delay(event_pk=pk))
    return stored


HANDLERS = {
    "checkout.session.completed": lambda obj: topup_complete(session=obj),
    "checkout.session.async_payment_succeeded": lambda obj: topup_complete(session=obj),
    "checkout.session.expired": lambda obj: topup_expire(session=obj),
    "account.updated": lambda obj: connect_account_update(account=obj),
    "transfer.reversed": lambda obj: transfer_reversed(transfer=obj),
    "transfer.failed": lambda obj: transfer_reversed(transfer=obj),
    "charge.dispute.created": lambda obj: dispute_open(dispute=obj),
}


def _payment_intent_event(kind: str, intent: dict[str, Any]) -> None:
    refill = _refill_for_intent(intent)
    if refill is None:
        logger.info("%s for %s (not an auto-refill)", kind, intent.get("id"))
        return
    if kind == "payment_intent.succeeded":
        refill_succeed(refill=refill, payment_intent_id=str(intent.get("id")))
    else:
        error = intent.get("last_payment_error") or {}
        refill_fail(refill=refill, reason=str(error.get("message") or _("The card was declined.")))


def webhook_process(*, event_pk: int) -> None:
    """Apply one stored event. Safe to run again: every effect is keyed by Stripe's ids,
    and the event is marked processed in the same database transaction as its effects."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update(of=("self",)).get(pk=event_pk)
            if event.processed_at is not None:
                return
            obj = json.loads(event.payload).get("data", {}).get("object", {})
            if event.type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
                _payment_intent_event(event.type, obj)
            else:
                handler = HANDLERS.get(event.type)
                if handler is not None:
                    handler(obj)
            WebhookEvent.objects.filter(pk=event_pk).update(
                processed_at=timezone.now(), error="", attempts=F("attempts") + 1
            )
    except EventNotReady as waiting:
        _event_not_applied(event_pk, f"waiting: {waiting}", waiting=True)
    except Exception as error:
        logger.exception("Stripe event %s failed", event_pk)
        _event_not_applied(event_pk, repr(error), waiting=False)


def _event_not_applied(event_pk: int, error: str, *, waiting: bool) -> None:
    """Keep the event unprocessed (the retry task tries again); after the last attempt it
    stays for staff, with its error, in the admin's unprocessed events."""
    WebhookEvent.objects.filter(pk=event_pk).update(error=error[:2000], attempts=F("attempts") + 1)
    attempts = WebhookEvent.objects.filter(pk=event_pk).values_list("attempts", flat=True).first()
    if attempts is not None and attempts >= WEBHOOK_MAX_ATTEMPTS:
        logger.error(
            "Stripe event %s not applied after %d attempts; left for staff: %s",
            event_pk,
            attempts,
            error,
        )
    elif waiting:
        logger.warning("Stripe event %s kept for later (attempt %s): %s", event_pk, attempts, error)


WEBHOOK_MAX_ATTEMPTS = 10


def webhooks_retry(*, older_than_seconds: int = 60) -> int:
    """Process the stored events that are still unprocessed (a failure, a lost task)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=cutoff, attempts__lt=WEBHOOK_MAX_ATTEMPTS
    ).order_by("received_at")
    done = 0
    for event_pk in pending.values_list("pk", flat=True)[:500]:
        webhook_process(event_pk=event_pk)
        done += 1
    return done


def holds_release_stale(*, older_than_seconds: int) -> int:
    """Release holds whose answers died with their process (the sweeper)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    released = 0
    # A payout's hold, and the hold of an answer waiting for its settlement, are not stale.
    waiting = PendingSettlement.objects.filter(
        settled_at__isnull=True, hold_id__isnull=False
    ).values("hold_id")
    stale = (
        Hold.objects.filter(released_at__isnull=True, created_at__lt=cutoff)
        .exclude(reference__startswith="payout:")
        .exclude(pk__in=waiting)
    )
    for hold_id in stale.values_list("pk", flat=True):
        if ledger.hold_release(hold_id=hold_id) is not None:
            released += 1
    return released
