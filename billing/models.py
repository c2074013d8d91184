"""Billing's tables: the double-entry ledger, usage, pricing, policies, Stripe records.

Money is an integer number of micro-USD (1 USD = 1_000_000) everywhere. Only
``billing.ledger`` writes ``Account`` balances, ``Transaction`` and ``Entry`` rows; the
rows are immutable once written (corrections are new, reversing transactions).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.tenancy.managers import TenantManager

MICROS_PER_USD = 1_000_000
MICROS_PER_CENT = 10_000
BASIS_POINTS = 10_000


class Account(BaseModel):
    """One ledger account. Its balance is the sum of its entries (cached in ``balance``).

    The ledger is platform-wide by nature (one transaction moves money from a tenant's
    wallet to a creator in another tenant and to the platform), so accounts are not
    tenant-scoped rows: billing's selectors filter by owner explicitly, and the isolation
    matrix tests every page that shows one.
    """

    tenant_scoped = False

    class Kind(models.TextChoices):
        USER_WALLET = "user_wallet", _("User wallet")
        TENANT_WALLET = "tenant_wallet", _("Tenant wallet")
        CREATOR_EARNINGS = "creator_earnings", _("Creator earnings")
        CURATOR_COMMISSION = "curator_commission", _("Curator commission")
        PLATFORM_REVENUE = "platform_revenue", _("Platform revenue")
        PROVIDER_COST = "provider_cost", _("Provider costs payable")
        STRIPE_CLEARING = "stripe_clearing", _("Stripe clearing")
        PROMOTIONAL = "promotional", _("Promotional credit")
        DISPUTE_LOSS = "dispute_loss", _("Dispute losses")

    WALLET_KINDS = (Kind.USER_WALLET, Kind.TENANT_WALLET)

    key = models.CharField(max_length=80, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="billing_accounts",
    )
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="billing_accounts",
    )
    balance = models.BigIntegerField(_("balance (µ$)"), default=0, editable=False)
    held = models.BigIntegerField(
        _("held (µ$)"),
        default=0,
        editable=False,
        help_text=_("Reserved for answers being written (estimates not yet settled)."),
    )
    floor = models.BigIntegerField(
        _("floor (µ$)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The lowest balance allowed; empty for platform accounts."),
    )
    is_frozen = models.BooleanField(
        _("frozen"), default=False, help_text=_("Flagged (a payment dispute): it cannot spend.")
    )
    frozen_reason = models.CharField(_("frozen because"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["kind", "id"]
        indexes = [models.Index(fields=["kind", "tenant"]), models.Index(fields=["kind", "user"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor__isnull=True) | models.Q(balance__gte=models.F("floor")),
                name="billing_account_balance_above_floor",
            ),
            models.CheckConstraint(condition=models.Q(held__gte=0), name="billing_held_positive"),
        ]

    def __str__(self) -> str:
        owner = self.user or self.tenant or ""
        return f"{self.get_kind_display()} {owner}".strip()

    @property
    def available(self) -> int:
        """What can still be spent: the balance less holds, above the floor."""
        return self.balance - self.held - (self.floor or 0)


class Transaction(models.Model):
    """A balanced set of entries. Immutable; corrections are new transactions."""

    class Kind(models.TextChoices):
        USAGE = "usage", _("Usage")
        TOPUP = "topup", _("Top-up")
        REFILL = "refill", _("Auto-refill")
        GRANT = "grant", _("Credit grant")
        SIGNUP_CREDIT = "signup_credit", _("Sign-up credit")
        PAYOUT = "payout", _("Payout")
        PAYOUT_REVERSAL = "payout_reversal", _("Payout reversed")
        DISPUTE = "dispute", _("Dispute")
        CLAWBACK = "clawback", _("Earnings clawback")
        REVERSAL = "reversal", _("Reversal")
        DOMAIN_FEE = "domain_fee", _("Domain fee")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    reference = models.CharField(
        _("caused by"), max_length=200, help_text=_("What caused it, e.g. usage:12.")
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"


class Entry(models.Model):
    """One leg of a transaction: a signed amount on one account (credit positive)."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(_("amount (µ$)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="billing_entry_amount_nonzero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount}"


