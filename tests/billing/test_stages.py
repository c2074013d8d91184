"""BudgetGate and Settle, end to end through the send pipeline against the LLM fakes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings
from django.core import mail
from django.utils.module_loading import import_string

from accounts import services as account_services
from accounts.models import Membership, Tenant, User
from billing import ledger, services
from billing.models import Account, Entry, Hold, MemberCap, UsageRecord
from chat.models import Message
from chat.pipeline import CallNext, ExtraUsage, Turn
from spark.llm.types import Usage
from spark.tenancy.context import unscoped
from tests.billing.conftest import (
    MAX_OUTPUT,
    abalance,
    aconversation_for,
    afund,
    afund_tenant,
    make_priced_model,
    send,
)
from tests.factories import create_user
from tests.fakes.llm import Fail, Reply

pytestmark = pytest.mark.django_db(transaction=True)

WORST = 1_200  # 100 output tokens × 10 µ$ + 20 % margin


@sync_to_async
def priced() -> Any:
    return make_priced_model()


@sync_to_async
def records(**filters: Any) -> list[UsageRecord]:
    with unscoped():
        return list(UsageRecord.objects.filter(**filters).order_by("id"))


@sync_to_async
def stored(message_uuid: str) -> Message:
    with unscoped():
        return Message.objects.get(uuid=message_uuid)


@sync_to_async
def wallet_of(user: User) -> Account:
    return ledger.user_wallet(user)


async def test_an_answer_is_charged_once_with_its_usage_record(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    await priced()
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Tides follow the moon.", input_tokens=40, output_tokens=50))

    outcome, turn = await send(user, public_tenant, conversation, "Tell me about tides")

    assert outcome.status == "complete"
    assert turn.cost_micros == 600  # 50 × 10 µ$ + 20 %
    wallet = await wallet_of(user)
    assert (wallet.balance, wallet.held) == (1_000_000 - 600, 0)
    [record] = await records(user=user)
    assert (record.input_tokens, record.output_tokens) == (40, 50)
    assert (record.provider_cost, record.platform_fee, record.creator_fee) == (500, 100, 0)
    assert record.payer_id == wallet.pk and record.transaction_id is not None
    assert record.message_id == turn.assistant_message.pk  # type: ignore[union-attr]
    message = await stored(turn.assistant_id)
    assert (message.status, message.cost_micros) == ("complete", 600)


async def test_a_payer_who_cannot_afford_it_is_refused_before_any_provider_call(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    await priced()
    await afund(user, WORST - 1)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")

    outcome, turn = await send(user, public_tenant, conversation)

    assert (outcome.status, outcome.http_status, outcome.code) == (
        "refused",
        402,
        "insufficient_funds",
    )
    assert outcome.details["topup_url"] == "/billing/wallet/"
    assert llm_fakes.openai.model_calls == []
    wallet = await wallet_of(user)
    assert (wallet.balance, wallet.held) == (WORST - 1, 0)
    assert await records() == []
    message = await stored(turn.assistant_id)
    assert (message.status, message.error_code) == ("failed", "insufficient_funds")


async def test_the_free_demo_model_answers_with_an_empty_wallet(
    user: User, public_tenant: Tenant
) -> None:
    conversation = await aconversation_for(user, public_tenant)
    outcome, turn = await send(user, public_tenant, conversation)
    assert outcome.status == "complete"
    assert turn.cost_micros == 0
    wallet = await wallet_of(user)
    assert wallet.balance == 0
    with unscoped():
        assert not await Entry.objects.aexists()


async def test_byok_answers_pay_no_provider_cost_only_the_platform_fee(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    await priced()
    await sync_to_async(account_services.provider_key_add)(
        user=user, provider="openai", api_key="sk-user-own-key-0001"
    )
    user.llm_key_mode = "own_only"
    await user.asave(update_fields=["llm_key_mode"])
    await afund(user, 1_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Mine.", input_tokens=10, output_tokens=50))

    outcome, turn = await send(user, public_tenant, conversation)

    assert outcome.status == "complete"
    assert llm_fakes.openai.keys_used == ["sk-user-own-key-0001"]
    [record] = await records(user=user)
    assert (record.key_source, record.provider_cost, record.platform_fee) == ("user", 0, 100)
    assert turn.cost_micros == 100
    assert (await wallet_of(user)).balance == 900


async def test_an_interrupted_answer_is_charged_only_for_what_was_generated(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    await priced()
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    words = " ".join(f"word{n}" for n in range(60))
    llm_fakes.openai.script(Reply(words, drop_after=5))

    outcome, turn = await send(user, public_tenant, conversation)

    assert outcome.status == "interrupted"
    assert turn.text_out and turn.text_out != words
    [record] = await records(user=user)
    assert 0 < record.output_tokens < MAX_OUTPUT
    assert record.total == turn.cost_micros == record.output_tokens * 10 * 12 // 10
    assert (await wallet_of(user)).balance == 1_000_000 - record.total


async def test_an_answer_that_failed_before_any_output_costs_nothing(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    await priced()
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    llm_fakes.set_pool("openai", ["sk-platform-openai-1111"])
    llm_fakes.openai.script(Fail(500), Fail(500), Fail(500), Fail(500))

    outcome, turn = await send(user, public_tenant, conversation)

    assert outcome.status == "failed"
    assert await records() == []
    wallet = await wallet_of(user)
    assert (wallet.balance, wallet.held) == (1_000_000, 0)
    assert turn.cost_micros == 0


class EvaluatorStage:
    """Stands in for the watchdog: a stage that calls a model beside the answer."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        turn.extra_usage.append(
            ExtraUsage(
                kind="evaluator",
                model_slug="priced-gpt",
                usage=Usage(input_tokens=100, output_tokens=20),
                reference=f"guard:{turn.assistant_id}",
            )
        )
        await call_next(turn)


