"""What holds when the database refuses a settlement: every generated answer is charged
exactly once, the user never sees a delivered answer as failed, ``ledger_check`` tells."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async

from accounts.models import Tenant, User
from billing import ledger, payments, tasks
from billing.invariants import ledger_violations
from billing.models import Hold, PendingSettlement, UsageRecord
from chat.models import Message
from spark.tenancy.context import unscoped
from tests.billing.conftest import aconversation_for, afund, make_priced_model, send
from tests.billing.refusals import Refusal, refuse_inserts
from tests.fakes.llm import Reply

pytestmark = pytest.mark.django_db(transaction=True)

FUNDS = 1_000_000
PRICE = 600  # 50 output tokens × 10 µ$ + 20 % margin


@pytest.fixture(autouse=True)
def _quick_retries(settings: Any) -> None:
    settings.SPARK_BILLING_SETTLE_RETRY_DELAYS = (0.0, 0.01)


@pytest.fixture
def refusals() -> Iterator[list[Refusal]]:
    installed: list[Refusal] = []
    yield installed
    for refusal in installed:
        refusal.lift()


@sync_to_async
def refuse_usage_records(refusals: list[Refusal], *, times: int | None) -> Refusal:
    refusal = refuse_inserts(UsageRecord._meta.db_table, times=times)
    refusals.append(refusal)
    return refusal


@sync_to_async
def state_of(user: User, message_uuid: str) -> dict[str, Any]:
    with unscoped():
        wallet = ledger.user_wallet(user)
        message = Message.objects.get(uuid=message_uuid)
        records = list(UsageRecord.objects.filter(user=user))
        return {
            "wallet": (wallet.balance, wallet.held),
            "message": (message.status, message.content, message.cost_micros),
            "records": [(r.kind, r.total, r.transaction_id is not None) for r in records],
            "pending": [
                (row.message_id, row.settled_at is None) for row in PendingSettlement.objects.all()
            ],
            "open_holds": Hold.objects.filter(released_at__isnull=True).count(),
        }


async def _ask(llm_fakes: Any, user: User, tenant: Tenant) -> tuple[Any, Any]:
    await sync_to_async(make_priced_model)()
    await afund(user, FUNDS)
    conversation = await aconversation_for(user, tenant, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Tides follow the moon.", input_tokens=40, output_tokens=50))
    return await send(user, tenant, conversation, "Tell me about tides")


async def test_a_settlement_the_database_refuses_once_is_retried_and_charged_once(
    llm_fakes: Any, user: User, public_tenant: Tenant, refusals: list[Refusal]
) -> None:
    # Given the database refuses the next usage record with a serialization failure
    refusal = await refuse_usage_records(refusals, times=1)

    # When an answer is settled
    outcome, turn = await _ask(llm_fakes, user, public_tenant)

    # Then the retry charged it, once, with nothing left to settle later
    assert await sync_to_async(refusal.refused)() == 1
    assert outcome.status == "complete"
    state = await state_of(user, turn.assistant_id)
    assert state["message"] == ("complete", "Tides follow the moon.", PRICE)
    assert state["records"] == [("answer", PRICE, True)]
    assert state["wallet"] == (FUNDS - PRICE, 0)
    assert state["pending"] == []
    assert await sync_to_async(ledger_violations)() == []


async def test_a_settlement_the_database_always_refuses_is_delivered_then_charged_once_by_the_beat(
    llm_fakes: Any, user: User, public_tenant: Tenant, refusals: list[Refusal]
) -> None:
    # Given the database refuses every usage record
    refusal = await refuse_usage_records(refusals, times=None)

    # When an answer is settled
    outcome, turn = await _ask(llm_fakes, user, public_tenant)

    # Then the user has the answer, not a failure; it is left to settle, its money held
    assert outcome.status == "complete"
    assert await sync_to_async(refusal.refused)() == 3  # the first try and two retries
    state = await state_of(user, turn.assistant_id)
    assert state["message"] == ("complete", "Tides follow the moon.", 0)
    assert state["records"] == []
    assert state["pending"] == [(turn.assistant_message.pk, True)]
    assert state["wallet"][0] == FUNDS and state["wallet"][1] > 0
    problems = await sync_to_async(ledger_violations)()
    assert len(problems) == 1 and problems[0].startswith(
        f"answer {turn.assistant_id} awaits settlement (to-settle row "
    )
    # ... the stale-hold sweeper leaves the waiting answer's hold alone ...
    assert await sync_to_async(payments.holds_release_stale)(older_than_seconds=0) == 0
    # ... and the beat task, while the database still refuses, charges nothing.
    await sync_to_async(tasks.settlements_retry)()
    assert (await state_of(user, turn.assistant_id))["records"] == []

    # When the database accepts again and the beat task runs (twice: a redelivery)
    await sync_to_async(refusal.lift)()
    await sync_to_async(tasks.settlements_retry)()
    await sync_to_async(tasks.settlements_retry)()

    # Then the answer is charged exactly once, with the keys it was given
    state = await state_of(user, turn.assistant_id)
    assert state["message"] == ("complete", "Tides follow the moon.", PRICE)
    assert state["records"] == [("answer", PRICE, True)]
    assert state["wallet"] == (FUNDS - PRICE, 0)
    assert state["pending"] == [(turn.assistant_message.pk, False)]
    assert state["open_holds"] == 0
    with unscoped():
        record = await UsageRecord.objects.aget(message_id=turn.assistant_message.pk)
    assert record.idempotency_key == f"answer:{turn.assistant_id}"
    assert await sync_to_async(ledger_violations)() == []
