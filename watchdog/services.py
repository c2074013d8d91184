"""Writes for the watchdog: policies, verdicts, the supervision state, locks, the post run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.selectors import key_context_for_user
from chat import services as chat_services
from chat.models import Conversation, Message
from chat.pipeline import Turn
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel
from spark.observability import metrics
from spark.tenancy.context import unscoped
from watchdog import realtime
from watchdog.escalation import LadderState, fold, level_for, takes_over
from watchdog.evaluator import (
    POLICY_SCHEMA,
    POST_SCHEMA,
    Evaluation,
    Role,
    autofill_messages,
    evaluate_sync,
    post_messages,
)
from watchdog.models import (
    Action,
    EventType,
    FailureMode,
    JudgedText,
    Level,
    Mode,
    Severity,
    Stage,
    Supervision,
    Verdict,
    WatchdogEvent,
    WatchdogPolicy,
)
from watchdog.policy import (
    EffectivePolicy,
    effective_policy,
    evaluator_keys,
    evaluator_model,
    forget_policy,
)
from watchdog.presets import DEFAULT_POST_OBJECTIVES, DEFAULT_PRE_OBJECTIVES, persona_for
from watchdog.selectors import transcript

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_OBJECTIVES = 20
MAX_OBJECTIVE_CHARS = 500
MAX_STEERING_CHARS = 5000
MAX_FREQUENCY = 1000
CAS_ATTEMPTS = 50


# --- policies -------------------------------------------------------------------------------

POLICY_FIELDS = (
    "pre_enabled",
    "pre_model",
    "pre_objectives",
    "pre_steering",
    "pre_frequency",
    "pre_may_take_over",
    "pre_may_lock",
    "failure_mode",
    "post_enabled",
    "post_model",
    "post_objectives",
    "post_steering",
    "post_frequency",
    "post_may_take_over",
    "post_may_lock",
    "mode",
    "hint_max_chars",
    "takeover_threshold",
)


def policy_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors of a policy (empty: valid). The creator's form and the admin use it."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for section in ("pre", "post"):
        objectives = values.get(f"{section}_objectives") or []
        if values.get(f"{section}_enabled") and not objectives:
            add(f"{section}_objectives", _("Give at least one objective."))
        if len(objectives) > MAX_OBJECTIVES:
            add(
                f"{section}_objectives",
                _("Give at most %(count)s objectives.") % {"count": MAX_OBJECTIVES},
            )
        for number, objective in enumerate(objectives, start=1):
            if len(objective) > MAX_OBJECTIVE_CHARS:
                add(
                    f"{section}_objectives",
                    _("Objective %(number)s is longer than %(limit)s characters.")
                    % {"number": number, "limit": MAX_OBJECTIVE_CHARS},
                )
        if len(values.get(f"{section}_steering") or "") > MAX_STEERING_CHARS:
            add(
                f"{section}_steering",
                _("The steering prompt is longer than %(limit)s characters.")
                % {"limit": MAX_STEERING_CHARS},
            )
        frequency = values.get(f"{section}_frequency")
        if frequency is None or not 1 <= int(frequency) <= MAX_FREQUENCY:
            add(
                f"{section}_frequency",
                _("Evaluate every 1 to %(limit)s user messages.") % {"limit": MAX_FREQUENCY},
            )
        model = values.get(f"{section}_model")
        if model is not None and not model.is_active:
            add(f"{section}_model", _("This model is not active."))
    hint = values.get("hint_max_chars")
    if hint is None or not 40 <= int(hint) <= 2000:
        add("hint_max_chars", _("Hints are 40 to 2000 characters long."))
    threshold = values.get("takeover_threshold")
    if threshold is None or not 1 <= int(threshold) <= 100:
        add("takeover_threshold", _("The takeover threshold is 1 to 100 ignored hints."))
    if values.get("mode") not in Mode.values:
        add("mode", _("Choose a mode."))
    if values.get("failure_mode", FailureMode.AUTO) not in FailureMode.values:
        add("failure_mode", _("Choose what happens when the guard fails."))
    return errors


def policy_initial(*, prompt: Prompt) -> dict[str, Any]:
    """The values the creator's form starts from: the stored policy, else the defaults."""
    row = WatchdogPolicy.objects.filter(prompt=prompt).first()
    if row is None:
        row = WatchdogPolicy(
            prompt=prompt,
            tenant_id=prompt.tenant_id,
            pre_objectives=list(DEFAULT_PRE_OBJECTIVES),
            post_objectives=list(DEFAULT_POST_OBJECTIVES),
        )
    return {name: getattr(row, name) for name in POLICY_FIELDS}