async def test_evaluator_tokens_are_charged_with_the_answer(
    llm_fakes: Any, user: User, public_tenant: Tenant, settings: Any
) -> None:
    settings.SPARK_PIPELINE = [
        "chat.stages.AccessGate",
        "billing.stages.BudgetGate",
        "tests.billing.test_stages.EvaluatorStage",
        "chat.stages.BuildContext",
        "chat.stages.Generate",
        "billing.stages.Settle",
    ]
    await priced()
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Fine.", input_tokens=10, output_tokens=50))

    outcome, turn = await send(user, public_tenant, conversation)

    assert outcome.status == "complete"
    answer, evaluator = await records(user=user)
    assert (answer.kind, evaluator.kind) == ("answer", "evaluator")
    assert evaluator.total == 240  # 20 × 10 µ$ + 20 %
    assert turn.cost_micros == 600 + 240
    assert (await wallet_of(user)).balance == 1_000_000 - 840


async def test_usage_recorded_after_the_turn_is_charged_once(
    user: User, public_tenant: Tenant
) -> None:
    await priced()
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    record = import_string(settings.SPARK_EXTRA_USAGE_RECORDER)
    call = {
        "tenant_id": public_tenant.pk,
        "user_id": user.pk,
        "conversation_id": conversation.pk,
        "message_id": None,
        "kind": "evaluator",
        "model_slug": "priced-gpt",
        "input_tokens": 500,
        "output_tokens": 10,
        "cached_tokens": 0,
        "key_source": "platform",
        "idempotency_key": "post-watchdog:42",
    }
    await sync_to_async(record)(**call)
    await sync_to_async(record)(**call)
    [charged] = await records(user=user)
    assert charged.total == 120
    assert (await wallet_of(user)).balance == 1_000_000 - 120


