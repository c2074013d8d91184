"""The watchdog's pipeline stages: PreWatchdog (before the model) and SchedulePost (last).

``PreWatchdog`` screens the message locally, reads what the turn's policy needs in one trip
to the database, asks the LLM guard when the screen flags the message or the policy's
cadence says so, and either blocks the turn (``TurnBlocked``: the model is never called),
steers it (``turn.hints``), or lets it through. It also applies the
post-watchdog's escalation: the pending hint at its level, or a takeover (the watchdog's
model answers in the assistant's persona through ``turn.replace_system`` and
``turn.model``).

``SchedulePost`` queues the post-watchdog after a completed answer, on the policy's
cadence, once the answer is committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import get_language, gettext as _, override

from chat.models import Message
from chat.pipeline import CallNext, ExtraUsage, SuppliedText, Turn, TurnBlocked
from chat.stages import client_supplied
from spark.common.asyncdb import db
from watchdog import selectors, services
from watchdog.escalation import hint_text
from watchdog.evaluator import (
    PRE_SCHEMA,
    Evaluation,
    TranscriptLine,
    evaluate,
    guard_messages,
    takeover_system,
)
from watchdog.models import Action, Level, Stage
from watchdog.output import LeakGuard, canary_for, plant, protect
from watchdog.policy import EffectivePolicy, evaluator_keys
from watchdog.presets import persona_for
from watchdog.screen import CLEAR, LONG_TEXT, ScreenResult, get_screen

logger = logging.getLogger(__name__)

BLOCKING_ACTIONS = frozenset({Action.BLOCKED, Action.LOCKED, Action.FAILED_CLOSED})


def refusal(turn: Turn, *, failed: bool = False) -> str:
    """The polite refusal the user reads, in their language."""
    with override(getattr(turn.user, "language", "") or get_language() or settings.LANGUAGE_CODE):
        if failed:
            return _(
                "Sorry, I couldn't check your message just now, so I can't answer it. "
                "Please try again in a moment."
            )
        return _("Sorry, I can't help with that request. Feel free to ask me something else.")


async def screen_text(text: str) -> ScreenResult:
    """Screen in-process; a very long message is screened off the event loop."""
    if len(text) > LONG_TEXT:
        return await asyncio.to_thread(get_screen().check, text)
    return get_screen().check(text)


@dataclass(frozen=True)
class Unjudged:
    """A client-supplied text the pre-watchdog has not let through before."""

    item: SuppliedText
    digest: str


async def unjudged(turn: Turn) -> list[Unjudged]:
    """What the client supplied besides its message (``chat.stages.client_supplied``) that
    was not judged before: one trip to the database, and only when there is any."""
    items: dict[str, SuppliedText] = {}
    for item in client_supplied(turn):
        items.setdefault(selectors.text_digest(role=item.role, content=item.content), item)
    if not items:
        return []
    known = await db(selectors.judged_known)(
        tenant_id=turn.tenant.pk, user_id=turn.user.pk, prompt=turn.prompt, digests=list(items)
    )
    return [Unjudged(item, digest) for digest, item in items.items() if digest not in known]


async def screen_turn(text: str, pending: list[Unjudged]) -> tuple[ScreenResult, bool]:
    """The screen's verdict on the message and the unjudged supplied text: the first flag
    (and whether it was in the supplied text), else clear."""
    if text.strip():
        screened = await screen_text(text)
        if screened.flagged:
            return screened, False
    for entry in pending:
        screened = await screen_text(entry.item.content)
        if screened.flagged:
            return screened, True
    return CLEAR, False


class PreWatchdog:
    """Local screen, LLM guard, and the post-watchdog's escalation, before the model.

    The message is judged together with everything else the client supplied that reaches
    the model and was not judged before (``unjudged``); what gets through is remembered
    (``JudgedText``), so a client that re-sends it is not judged twice."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        text = turn.user_message.content if turn.user_message is not None else turn.text
        pending = await unjudged(turn)
        screened, flagged_supplied = await screen_turn(text, pending)
        context = await db(selectors.pre_context)(
            conversation=turn.conversation,
            prompt=turn.prompt,
            fallback_model=turn.model,
            flagged=screened.flagged,
        )
        turn.state["watchdog"] = {
            "policy": context.policy,
            "turn_number": context.turn_number,
            "screen": screened,
            "hint_level": Level.NONE,
            "takeover": False,
            "action": None,  # the guard's, when it judged
        }
        recording = (
            await self.guard(turn, context, screened, pending, flagged_supplied)
            if context.guard
            else None
        )
        self.escalate(turn, context)
        try:
            await call_next(turn)
        finally:
            if recording is not None:
                await _settled(recording)
            await self.remember(turn, text, pending)

    async def guard(
        self,
        turn: Turn,
        context: selectors.PreContext,
        screened: ScreenResult,
        pending: Sequence[Unjudged] = (),
        flagged_supplied: bool = False,
    ) -> asyncio.Future[Any]:
        """Ask the LLM guard and act on its verdict. Raises ``TurnBlocked`` for a block;
        otherwise returns the verdict's write, which runs while the model answers."""
        assert turn.assistant_message is not None
        policy = context.policy
        model = context.pre_evaluator
        evaluation: Evaluation | None = None
        if model is not None:
            role = services.role_for_turn(
                turn, objectives=policy.pre_objectives, steering=policy.pre_steering
            )
            evaluation = await evaluate(
                model=model,
                messages=guard_messages(
                    role=role,
                    transcript=context.lines,
                    flagged_rule=screened.rule,
                    supplied=[
                        TranscriptLine(role=entry.item.role, content=entry.item.content)
                        for entry in pending
                    ],
                    flagged_supplied=flagged_supplied,
                ),
                schema=PRE_SCHEMA,
                timeout=settings.SPARK_WATCHDOG_GUARD_TIMEOUT_SECONDS,
                keys=evaluator_keys(
                    evaluator=model, conversation_model=turn.model, user_keys=turn.key_context
                ),
            )
        decision = decide(policy, screened, evaluation)
        turn.state["watchdog"]["action"] = decision["action"]
        if decision["action"] == Action.STEERED and decision["hint"]:
            turn.hints.append(decision["hint"])
        elif decision["action"] == Action.TAKEOVER and model is not None:
            self.take_over(turn, context, model=model, hint=decision["hint"])
        if evaluation is not None and (
            evaluation.usage.input_tokens or evaluation.usage.output_tokens
        ):
            turn.extra_usage.append(
                ExtraUsage(
                    kind="evaluator",
                    model_slug=evaluation.model.slug,
                    usage=evaluation.usage,
                    key_source=evaluation.key_source,
                    reference=services.usage_reference(
                        stage=Stage.PRE, message_id=turn.assistant_message.pk
                    ),
                )
            )
        recording = asyncio.ensure_future(
            db(services.pre_record)(turn=turn, evaluation=evaluation, **decision)
        )
        if decision["action"] in BLOCKING_ACTIONS:
            await recording  # the verdict (and a lock) is stored before the user is told
            failed = decision["action"] == Action.FAILED_CLOSED
            raise TurnBlocked(refusal(turn, failed=failed), category=decision["event_type"])
        return recording

    @staticmethod
    async def remember(turn: Turn, text: str, pending: list[Unjudged]) -> None:
        """Remember what got through: the supplied text judged now and, on the OpenAI API
        (whose clients re-send the whole conversation on every call), the message and a
        complete answer too. Nothing when the guard blocked, failed or took over."""
        action = turn.state.get("watchdog", {}).get("action")
        if action not in (None, Action.NONE, Action.STEERED):
            return
        digests = [entry.digest for entry in pending]
        if turn.channel == "openai":
            digests.append(selectors.text_digest(role="user", content=text))
            if turn.status == Message.Status.COMPLETE and turn.text_out:
                digests.append(selectors.text_digest(role="assistant", content=turn.text_out))
        if not digests:
            return
        try:
            await db(services.judged_remember)(
                tenant_id=turn.tenant.pk, user_id=turn.user.pk, prompt=turn.prompt, digests=digests
            )
        except Exception:
            logger.exception(
                "the pre-watchdog could not remember judged text of message %s", turn.assistant_id
            )

    def escalate(self, turn: Turn, context: selectors.PreContext) -> None:
        """The post-watchdog's pending hint, at its level; or the takeover."""
        state = turn.state["watchdog"]
        if not context.policy.post_enabled or state["takeover"]:
            return
        if context.takeover and context.post_evaluator is not None:
            self.take_over(turn, context, model=context.post_evaluator, hint=context.hint)
            state["hint_level"] = Level.TAKEOVER
        elif context.level > Level.NONE and context.hint:
            turn.hints.append(hint_text(context.level, context.hint))
            state["hint_level"] = context.level

    @staticmethod
    def take_over(turn: Turn, context: selectors.PreContext, *, model: Any, hint: str) -> None:
        policy = context.policy
        role = services.role_for_turn(
            turn, objectives=policy.post_objectives, steering=policy.post_steering
        )
        turn.replace_system = takeover_system(
            role=role, persona=policy.post_steering or persona_for(policy.mode), hint=hint
        )
        turn.model = model
        turn.state["watchdog"]["takeover"] = True


