"""Writes for billing: reservations and settlement of turns, usage, grants, caps, policies.

Stripe flows (top-ups, discount codes, webhooks, payouts, auto-refill) are in
``billing.payments``. Every money movement goes through ``billing.ledger``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Tenant, User
from billing import ledger, policy
from billing.models import (
    MICROS_PER_USD,
    Account,
    Hold,
    MemberCap,
    PendingSettlement,
    PricingSettings,
    TenantBillingPolicy,
    Transaction,
    UsageRecord,
)
from billing.pricing import Split, collect, split, split_per_use
from chat import services as chat_services
from chat.costs import parts_from
from chat.models import Conversation
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope, unscoped

logger = logging.getLogger(__name__)


class PaymentRequired(ApplicationError):
    """The payer cannot afford this (HTTP 402)."""

    status_code = 402
    default_code = "insufficient_funds"


def usd(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    return f"{sign}${micros // MICROS_PER_USD:,}.{micros % MICROS_PER_USD // 10_000:02d}"


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# --- notifications -----------------------------------------------------------------------


def managers_of(tenant: Tenant) -> list[str]:
    with unscoped():
        return list(
            Membership.objects.filter(
                tenant=tenant, role__in=[Membership.Role.OWNER, Membership.Role.MANAGER]
            ).values_list("user__email", flat=True)
        )


def managers_notify(*, tenant: Tenant, subject: str, body: str) -> None:
    """Email the tenant's owners and managers once the transaction commits."""
    recipients = managers_of(tenant)
    if not recipients:
        return
    transaction.on_commit(
        lambda: send_mail(
            subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
        )
    )


# --- reservations (BudgetGate) -----------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    payer_id: int
    payer_kind: str
    hold_id: int | None
    estimate: int
    plan: policy.Plan | None = None  # reused by Settle: the rates the estimate was made at


def estimate_price(*, plan: policy.Plan, model: LLMModel, input_tokens: int, byok: bool) -> int:
    """The most an answer can cost: its input and the model's longest output, capped."""
    worst = split(
        plan.prices,
        plan.rates,
        input_tokens=input_tokens,
        output_tokens=model.max_output_tokens,
        byok=byok,
    ).total
    cap = int(settings.SPARK_BILLING_ESTIMATE_CAP_USD * MICROS_PER_USD)  # Decimal → int
    return min(worst, cap) if cap > 0 else worst


def topup_url_for(*, payer_kind: str) -> str:
    return reverse("billing:team") if payer_kind == "tenant" else reverse("billing:wallet")


def member_spent_this_month(*, tenant: Tenant, user: Any, payer: Account) -> int:
    with unscoped():
        spent = UsageRecord.objects.filter(
            tenant=tenant, user=user, payer=payer, created_at__gte=month_start()
        ).aggregate(total=Sum("total"))["total"]
    return int(spent or 0)


