"""Health scores of provider keys: recent errors, 429s and latency steer which key a call
uses first.

The state that matters across web instances (errors, rate-limit and auth cool-downs) lives
in the Django cache (Redis in production) so every instance agrees; each instance keeps a
copy for a second, so the hot path usually makes no cache round trip at all. Latency is an
exponentially weighted average of the time to the first event.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from django.core.cache import cache

from spark.llm.errors import AuthError, LLMError, RateLimited
from spark.observability import metrics

CACHE_PREFIX = "spark:llm:health:"
CACHE_SECONDS = 60 * 60
LOCAL_SECONDS = 1.0  # how long an instance trusts its copy of the shared state
ERROR_HALF_LIFE = 60.0  # seconds for a recorded error to weigh half as much
RATE_LIMIT_COOLDOWN = 30.0  # after a 429 without Retry-After
AUTH_COOLDOWN = 300.0  # after a refused key
LATENCY_WEIGHT = 0.2  # of the newest sample in the average
SHARE_LATENCY_EVERY = 5.0  # seconds between writes of a healthy key's latency


@dataclass(frozen=True)
class KeyHealth:
    errors: float = 0.0  # recent failures, decayed by ERROR_HALF_LIFE
    rate_limited_until: float = 0.0  # epoch seconds
    auth_failed_until: float = 0.0
    latency: float = 0.0  # seconds to the first event (average)
    updated: float = 0.0  # epoch seconds

    def decayed_errors(self, now: float) -> float:
        if not self.errors:
            return 0.0
        return self.errors * 0.5 ** (max(now - self.updated, 0.0) / ERROR_HALF_LIFE)

    def score(self, now: float) -> float:
        """0 (useless) to 100 (healthy and fast)."""
        score = 100.0
        if self.rate_limited_until > now:
            score -= 60
        if self.auth_failed_until > now:
            score -= 80
        score -= min(30.0, self.decayed_errors(now) * 10)
        score -= min(10.0, self.latency * 2)
        return max(score, 0.0)

    @property
    def troubled(self) -> bool:
        return bool(self.errors > 0.05 or self.rate_limited_until or self.auth_failed_until)


class HealthBoard:
    """Reads and records key health; one per process."""

    def __init__(self) -> None:
        self._local: dict[str, tuple[float, KeyHealth]] = {}  # key id -> (read at, health)
        self._shared_at: dict[str, float] = {}  # key id -> when this instance last wrote it
        self._lock = threading.Lock()

    def reset_local(self) -> None:
        """Forget this instance's copies (tests, after the cache was cleared)."""
        with self._lock:
            self._local.clear()
            self._shared_at.clear()

    def get(self, key_ids: list[str]) -> dict[str, KeyHealth]:
        now = time.monotonic()
        with self._lock:
            fresh = {
                k: v[1] for k in key_ids if (v := self._local.get(k)) and now - v[0] < LOCAL_SECONDS
            }
        stale = [k for k in key_ids if k not in fresh]
        if stale:
            stored: dict[str, Any] = cache.get_many([CACHE_PREFIX + k for k in stale])
            with self._lock:
                for key_id in stale:
                    raw = stored.get(CACHE_PREFIX + key_id)
                    health = KeyHealth(**raw) if isinstance(raw, dict) else KeyHealth()
                    local = self._local.get(key_id)
                    if local is not None and not raw:  # keep our own latency view
                        health = replace(health, latency=local[1].latency)
                    self._local[key_id] = (now, health)
                    fresh[key_id] = health
        return fresh

    def scores(self, key_ids: list[str]) -> dict[str, float]:
        now = time.time()
        return {k: h.score(now) for k, h in self.get(key_ids).items()}

    def order(self, key_ids: list[str]) -> list[str]:
        """Healthiest first; keys within a few points of each other share the load."""
        scores = self.scores(key_ids)
        return sorted(key_ids, key=lambda k: (-round(scores[k] / 5), random.random()))  # noqa: S311

    def _store(self, key_id: str, health: KeyHealth) -> None:
        with self._lock:
            self._local[key_id] = (time.monotonic(), health)
            self._shared_at[key_id] = time.monotonic()
        cache.set(CACHE_PREFIX + key_id, asdict(health), CACHE_SECONDS)

    def record_success(self, key_id: str | None, latency: float) -> None:
        if key_id is None:
            return
        current = self.get([key_id])[key_id]
        average = (
            latency
            if not current.latency
            else ((1 - LATENCY_WEIGHT) * current.latency + LATENCY_WEIGHT * latency)
        )
        now = time.time()
        health = replace(
            current,
            latency=average,
            errors=current.decayed_errors(now) * 0.5,
            rate_limited_until=0.0,
            auth_failed_until=0.0,
            updated=now,
        )
        if health.errors < 0.05:
            health = replace(health, errors=0.0)
        metrics.llm_key_call(key_id, "ok", health.score(now))
        last_shared = self._shared_at.get(key_id, 0.0)
        if current.troubled or time.monotonic() - last_shared > SHARE_LATENCY_EVERY:
            self._store(key_id, health)
        else:
            with self._lock:
                self._local[key_id] = (time.monotonic(), health)

    def record_failure(self, key_id: str | None, error: LLMError) -> None:
        if key_id is None:
            return
        current = self.get([key_id])[key_id]
        now = time.time()
        health = replace(current, errors=current.decayed_errors(now) + 1.0, updated=now)
        outcome = "error"
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after else RATE_LIMIT_COOLDOWN
            health = replace(health, rate_limited_until=now + wait)
            outcome = "rate_limited"
        elif isinstance(error, AuthError):
            health = replace(health, auth_failed_until=now + AUTH_COOLDOWN)
            outcome = "auth_failed"
        metrics.llm_key_call(key_id, outcome, health.score(now))
        self._store(key_id, health)


health_board = HealthBoard()
