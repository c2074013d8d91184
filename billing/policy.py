"""Who pays and at what rates: the one place the four business modes become money rules.

- public tenant: each user pays from their own wallet;
- enterprise: the tenant's wallet pays for the team (per-member monthly caps apply);
- curator: as the curator's ``TenantBillingPolicy`` says (user wallets by default), and the
  curator earns a commission on their site;
- storefront: each user pays from their own wallet (the creator's prompts).

A ``TenantBillingPolicy`` row overrides the payer of a non-public tenant.

Who may draw on a tenant wallet is decided here from the membership, never from the Host:
only a member of the tenant, and only through their ``MemberCap`` row (created with the
default cap at their first draw), so no one spends a team's money without a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.models import Membership, Tenant
from billing import ledger
from billing.models import (
    MICROS_PER_USD,
    Account,
    MemberCap,
    PricingSettings,
    PromptPricing,
    TenantBillingPolicy,
)
from billing.pricing import Prices, Rates, Scenario
from spark.common.exceptions import ApplicationError
from spark.tenancy.context import unscoped


class NotAMember(ApplicationError):
    """Someone who is not a member of the tenant tried to draw on its wallet (HTTP 403)."""

    status_code = 403
    default_code = "not_a_member"


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


def default_member_cap() -> int | None:
    """The monthly cap a member starts with on a tenant wallet (µ$; None: no limit)."""
    dollars = settings.SPARK_BILLING_MEMBER_CAP_DEFAULT_USD
    return None if dollars is None else int(Decimal(dollars) * MICROS_PER_USD)


def member_cap_for_draw(*, tenant: Tenant, user: Any) -> MemberCap:
    """The cap row through which ``user`` draws on ``tenant``'s wallet.

    Only a member of the tenant may draw (``NotAMember`` otherwise); their row is created
    with the default cap the first time they do, so every drawer has one.
    """
    with unscoped():
        if not Membership.objects.filter(user_id=user.pk, tenant_id=tenant.pk).exists():
            raise NotAMember(_("Only members of this team can use its wallet."))
        cap, _created = MemberCap.objects.get_or_create(
            tenant=tenant, user=user, defaults={"monthly_cap": default_member_cap()}
        )
    return cap


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
    cap = member_cap_for_draw(tenant=tenant, user=user) if kind == "tenant" else None

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
