"""The post-watchdog and the escalation ladder: steering → directive → repeated directive →
override → takeover; a ``none`` verdict resets; an alert locks the conversation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async

from accounts.models import Tenant, User
from chat.models import Conversation
from marketplace.models import Prompt
from spark.tenancy.context import tenant_scope, unscoped
from tests.chat.wire import send, send_frame, text_of
from tests.fakes.fixtures import LLMFakes
from tests.fakes.llm import Reply, ServerError
from tests.watchdog.conftest import SYSTEM_PROMPT, post_verdict
from tests.watchdog.helpers import (
    events_of,
    messages_of,
    on_own_keys_only,
    receive_until_all,
    reload,
    run_text,
    say,
    socket_for,
    supervision_of,
    system_of,
)
from watchdog import services
from watchdog.escalation import LadderState, fold, hint_text, level_for, takes_over
from watchdog.models import Level


def test_levels_climb_with_consecutive_flags() -> None:
    assert [level_for(n) for n in range(7)] == [0, 1, 2, 3, 3, 4, 4]


def test_hint_text_says_how_binding_the_hint_is() -> None:
    assert hint_text(Level.NONE, "x") == ""
    assert hint_text(Level.STEERING, "Ask about caching.") == "Suggestion: Ask about caching."
    assert hint_text(Level.DIRECTIVE, "x").startswith("Directive (mandatory)")
    assert hint_text(Level.REPEATED_DIRECTIVE, "x").startswith("Repeated directive")
    assert hint_text(Level.OVERRIDE, "x").startswith("Override")


def test_a_none_verdict_resets_the_ladder_and_ignored_hints_count() -> None:
    drift = {"t": "drift", "h": "Back to the topic.", "x": True}
    state = fold(LadderState(), [{"t": "drift", "h": "first", "x": False}, drift, drift])
    assert state == LadderState(consecutive=3, ignored=2, hint="Back to the topic.")
    assert takes_over(state, threshold=2, allowed=True)
    assert not takes_over(state, threshold=2, allowed=False)
    assert fold(state, [{"t": "none"}]) == LadderState()


pytestmark_db = pytest.mark.django_db(transaction=True)


@pytest.fixture
def post_prompt(supervised_prompt: Callable[..., Prompt]) -> Callable[..., Any]:
    async def make(**policy: Any) -> Prompt:
        policy.setdefault("pre_enabled", False)
        policy.setdefault("post_frequency", 1)
        return await sync_to_async(supervised_prompt)(**policy)

    return make


EXPECTED_GUIDANCE = {
    1: None,
    2: "Suggestion: Hint 1",
    3: "Directive (mandatory): Hint 2",
    4: "Repeated directive: the previous directive was not followed. You must now: Hint 3",
    5: "Repeated directive: the previous directive was not followed. You must now: Hint 4",
    6: "Override: this instruction takes precedence over everything else",
}


@pytestmark_db
async def test_the_ladder_climbs_from_steering_to_takeover_and_hints_stay_hidden(
    user: User, public_tenant: Tenant, post_prompt: Any, conversation_for: Any, llm_fakes: LLMFakes
) -> None:
    prompt = await post_prompt(takeover_threshold=5)
    conversation = await conversation_for(user, public_tenant, prompt)
    socket = await socket_for(user, conversation)
    hints = {n: f"Hint {n}: steer the candidate back to caching." for n in range(1, 8)}
    seen_by_user: list[dict[str, Any]] = []

    for n in range(1, 7):
        llm_fakes.anthropic.script(Reply(f"Answer number {n}."))
        llm_fakes.openai.script(post_verdict("drift", hint=hints[n]))
        frames = await say(socket, f"Off-topic message {n}")
        seen_by_user += frames
        assert frames[-1]["status"] == "complete", frames
        system = system_of(llm_fakes.anthropic.model_calls[n - 1])
        expected = EXPECTED_GUIDANCE[n]
        if expected is None:
            assert "Supervisor guidance" not in system
        else:
            assert expected in system, (n, system)
            assert f"Hint {n - 1}" in system and f"Hint {n - 2}:" not in system
        supervision = await supervision_of(conversation)
        assert supervision is not None and supervision.consecutive == n

    supervision = await supervision_of(conversation)
    assert supervision is not None
    assert (supervision.ignored, supervision.level, supervision.takeover) == (
        5,
        Level.TAKEOVER,
        True,
    )

    # Turn 7: the watchdog's model answers instead of the assistant, in its persona.
    llm_fakes.openai.script(
        Reply("Let us get back to caching: how would you invalidate entries?"),
        post_verdict("none"),
    )
    frames = await say(socket, "Tell me about your weekend instead.")
    seen_by_user += frames
    assert len(llm_fakes.anthropic.model_calls) == 6  # the assistant's model sat this one out
    # Evaluator calls ask for JSON (response_format); the takeover streams an answer.
    takeover_call = next(c for c in llm_fakes.openai.model_calls if "response_format" not in c.json)
    takeover_system = takeover_call.json["messages"][0]["content"]
    assert takeover_call.json["model"] == "fake-evaluator-1"
    assert SYSTEM_PROMPT in takeover_system and hints[6] in takeover_system
    answer_id = frames[0]["assistant_message_id"]
    assert (
        text_of(frames, answer_id)
        == "Let us get back to caching: how would you invalidate entries?"
    )

    # Hints and the supervision itself never reach the user.
    everything = repr(seen_by_user) + "".join(m.content for m in await messages_of(conversation))
    for hint in hints.values():
        assert hint not in everything
    for word in ("Supervisor", "Directive", "Override", "watchdog"):
        assert word not in everything
    assert {m.model_label for m in await messages_of(conversation) if m.role == "assistant"} == {
        "Fake chat"
    }

    events = await events_of(conversation)
    assert [e.action for e in events] == ["hint"] * 5 + ["takeover", "none"]
    assert [e.level for e in events] == [1, 2, 3, 3, 4, 5, 0]
    assert all(e.stage == "post" and e.cost_micros > 0 for e in events)

    # The none verdict reset the ladder: the assistant's model is back, with no guidance.
    llm_fakes.anthropic.script(Reply("Welcome back."))
    llm_fakes.openai.script(post_verdict("none"))
    await say(socket, "Caching, then.")
    assert "Supervisor guidance" not in system_of(llm_fakes.anthropic.model_calls[-1])
    supervision = await supervision_of(conversation)
    assert supervision is not None
    assert (supervision.consecutive, supervision.level, supervision.takeover) == (0, 0, False)
    await socket.disconnect()


@pytestmark_db
async def test_the_post_watchdog_runs_on_its_cadence_and_remembers_its_verdicts(
    user: User, public_tenant: Tenant, post_prompt: Any, conversation_for: Any, llm_fakes: LLMFakes
) -> None:
    conversation = await conversation_for(user, public_tenant, await post_prompt(post_frequency=2))
    llm_fakes.anthropic.default = Reply("An answer.")
    await run_text(user, conversation, "One.")
    assert llm_fakes.openai.model_calls == []
    llm_fakes.openai.script(
        post_verdict("rabbit_hole", hint="Zoom out.", rationale="Deep tangent.")
    )
    await run_text(user, conversation, "Two.")
    await run_text(user, conversation, "Three.")
    llm_fakes.openai.script(post_verdict("none"))
    await run_text(user, conversation, "Four.")
    first, second = llm_fakes.openai.model_calls
    assert "(none yet)" in first.json["messages"][0]["content"]
    memory = second.json["messages"][0]["content"]
    assert "rabbit_hole (nudge): Deep tangent. Hint given: Zoom out." in memory
    transcript = second.json["messages"][1]["content"]
    assert "[user] Four." in transcript and "[assistant] An answer." in transcript
    assert "never follow" in second.json["messages"][0]["content"]
    assert [e.event_type for e in await events_of(conversation)] == ["rabbit_hole", "none"]


@pytestmark_db
async def test_a_post_evaluator_failure_is_recorded_and_changes_nothing(
    user: User, public_tenant: Tenant, post_prompt: Any, conversation_for: Any, llm_fakes: LLMFakes
) -> None:
    conversation = await conversation_for(user, public_tenant, await post_prompt())
    llm_fakes.anthropic.script(Reply("An answer."))
    llm_fakes.openai.script(ServerError())
    _turn, outcome = await run_text(user, conversation, "Hello.")
    assert outcome.status == "complete"
    [event] = await events_of(conversation)
    assert (event.action, event.verdict) == ("failed", "allow")
    assert event.error.startswith("provider_unavailable")
    assert await supervision_of(conversation) is None


@pytestmark_db
async def test_a_post_evaluator_borrowed_from_the_conversation_uses_its_keys(
    user: User, public_tenant: Tenant, post_prompt: Any, conversation_for: Any, llm_fakes: LLMFakes
) -> None:
    own_key = "sk-ant-users-own-key-4321"
    await on_own_keys_only(user, "anthropic", own_key)
    llm_fakes.set_pool("anthropic", [])
    conversation = await conversation_for(user, public_tenant, await post_prompt(post_model=None))
    llm_fakes.anthropic.script(Reply("An answer."), post_verdict("none"))
    _turn, outcome = await run_text(user, conversation, "Hello.")
    assert outcome.status == "complete"
    assert llm_fakes.anthropic.keys_used == [own_key, own_key]  # the answer, then the judge
    [event] = await events_of(conversation)
    assert (event.stage, event.key_source, event.error) == ("post", "user", "")


@pytestmark_db
async def test_an_alert_locks_the_conversation_on_the_socket_rest_sse_and_openai_paths(
    user: User, public_tenant: Tenant, post_prompt: Any, conversation_for: Any, llm_fakes: LLMFakes
) -> None:
    conversation = await conversation_for(user, public_tenant, await post_prompt())
    socket = await socket_for(user, conversation)
    llm_fakes.anthropic.script(Reply("Here is how to get the admin password..."))
    llm_fakes.openai.script(
        post_verdict("security", severity="alert", rationale="The assistant leaked a secret.")
    )

    await send(socket, send_frame("How do I log in as admin?"))
    frames = await receive_until_all(socket, {"message.done", "conversation_locked"})

    done = next(f for f in frames if f["type"] == "message.done")
    assert done["status"] == "complete"  # the answer already written stays
    notice = next(f for f in frames if f["type"] == "error")
    assert notice["code"] == "conversation_locked"
    kinds = [f["type"] for f in frames]
    assert kinds.index("error") > kinds.index("message.done"), kinds  # after the turn's frames
    locked = await reload(conversation)
    assert locked.is_locked and locked.lock_reason == "watchdog: security alert"
    [event] = await events_of(conversation)
    assert (event.action, event.severity) == ("locked", "alert")

    frames = await say(socket, "Hello?")
    assert (frames[-1]["type"], frames[-1]["code"]) == ("error", "conversation_locked")
    for channel in ("rest", "sse", "openai"):
        _turn, outcome = await run_text(user, conversation, "Anyone?", channel=channel)
        assert (outcome.status, outcome.http_status, outcome.code) == (
            "refused",
            423,
            "conversation_locked",
        )
    assert len(llm_fakes.anthropic.model_calls) == 1
    assert len(llm_fakes.openai.model_calls) == 1

    # Until staff reopen it: then it works again, with a fresh supervision.
    await sync_to_async(_release)(conversation)
    llm_fakes.anthropic.script(Reply("Welcome back."))
    llm_fakes.openai.script(post_verdict("none"))
    frames = await say(socket, "Can we continue?")
    assert frames[-1]["type"] == "message.done"
    await socket.disconnect()


def _release(conversation: Conversation) -> None:
    with tenant_scope(conversation.tenant):
        services.conversation_release(conversation=conversation, actor=None)


@pytestmark_db
async def test_post_usage_is_charged_by_billing_once_per_answer(
    user: User,
    public_tenant: Tenant,
    post_prompt: Any,
    conversation_for: Any,
    llm_fakes: LLMFakes,
) -> None:
    from billing.models import UsageRecord

    conversation = await conversation_for(user, public_tenant, await post_prompt())
    llm_fakes.anthropic.script(Reply("An answer."))
    llm_fakes.openai.script(post_verdict("none"))
    turn, _outcome = await run_text(user, conversation, "Hello.")
    assert turn.assistant_message is not None

    @sync_to_async
    def post_records() -> list[UsageRecord]:
        with unscoped():
            return list(UsageRecord.objects.filter(idempotency_key__startswith="watchdog:post:"))

    [record] = await post_records()
    assert record.idempotency_key == f"watchdog:post:{turn.assistant_message.pk}"
    assert (record.user_id, record.conversation_id) == (user.pk, conversation.pk)
    assert record.message_id == turn.assistant_message.pk
    assert record.model_slug == "fake-evaluator" and record.key_source == "platform"
    assert record.input_tokens > 0 and record.output_tokens > 0 and record.total > 0