def _cap_check(
    *, cap: MemberCap | None, tenant: Tenant, user: Any, payer: Account, estimate: int
) -> None:
    """``cap`` is locked by the caller (before the payer's account)."""
    if cap is None:  # the user's own wallet: no member cap
        return
    if cap.monthly_cap is None:  # a manager chose no limit for this member
        return
    with unscoped():
        held_by_user = (
            Hold.objects.filter(account=payer, user=user, released_at__isnull=True).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        spent = member_spent_this_month(tenant=tenant, user=user, payer=payer)
        if spent + held_by_user + estimate <= cap.monthly_cap:
            return
        month = timezone.localtime().strftime("%Y-%m")
        if cap.action == MemberCap.Action.NOTIFY:
            if cap.notified_for != month:
                MemberCap.objects.filter(pk=cap.pk).update(notified_for=month)
                managers_notify(
                    tenant=tenant,
                    subject=_("%(user)s reached their monthly cap") % {"user": user},
                    body=_("%(user)s has spent %(spent)s of a %(cap)s monthly cap.")
                    % {"user": user, "spent": usd(spent), "cap": usd(cap.monthly_cap)},
                )
            return
        if cap.action == MemberCap.Action.RAISE and cap.raise_step > 0:
            new_cap = cap.monthly_cap
            while spent + held_by_user + estimate > new_cap and new_cap < cap.raise_max:
                new_cap = min(new_cap + cap.raise_step, cap.raise_max)
            if spent + held_by_user + estimate <= new_cap:
                MemberCap.objects.filter(pk=cap.pk).update(monthly_cap=new_cap)
                managers_notify(
                    tenant=tenant,
                    subject=_("%(user)s's monthly cap was raised") % {"user": user},
                    body=_("The cap of %(user)s went from %(old)s to %(new)s (maximum %(max)s).")
                    % {
                        "user": user,
                        "old": usd(cap.monthly_cap),
                        "new": usd(new_cap),
                        "max": usd(cap.raise_max),
                    },
                )
                return
    raise PaymentRequired(
        _("You reached your monthly spending limit. Ask your manager to raise it."),
        code="spending_cap_reached",
    )


def turn_reserve(
    *,
    tenant: Tenant,
    user: Any,
    prompt: Any,
    model: LLMModel,
    input_tokens: int,
    reference: str,
    byok: bool = False,
) -> Reservation:
    """Hold the estimated price on the payer's account, or raise ``PaymentRequired``.

    The payer's account row is locked while its available money is checked and the hold
    placed, so concurrent turns cannot reserve the same money twice.
    """
    plan = policy.plan_for(tenant=tenant, user=user, prompt=prompt, model=model)
    estimate = estimate_price(plan=plan, model=model, input_tokens=input_tokens, byok=byok)
    with transaction.atomic():
        cap = None
        if plan.cap is not None:  # the lock order: the member's cap, then the account
            with unscoped():
                cap = MemberCap.objects.select_for_update(of=("self",)).get(pk=plan.cap.pk)
        payer = ledger.accounts_lock([plan.payer.pk])[plan.payer.pk]
        if payer.is_frozen:
            raise PaymentRequired(
                _("This wallet is on hold after a payment dispute. Contact support."),
                code="wallet_frozen",
            )
        if estimate <= 0:
            return Reservation(payer.pk, plan.payer_kind, None, 0, plan)
        if payer.available < estimate:
            if plan.payer_kind == "tenant":
                message = _("Your team's wallet is empty. Ask your manager to add funds.")
            else:
                message = _("Your wallet does not cover this message. Add funds to go on.")
            raise PaymentRequired(
                message,
                details={
                    "topup_url": topup_url_for(payer_kind=plan.payer_kind),
                    "estimate_usd": usd(estimate),
                    "available_usd": usd(max(payer.available, 0)),
                },
            )
        _cap_check(cap=cap, tenant=tenant, user=user, payer=payer, estimate=estimate)
        hold = ledger.hold_place(account=payer, amount=estimate, reference=reference, user=user)
    return Reservation(payer.pk, plan.payer_kind, hold.pk, estimate, plan)


def reservation_release(*, hold_id: int) -> None:
    ledger.hold_release(hold_id=hold_id)


# --- charging usage ------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One use of a model to charge."""

    kind: str
    detail: str
    model: LLMModel | None  # None: a tool priced per use with no model (web search)
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    key_source: str
    idempotency_key: str
    listed_price: int | None = None  # a tool use's catalogue price (µ$), instead of tokens


def _accounts_paid(plan: policy.Plan) -> list[Account]:
    """The cached accounts a use under ``plan`` may credit or debit (system accounts are
    never locked)."""
    accounts = [plan.payer]
    if plan.creator is not None:
        accounts.append(ledger.creator_earnings(plan.creator))
    if plan.curator is not None:
        accounts.append(ledger.curator_commission(plan.curator))
    return accounts


def _book(
    *,
    plan: policy.Plan,
    booked: Split,
    shortfall: int,
    reference: str,
    idempotency_key: str,
) -> Transaction | None:
    charged = booked.total
    legs: list[ledger.Leg] = [(plan.payer, -charged)]
    legs.append((ledger.system_account(Account.Kind.PROVIDER_COST), booked.provider_cost))
    legs.append((ledger.system_account(Account.Kind.PLATFORM_REVENUE), booked.platform_fee))
    if booked.creator_fee:
        legs.append((ledger.creator_earnings(plan.creator), booked.creator_fee))
    if booked.curator_fee:
        legs.append((ledger.curator_commission(plan.curator), booked.curator_fee))
    if not any(amount for _account, amount in legs):
        return None
    return ledger.transaction_post(
        kind=Transaction.Kind.USAGE,
        idempotency_key=f"usage:{idempotency_key}",
        reference=reference,
        legs=legs,
    )


def usage_charge(
    *,
    tenant: Tenant,
    user: Any,
    plan: policy.Plan,
    use: Use,
    payable: int,
    conversation_id: int | None,
    message_id: int | None,
    prompt: Any,
) -> UsageRecord:
    """Write one usage record and its ledger transaction (inside the caller's atomic block).

    ``payable`` is what the payer can still cover; anything above it is booked as
    uncollected (the platform bears it), so no wallet ever goes below its floor.
    """
    with unscoped():
        existing = UsageRecord.objects.filter(idempotency_key=use.idempotency_key).first()
    if existing is not None:
        return existing
    if use.listed_price is not None:
        price = split_per_use(use.listed_price, plan.rates, byok=use.key_source == "user")
    else:
        price = split(
            plan.prices if use.model is None else policy.prices_of(use.model),
            plan.rates,
            input_tokens=use.input_tokens,
            output_tokens=use.output_tokens,
            cached_tokens=use.cached_tokens,
            byok=use.key_source == "user",
        )
    booked, shortfall = collect(price, payable=payable)
    if message_id:
        reference = f"message:{message_id}"
    elif conversation_id:
        reference = f"conversation:{conversation_id}"
    else:
        reference = f"{use.detail}:{use.idempotency_key}"[:120]
    txn = _book(
        plan=plan,
        booked=booked,
        shortfall=shortfall,
        reference=reference,
        idempotency_key=use.idempotency_key,
    )
    with tenant_scope(tenant):
        return UsageRecord.objects.create(
            tenant=tenant,
            user=user,
            payer=plan.payer,
            kind=use.kind,
            detail=use.detail[:80],
            conversation_id=conversation_id,
            message_id=message_id,
            prompt=prompt,
            model=use.model,
            model_slug=use.model.slug if use.model is not None else use.detail[:120],
            key_source=use.key_source,
            input_tokens=use.input_tokens,
            output_tokens=use.output_tokens,
            cached_tokens=use.cached_tokens,
            reasoning_tokens=use.reasoning_tokens,
            provider_cost=price.provider_cost,
            platform_fee=price.platform_fee,
            creator_fee=price.creator_fee,
            curator_fee=price.curator_fee,
            total=price.total,
            uncollected=shortfall,
            transaction=txn,
            idempotency_key=use.idempotency_key,
        )


def _payable(payer: Account, *, own_hold: int) -> int:
    return max(payer.balance - (payer.floor or 0) - (payer.held - own_hold), 0)


@dataclass(frozen=True)
class Settlement:
    records: list[UsageRecord]
    cost: int
    payer_id: int


def uses_settle(
    *,
    tenant: Tenant,
    user: Any,
    prompt: Any,
    model: LLMModel,
    uses: list[Use],
    conversation_id: int | None,
    message_id: int | None,
    hold_id: int | None,
    plan: policy.Plan | None = None,
) -> Settlement:
    """Charge a turn's uses and release its hold (inside the caller's atomic block).

    ``plan`` is the reservation's (the payer and rates when the turn was admitted).
    """
    assert transaction.get_connection().in_atomic_block
    if plan is None:
        plan = policy.plan_for(tenant=tenant, user=user, prompt=prompt, model=model)
    planned = [
        (
            use,
            plan
            if use.kind == UsageRecord.Kind.ANSWER
            else policy.plan_for(
                tenant=tenant, user=user, prompt=None, model=use.model, evaluator=True
            ),
        )
        for use in uses
    ]
    # Every account this settlement changes, locked at once (ledger's lock order).
    to_lock = {plan.payer.pk}
    for _use, use_plan in planned:
        to_lock.update(account.pk for account in _accounts_paid(use_plan))
    hold = Hold.objects.filter(pk=hold_id, released_at__isnull=True).first() if hold_id else None
    if hold is not None:
        to_lock.add(hold.account_id)
    payer = ledger.accounts_lock(to_lock)[plan.payer.pk]
    if hold is not None:  # under the lock: the sweeper may have released it meanwhile
        hold = Hold.objects.filter(pk=hold.pk, released_at__isnull=True).first()
    own_hold = hold.amount if hold is not None and hold.account_id == payer.pk else 0
    payable = _payable(payer, own_hold=own_hold)
    records = []
    for use, use_plan in planned:
        record = usage_charge(
            tenant=tenant,
            user=user,
            plan=use_plan,
            use=use,
            payable=payable,
            conversation_id=conversation_id,
            message_id=message_id,
            prompt=prompt,
        )
        payable = max(payable - record.charged, 0)
        records.append(record)
    if hold is not None:
        ledger.hold_release(hold_id=hold.pk, hold=hold, locked=True)
    if any(r.charged for r in records) and plan.payer_kind == "tenant":
        _maybe_auto_refill(tenant=tenant, policy_row=plan.policy)
    return Settlement(records=records, cost=sum(r.total for r in records), payer_id=payer.pk)


def use_as_json(use: Use) -> dict[str, Any]:
    """A use as a to-settle row keeps it (the model by slug)."""
    return {
        "kind": use.kind,
        "detail": use.detail,
        "model": use.model.slug if use.model is not None else "",
        "input_tokens": use.input_tokens,
        "output_tokens": use.output_tokens,
        "cached_tokens": use.cached_tokens,
        "reasoning_tokens": use.reasoning_tokens,
        "key_source": use.key_source,
        "idempotency_key": use.idempotency_key,
    }


def settlement_defer(
    *,
    key: str,
    tenant: Tenant,
    user: Any,
    prompt: Any,
    model: LLMModel,
    uses: list[Use],
    conversation_id: int | None,
    message_id: int | None,
    hold_id: int | None,
    error: str,
) -> PendingSettlement:
    """Leave a turn's charge to ``settlements_retry``: one row per turn (by ``key``).

    The turn's hold stays open, so the money stays reserved for it.
    """
    row, _created = PendingSettlement.objects.get_or_create(
        key=key,
        defaults={
            "tenant": tenant,
            "user": user,
            "prompt": prompt,
            "model": model,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "hold_id": hold_id,
            "uses": [use_as_json(use) for use in uses],
            "attempts": 1,
            "last_error": error[:2000],
        },
    )
    return row


def pending_settlement_settle(*, pending_id: int) -> bool:
    """Charge a deferred turn with the keys it was given (a repeat charges nothing twice).

    Returns whether this call settled it. The usage records, their transactions, the
    message's cost and the row's ``settled_at`` commit together.
    """
    with transaction.atomic(), unscoped():
        row = (
            PendingSettlement.objects.select_for_update(of=("self",))
            .select_related("tenant", "user", "prompt", "model")
            .filter(pk=pending_id, settled_at__isnull=True)
            .first()
        )
        if row is None:
            return False
        slugs = {use["model"] for use in row.uses}
        models = {m.slug: m for m in LLMModel.objects.filter(slug__in=slugs)}
        uses = [
            Use(**{**use, "model": models[use["model"]] if use["model"] else None})
            for use in row.uses
            if not use["model"] or use["model"] in models
        ]
        with tenant_scope(row.tenant):
            settlement = uses_settle(
                tenant=row.tenant,
                user=row.user,
                prompt=row.prompt,
                model=row.model,
                uses=uses,
                conversation_id=row.conversation_id,
                message_id=row.message_id,
                hold_id=row.hold_id,
            )
        if row.message_id is not None:
            chat_services.message_cost_set(
                message_id=row.message_id,
                cost_micros=settlement.cost,
                cost_parts=parts_from(settlement.records),
            )
        PendingSettlement.objects.filter(pk=row.pk).update(
            settled_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
    return True


def settlements_retry() -> int:
    """Beat: settle every deferred turn the database now accepts. Returns how many."""
    settled = 0
    with unscoped():
        pending = list(
            PendingSettlement.objects.filter(settled_at__isnull=True)
            .order_by("created_at")
            .values_list("pk", "key", "message_id")[:500]
        )
    for pk, key, message_id in pending:
        try:
            settled += pending_settlement_settle(pending_id=pk)
        except Exception as error:  # one refused row must not stop the others
            logger.exception(
                "settlement %s (%s, message %s) still cannot be written", pk, key, message_id
            )
            with unscoped():
                PendingSettlement.objects.filter(pk=pk).update(
                    attempts=F("attempts") + 1, last_error=repr(error)[:2000]
                )
    return settled


def _maybe_auto_refill(*, tenant: Tenant, policy_row: TenantBillingPolicy | None) -> None:
    if policy_row is None or not policy_row.auto_refill_enabled or policy_row.refill_failed_at:
        return
    wallet = ledger.tenant_wallet(tenant)
    if wallet.balance - wallet.held >= policy_row.refill_threshold:
        return
    from billing import tasks

    tenant_id = tenant.pk
    transaction.on_commit(lambda: tasks.auto_refill.delay(tenant_id=tenant_id))


def extra_usage_record(
    *,
    tenant_id: int,
    user_id: int,
    conversation_id: int | None,
    message_id: int | None,
    kind: str,
    model_slug: str,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int,
    key_source: str,
    idempotency_key: str,
    prompt_id: int | None = None,
) -> None:
    """SPARK_EXTRA_USAGE_RECORDER: charge model usage outside a turn (the post-watchdog's
    evaluator; the landing-page wizard, with no conversation).

    Idempotent on ``idempotency_key``; an unknown model is logged and not charged.
    """
    with unscoped():
        tenant = Tenant.objects.get(pk=tenant_id)
        user = User.objects.get(pk=user_id)
        model = LLMModel.objects.filter(slug=model_slug).first()
        conversation = (
            Conversation.objects.select_related("prompt").filter(pk=conversation_id).first()
            if conversation_id is not None
            else None
        )
        prompt = (
            conversation.prompt
            if conversation is not None
            else Prompt.objects.filter(pk=prompt_id).first()
            if prompt_id is not None
            else None
        )
    if model is None:
        logger.warning("usage for unknown model %s not charged (%s)", model_slug, idempotency_key)
        return
    use = Use(
        kind=_usage_kind(kind),
        detail=kind,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached_tokens,
        reasoning_tokens=0,
        key_source=key_source,
        idempotency_key=idempotency_key,
    )
    with tenant_scope(tenant), transaction.atomic():
        uses_settle(
            tenant=tenant,
            user=user,
            prompt=prompt,
            model=model,
            uses=[use],
            conversation_id=conversation_id,
            message_id=message_id,
            hold_id=None,
        )


def _usage_kind(kind: str) -> str:
    head = kind.split(":", 1)[0]
    if head == "tool" and "image" in kind:
        return UsageRecord.Kind.IMAGE
    return head if head in UsageRecord.Kind.values else UsageRecord.Kind.EVALUATOR


# --- grants --------------------------------------------------------------------------------


def wallet_grant(
    *,
    user: User,
    amount: int,
    reason: str,
    granted_by: Any = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Credit a user's wallet from promotional credit (staff: the admin and a command).

    With an ``idempotency_key`` the grant is made once: granting again under the same key
    returns the first transaction (the demo seeder runs on every ``make run``).
    """
    if type(amount) is not int or amount <= 0:
        raise ApplicationError(_("Grant a positive amount."), code="invalid_amount")
    if not reason.strip():
        raise ApplicationError(_("Say why the credit is granted."), code="reason_required")
    with transaction.atomic():
        wallet = ledger.user_wallet(user)
        txn = ledger.transaction_post(
            kind=Transaction.Kind.GRANT,
            idempotency_key=idempotency_key or f"grant:{uuid.uuid4()}",
            reference=f"user:{user.pk}",
            legs=[(ledger.system_account(Account.Kind.PROMOTIONAL), -amount), (wallet, amount)],
            memo=reason.strip(),
            created_by=granted_by,
        )
    return txn


# --- settings edited by staff and managers -------------------------------------------------


def pricing_settings_update(**fields: int) -> PricingSettings:
    """Save the platform's margins; they apply to the next message."""
    with transaction.atomic():
        row = PricingSettings.objects.select_for_update().order_by("pk").first()
        if row is None:
            row = PricingSettings()
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
    transaction.on_commit(policy.pricing_forget)
    policy.pricing_forget()
    return row


MAX_MARKUP_PER_MILLION = 1_000 * MICROS_PER_USD  # $1,000 per 1M tokens


def prompt_markup_set(*, prompt: Any, markup_per_million: int) -> Any:
    """The creator's price on their prompt, per million tokens (0: a free prompt).

    The creator / platform split stays the platform's (or the tenant's) decision.
    """
    from billing.models import PromptPricing

    if type(markup_per_million) is not int or not 0 <= markup_per_million <= MAX_MARKUP_PER_MILLION:
        raise ApplicationError(
            _("The markup is between $0 and $1,000 per million tokens."), code="invalid_amount"
        )
    with unscoped():
        pricing, _created = PromptPricing.objects.update_or_create(
            prompt=prompt,
            defaults={"tenant_id": prompt.tenant_id, "markup_per_million": markup_per_million},
        )
    return pricing


def tenant_policy_get_or_create(*, tenant: Tenant) -> TenantBillingPolicy:
    with unscoped():
        row, _created = TenantBillingPolicy.objects.get_or_create(
            tenant=tenant,
            defaults={
                "payer": policy.DEFAULT_PAYER.get(  # type: ignore[call-overload]
                    tenant.kind, TenantBillingPolicy.Payer.USER
                )
            },
        )
    return row


def member_cap_set(
    *,
    tenant: Tenant,
    user: User,
    monthly_cap: int | None,
    action: str = MemberCap.Action.BLOCK,
    raise_step: int = 0,
    raise_max: int = 0,
) -> MemberCap:
    """Set a member's monthly cap on the tenant's wallet (``None``: no limit).

    The row stays either way: it is what lets the member draw on the wallet.
    """
    if action not in MemberCap.Action.values:
        raise ApplicationError(_("Unknown action."), code="invalid_action")
    if monthly_cap is not None and monthly_cap < 0:
        raise ApplicationError(_("A cap cannot be negative."), code="invalid_amount")
    if action == MemberCap.Action.RAISE and (raise_step <= 0 or raise_max < (monthly_cap or 0)):
        raise ApplicationError(
            _("Raising needs a step and a maximum above the cap."), code="invalid_raise"
        )
    with unscoped(), transaction.atomic():
        cap, _created = MemberCap.objects.update_or_create(
            tenant=tenant,
            user=user,
            defaults={
                "monthly_cap": monthly_cap,
                "action": action,
                "raise_step": raise_step,
                "raise_max": raise_max,
            },
        )
        return cap


def auto_refill_configure(
    *, tenant: Tenant, enabled: bool, threshold: int, amount: int
) -> TenantBillingPolicy:
    """Turn auto-refill on or off; turning it on again clears a past failure."""
    minimum = settings.SPARK_TOPUP_MIN_USD * MICROS_PER_USD
    maximum = settings.SPARK_TOPUP_MAX_USD * MICROS_PER_USD
    if enabled and not (minimum <= amount <= maximum):
        raise ApplicationError(
            _("Refill between $%(min)s and $%(max)s.")
            % {"min": settings.SPARK_TOPUP_MIN_USD, "max": settings.SPARK_TOPUP_MAX_USD},
            code="invalid_amount",
        )
    if threshold < 0:
        raise ApplicationError(_("A threshold cannot be negative."), code="invalid_amount")
    row = tenant_policy_get_or_create(tenant=tenant)
    if enabled and not row.stripe_payment_method_id:
        raise ApplicationError(_("Save a card first."), code="no_card")
    with unscoped():
        TenantBillingPolicy.objects.filter(pk=row.pk).update(
            auto_refill_enabled=enabled,
            refill_threshold=threshold,
            refill_amount=amount,
            refill_failed_at=None if enabled else row.refill_failed_at,
            refill_failure="" if enabled else row.refill_failure,
            updated_at=timezone.now(),
        )
        row.refresh_from_db()
    return row