@transaction.atomic
def policy_save(*, prompt: Prompt, values: dict[str, Any]) -> WatchdogPolicy:
    """Create or update the prompt's policy; ``ApplicationError`` with field errors."""
    errors = policy_validate(values)
    if errors:
        raise ApplicationError(_("The policy is not valid."), code="invalid_policy", details=errors)
    fields = {name: values[name] for name in POLICY_FIELDS if name in values}
    fields["pre_objectives"] = [o.strip() for o in fields.get("pre_objectives") or [] if o.strip()]
    fields["post_objectives"] = [
        o.strip() for o in fields.get("post_objectives") or [] if o.strip()
    ]
    policy, _created = WatchdogPolicy.objects.update_or_create(
        prompt=prompt, defaults={**fields, "tenant_id": prompt.tenant_id}
    )
    transaction.on_commit(lambda: forget_policy(prompt=prompt))
    forget_policy(prompt=prompt)
    return policy


def policy_propose(*, prompt: Prompt) -> tuple[dict[str, Any], bool]:
    """A policy proposal for the creator's form ("auto-fill"), and whether the LLM made it.

    The evaluator model reads the prompt's instructions and description; when it gives no
    usable proposal (the offline demo model, an error), a local heuristic fills in.
    """
    values = policy_initial(prompt=prompt)
    policy = effective_policy(prompt=prompt)
    model = evaluator_model(chosen=policy.post_model, fallback=prompt.default_model)
    proposal: dict[str, Any] | None = None
    if model is not None:
        evaluation = evaluate_sync(
            model=model,
            messages=autofill_messages(
                name=prompt.name, description=prompt.description, system_prompt=prompt.system_prompt
            ),
            schema=POLICY_SCHEMA,
            timeout=settings.SPARK_WATCHDOG_POST_TIMEOUT_SECONDS,
            max_tokens=1500,
        )
        proposal = evaluation.verdict
    from_llm = proposal is not None
    if proposal is None:
        proposal = _heuristic_proposal(prompt)
    for section in ("pre", "post"):
        items = [
            str(item).strip()[:MAX_OBJECTIVE_CHARS]
            for item in proposal.get(f"{section}_objectives") or []
            if str(item).strip()
        ][:MAX_OBJECTIVES]
        if items:
            values[f"{section}_objectives"] = items
        steering = str(proposal.get(f"{section}_steering") or "").strip()
        if steering:
            values[f"{section}_steering"] = steering[:MAX_STEERING_CHARS]
    values["mode"] = proposal.get("mode") or values["mode"]
    return values, from_llm


_MODE_WORDS = {
    Mode.INTERVIEW: ("interview", "candidate", "recruit", "entrevista", "examiner", "exam"),
    Mode.COACHING: ("coach", "mentor", "wellbeing", "motivat", "therap", "entrenador"),
    Mode.EDUCATION: ("tutor", "teach", "student", "learn", "lesson", "profesor", "alumno"),
}


def _heuristic_proposal(prompt: Prompt) -> dict[str, Any]:
    text = f"{prompt.name} {prompt.description} {prompt.system_prompt}".lower()
    mode = next(
        (mode for mode, words in _MODE_WORDS.items() if any(w in text for w in words)),
        Mode.CUSTOM,
    )
    sentences = [
        s.strip(" -*•\t")
        for s in prompt.system_prompt.replace("\n", ". ").split(". ")
        if 12 <= len(s.strip()) <= MAX_OBJECTIVE_CHARS
    ]
    role = prompt.description.strip() or prompt.name
    return {
        "mode": str(mode),
        "pre_objectives": list(DEFAULT_PRE_OBJECTIVES),
        "post_objectives": [f"Stay in the role: {role}"[:MAX_OBJECTIVE_CHARS], *sentences[:4]],
        "post_steering": persona_for(mode),
    }