async def test_fifty_concurrent_messages_on_a_wallet_that_affords_ten(
    llm_fakes: Any, user: User, public_tenant: Tenant, settings: Any
) -> None:
    """Exactly ten are answered and charged; the balance never goes below zero."""
    # The send rate limit would refuse some of the fifty first: this test is about money.
    settings.SPARK_RATE_LIMITS = {
        **settings.SPARK_RATE_LIMITS,
        "send_user": "1000/m",
        "send_tenant": "1000/m",
    }
    await priced()
    await afund(user, 10 * WORST)
    llm_fakes.openai.default = Reply("Sure.", output_tokens=MAX_OUTPUT)
    conversations = [
        await aconversation_for(user, public_tenant, model_slug="priced-gpt") for _ in range(50)
    ]

    results = await asyncio.gather(
        *(send(user, public_tenant, c, f"question {n}") for n, c in enumerate(conversations))
    )

    outcomes = [outcome for outcome, _turn in results]
    answered = [o for o in outcomes if o.status == "complete"]
    refused = [o for o in outcomes if o.status == "refused"]
    assert (len(answered), len(refused)) == (10, 40), {o.status for o in outcomes}
    assert {o.code for o in refused} == {"insufficient_funds"}
    assert len(llm_fakes.openai.model_calls) == 10
    wallet = await wallet_of(user)
    assert (wallet.balance, wallet.held) == (0, 0)
    assert len(await records(user=user)) == 10
    with unscoped():
        assert not await Hold.objects.filter(released_at__isnull=True).aexists()


# --- enterprise: the tenant's wallet pays, with per-member caps ------------------------------


@sync_to_async
def team(tenant: Tenant) -> tuple[User, User]:
    manager = create_user(tenant=tenant, email="boss@a.example", role=Membership.Role.MANAGER)
    member = create_user(tenant=tenant, email="dev@a.example")
    return manager, member


async def test_an_enterprise_member_is_paid_for_by_the_tenant_wallet(
    llm_fakes: Any, tenant_a: Tenant
) -> None:
    await priced()
    _manager, member = await team(tenant_a)
    await afund_tenant(tenant_a, 10_000)
    conversation = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Yes.", output_tokens=50))

    outcome, _turn = await send(member, tenant_a, conversation)

    assert outcome.status == "complete"
    tenant_wallet = await sync_to_async(ledger.tenant_wallet)(tenant_a)
    assert tenant_wallet.balance == 10_000 - 600
    assert (await wallet_of(member)).balance == 0
    [record] = await records(user=member)
    assert record.payer_id == tenant_wallet.pk


async def test_an_empty_team_wallet_points_members_to_their_manager(
    llm_fakes: Any, tenant_a: Tenant
) -> None:
    await priced()
    _manager, member = await team(tenant_a)
    await afund(member, 1_000_000)  # their own wallet does not pay on a team
    conversation = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
    outcome, _turn = await send(member, tenant_a, conversation)
    assert (outcome.http_status, outcome.code) == (402, "insufficient_funds")
    assert outcome.details["topup_url"] == "/billing/team/"
    assert "manager" in outcome.message


async def test_a_member_cap_blocks_once_reached(llm_fakes: Any, tenant_a: Tenant) -> None:
    await priced()
    _manager, member = await team(tenant_a)
    await afund_tenant(tenant_a, 1_000_000)
    await sync_to_async(services.member_cap_set)(
        tenant=tenant_a, user=member, monthly_cap=WORST + 599
    )
    llm_fakes.openai.default = Reply("Ok.", output_tokens=50)
    first = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
    second = await aconversation_for(member, tenant_a, model_slug="priced-gpt")

    one, _ = await send(member, tenant_a, first)  # 600 spent
    two, _ = await send(member, tenant_a, second)  # 600 + a 1_200 estimate > cap

    assert one.status == "complete"
    assert (two.http_status, two.code) == (402, "spending_cap_reached")
    assert len(await records(user=member)) == 1


