"""Concurrent and out-of-order post-watchdog verdicts: compare-and-set on the supervision's
version means none is lost and none applies backwards. Real threads, real connections
(PostgreSQL in CI; SQLite's shared-cache locks on the embedded default)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.models import Tenant, User
from chat.models import Conversation, Message
from marketplace.models import Prompt
from spark.tenancy.context import tenant_scope, unscoped
from tests.fakes.fixtures import LLMFakes
from tests.fakes.llm import Reply
from tests.watchdog.conftest import conversation_with, post_verdict
from watchdog import services
from watchdog.models import Supervision, WatchdogEvent
from watchdog.policy import effective_policy

pytestmark = pytest.mark.django_db(transaction=True)


def _exchanges(conversation: Conversation, count: int) -> list[int]:
    """``count`` user/assistant pairs; the assistant messages' ids, oldest first."""
    ids = []
    with unscoped():
        for n in range(count):
            question = Message.objects.create(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                role=Message.Role.USER,
                content=f"Question {n}",
            )
            answer = Message.objects.create(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                content=f"Answer {n}",
                reply_to=question,
            )
            ids.append(answer.pk)
    return ids


@pytest.fixture
def supervised(
    user: User, public_tenant: Tenant, supervised_prompt: Callable[..., Prompt]
) -> Conversation:
    prompt = supervised_prompt(pre_enabled=False, post_frequency=1, takeover_threshold=100)
    return conversation_with(user, public_tenant, prompt)


def _state(conversation: Conversation) -> Supervision:
    with unscoped():
        return Supervision.objects.get(conversation=conversation)


def test_concurrent_verdicts_for_one_conversation_are_all_counted(
    supervised: Conversation, llm_fakes: LLMFakes
) -> None:
    answers = _exchanges(supervised, 6)
    # Every evaluator answers after the same pause, so the writes land together.
    llm_fakes.openai.set_default(
        Reply(post_verdict("drift", hint="Back on track.").text, first_token_delay=0.2)
    )
    barrier = threading.Barrier(len(answers))
    errors: list[BaseException] = []

    def judge(message_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            with tenant_scope(supervised.tenant):
                services.post_watchdog_run(
                    conversation_id=supervised.pk, message_id=message_id, hinted=True
                )
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=judge, args=(m,)) for m in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    state = _state(supervised)
    assert [entry["m"] for entry in state.memory] == answers  # in message order
    assert (state.consecutive, state.ignored, state.evaluations) == (6, 6, 6)
    assert state.version == 6  # one successful compare-and-set per verdict
    assert state.level == 4 and state.pending_hint == "Back on track."
    with unscoped():
        assert WatchdogEvent.objects.filter(conversation=supervised).count() == 6


def _apply(conversation: Conversation, message_id: int, event_type: str, hint: str = "") -> Any:
    with tenant_scope(conversation.tenant):
        policy = effective_policy(prompt=conversation.prompt)
        return services.supervision_apply(
            conversation=conversation,
            entry={"m": message_id, "t": event_type, "s": "nudge", "h": hint, "x": False},
            policy=policy,
        )


def test_a_late_verdict_is_folded_in_message_order_and_never_goes_backwards(
    supervised: Conversation,
) -> None:
    m1, m2, m3, m4 = _exchanges(supervised, 4)
    _apply(supervised, m2, "drift", "two")
    _apply(supervised, m4, "drift", "four")
    # The verdict about m1 ("none") arrives last: it must not reset what m2..m4 say.
    _apply(supervised, m1, "none")
    update = _apply(supervised, m3, "drift", "three")
    assert (update.consecutive, update.hint, update.stale) == (3, "four", False)
    state = _state(supervised)
    assert [e["m"] for e in state.memory] == [m1, m2, m3, m4]
    assert state.version == 4


def test_a_redelivered_verdict_applies_once(supervised: Conversation) -> None:
    m1, m2 = _exchanges(supervised, 2)
    _apply(supervised, m1, "drift", "one")
    _apply(supervised, m2, "drift", "two")
    again = _apply(supervised, m2, "drift", "two")
    assert again.consecutive == 2


def test_verdicts_older_than_the_memory_window_are_stale(
    supervised: Conversation, settings: Any
) -> None:
    settings.SPARK_WATCHDOG_MEMORY = 2
    m1, m2, m3, m4 = _exchanges(supervised, 4)
    for message_id in (m2, m3, m4):
        _apply(supervised, message_id, "drift", str(message_id))
    state = _state(supervised)
    assert (state.base_consecutive, state.floor_message_id, state.consecutive) == (1, m2, 3)
    late = _apply(supervised, m1, "none")
    assert late.stale and late.consecutive == 3
    assert _state(supervised).version == 3


def test_a_redelivered_task_keeps_one_event_and_one_verdict(
    supervised: Conversation, llm_fakes: LLMFakes
) -> None:
    [answer] = _exchanges(supervised, 1)
    llm_fakes.openai.script(post_verdict("stuck", hint="Move on."))
    with tenant_scope(supervised.tenant):
        first = services.post_watchdog_run(conversation_id=supervised.pk, message_id=answer)
        second = services.post_watchdog_run(conversation_id=supervised.pk, message_id=answer)
    assert first is not None and second is not None and first.pk == second.pk
    assert len(llm_fakes.openai.model_calls) == 1
    assert _state(supervised).evaluations == 1
