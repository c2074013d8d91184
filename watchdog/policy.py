"""The policy a turn runs under: a prompt's stored ``WatchdogPolicy``, or the defaults.

``effective_policy(prompt=...)`` returns a frozen ``EffectivePolicy`` and keeps it in a
process-local cache for ``SPARK_WATCHDOG_POLICY_CACHE_SECONDS`` (keyed by the prompt's
uuid), so the pre-watchdog reads no policy row on most turns. Saving a policy clears its
entry in this process; other processes see the change within the cache's lifetime.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from marketplace.models import Prompt
from spark.llm.models import LLMModel
from spark.llm.types import KeyContext
from watchdog.models import FailureMode, Mode, WatchdogPolicy
from watchdog.presets import DEFAULT_POST_OBJECTIVES, DEFAULT_PRE_OBJECTIVES, persona_for


def prompt_is_paid_or_public(prompt: Prompt | None) -> bool:
    """Whether a failing guard should block by default ("auto" failure mode).

    Public prompts, and prompts sold through a storefront tenant, fail closed. When billing
    gives prompts a price, this is the one place to consult it.
    """
    if prompt is None:
        return True  # the platform's own general chat is public
    if prompt.visibility == Prompt.Visibility.PUBLIC:
        return True
    tenant = getattr(prompt, "tenant", None)
    return bool(tenant is not None and tenant.kind == "storefront")


@dataclass(frozen=True)
class EffectivePolicy:
    prompt_id: int | None
    stored: bool
    # pre
    pre_enabled: bool = True
    pre_model: LLMModel | None = None
    pre_objectives: tuple[str, ...] = tuple(DEFAULT_PRE_OBJECTIVES)
    pre_steering: str = ""
    pre_frequency: int = 1
    guard_only_flagged: bool = False  # no prompt: the guard judges only what the screen flags
    pre_may_take_over: bool = False
    pre_may_lock: bool = True
    fail_closed: bool = True
    # post
    post_enabled: bool = True
    post_model: LLMModel | None = None
    post_objectives: tuple[str, ...] = tuple(DEFAULT_POST_OBJECTIVES)
    post_steering: str = ""
    post_frequency: int = 3
    mode: str = Mode.CUSTOM
    hint_max_chars: int = 400
    takeover_threshold: int = 5
    post_may_take_over: bool = True
    post_may_lock: bool = True

    def guard_due(self, turn_number: int) -> bool:
        return not self.guard_only_flagged and turn_number % max(self.pre_frequency, 1) == 0

    def post_due(self, turn_number: int) -> bool:
        return self.post_enabled and turn_number % max(self.post_frequency, 1) == 0

    @property
    def judging_scope(self) -> str:
        """The prompt and a fingerprint of how its pre-watchdog judges: a text judged under
        one scope does not count as judged under another (``watchdog.models.JudgedText``)."""
        judged_by = repr(
            (
                self.pre_enabled,
                self.pre_model.pk if self.pre_model is not None else None,
                self.pre_objectives,
                self.pre_steering,
                self.pre_frequency,
                self.guard_only_flagged,
                self.fail_closed,
            )
        )
        return f"{self.prompt_id or 'chat'}:{hashlib.sha256(judged_by.encode()).hexdigest()[:24]}"


def from_row(row: WatchdogPolicy, prompt: Prompt) -> EffectivePolicy:
    failure = row.failure_mode
    fail_closed = (
        failure == FailureMode.BLOCK
        if failure != FailureMode.AUTO
        else prompt_is_paid_or_public(prompt)
    )
    return EffectivePolicy(
        prompt_id=prompt.pk,
        stored=True,
        pre_enabled=row.pre_enabled,
        pre_model=row.pre_model,
        pre_objectives=tuple(row.pre_objectives or DEFAULT_PRE_OBJECTIVES),
        pre_steering=row.pre_steering,
        pre_frequency=row.pre_frequency,
        pre_may_take_over=row.pre_may_take_over,
        pre_may_lock=row.pre_may_lock,
        fail_closed=fail_closed,
        post_enabled=row.post_enabled,
        post_model=row.post_model,
        post_objectives=tuple(row.post_objectives or DEFAULT_POST_OBJECTIVES),
        post_steering=row.post_steering or persona_for(row.mode),
        post_frequency=row.post_frequency,
        mode=row.mode,
        hint_max_chars=row.hint_max_chars,
        takeover_threshold=row.takeover_threshold,
        post_may_take_over=row.post_may_take_over,
        post_may_lock=row.post_may_lock,
    )


def default_policy(prompt: Prompt | None) -> EffectivePolicy:
    """Without a stored policy there is no role or objective to judge: the local screen
    runs on every message and the LLM guard only on what it flags (so unsupervised chats
    pay no evaluator call per message); the post-watchdog stays off. A creator who saves
    a policy gets the issue's defaults (guard every message, post every third)."""
    fail_closed = prompt_is_paid_or_public(prompt) if prompt is not None else True
    return EffectivePolicy(
        prompt_id=prompt.pk if prompt is not None else None,
        stored=False,
        guard_only_flagged=True,
        post_enabled=False,
        fail_closed=fail_closed,
    )


