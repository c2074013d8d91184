"""A stand-in for billing's usage recorder (``SPARK_EXTRA_USAGE_RECORDER``), with the
documented signature: it only remembers what it was given."""

from __future__ import annotations

from typing import Any

CALLS: list[dict[str, Any]] = []


def record(
    *,
    tenant_id: int,
    user_id: int,
    conversation_id: int,
    message_id: int | None,
    kind: str,
    model_slug: str,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int,
    key_source: str,
    idempotency_key: str,
) -> None:
    CALLS.append(
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "kind": kind,
            "model_slug": model_slug,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cached_tokens": cached_tokens,
            "key_source": key_source,
            "idempotency_key": idempotency_key,
        }
    )