class Hold(models.Model):
    """A reservation of an estimate on an account while an answer is written."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        indexes = [models.Index(fields=["account", "released_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_hold_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.account_id} ({self.reference})"


class UsageRecord(models.Model):
    """One charged use of a model: an answer, an evaluator call, a tool."""

    class Kind(models.TextChoices):
        ANSWER = "answer", _("Answer")
        EVALUATOR = "evaluator", _("Evaluator")
        TOOL = "tool", _("Tool")
        IMAGE = "image", _("Image")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="usage_records"
    )
    payer = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="usage_records")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ANSWER)
    detail = models.CharField(_("detail"), max_length=80, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    message = models.ForeignKey(
        "chat.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prompt = models.ForeignKey(
        "marketplace.Prompt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.ForeignKey(
        "llm.LLMModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model_slug = models.CharField(_("model"), max_length=120)
    key_source = models.CharField(max_length=16, default="platform")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    provider_cost = models.BigIntegerField(_("provider cost (µ$)"), default=0)
    platform_fee = models.BigIntegerField(_("platform (µ$)"), default=0)
    creator_fee = models.BigIntegerField(_("creator (µ$)"), default=0)
    curator_fee = models.BigIntegerField(_("curator (µ$)"), default=0)
    total = models.BigIntegerField(_("price (µ$)"), default=0)
    uncollected = models.BigIntegerField(
        _("uncollected (µ$)"),
        default=0,
        help_text=_("What the payer could not cover; the platform bears it."),
    )
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="usage"
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "user", "created_at"]),
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["payer", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.model_slug} {self.total} µ$"

    @property
    def charged(self) -> int:
        return self.total - self.uncollected


class PricingSettings(BaseModel):
    """Platform margins and splits (one row, edited by staff, effective immediately)."""

    margin_free_bp = models.PositiveIntegerField(
        _("margin on free prompts (basis points)"), default=2000
    )
    margin_paid_bp = models.PositiveIntegerField(
        _("margin on paid prompts (basis points)"), default=1000
    )
    margin_own_bp = models.PositiveIntegerField(
        _("margin when creators use their own prompt (basis points)"), default=1500
    )
    creator_share_bp = models.PositiveIntegerField(
        _("creator's share of the markup (basis points)"), default=7000
    )
    curator_commission_bp = models.PositiveIntegerField(
        _("default curator commission (basis points of the platform's take)"), default=2000
    )

    class Meta:
        verbose_name = _("pricing settings")
        verbose_name_plural = _("pricing settings")

    def __str__(self) -> str:
        return str(_("Pricing settings"))


class TenantBillingPolicy(BaseModel):
    """What a tenant decides about money: who pays, splits, auto-refill."""

    class Payer(models.TextChoices):
        USER = "user", _("Each user pays from their own wallet")
        TENANT = "tenant", _("The tenant's wallet pays for everyone")

    tenant = models.OneToOneField(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="billing_policy"
    )
    payer = models.CharField(_("who pays"), max_length=16, choices=Payer.choices)
    creator_share_bp = models.PositiveIntegerField(
        _("creator's share of the markup (basis points)"),
        null=True,
        blank=True,
        help_text=_("Empty: the platform default."),
    )
    curator_commission_bp = models.PositiveIntegerField(
        _("curator commission (basis points of the platform's take)"),
        null=True,
        blank=True,
        help_text=_("Curator sites only. Empty: the platform default."),
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who earns the curator commission (default: the tenant's owner)."),
    )
    auto_refill_enabled = models.BooleanField(_("auto-refill"), default=False)
    refill_threshold = models.BigIntegerField(_("refill below (µ$)"), default=0)
    refill_amount = models.BigIntegerField(_("refill amount (µ$)"), default=0)
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_payment_method_id = models.CharField(max_length=64, blank=True)
    card_label = models.CharField(_("saved card"), max_length=60, blank=True)
    refill_failed_at = models.DateTimeField(_("auto-refill failed"), null=True, blank=True)
    refill_failure = models.CharField(_("failure"), max_length=300, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("tenant billing policy")
        verbose_name_plural = _("tenant billing policies")

    def __str__(self) -> str:
        return f"{self.tenant}: {self.get_payer_display()}"


class PromptPricing(BaseModel):
    """A paid prompt's markup per million tokens and its creator / platform split."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    prompt = models.OneToOneField(
        "marketplace.Prompt", on_delete=models.CASCADE, related_name="pricing"
    )
    markup_per_million = models.PositiveBigIntegerField(
        _("markup (µ$ per 1M tokens)"), default=0, help_text=_("0: a free prompt.")
    )
    creator_share_bp = models.PositiveIntegerField(
        _("creator's share (basis points)"),
        null=True,
        blank=True,
        help_text=_("Empty: the tenant's or the platform's default."),
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("prompt pricing")
        verbose_name_plural = _("prompt pricing")

    def __str__(self) -> str:
        return f"{self.prompt}: {self.markup_per_million} µ$/1M"


class MemberCap(BaseModel):
    """An enterprise member's monthly spending cap on the tenant's wallet.

    A member draws on the wallet only through their row (``billing.policy``); a null cap
    is a manager's explicit "no limit".
    """

    class Action(models.TextChoices):
        BLOCK = "block", _("Block further messages")
        NOTIFY = "notify", _("Notify the managers and let them go on")
        RAISE = "raise", _("Raise the cap by a step, up to a maximum")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_caps"
    )
    monthly_cap = models.BigIntegerField(
        _("monthly cap (µ$)"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    action = models.CharField(
        _("when reached"), max_length=16, choices=Action.choices, default=Action.BLOCK
    )
    raise_step = models.BigIntegerField(_("raise by (µ$)"), default=0)
    raise_max = models.BigIntegerField(_("raise up to (µ$)"), default=0)
    notified_for = models.CharField(max_length=7, blank=True, help_text="YYYY-MM")

    objects = TenantManager()

    class Meta:
        verbose_name = _("member spending cap")
        verbose_name_plural = _("member spending caps")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="billing_one_cap_per_member")
        ]

    def __str__(self) -> str:
        if self.monthly_cap is None:
            return f"{self.user}: no limit"
        return f"{self.user}: {self.monthly_cap} µ$"


