"""Fixtures for the watchdog: an evaluator on the OpenAI fake, a chat model on the Anthropic
fake (so evaluator calls and chat calls are told apart by server), supervised prompts."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async

from accounts.models import Tenant, User
from chat.models import Conversation
from marketplace.models import Prompt
from spark.llm.models import LLMModel
from spark.llm.providers.http import close_shared_client
from spark.tenancy.context import tenant_scope, unscoped
from tests.factories import create_prompt
from tests.fakes.fixtures import LLMFakes
from tests.fakes.llm import Reply, Verdict
from watchdog import services
from watchdog.models import WatchdogPolicy
from watchdog.policy import clear_policy_cache

SYSTEM_PROMPT = "You are Captain Interview, a strict technical interviewer for backend roles."
_names = itertools.count(1)


def verdict(verdict: str = "allow", category: str = "none", **fields: Any) -> Reply:
    """A pre-watchdog verdict as the evaluator writes it."""
    fields.setdefault("severity", "info")
    fields.setdefault("confidence", 0.9)
    fields.setdefault("rationale", f"{verdict}: {category}")
    fields.setdefault("hint", "")
    return Verdict(verdict=verdict, category=category, **fields)


def post_verdict(event_type: str = "none", **fields: Any) -> Reply:
    """A post-watchdog verdict."""
    fields.setdefault("severity", "nudge" if event_type != "none" else "info")
    fields.setdefault("confidence", 0.8)
    fields.setdefault("rationale", f"judged {event_type}")
    fields.setdefault("hint", "")
    return Verdict(event_type=event_type, **fields)


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    clear_policy_cache()
    yield
    clear_policy_cache()


@pytest.fixture(autouse=True)
async def _close_http_clients() -> AsyncIterator[None]:
    yield
    await close_shared_client()


@pytest.fixture
def evaluator(llm_fakes: LLMFakes, db: None) -> LLMModel:
    """The watchdog's evaluator, served by the OpenAI fake (one platform key: a scripted
    error is not retried on a second key)."""
    llm_fakes.set_pool("openai", ["sk-platform-openai-1111"])
    model, _ = LLMModel.objects.update_or_create(
        slug="fake-evaluator",
        defaults={
            "provider": "openai",
            "model_id": "fake-evaluator-1",
            "display_name": "Fake evaluator",
            "input_price": 150_000,
            "output_price": 600_000,
            "position": 90,
        },
    )
    return model


@pytest.fixture
def chat_model(llm_fakes: LLMFakes, db: None) -> LLMModel:
    """The assistant's model, served by the Anthropic fake."""
    model, _ = LLMModel.objects.update_or_create(
        slug="fake-chat",
        defaults={
            "provider": "anthropic",
            "model_id": "claude-fake",
            "display_name": "Fake chat",
            "input_price": 3_000_000,
            "output_price": 15_000_000,
            "position": 91,
        },
    )
    return model


def make_policy(prompt: Prompt, evaluator: LLMModel, **overrides: Any) -> WatchdogPolicy:
    with tenant_scope(prompt.tenant):
        values = services.policy_initial(prompt=prompt)
        values.update(pre_model=evaluator, post_model=evaluator)
        values.update(overrides)
        return services.policy_save(prompt=prompt, values=values)


@pytest.fixture
def supervised_prompt(
    user: User, public_tenant: Tenant, evaluator: LLMModel, chat_model: LLMModel
) -> Callable[..., Prompt]:
    """``supervised_prompt(**policy)``: a public prompt on the fake chat model with a policy
    whose evaluators are the fake evaluator."""

    def make(visibility: str = Prompt.Visibility.PUBLIC, **policy: Any) -> Prompt:
        with unscoped():
            prompt = create_prompt(
                owner=user,
                tenant=public_tenant,
                name=f"Captain Interview {next(_names)}",
                description="Mock interviews for backend engineers.",
                system_prompt=SYSTEM_PROMPT,
                default_model=chat_model,
                visibility=visibility,
            )
        make_policy(prompt, evaluator, **policy)
        return prompt

    return make


def conversation_with(user: User, tenant: Tenant, prompt: Prompt | None) -> Conversation:
    from chat import services as chat_services

    with tenant_scope(tenant):
        return chat_services.conversation_create(user=user, tenant=tenant, prompt=prompt)


@pytest.fixture
def conversation_for() -> Callable[..., Any]:
    return sync_to_async(conversation_with)


@pytest.fixture(autouse=True)
async def _turns_finish_before_teardown() -> AsyncIterator[None]:
    """A turn outlives its socket by design; let it end before the database goes away."""
    yield
    from chat.runner import wait_for_running_turns

    await wait_for_running_turns()


@pytest.fixture(autouse=True)
def _wallets_with_credit(request: pytest.FixtureRequest) -> None:
    """Supervision is tested with priced models: the users' wallets can pay for them."""
    from billing.services import wallet_grant

    for name in ("user", "user_a", "user_b"):
        if name in request.fixturenames:
            person = request.getfixturevalue(name)
            with unscoped():
                wallet_grant(user=person, amount=100_000_000, reason="watchdog tests")
