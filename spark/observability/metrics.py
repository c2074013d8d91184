"""Spark's own Prometheus metrics, and the hooks the apps call to move them.

Labels are bounded: tenant *kind* (four values), channel, catalogue model slug, outcome
and reason codes written in Spark's code, Celery task names, queue names — never a user,
a tenant id, a conversation or anything a client typed. Django's requests, latency,
database and cache are django-prometheus's metrics (``django_http_*``, ``django_db_*``,
``django_cache_*``). Under ``PROMETHEUS_MULTIPROC_DIR`` every process writes its samples
there and a scrape adds them up (``spark.observability.views``).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# Seconds: from a few milliseconds (a cached answer) to the slow tail of a long answer.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STREAM_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)
MAX_LABEL = 64
STATE_KEY = "observability"

STREAMS_ACTIVE = Gauge(
    "spark_streams_active",
    "Answers being generated now.",
    ["tenant_kind", "channel"],
    multiprocess_mode="livesum",
)
TTFT = Histogram(
    "spark_stream_ttft_seconds",
    "From the message's arrival to the first token of its answer.",
    ["tenant_kind", "channel", "model"],
    buckets=LATENCY_BUCKETS,
)
STREAM_DURATION = Histogram(
    "spark_stream_duration_seconds",
    "From the message's arrival to the end of its answer, by how the answer ended.",
    ["tenant_kind", "channel", "model", "status"],
    buckets=STREAM_BUCKETS,
)
MESSAGES = Counter(
    "spark_messages_total",
    "Messages by outcome (admitted, refused, blocked) and reason (a refusal's code, a "
    "block's category).",
    ["tenant_kind", "channel", "outcome", "reason"],
)
STREAM_ERRORS = Counter(
    "spark_stream_errors_total",
    "Answers that ended failed or interrupted, by error code.",
    ["tenant_kind", "channel", "model", "code"],
)
WATCHDOG_VERDICTS = Counter(
    "spark_watchdog_verdicts_total",
    "Watchdog verdicts by stage (pre, post, output) and verdict.",
    ["stage", "verdict", "severity"],
)
WATCHDOG_GUARD_LATENCY = Histogram(
    "spark_watchdog_guard_seconds",
    "Time an LLM evaluator (the guard, the post-watchdog) took for one verdict.",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
SETTLEMENTS = Counter(
    "spark_ledger_settlements_total",
    "Answers' charges: settled, deferred (left to the settlement task), failed (neither).",
    ["outcome"],
)
LLM_KEY_CALLS = Counter(
    "spark_llm_key_calls_total",
    "Provider calls by key outcome (ok, rate_limited, auth_failed, error).",
    ["provider", "outcome"],
)
LLM_KEY_HEALTH = Gauge(
    "spark_llm_key_health_score",
    "The key pool's health score of each platform key (100 is healthy); users' own keys "
    "are not listed.",
    ["key"],
    multiprocess_mode="mostrecent",
)
BANS = Counter("spark_bans_total", "Client addresses banned by the request filter.", ["offence"])
CELERY_TASKS = Counter(
    "spark_celery_tasks_total",
    "Celery tasks run, by outcome (success, failure, retry).",
    ["task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "spark_celery_task_seconds", "Time a Celery task ran.", ["task"], buckets=TASK_BUCKETS
)


def label(value: object) -> str:
    """A label value: short, never empty."""
    text = str(value or "").strip()
    return text[:MAX_LABEL] or "none"


def _tenant_kind(turn: Any) -> str:
    return label(getattr(turn.tenant, "kind", ""))


def _model(turn: Any) -> str:
    return label(getattr(turn.model, "slug", ""))


class TurnObservation:
    """One turn's measurements: its arrival, first token and end."""

    def __init__(self, turn: Any) -> None:
        self.turn = turn
        self.started = time.monotonic()
        self.first_token: float | None = None
        self.tenant_kind = _tenant_kind(turn)
        self.channel = label(turn.channel)
        STREAMS_ACTIVE.labels(self.tenant_kind, self.channel).inc()

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.monotonic()
            TTFT.labels(self.tenant_kind, self.channel, _model(self.turn)).observe(
                self.first_token - self.started
            )

    def ended(self, *, status: str, code: str = "", category: str = "") -> None:
        """Count the turn once, by how it ended (``status``: a message status or "refused"):
        refused (by the refusal's code), blocked before the model (by category), or
        admitted; an admitted answer's duration by its final status."""
        STREAMS_ACTIVE.labels(self.tenant_kind, self.channel).dec()
        turn = self.turn
        if status == "refused":
            MESSAGES.labels(self.tenant_kind, self.channel, "refused", label(code)).inc()
            return
        if status == "blocked" and turn.blocked is None:  # before the model saw it
            MESSAGES.labels(self.tenant_kind, self.channel, "blocked", label(category)).inc()
        else:
            MESSAGES.labels(self.tenant_kind, self.channel, "admitted", "none").inc()
        if turn.assistant_message is None:
            return
        model = _model(turn)
        STREAM_DURATION.labels(self.tenant_kind, self.channel, model, label(status)).observe(
            time.monotonic() - self.started
        )
        if status in ("failed", "interrupted"):
            code = label(turn.error_code)
            STREAM_ERRORS.labels(self.tenant_kind, self.channel, model, code).inc()


def turn_started(turn: Any) -> TurnObservation:
    """A turn began (the runner calls this, then ``ended`` with how it ended)."""
    observation = TurnObservation(turn)
    turn.state[STATE_KEY] = observation
    return observation


def turn_first_token(turn: Any) -> None:
    observation = turn.state.get(STATE_KEY)
    if observation is not None:
        observation.token()


def watchdog_verdict(*, stage: str, verdict: str, severity: str, latency_ms: int) -> None:
    WATCHDOG_VERDICTS.labels(label(stage), label(verdict), label(severity)).inc()
    if latency_ms:
        WATCHDOG_GUARD_LATENCY.labels(label(stage)).observe(latency_ms / 1000)


def settlement(outcome: str) -> None:
    """``settled``, ``deferred`` (left to the settlement task) or ``failed``."""
    SETTLEMENTS.labels(label(outcome)).inc()


def llm_key_call(key_id: str | None, outcome: str, score: float | None = None) -> None:
    if not key_id:
        return
    source, _, rest = key_id.partition(":")
    provider = rest.partition(":")[0] if source in ("platform", "keyless") else "user"
    LLM_KEY_CALLS.labels(label(provider), label(outcome)).inc()
    if source == "platform" and score is not None:
        LLM_KEY_HEALTH.labels(label(key_id)).set(score)


def ban_issued(offence: int) -> None:
    BANS.labels("1" if offence <= 1 else "2" if offence == 2 else "3+").inc()