# --- events ---------------------------------------------------------------------------------


def event_record(
    *,
    conversation: Conversation,
    message_id: int | None,
    stage: str,
    verdict: str,
    event_type: str = "none",
    severity: str = "info",
    confidence: float = 0.0,
    rationale: str = "",
    hint: str = "",
    level: int = 0,
    action: str = Action.NONE,
    rule: str = "",
    evaluation: Evaluation | None = None,
) -> WatchdogEvent:
    """Store one verdict (``IntegrityError`` if this turn's stage already has one) and show
    it live to staff once committed."""
    model: LLMModel | None = evaluation.model if evaluation is not None else None
    usage = evaluation.usage if evaluation is not None else None
    event = WatchdogEvent.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        message_id=message_id,
        prompt_id=conversation.prompt_id,
        stage=stage,
        verdict=verdict,
        event_type=event_type,
        severity=severity,
        confidence=confidence,
        rationale=rationale[:2000],
        hint=hint[:2000],
        level=level,
        action=action,
        rule=rule[:64],
        evaluator_model=model,
        evaluator_slug=model.slug if model is not None else "",
        latency_ms=evaluation.latency_ms if evaluation is not None else 0,
        attempts=evaluation.attempts if evaluation is not None else 0,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        cached_tokens=usage.cached_tokens if usage else 0,
        cost_micros=evaluation.cost_micros if evaluation is not None else 0,
        key_source=evaluation.key_source if evaluation is not None else "platform",
        error=(evaluation.error if evaluation is not None and not evaluation.ok else "")[:500],
    )
    realtime.publish_event_on_commit(event, conversation=conversation)
    transaction.on_commit(
        lambda: metrics.watchdog_verdict(
            stage=stage, verdict=verdict, severity=severity, latency_ms=event.latency_ms
        )
    )
    return event


# --- locks ----------------------------------------------------------------------------------


def conversation_force_lock(*, conversation: Conversation, reason: str) -> bool:
    """Close a conversation on the watchdog's verdict (chat owns the row and the refusal)."""
    return chat_services.conversation_lock(conversation=conversation, reason=reason)


