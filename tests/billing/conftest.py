"""Fixtures for billing: the Stripe fake, a priced model, funding wallets, running turns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.db import transaction

from accounts.models import Tenant, User
from billing import ledger
from billing.models import Account, Transaction
from chat import services as chat_services
from chat.models import Conversation
from chat.pipeline import Turn
from chat.runner import TurnOutcome, run_turn, wait_for_running_turns
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope, unscoped
from tests.fakes.stripe_server import WEBHOOK_SECRET, FakeStripe

# A model whose price is easy to reason about: input free, output $10 per 1M tokens
# (10 µ$ a token), at most 100 output tokens, so the worst answer costs 1_000 µ$ at list
# price and 1_200 µ$ with the 20 % margin of a free prompt.
OUTPUT_PRICE = 10_000_000
MAX_OUTPUT = 100


@pytest.fixture(scope="session")
def _fake_stripe_server() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server: FakeStripe, settings: Any) -> Iterator[FakeStripe]:
    """The Stripe fake, with Spark's settings pointing the official SDK at it."""
    _fake_stripe_server.reset()
    settings.STRIPE_API_BASE = _fake_stripe_server.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_spark"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield _fake_stripe_server
    _fake_stripe_server.reset()


def make_priced_model(**fields: Any) -> LLMModel:
    values: dict[str, Any] = {
        "slug": "priced-gpt",
        "provider": "openai",
        "model_id": "gpt-priced",
        "display_name": "Priced GPT",
        "input_price": 0,
        "output_price": OUTPUT_PRICE,
        "cached_input_price": 0,
        "max_output_tokens": MAX_OUTPUT,
        "supports_tools": False,
    }
    values.update(fields)
    return LLMModel.objects.create(**values)


@pytest.fixture
def priced_model(db: None) -> LLMModel:
    return make_priced_model()


def fund(user: User, micros: int) -> None:
    """Put money in a user's wallet the honest way: a staff grant."""
    from billing.services import wallet_grant

    wallet_grant(user=user, amount=micros, reason="test funds")


def fund_tenant(tenant: Tenant, micros: int) -> None:
    """Put money in a tenant's wallet as a completed top-up would."""
    with transaction.atomic():
        ledger.transaction_post(
            kind=Transaction.Kind.TOPUP,
            idempotency_key=f"test-fund:{tenant.pk}:{micros}:{Account.objects.count()}",
            reference=f"tenant:{tenant.pk}",
            legs=[
                (ledger.system_account(Account.Kind.STRIPE_CLEARING), -micros),
                (ledger.tenant_wallet(tenant), micros),
            ],
        )


def balance(account: Account) -> int:
    """The account's balance (a system account's is the sum of its entries)."""
    account.refresh_from_db()
    return ledger.account_balance(account)


def conversation_for(user: User, tenant: Tenant, **kwargs: Any) -> Conversation:
    with tenant_scope(tenant):
        conversation = chat_services.conversation_create(user=user, tenant=tenant, **kwargs)
    with unscoped():
        return Conversation.objects.select_related("prompt", "model", "alter_ego").get(
            pk=conversation.pk
        )


async def send(
    user: User, tenant: Tenant, conversation: Conversation, text: str = "Hello", client_id: str = ""
) -> tuple[TurnOutcome, Turn]:
    """Run one message through the whole send pipeline, as every transport does."""
    turn = Turn(
        tenant=tenant,
        user=user,
        conversation=conversation,
        channel="rest",
        text=text,
        client_id=client_id or f"c-{id(conversation)}-{len(text)}",
    )
    outcome = await run_turn(turn)
    return outcome, turn


@pytest.fixture
async def _turns_finish() -> AsyncIterator[None]:
    yield
    await wait_for_running_turns()


aconversation_for = sync_to_async(conversation_for)
afund = sync_to_async(fund)
afund_tenant = sync_to_async(fund_tenant)
abalance = sync_to_async(balance)


@pytest.fixture(autouse=True)
def _in_process_channel_layer(settings: Any) -> None:
    """Billing's turns publish their events to an in-process layer: the Redis layer and
    its transport are chat's to test, and a turn's events are not what billing checks."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