_cache: dict[str, tuple[float, EffectivePolicy]] = {}
_lock = threading.Lock()


def effective_policy(*, prompt: Prompt | None) -> EffectivePolicy:
    """The policy for ``prompt`` (reads the database at most once per cache lifetime)."""
    if prompt is None:
        return default_policy(None)
    key = str(prompt.uuid)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = (
        WatchdogPolicy.objects.select_related("pre_model", "post_model")
        .filter(prompt_id=prompt.pk)
        .first()
    )
    policy = from_row(row, prompt) if row is not None else default_policy(prompt)
    ttl = float(settings.SPARK_WATCHDOG_POLICY_CACHE_SECONDS)
    if ttl > 0:
        with _lock:
            _cache[key] = (now + ttl, policy)
    return policy


_models: dict[str, tuple[float, LLMModel | None]] = {}


def evaluator_model(*, chosen: LLMModel | None, fallback: LLMModel | None) -> LLMModel | None:
    """The evaluator: the policy's choice, else ``SPARK_WATCHDOG_DEFAULT_MODEL``, else the
    conversation's own model."""
    if chosen is not None and chosen.is_active:
        return chosen
    slug = settings.SPARK_WATCHDOG_DEFAULT_MODEL
    if slug:
        now = time.monotonic()
        cached = _models.get(slug)
        if cached is None or cached[0] <= now:
            model = LLMModel.objects.filter(slug=slug, is_active=True).first()
            cached = (now + float(settings.SPARK_WATCHDOG_POLICY_CACHE_SECONDS), model)
            with _lock:
                _models[slug] = cached
        if cached[1] is not None:
            return cached[1]
    return fallback


def evaluator_keys(
    *, evaluator: LLMModel, conversation_model: LLMModel | None, user_keys: KeyContext
) -> KeyContext:
    """Whose provider keys pay for an evaluator call.

    The platform runs the watchdog on its own keys (and bills the call). An evaluator that
    is the conversation's own model, borrowed by ``evaluator_model`` because neither the
    policy nor the platform chose one (it returns that very object), is called the way the
    conversation's answers are: with ``user_keys``, per the user's key mode. Otherwise a
    user on their own keys, on a platform without a key for that provider, would have
    every guarded message fail.
    """
    borrowed = conversation_model is not None and evaluator is conversation_model
    return user_keys if borrowed else KeyContext()


def forget_policy(*, prompt: Prompt) -> None:
    with _lock:
        _cache.pop(str(prompt.uuid), None)


def clear_policy_cache() -> None:
    with _lock:
        _cache.clear()
        _models.clear()
