"""What each model in the chat's picker costs this person, and whether they can afford it.

The chat asks through ``SPARK_CHAT_MODEL_OFFERS`` (a dotted path: chat never imports
billing). Prices are what the person is charged per million tokens (the provider's list
price with the platform's margin and the prompt's markup), and a model is affordable
when the payer's available money covers the estimate the budget gate would hold for a
short message — the same estimate, so the picker and the refusal agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from billing import policy, selectors, services
from billing.models import MICROS_PER_USD
from billing.pricing import PER_MILLION, split

# The input of a short first message (with its system prompt), for the estimate.
SHORT_MESSAGE_TOKENS = 500


@dataclass(frozen=True)
class ModelOffer:
    price: str  # what the person reads in the picker: "Free", or "$1.20 / $4.80 per 1M tokens"
    affordable: bool
    topup_url: str  # where this person adds funds; "" when they cannot (a team member)


def _dollars(micros: int) -> str:
    """Cents, or tenths of a cent under a dime ($0.075): integer arithmetic only."""
    if micros >= MICROS_PER_USD // 10 or micros == 0:
        return services.usd(micros)
    return f"$0.{micros // 1_000:03d}"


def model_offers(
    *, user: Any, tenant: Any, prompt: Any, models: list[Any]
) -> dict[str, ModelOffer]:
    """An offer for each model (keyed by slug), with one plan and one wallet read for all."""
    if not models or tenant is None:
        return {}
    plan = policy.plan_for(tenant=tenant, user=user, prompt=prompt, model=models[0])
    available = max(plan.payer.available, 0)
    topup_url = services.topup_url_for(payer_kind=plan.payer_kind)
    if (
        plan.payer_kind == "tenant"
        and selectors.manager_membership(user=user, tenant=tenant) is None
    ):
        topup_url = ""  # a team member cannot fund the team: their manager does
    offers = {}
    for model in models:
        model_plan = dataclasses.replace(plan, prices=policy.prices_of(model))
        per_input = split(
            model_plan.prices, model_plan.rates, input_tokens=PER_MILLION, output_tokens=0
        )
        per_output = split(
            model_plan.prices, model_plan.rates, input_tokens=0, output_tokens=PER_MILLION
        )
        estimate = services.estimate_price(
            plan=model_plan, model=model, input_tokens=SHORT_MESSAGE_TOKENS, byok=False
        )
        if per_input.total == 0 and per_output.total == 0:
            price = _("Free")
        else:
            price = _("%(input)s / %(output)s per 1M tokens") % {
                "input": _dollars(per_input.total),
                "output": _dollars(per_output.total),
            }
        offers[model.slug] = ModelOffer(
            price=price,
            affordable=estimate <= 0 or (not plan.payer.is_frozen and available >= estimate),
            topup_url=topup_url,
        )
    return offers
