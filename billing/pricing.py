"""What a use of a model costs and who gets what: pure integer arithmetic in micro-USD.

- provider cost: the catalogue's prices (input, cached input, output; reasoning tokens are
  part of the output tokens as providers report them), nothing with the user's own key;
- platform margin: a share of the provider's list price, by scenario (free prompt, paid
  prompt, a creator using their own prompt), charged with BYOK too (the platform's fee);
- creator markup: per million tokens on paid prompts, split creator / platform;
- curator commission: a share of the platform's take on a curator's site.

Every division rounds in one direction and the remainder goes to a named party, so the
parts always add up to the total: no micro-dollar is created or lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing.models import BASIS_POINTS

PER_MILLION = 1_000_000


class Scenario(StrEnum):
    FREE = "free"  # no prompt, or a prompt without a markup
    PAID = "paid"  # a prompt with a markup, used by someone else
    OWN = "own"  # a creator using their own prompt (no markup)


@dataclass(frozen=True)
class Prices:
    """A model's prices, micro-USD per million tokens."""

    input: int
    output: int
    cached: int


@dataclass(frozen=True)
class Rates:
    """Everything that decides the split besides the tokens."""

    margin_bp: int
    markup_per_million: int = 0
    creator_share_bp: int = 0
    curator_commission_bp: int = 0


@dataclass(frozen=True)
class Split:
    provider_cost: int
    platform_fee: int
    creator_fee: int
    curator_fee: int

    @property
    def total(self) -> int:
        return self.provider_cost + self.platform_fee + self.creator_fee + self.curator_fee


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def list_cost(prices: Prices, *, input_tokens: int, output_tokens: int, cached_tokens: int) -> int:
    """The provider's price of a call, rounded up to a whole micro-dollar."""
    cached = min(max(cached_tokens, 0), max(input_tokens, 0))
    uncached = max(input_tokens - cached, 0)
    total = uncached * prices.input + cached * prices.cached + max(output_tokens, 0) * prices.output
    return ceil_div(total, PER_MILLION)


def split(
    prices: Prices,
    rates: Rates,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int = 0,
    byok: bool = False,
) -> Split:
    """The price of one call and its parts (every part a non-negative integer)."""
    listed = list_cost(
        prices, input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached_tokens
    )
    provider = 0 if byok else listed
    margin = ceil_div(listed * rates.margin_bp, BASIS_POINTS)
    tokens = max(input_tokens, 0) + max(output_tokens, 0)
    markup = ceil_div(tokens * rates.markup_per_million, PER_MILLION)
    creator = markup * min(rates.creator_share_bp, BASIS_POINTS) // BASIS_POINTS
    platform_take = margin + (markup - creator)
    curator = platform_take * min(rates.curator_commission_bp, BASIS_POINTS) // BASIS_POINTS
    return Split(
        provider_cost=provider,
        platform_fee=platform_take - curator,
        creator_fee=creator,
        curator_fee=curator,
    )


def split_per_use(listed: int, rates: Rates, *, byok: bool = False) -> Split:
    """The price of one tool use listed at ``listed`` µ$ (an image, a search call) and its
    parts: the provider's price, the platform's margin on it, the curator's commission on
    the platform's take. Tools carry no creator markup (it is per token)."""
    provider = 0 if byok else listed
    margin = ceil_div(listed * rates.margin_bp, BASIS_POINTS)
    curator = margin * min(rates.curator_commission_bp, BASIS_POINTS) // BASIS_POINTS
    return Split(
        provider_cost=provider, platform_fee=margin - curator, creator_fee=0, curator_fee=curator
    )


def collect(split_: Split, *, payable: int) -> tuple[Split, int]:
    """What to book when the payer can cover only ``payable`` of the total.

    The provider, the creator and the curator are paid in full; the platform bears the
    shortfall (its fee may go negative). Returns the split to book and the uncollected part.
    """
    shortfall = max(split_.total - max(payable, 0), 0)
    return (
        Split(
            provider_cost=split_.provider_cost,
            platform_fee=split_.platform_fee - shortfall,
            creator_fee=split_.creator_fee,
            curator_fee=split_.curator_fee,
        ),
        shortfall,
    )