async def _settled(recording: asyncio.Future[Any]) -> None:
    """Wait for the verdict's write; a failure to store it must not fail the answer."""
    try:
        await recording
    except Exception:
        logger.exception("the pre-watchdog could not store its verdict")


def decide(
    policy: EffectivePolicy, screened: ScreenResult, evaluation: Evaluation | None
) -> dict[str, Any]:
    """What the pre-watchdog does with the guard's verdict (or its failure)."""
    if evaluation is None or not evaluation.ok:
        blocked = policy.fail_closed
        return {
            "verdict": "block" if blocked else "allow",
            "event_type": screened.category if screened.flagged else "none",
            "severity": "info",
            "confidence": 0.0,
            "rationale": "",
            "hint": "",
            "level": Level.NONE,
            "action": Action.FAILED_CLOSED if blocked else Action.FAILED_OPEN,
            "rule": screened.rule,
        }
    verdict = evaluation.verdict
    assert verdict is not None
    alert = verdict["severity"] == "alert" and verdict["verdict"] != "allow"
    hint = (verdict.get("hint") or "").strip()[: policy.hint_max_chars]
    if alert and policy.pre_may_lock:
        action = Action.LOCKED
    elif verdict["verdict"] == "block":
        action = Action.BLOCKED
    elif alert and policy.pre_may_take_over:
        action = Action.TAKEOVER
    elif verdict["verdict"] == "steer" and hint:
        action = Action.STEERED
    else:
        action = Action.NONE
    return {
        "verdict": verdict["verdict"],
        "event_type": verdict["category"],
        "severity": verdict["severity"],
        "confidence": verdict["confidence"],
        "rationale": verdict.get("rationale") or "",
        "hint": hint if action in (Action.STEERED, Action.TAKEOVER) else "",
        "level": Level.STEERING if action == Action.STEERED else Level.NONE,
        "action": action,
        "rule": screened.rule,
    }