class DiscountCode(BaseModel):
    """A top-up discount: a percentage or a fixed amount, with an expiry and a use cap."""

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percentage")
        FIXED = "fixed", _("Fixed amount")

    class Scope(models.TextChoices):
        PLATFORM = "platform", _("Everyone")
        TENANT = "tenant", _("Users of one tenant")
        CREATOR = "creator", _("A creator's storefront users")

    tenant_scoped = False  # the scope is a rule, not an isolation boundary

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    percent_bp = models.PositiveIntegerField(_("percentage (basis points)"), default=0)
    amount = models.BigIntegerField(_("fixed amount (µ$)"), default=0)
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.PLATFORM
    )
    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True)
    used_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(used_count__lte=models.F("max_uses")),
                name="billing_discount_within_cap",
            ),
            models.CheckConstraint(
                condition=models.Q(percent_bp__lte=BASIS_POINTS), name="billing_discount_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TopUp(BaseModel):
    """A Stripe Checkout session that adds money to a wallet (or saves a card)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for payment")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        DISPUTED = "disputed", _("Disputed")

    class Mode(models.TextChoices):
        PAYMENT = "payment", _("Top-up")
        SETUP = "setup", _("Save a card")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="topups")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.PAYMENT)
    amount = models.BigIntegerField(_("amount credited (µ$)"))
    discount_code = models.ForeignKey(
        DiscountCode, on_delete=models.PROTECT, null=True, blank=True, related_name="topups"
    )
    discount = models.BigIntegerField(_("discount (µ$)"), default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    stripe_session_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=120, blank=True, db_index=True)
    amount_paid_cents = models.PositiveBigIntegerField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.amount} µ$ ({self.status})"


class Refill(BaseModel):
    """One off-session auto-refill charge of a tenant's saved card."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Charging")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="refills")
    amount = models.BigIntegerField(_("amount (µ$)"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_payment_intent_id = models.CharField(max_length=120, blank=True, db_index=True)
    failure = models.CharField(max_length=300, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("auto-refill")
        verbose_name_plural = _("auto-refills")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="pending"),
                name="billing_one_pending_refill",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.amount} µ$ ({self.status})"


class ConnectAccount(BaseModel):
    """A creator's Stripe Connect Express account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connect_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("Connect account")
        verbose_name_plural = _("Connect accounts")

    def __str__(self) -> str:
        return f"{self.user} {self.stripe_account_id}"


class Payout(BaseModel):
    """A transfer of available earnings to a creator's Connect account."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        REVERSED = "reversed", _("Reversed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payouts")
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, related_name="+")
    amount = models.BigIntegerField(_("amount (µ$)"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_transfer_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="pending"),
                name="billing_one_pending_payout",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.amount} µ$ ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"payout:{self.uuid}"


class WebhookEvent(models.Model):
    """A Stripe event as received (raw), unique by Stripe's event id."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    payload = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PendingSettlement(models.Model):
    """An answer delivered whose charge could not be written (the database kept refusing).

    Written with the answer's final state, in place of its usage records; the beat task
    ``billing.tasks.settlements_retry`` charges it later with the same idempotency keys,
    and ``ledger_check`` reports it until then. ``uses`` are the turn's uses as JSON
    (``billing.services.Use`` fields, the model by slug).
    """

    # A platform-wide work queue, reached only by billing's settlement task and the admin.
    tenant_scoped = False

    key = models.CharField(max_length=200, unique=True)  # "turn:<assistant message uuid>"
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prompt = models.ForeignKey(
        "marketplace.Prompt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.ForeignKey("llm.LLMModel", on_delete=models.PROTECT, related_name="+")
    conversation_id = models.BigIntegerField(null=True, blank=True)
    message = models.ForeignKey(
        "chat.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hold_id = models.BigIntegerField(null=True, blank=True)
    uses = models.JSONField(default=list)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("settlement to retry")
        verbose_name_plural = _("settlements to retry")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["settled_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({'settled' if self.settled_at else 'to settle'})"
