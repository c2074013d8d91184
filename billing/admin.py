"""Billing in the console: the ledger (read-only), usage, pricing, policies, discount codes,
payouts and Stripe events. Credit is granted through the same service as ``wallet_grant``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from billing import ledger, payments, services
from billing.models import (
    MICROS_PER_USD,
    Account,
    ConnectAccount,
    DiscountCode,
    Entry,
    MemberCap,
    Payout,
    PendingSettlement,
    PricingSettings,
    PromptPricing,
    Refill,
    TenantBillingPolicy,
    TopUp,
    Transaction,
    UsageRecord,
    WebhookEvent,
)
from security.models import AuditLogEntry
from security.services import audit_record
from spark.common.admin import ReadOnlyAdmin


class GrantForm(forms.Form):
    amount_usd = forms.DecimalField(
        label=_("Amount (USD)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=6
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = [
        "key",
        "kind",
        "user",
        "tenant",
        "current_balance",
        "held",
        "floor",
        "is_frozen",
    ]
    list_filter = ["kind", "is_frozen"]
    search_fields = ["key", "user__email", "tenant__name"]
    list_select_related = ["user", "tenant"]
    actions = ["grant_credit", "unfreeze"]

    @admin.display(description=_("balance (µ$)"))
    def current_balance(self, account: Account) -> int:
        """A system account's balance is the sum of its entries (it caches none)."""
        return ledger.account_balance(account) if ledger.is_system(account) else account.balance

    @admin.action(description=_("Grant promotional credit to these users' wallets"))
    def grant_credit(
        self, request: HttpRequest, queryset: QuerySet[Account]
    ) -> HttpResponse | None:
        wallets = [a for a in queryset if a.kind == Account.Kind.USER_WALLET and a.user_id]
        if not wallets:
            self.message_user(request, _("Choose user wallets."), messages.ERROR)
            return None
        form = GrantForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                micros = form.cleaned_data["amount_usd"] * MICROS_PER_USD
                if micros != micros.to_integral_value():
                    raise InvalidOperation
            except InvalidOperation:
                self.message_user(request, _("Too many decimals."), messages.ERROR)
                return None
            for wallet in wallets:
                txn = services.wallet_grant(
                    user=wallet.user,  # type: ignore[arg-type]
                    amount=int(micros),
                    reason=form.cleaned_data["reason"],
                    granted_by=request.user,
                )
                audit_record(
                    action="wallet_grant",
                    source=AuditLogEntry.Source.ADMIN,
                    request=request,
                    obj=txn,
                    object_repr=f"{services.usd(int(micros))} to {wallet.user}",
                    changes={"amount_micros": int(micros), "reason": form.cleaned_data["reason"]},
                )
            self.message_user(request, _("Credit granted."), messages.SUCCESS)
            return None
        return render(
            request,
            "billing/admin_grant.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "wallets": wallets,
                "action": "grant_credit",
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Unfreeze (after a dispute is resolved)"))
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for account in queryset:
            ledger.account_unfreeze(account=account)


class EntryInline(admin.TabularInline[Entry, Transaction]):
    model = Entry
    extra = 0
    can_delete = False
    fields = ["account", "amount"]
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "reference", "memo", "created_by"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["reference", "idempotency_key", "memo"]
    readonly_fields = [
        "uuid",
        "kind",
        "idempotency_key",
        "reference",
        "memo",
        "reverses",
        "created_by",
        "created_at",
    ]
    inlines = [EntryInline]
    date_hierarchy = "created_at"


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tenant",
        "user",
        "kind",
        "model_slug",
        "input_tokens",
        "output_tokens",
        "total",
        "uncollected",
    ]
    list_filter = ["kind", "key_source", "tenant"]
    search_fields = ["user__email", "model_slug", "idempotency_key"]
    list_select_related = ["tenant", "user"]
    date_hierarchy = "created_at"


@admin.register(PricingSettings)
class PricingSettingsAdmin(admin.ModelAdmin[PricingSettings]):
    list_display = [
        "__str__",
        "margin_free_bp",
        "margin_paid_bp",
        "margin_own_bp",
        "creator_share_bp",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PricingSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PricingSettings, form: Any, change: bool
    ) -> None:
        fields = {name: getattr(obj, name) for name in form.changed_data}
        saved = services.pricing_settings_update(**fields)
        obj.pk = saved.pk


@admin.register(TenantBillingPolicy)
class TenantBillingPolicyAdmin(admin.ModelAdmin[TenantBillingPolicy]):
    list_display = ["tenant", "payer", "auto_refill_enabled", "card_label", "refill_failed_at"]
    list_filter = ["payer", "auto_refill_enabled"]
    autocomplete_fields = ["tenant"]
    raw_id_fields = ["curator"]
    readonly_fields = ["stripe_customer_id", "stripe_payment_method_id", "card_label"]


@admin.register(PromptPricing)
class PromptPricingAdmin(admin.ModelAdmin[PromptPricing]):
    list_display = ["prompt", "tenant", "markup_per_million", "creator_share_bp"]
    raw_id_fields = ["prompt", "tenant"]


@admin.register(MemberCap)
class MemberCapAdmin(admin.ModelAdmin[MemberCap]):
    list_display = ["user", "tenant", "monthly_cap", "action", "raise_step", "raise_max"]
    raw_id_fields = ["user", "tenant"]


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin[DiscountCode]):
    list_display = [
        "code",
        "kind",
        "percent_bp",
        "amount",
        "scope",
        "used_count",
        "max_uses",
        "expires_at",
        "is_active",
    ]
    list_filter = ["kind", "scope", "is_active"]
    search_fields = ["code"]
    raw_id_fields = ["tenant", "creator"]


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "tenant", "mode", "amount", "discount", "status"]
    list_filter = ["status", "mode"]
    search_fields = ["user__email", "stripe_session_id", "stripe_payment_intent_id"]


@admin.register(Refill)
class RefillAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "amount", "status", "failure"]
    list_filter = ["status"]


@admin.register(ConnectAccount)
class ConnectAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "stripe_account_id", "details_submitted", "payouts_enabled"]
    search_fields = ["user__email", "stripe_account_id"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "amount", "status", "stripe_transfer_id", "failure"]
    list_filter = ["status"]
    search_fields = ["user__email", "stripe_transfer_id"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "processed_at", "attempts", "error"]
    list_filter = ["type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id"]
    actions = ["reprocess"]

    @admin.action(description=_("Process again (idempotent)"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        for event in queryset.filter(processed_at__isnull=True):
            payments.webhook_process(event_pk=event.pk)
        self.message_user(request, _("Processed the unprocessed events."), messages.SUCCESS)


@admin.register(PendingSettlement)
class PendingSettlementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "key", "user", "tenant", "attempts", "settled_at", "last_error"]
    list_filter = [("settled_at", admin.EmptyFieldListFilter)]
    search_fields = ["key"]
    list_select_related = ["user", "tenant"]