class OutputGuard:
    """Stops an answer that reproduces its prompt's system prompt, as it streams.

    Between BuildContext and Generate: plants the prompt's canary in the system message
    and installs a ``LeakGuard`` in ``turn.output_filters`` (Generate runs every delta
    through it before any client sees it). When it stops the answer, the refusal replaces
    it (chat's runner tells every channel) and a ``system_info_extraction`` event of stage
    ``output`` is recorded. Conversations without a prompt have nothing to protect.
    """

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        system = turn.prompt.system_prompt.strip() if turn.prompt is not None else ""
        if not settings.SPARK_WATCHDOG_OUTPUT_GUARD or not system or not turn.context:
            await call_next(turn)
            return
        assert turn.prompt is not None
        canary = canary_for(turn.prompt.uuid)
        head = turn.context[0]
        if head.role == "system":
            turn.context[0] = dataclasses.replace(head, content=plant(head.content, canary))
        guard = LeakGuard(
            protect(system, canary),
            reason=refusal(turn),
            run_words=max(3, settings.SPARK_WATCHDOG_OUTPUT_RUN_WORDS),
            window=max(1, settings.SPARK_WATCHDOG_OUTPUT_WINDOW),
            overlap=settings.SPARK_WATCHDOG_OUTPUT_OVERLAP,
        )
        turn.output_filters.append(guard)
        await call_next(turn)
        if guard.finding is None or turn.blocked is None:
            return
        try:
            await db(services.output_record)(
                turn=turn, rule=guard.finding.rule, rationale=guard.finding.detail
            )
        except Exception:
            logger.exception(
                "the output guard could not store its stop of message %s", turn.assistant_id
            )


class SchedulePost:
    """Queue the post-watchdog after a completed answer, on the policy's cadence."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        await call_next(turn)
        state = turn.state.get("watchdog")
        if state is None or turn.prompt is None or turn.assistant_message is None:
            return
        policy: EffectivePolicy = state["policy"]
        if turn.status != Message.Status.COMPLETE or not policy.post_due(state["turn_number"]):
            return
        hinted = state["hint_level"] > Level.NONE or bool(state["takeover"])
        await db(services.post_schedule)(turn=turn, hinted=hinted)
