"""Who pays and at what rates: the one place the four business modes become money rules.

- public tenant: each user pays from their own wallet;
- enterprise: the tenant's wallet pays for the team (per-member monthly caps apply);
- curator: as the curator's ``TenantBillingPolicy`` says (user wallets by default), and the
  curator earns a commission on their site;
- storefront: each user pays from their own wallet (the creator's prompts).

A ``TenantBillingPolicy`` row overrides the payer of a non-public tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from accounts.models import Membership, Tenant
from billing import ledger
from billing.models import (
    Account,
    MemberCap,
    PricingSettings,
    PromptPricing,
    TenantBillingPolicy,
)
from billing.pricing import Prices, Rates, Scenario
from spark.tenancy.context import unscoped

PRICING_CACHE_KEY = "spark:billing:pricing"
PRICING_CACHE_SECONDS = 30

DEFAULT_PAYER = {
    Tenant.Kind.PUBLIC: TenantBillingPolicy.Payer.USER,
    Tenant.Kind.STOREFRONT: TenantBillingPolicy.Payer.USER,
    Tenant.Kind.CURATOR: TenantBillingPolicy.Payer.USER,
    Tenant.Kind.ENTERPRISE: TenantBillingPolicy.Payer.TENANT,
}


def pricing_settings() -> PricingSettings:
    """The platform's margins (cached briefly; the service that saves them clears it)."""
    cached: PricingSettings | None = cache.get(PRICING_CACHE_KEY)
    if cached is None:
        cached = PricingSettings.objects.order_by("pk").first() or PricingSettings()
        cache.set(PRICING_CACHE_KEY, cached, PRICING_CACHE_SECONDS)
    return cached


def pricing_forget() -> None:
    cache.delete(PRICING_CACHE_KEY)


def tenant_policy(tenant: Tenant) -> TenantBillingPolicy | None:
    with unscoped():
        return TenantBillingPolicy.objects.filter(tenant=tenant).first()


def payer_kind(tenant: Tenant, policy: TenantBillingPolicy | None) -> str:
    if tenant.kind == Tenant.Kind.PUBLIC:
        return TenantBillingPolicy.Payer.USER
    if policy is not None:
        return policy.payer
    return DEFAULT_PAYER.get(tenant.kind, TenantBillingPolicy.Payer.USER)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Plan:
    """How one use of a model is paid for."""

    payer: Account
    payer_kind: str  # user | tenant
    scenario: Scenario
    rates: Rates
    prices: Prices
    creator: Any  # the prompt's owner earning the markup, or None
    curator: Any  # the curator earning the commission, or None
    policy: TenantBillingPolicy | None
    cap: MemberCap | None


def prices_of(model: Any) -> Prices:
    if model is None:  # a tool priced per use, with no model behind it (web search)
        return Prices(input=0, output=0, cached=0)
    return Prices(
        input=model.input_price, output=model.output_price, cached=model.cached_input_price
    )


def _curator_of(tenant: Tenant, policy: TenantBillingPolicy | None) -> Any:
    if policy is not None and policy.curator_id is not None:
        return policy.curator
    with unscoped():
        owner = (
            Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
            .select_related("user")
            .order_by("pk")
            .first()
        )
    return owner.user if owner is not None else None


def plan_for(
    *, tenant: Tenant, user: Any, prompt: Any, model: Any, evaluator: bool = False
) -> Plan:
    """The payer account and the rates for ``user`` using ``model`` (through ``prompt``)."""
    settings_row = pricing_settings()
    policy = tenant_policy(tenant)
    kind = payer_kind(tenant, policy)
    payer = ledger.tenant_wallet(tenant) if kind == "tenant" else ledger.user_wallet(user)
    cap = None
    if kind == "tenant":
        with unscoped():
            cap = MemberCap.objects.filter(tenant=tenant, user=user).first()

    markup, creator_share, creator = 0, 0, None
    if prompt is not None and not evaluator:
        if prompt.owner_id == user.pk:
            scenario = Scenario.OWN
        else:
            with unscoped():
                pricing = PromptPricing.objects.filter(prompt_id=prompt.pk).first()
            markup = pricing.markup_per_million if pricing is not None else 0
            scenario = Scenario.PAID if markup > 0 else Scenario.FREE
            if markup > 0:
                creator = prompt.owner
                creator_share = next(
                    share
                    for share in (
                        pricing.creator_share_bp if pricing is not None else None,
                        policy.creator_share_bp if policy is not None else None,
                        settings_row.creator_share_bp,
                    )
                    if share is not None
                )
    else:
        scenario = Scenario.FREE
    margin = {
        Scenario.FREE: settings_row.margin_free_bp,
        Scenario.PAID: settings_row.margin_paid_bp,
        Scenario.OWN: settings_row.margin_own_bp,
    }[scenario]

    curator, commission = None, 0
    if tenant.kind == Tenant.Kind.CURATOR:
        curator = _curator_of(tenant, policy)
        if curator is not None:
            commission = (
                policy.curator_commission_bp
                if policy is not None and policy.curator_commission_bp is not None
                else settings_row.curator_commission_bp
            )
    return Plan(
        payer=payer,
        payer_kind=kind,
        scenario=scenario,
        rates=Rates(
            margin_bp=margin,
            markup_per_million=markup,
            creator_share_bp=creator_share,
            curator_commission_bp=commission,
        ),
        prices=prices_of(model),
        creator=creator,
        curator=curator,
        policy=policy,
        cap=cap,
    )