async def test_a_notify_cap_lets_the_member_go_on_and_emails_managers_once(
    llm_fakes: Any, tenant_a: Tenant
) -> None:
    await priced()
    manager, member = await team(tenant_a)
    await afund_tenant(tenant_a, 1_000_000)
    await sync_to_async(services.member_cap_set)(
        tenant=tenant_a, user=member, monthly_cap=100, action=MemberCap.Action.NOTIFY
    )
    llm_fakes.openai.default = Reply("Ok.", output_tokens=50)
    for _ in range(2):
        conversation = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
        outcome, _ = await send(member, tenant_a, conversation)
        assert outcome.status == "complete"
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert member.email in mail.outbox[0].subject


async def test_a_raise_cap_grows_by_its_step_up_to_its_maximum(
    llm_fakes: Any, tenant_a: Tenant
) -> None:
    await priced()
    _manager, member = await team(tenant_a)
    await afund_tenant(tenant_a, 1_000_000)
    await sync_to_async(services.member_cap_set)(
        tenant=tenant_a,
        user=member,
        monthly_cap=1_000,
        action=MemberCap.Action.RAISE,
        raise_step=1_000,
        raise_max=2_500,
    )
    llm_fakes.openai.default = Reply("Ok.", output_tokens=50)
    statuses = []
    for _ in range(3):
        conversation = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
        outcome, _ = await send(member, tenant_a, conversation)
        statuses.append(outcome.code or outcome.status)
    # 0 + 1_200 > 1_000 → 2_000; 600 + 1_200 ≤ 2_000; 1_200 + 1_200 > 2_000 → 2_500 (max)
    # still short (2_400 ≤ 2_500 passes); the fourth would be blocked.
    assert statuses == ["complete", "complete", "complete"]
    with unscoped():
        cap = await MemberCap.objects.aget(user=member)
    assert cap.monthly_cap == 2_500
    conversation = await aconversation_for(member, tenant_a, model_slug="priced-gpt")
    blocked, _ = await send(member, tenant_a, conversation)
    assert blocked.code == "spending_cap_reached"
    assert await abalance(await sync_to_async(ledger.tenant_wallet)(tenant_a)) == 1_000_000 - 1_800


# --- paid prompts, curator sites ----------------------------------------------------------


@sync_to_async
def paid_prompt(owner: User, markup: int) -> Any:
    from billing.models import PromptPricing
    from spark.llm.models import LLMModel
    from tests.factories import create_prompt

    model = LLMModel.objects.filter(slug="priced-gpt").first() or make_priced_model()
    prompt = create_prompt(owner=owner, default_model=model)
    with unscoped():
        PromptPricing.objects.create(tenant=prompt.tenant, prompt=prompt, markup_per_million=markup)
    return prompt


async def test_a_paid_prompt_pays_its_creator_seventy_percent_of_the_markup(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    creator = await sync_to_async(create_user)(tenant=public_tenant, email="maker@example.com")
    prompt = await paid_prompt(creator, markup=2_000_000)  # $2 per 1M tokens
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, prompt=prompt)
    llm_fakes.openai.script(Reply("Paid.", input_tokens=1_000, output_tokens=50))

    outcome, turn = await send(user, public_tenant, conversation)

    assert outcome.status == "complete"
    [record] = await records(user=user)
    # provider 500; paid-prompt margin 10 % = 50; markup 1_050 tokens × 2 µ$ = 2_100
    assert (record.provider_cost, record.creator_fee, record.platform_fee) == (500, 1_470, 680)
    assert turn.cost_micros == record.total == 2_650
    earnings = await sync_to_async(ledger.creator_earnings)(creator)
    assert earnings.balance == 1_470


