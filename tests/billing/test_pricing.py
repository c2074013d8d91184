"""Pricing arithmetic: every part an integer, the parts always add up to the total."""

from __future__ import annotations

from hypothesis import given, strategies as st

from billing.pricing import Prices, Rates, collect, list_cost, split

tokens = st.integers(min_value=0, max_value=2_000_000)
price = st.integers(min_value=0, max_value=200_000_000)  # up to $200 per 1M tokens
basis_points = st.integers(min_value=0, max_value=10_000)


@given(
    input_tokens=tokens,
    output_tokens=tokens,
    cached=tokens,
    prices=st.builds(Prices, input=price, output=price, cached=price),
    rates=st.builds(
        Rates,
        margin_bp=basis_points,
        markup_per_million=price,
        creator_share_bp=basis_points,
        curator_commission_bp=basis_points,
    ),
    byok=st.booleans(),
)
def test_split_never_creates_or_loses_a_micro_dollar(
    input_tokens: int,
    output_tokens: int,
    cached: int,
    prices: Prices,
    rates: Rates,
    byok: bool,
) -> None:
    parts = split(
        prices,
        rates,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached,
        byok=byok,
    )
    values = [parts.provider_cost, parts.platform_fee, parts.creator_fee, parts.curator_fee]
    assert all(type(v) is int and v >= 0 for v in values)
    assert sum(values) == parts.total
    listed = list_cost(
        prices, input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached
    )
    markup = -(-(input_tokens + output_tokens) * rates.markup_per_million // 1_000_000)
    margin = -(-listed * rates.margin_bp // 10_000)
    assert parts.total == (0 if byok else listed) + margin + markup
    assert parts.creator_fee + parts.platform_fee + parts.curator_fee == margin + markup


@given(total=st.integers(0, 10**9), payable=st.integers(-(10**6), 10**9))
def test_collect_books_at_most_what_the_payer_has_and_the_platform_bears_the_rest(
    total: int, payable: int
) -> None:
    parts = split(
        Prices(input=0, output=1_000_000, cached=0),
        Rates(margin_bp=2_000, markup_per_million=0),
        input_tokens=0,
        output_tokens=total,
    )
    booked, shortfall = collect(parts, payable=payable)
    assert booked.total + shortfall == parts.total
    assert booked.total <= max(payable, 0) or shortfall == 0
    assert booked.provider_cost == parts.provider_cost


def test_known_prices_round_up_to_a_whole_micro_dollar() -> None:
    prices = Prices(input=2_500_000, output=10_000_000, cached=1_250_000)  # GPT-4o-like
    assert list_cost(prices, input_tokens=1, output_tokens=0, cached_tokens=0) == 3  # 2.5 → 3
    assert (
        list_cost(prices, input_tokens=1000, output_tokens=500, cached_tokens=400)
        == (600 * 2_500_000 + 400 * 1_250_000 + 500 * 10_000_000) // 1_000_000
    )


def test_seventy_thirty_markup_split_with_a_remainder() -> None:
    parts = split(
        Prices(input=0, output=0, cached=0),
        Rates(margin_bp=1_000, markup_per_million=1_000_001, creator_share_bp=7_000),
        input_tokens=1,
        output_tokens=0,
    )
    # markup = ceil(1 × 1_000_001 / 1M) = 2 µ$: the creator gets floor(1.4) = 1, the platform 1
    assert (parts.creator_fee, parts.platform_fee, parts.total) == (1, 1, 2)


def test_byok_pays_only_the_platform_and_creator_fees() -> None:
    prices = Prices(input=1_000_000, output=1_000_000, cached=0)
    rates = Rates(margin_bp=2_000, markup_per_million=500_000, creator_share_bp=7_000)
    own_key = split(prices, rates, input_tokens=1_000, output_tokens=1_000, byok=True)
    platform = split(prices, rates, input_tokens=1_000, output_tokens=1_000)
    assert own_key.provider_cost == 0
    assert platform.provider_cost == 2_000
    assert own_key.platform_fee == platform.platform_fee == 400 + 300
    assert own_key.creator_fee == platform.creator_fee == 700


def test_curator_commission_comes_out_of_the_platform_take() -> None:
    parts = split(
        Prices(input=0, output=1_000_000, cached=0),
        Rates(margin_bp=2_000, curator_commission_bp=2_500),
        input_tokens=0,
        output_tokens=10_000,
    )
    assert (parts.provider_cost, parts.platform_fee, parts.curator_fee) == (10_000, 1_500, 500)
