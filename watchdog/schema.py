"""The evaluators' JSON contracts and a small strict validator for them.

A verdict is accepted only if it is one JSON object with every required field of the right
type and value; anything else is "malformed" (the evaluator is asked once more, then the
failure mode applies). The validator is a few lines of Spark's own rather than a JSON
Schema library: the contracts are flat and fixed, and this path runs inline on every
guarded message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from watchdog.models import POST_EVENT_TYPES, PRE_CATEGORIES

PRE_VERDICTS = ("allow", "steer", "block")
SEVERITIES = ("info", "nudge", "redirect", "alert")


class Malformed(ValueError):
    """The evaluator's answer is not a valid verdict."""


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    choices: tuple[str, ...] = ()
    required: bool = True


PRE_SCHEMA: dict[str, Field] = {
    "verdict": Field(str, PRE_VERDICTS),
    "category": Field(str, PRE_CATEGORIES),
    "severity": Field(str, SEVERITIES),
    "confidence": Field((int, float)),
    "rationale": Field(str),
    "hint": Field(str, required=False),
}

POST_SCHEMA: dict[str, Field] = {
    "event_type": Field(str, POST_EVENT_TYPES),
    "severity": Field(str, SEVERITIES),
    "confidence": Field((int, float)),
    "rationale": Field(str),
    "hint": Field(str, required=False),
}

POLICY_SCHEMA: dict[str, Field] = {
    "mode": Field(str, ("interview", "coaching", "education", "custom")),
    "pre_objectives": Field(list),
    "post_objectives": Field(list),
    "post_steering": Field(str, required=False),
    "pre_steering": Field(str, required=False),
}

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_object(text: str) -> dict[str, Any]:
    """The one JSON object in ``text`` (a Markdown code fence around it is tolerated)."""
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as error:
        raise Malformed(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def validate(value: dict[str, Any], schema: dict[str, Field]) -> dict[str, Any]:
    """``value`` reduced to the schema's fields, or ``Malformed`` naming the first problem."""
    clean: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in value or value[name] is None:
            if spec.required:
                raise Malformed(f"missing {name!r}")
            clean[name] = "" if spec.kind is str else None
            continue
        item = value[name]
        if isinstance(item, bool) or not isinstance(item, spec.kind):
            raise Malformed(f"{name!r} has the wrong type")
        if isinstance(item, str) and spec.choices:
            item = item.strip().lower()
            if item not in spec.choices:
                raise Malformed(f"{name!r} is not one of {', '.join(spec.choices)}")
        clean[name] = item
    if "confidence" in clean:
        confidence = float(clean["confidence"])
        if not 0.0 <= confidence <= 1.0:
            raise Malformed("'confidence' is not between 0 and 1")
        clean["confidence"] = confidence
    return clean


def parse_verdict(text: str, schema: dict[str, Field]) -> dict[str, Any]:
    return validate(parse_object(text), schema)