async def test_a_creator_using_their_own_paid_prompt_pays_no_markup(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    prompt = await paid_prompt(user, markup=2_000_000)
    await afund(user, 1_000_000)
    conversation = await aconversation_for(user, public_tenant, prompt=prompt)
    llm_fakes.openai.script(Reply("Mine.", input_tokens=1_000, output_tokens=50))
    await send(user, public_tenant, conversation)
    [record] = await records(user=user)
    assert (record.creator_fee, record.platform_fee, record.total) == (0, 75, 575)  # 15 %


async def test_a_curator_site_pays_its_curator_a_commission_from_the_platform_take(
    llm_fakes: Any, tenant_b: Tenant, user_b: User
) -> None:
    await priced()
    curator = await sync_to_async(create_user)(
        tenant=tenant_b, email="cora@b.example", role=Membership.Role.OWNER
    )
    await afund(user_b, 1_000_000)
    conversation = await aconversation_for(user_b, tenant_b, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("Curated.", output_tokens=50))

    await send(user_b, tenant_b, conversation)

    [record] = await records(user=user_b)
    # margin 100 µ$; 20 % of it to the curator
    assert (record.provider_cost, record.platform_fee, record.curator_fee) == (500, 80, 20)
    commission = await sync_to_async(ledger.curator_commission)(curator)
    assert commission.balance == 20
    assert (await wallet_of(user_b)).balance == 1_000_000 - 600


async def test_a_curator_can_pay_for_their_readers(
    llm_fakes: Any, tenant_b: Tenant, user_b: User
) -> None:
    await priced()
    policy = await sync_to_async(services.tenant_policy_get_or_create)(tenant=tenant_b)
    with unscoped():
        await type(policy).objects.filter(pk=policy.pk).aupdate(payer="tenant")
    await afund_tenant(tenant_b, 10_000)
    conversation = await aconversation_for(user_b, tenant_b, model_slug="priced-gpt")
    llm_fakes.openai.script(Reply("On the house.", output_tokens=50))
    outcome, _ = await send(user_b, tenant_b, conversation)
    assert outcome.status == "complete"
    assert (await wallet_of(user_b)).balance == 0
    assert await abalance(await sync_to_async(ledger.tenant_wallet)(tenant_b)) == 10_000 - 600


async def test_holds_left_by_a_dead_process_are_released_by_the_sweeper(
    user: User, public_tenant: Tenant
) -> None:
    from billing import payments

    model = await priced()
    await afund(user, 10_000)
    reservation = await sync_to_async(services.turn_reserve)(
        tenant=public_tenant, user=user, prompt=None, model=model, input_tokens=0, reference="m:x"
    )
    assert (await wallet_of(user)).held == WORST
    assert await sync_to_async(payments.holds_release_stale)(older_than_seconds=3600) == 0
    assert await sync_to_async(payments.holds_release_stale)(older_than_seconds=-1) == 1
    wallet = await wallet_of(user)
    assert (wallet.balance, wallet.held) == (10_000, 0)
    with unscoped():
        hold = await Hold.objects.aget(pk=reservation.hold_id)
    assert hold.released_at is not None


async def test_the_socket_gets_an_insufficient_funds_error_with_a_top_up_link(
    llm_fakes: Any, user: User, public_tenant: Tenant
) -> None:
    from tests.chat.conftest import session_cookie, ws_connect
    from tests.chat.wire import is_terminal, receive_until, send as send_frame_to, send_frame

    await priced()
    conversation = await aconversation_for(user, public_tenant, model_slug="priced-gpt")
    cookie = await sync_to_async(session_cookie)(user)
    communicator, connected, _ = await ws_connect(f"/ws/chat/{conversation.uuid}/", cookie=cookie)
    assert connected
    await send_frame_to(communicator, send_frame("Hello", client_id="broke"))
    frames = await receive_until(communicator, is_terminal)
    await communicator.disconnect()

    error = next(f for f in frames if f["type"] == "error")
    assert (error["code"], error["client_id"]) == ("insufficient_funds", "broke")
    assert error["details"]["topup_url"] == "/billing/wallet/"
    assert frames[-1]["type"] == "message.done" and frames[-1]["status"] == "failed"
    assert frames[-1]["cost_usd"] == "0.000000"
    assert llm_fakes.openai.model_calls == []