@transaction.atomic
def conversation_release(*, conversation: Conversation, actor: Any) -> bool:
    """Staff reopen a locked conversation: unlock it and start its supervision afresh
    (verdicts about earlier messages no longer count)."""
    unlocked = chat_services.conversation_unlock(conversation=conversation, actor=actor)
    last = (
        Message.objects.filter(conversation=conversation)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    Supervision.objects.filter(conversation=conversation).update(
        version=F("version") + 1,
        consecutive=0,
        ignored=0,
        level=Level.NONE,
        pending_hint="",
        takeover=False,
        base_consecutive=0,
        base_ignored=0,
        base_hint="",
        memory=[],
        floor_message_id=last or 0,
    )
    return unlocked


# --- supervision (compare-and-set) ----------------------------------------------------------


@dataclass(frozen=True)
class SupervisionUpdate:
    consecutive: int
    ignored: int
    level: int
    hint: str
    takeover: bool
    stale: bool  # the verdict came too late to change the state
    attempts: int  # compare-and-set rounds it took


def _next_state(
    supervision: Supervision, entry: dict[str, Any], policy: EffectivePolicy
) -> tuple[dict[str, Any], SupervisionUpdate]:
    memory = [e for e in supervision.memory if e.get("m") != entry["m"]] + [entry]
    memory.sort(key=lambda e: e["m"])
    base = LadderState(
        supervision.base_consecutive, supervision.base_ignored, supervision.base_hint
    )
    floor = supervision.floor_message_id
    window = max(int(settings.SPARK_WATCHDOG_MEMORY), 1)
    while len(memory) > window:
        oldest = memory.pop(0)
        base = base.step(oldest)
        floor = oldest["m"]
    state = fold(base, memory)
    takeover = takes_over(
        state, threshold=policy.takeover_threshold, allowed=policy.post_may_take_over
    )
    level = Level.TAKEOVER if takeover else level_for(state.consecutive)
    hint = state.hint if state.consecutive else ""
    fields = {
        "memory": memory,
        "base_consecutive": base.consecutive,
        "base_ignored": base.ignored,
        "base_hint": base.hint,
        "floor_message_id": floor,
        "consecutive": state.consecutive,
        "ignored": state.ignored,
        "level": level,
        "pending_hint": hint,
        "takeover": takeover,
    }
    update = SupervisionUpdate(state.consecutive, state.ignored, level, hint, takeover, False, 0)
    return fields, update


def supervision_apply(
    *, conversation: Conversation, entry: dict[str, Any], policy: EffectivePolicy
) -> SupervisionUpdate:
    """Fold one post verdict into the conversation's state by compare-and-set.

    Optimistic, outside any transaction: read the row, compute the next state, then
    ``UPDATE … WHERE version = v`` (``filter(pk=…, version=v).update(…, version=v + 1)``);
    a writer that lost the race reads again and recomputes. Concurrent verdicts are
    neither lost nor applied backwards, and a verdict about a message already folded in
    replaces itself (idempotent per message).
    """
    supervision, _created = _retry_on_contention(
        lambda: Supervision.objects.get_or_create(
            conversation=conversation, defaults={"tenant_id": conversation.tenant_id}
        )
    )
    pk = supervision.pk
    for attempt in range(1, CAS_ATTEMPTS + 1):
        if entry["m"] <= supervision.floor_message_id:
            return SupervisionUpdate(
                supervision.consecutive,
                supervision.ignored,
                supervision.level,
                supervision.pending_hint,
                supervision.takeover,
                stale=True,
                attempts=attempt,
            )
        fields, update = _next_state(supervision, entry, policy)
        if _compare_and_set(supervision, fields, new=_is_new(supervision, entry)):
            return SupervisionUpdate(**{**update.__dict__, "attempts": attempt})
        supervision = _retry_on_contention(lambda: Supervision.objects.get(pk=pk))
    raise OperationalError(f"supervision {supervision.pk}: compare-and-set kept losing")


def _is_new(supervision: Supervision, entry: dict[str, Any]) -> bool:
    return all(e.get("m") != entry["m"] for e in supervision.memory)


def _compare_and_set(supervision: Supervision, fields: dict[str, Any], *, new: bool) -> bool:
    """Write ``fields`` if nobody wrote since ``supervision`` was read."""
    version = supervision.version
    written = _retry_on_contention(
        lambda: Supervision.objects.filter(pk=supervision.pk, version=version).update(
            **fields, version=version + 1, evaluations=F("evaluations") + (1 if new else 0)
        )
    )
    return written == 1


def _retry_on_contention(work: Callable[[], T], attempts: int = 50) -> T:
    """Run a statement again when the database reports lock contention (SQLite's
    shared-cache locks answer at once instead of waiting)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as error:
            if attempt == attempts or "locked" not in str(error).lower():
                raise
            time.sleep(0.001 * attempt)
    raise AssertionError("unreachable")


# --- the post-watchdog ----------------------------------------------------------------------


def role_for_turn(turn: Turn, *, objectives: tuple[str, ...], steering: str) -> Role:
    if turn.prompt is None:
        return Role(
            name="",
            description="",
            system_prompt="",
            objectives=objectives,
            steering=steering,
            tools=tuple(settings.SPARK_DEFAULT_TOOLS),
        )
    return role_for(turn.prompt, objectives=objectives, steering=steering)


def usage_reference(*, stage: str, message_id: int) -> str:
    """The idempotency key of an evaluator's usage (``ExtraUsage.reference`` for billing's
    Settle and the recorder's ``idempotency_key`` alike): one per turn and stage."""
    return f"watchdog:{stage}:{message_id}"


def pre_record(*, turn: Turn, evaluation: Evaluation | None, **decision: Any) -> WatchdogEvent:
    """Store the pre-watchdog's verdict (and lock the conversation on an alert).

    A blocked turn never reaches billing's Settle, so the guard's usage is also reported
    through ``SPARK_EXTRA_USAGE_RECORDER``, under the same idempotency key as the turn's
    ``ExtraUsage`` (billing charges it once).
    """
    assert turn.assistant_message is not None
    with transaction.atomic():
        event = event_record(
            conversation=turn.conversation,
            message_id=turn.assistant_message.pk,
            stage=Stage.PRE,
            evaluation=evaluation,
            **decision,
        )
        if event.action == Action.LOCKED:
            conversation_force_lock(
                conversation=turn.conversation, reason=f"watchdog: {event.event_type} alert"
            )
    if event.action in (Action.BLOCKED, Action.LOCKED, Action.FAILED_CLOSED):
        _record_usage(conversation=turn.conversation, event=event)
    return event


def judged_remember(
    *, tenant_id: int, user_id: int, prompt: Prompt | None, digests: list[str]
) -> None:
    """Remember client-supplied texts the pre-watchdog let through (digests only), so the
    same text sent again under the same policy is not judged twice; judging one again
    renews its lifetime."""
    if not digests:
        return
    scope = effective_policy(prompt=prompt).judging_scope
    now = timezone.now()
    JudgedText.objects.bulk_create(
        [
            JudgedText(
                tenant_id=tenant_id, user_id=user_id, scope=scope, digest=digest, created_at=now
            )
            for digest in dict.fromkeys(digests)
        ],
        update_conflicts=True,
        unique_fields=["tenant", "user", "scope", "digest"],
        update_fields=["created_at"],
    )


def judged_sweep() -> int:
    """Forget judged texts past ``SPARK_WATCHDOG_JUDGED_TTL_SECONDS`` (every tenant)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SPARK_WATCHDOG_JUDGED_TTL_SECONDS)
    with unscoped():
        deleted, _rows = JudgedText.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def output_record(*, turn: Turn, rule: str, rationale: str) -> WatchdogEvent:
    """Store the output guard's stop (stage ``output``): the answer was reproducing the
    prompt's system prompt and was replaced by a refusal. Its tokens are charged by
    billing's Settle like any answer's; there is no evaluator call to record."""
    assert turn.assistant_message is not None
    return event_record(
        conversation=turn.conversation,
        message_id=turn.assistant_message.pk,
        stage=Stage.OUTPUT,
        verdict=Verdict.BLOCK,
        event_type=EventType.SYSTEM_INFO_EXTRACTION,
        severity=Severity.ALERT,
        confidence=1.0,
        rationale=rationale,
        action=Action.BLOCKED,
        rule=rule,
    )


def role_for(prompt: Prompt, *, objectives: tuple[str, ...], steering: str) -> Role:
    return Role(
        name=prompt.name,
        description=prompt.description,
        system_prompt=prompt.system_prompt,
        objectives=objectives,
        steering=steering,
        tools=tuple(str(t) for t in prompt.enabled_tools or []),
    )


def post_schedule(*, turn: Turn, hinted: bool) -> None:
    """After a completed answer: write it (unless billing's Settle already did) and queue
    the post-watchdog once that is committed."""
    from watchdog.tasks import QUEUE, post_watchdog

    assert turn.assistant_message is not None
    arguments = {
        "tenant_id": turn.tenant.pk,
        "conversation_id": turn.conversation.pk,
        "message_id": turn.assistant_message.pk,
        "hinted": hinted,
    }
    with transaction.atomic():
        chat_services.turn_write_completion(turn=turn)
        transaction.on_commit(
            lambda: post_watchdog.apply_async(kwargs=arguments, queue=QUEUE), robust=True
        )


def post_watchdog_run(
    *, conversation_id: int, message_id: int, hinted: bool = False
) -> WatchdogEvent | None:
    """Judge the exchange that ended with ``message_id`` and escalate. Safe to run twice."""
    existing = WatchdogEvent.objects.filter(message_id=message_id, stage=Stage.POST).first()
    conversation = (
        Conversation.objects.select_related("prompt", "prompt__tenant", "model", "user")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.prompt is None:
        return None
    if existing is not None:  # a redelivery: the verdict stands; billing dedupes the charge
        _record_usage(conversation=conversation, event=existing)
        return existing
    policy = effective_policy(prompt=conversation.prompt)
    if not policy.post_enabled:
        return None
    model = evaluator_model(chosen=policy.post_model, fallback=conversation.model)
    supervision = Supervision.objects.filter(conversation=conversation).first()
    memory = list(supervision.memory) if supervision is not None else []
    role = role_for(
        conversation.prompt, objectives=policy.post_objectives, steering=policy.post_steering
    )
    lines = transcript(conversation_id=conversation.pk, upto_message_id=message_id)
    evaluation = (
        evaluate_sync(
            model=model,
            messages=post_messages(
                role=role, transcript=lines, memory=memory, hint_max_chars=policy.hint_max_chars
            ),
            schema=POST_SCHEMA,
            timeout=settings.SPARK_WATCHDOG_POST_TIMEOUT_SECONDS,
            keys=evaluator_keys(
                evaluator=model,
                conversation_model=conversation.model,
                user_keys=key_context_for_user(user=conversation.user),
            ),
        )
        if model is not None
        else None
    )

    try:
        event = _post_record(conversation, message_id, hinted, policy, evaluation)
    except IntegrityError:  # a concurrent delivery recorded it first
        return WatchdogEvent.objects.filter(message_id=message_id, stage=Stage.POST).first()
    if event is not None:
        _record_usage(conversation=conversation, event=event)
    return event


def _post_record(
    conversation: Conversation,
    message_id: int,
    hinted: bool,
    policy: EffectivePolicy,
    evaluation: Evaluation | None,
) -> WatchdogEvent:
    if evaluation is None or not evaluation.ok:
        if evaluation is None:
            logger.warning("post-watchdog: no evaluator model for conversation %s", conversation.pk)
        failed = evaluation
        return _retry_on_contention(
            lambda: event_record(
                conversation=conversation,
                message_id=message_id,
                stage=Stage.POST,
                verdict="allow",
                action=Action.FAILED,
                evaluation=failed,
                rationale="" if failed is not None else "No evaluator model is available.",
            )
        )
    verdict = evaluation.verdict
    assert verdict is not None
    flagged = verdict["event_type"] != "none"
    hint = (verdict.get("hint") or "").strip()[: policy.hint_max_chars] if flagged else ""
    entry = {
        "m": message_id,
        "t": verdict["event_type"],
        "s": verdict["severity"],
        "h": hint,
        "x": bool(hinted),
        "r": (verdict.get("rationale") or "")[:300],
    }
    update = supervision_apply(conversation=conversation, entry=entry, policy=policy)
    alert = flagged and verdict["severity"] == "alert"
    if update.stale:
        action = Action.STALE
    elif alert and policy.post_may_lock:
        action = Action.LOCKED
    elif update.takeover:
        action = Action.TAKEOVER
    elif flagged:
        action = Action.HINT
    else:
        action = Action.NONE
    # The state is written first (idempotent per message), then the event, which is unique
    # per (message, stage): a concurrent redelivery loses here and keeps the first event.
    event = _retry_on_contention(
        lambda: event_record(
            conversation=conversation,
            message_id=message_id,
            stage=Stage.POST,
            verdict="steer" if flagged else "allow",
            event_type=verdict["event_type"],
            severity=verdict["severity"],
            confidence=verdict["confidence"],
            rationale=verdict.get("rationale") or "",
            hint=hint,
            level=update.level,
            action=action,
            evaluation=evaluation,
        )
    )
    if action == Action.LOCKED:
        reason = f"watchdog: {verdict['event_type']} alert"
        _retry_on_contention(
            lambda: conversation_force_lock(conversation=conversation, reason=reason)
        )
    return event


# --- usage outside a turn (billing's recorder) ------------------------------------------------


def _recorder() -> Callable[..., None] | None:
    path = settings.SPARK_EXTRA_USAGE_RECORDER
    return import_string(path) if path else None  # type: ignore[no-any-return]


def _record_usage(*, conversation: Conversation, event: WatchdogEvent) -> None:
    """Report the evaluator's tokens to billing (``SPARK_EXTRA_USAGE_RECORDER``). Called again
    on a redelivery: billing dedupes on the idempotency key."""
    path = settings.SPARK_EXTRA_USAGE_RECORDER
    if not path or not (event.input_tokens or event.output_tokens):
        return
    recorder: Callable[..., None] = import_string(path)
    recorder(
        tenant_id=conversation.tenant_id,
        user_id=conversation.user_id,
        conversation_id=conversation.pk,
        message_id=event.message_id,
        kind="evaluator",
        model_slug=event.evaluator_slug,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cached_tokens=event.cached_tokens,
        key_source=event.key_source,
        idempotency_key=usage_reference(stage=event.stage, message_id=event.message_id or 0),
    )
