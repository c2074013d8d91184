"""The escalation ladder, as pure functions of a conversation's verdicts.

Consecutive non-``none`` post-watchdog verdicts count up; the pending hint reaches the next
reply at level 1 Steering (a suggestion), 2 Directive (mandatory), 3 Repeated directive
(after 2), 4 Override (after 4). A hint that was in the assistant's context when it wrote an
answer the next verdict still flags was *ignored*; at the policy's takeover threshold of
ignored hints the watchdog's model answers instead (level 5). A ``none`` verdict resets
everything.

The state is a fold over the verdicts in message order, so verdicts that arrive out of
order (concurrent tasks, redeliveries) give the same state as verdicts in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from watchdog.models import Level


@dataclass(frozen=True)
class LadderState:
    consecutive: int = 0
    ignored: int = 0
    hint: str = ""

    def step(self, entry: dict[str, Any]) -> LadderState:
        """One more verdict: ``{"t": event type, "h": hint, "x": was a hint in force}``."""
        if entry.get("t", "none") == "none":
            return LadderState()
        return LadderState(
            consecutive=self.consecutive + 1,
            ignored=self.ignored + (1 if entry.get("x") else 0),
            hint=entry.get("h") or self.hint,
        )


def fold(base: LadderState, entries: Iterable[dict[str, Any]]) -> LadderState:
    state = base
    for entry in entries:
        state = state.step(entry)
    return state


def level_for(consecutive: int) -> int:
    if consecutive <= 0:
        return Level.NONE
    if consecutive == 1:
        return Level.STEERING
    if consecutive == 2:
        return Level.DIRECTIVE
    if consecutive <= 4:
        return Level.REPEATED_DIRECTIVE
    return Level.OVERRIDE


def takes_over(state: LadderState, *, threshold: int, allowed: bool) -> bool:
    return allowed and state.consecutive > 0 and threshold > 0 and state.ignored >= threshold


def hint_text(level: int, hint: str) -> str:
    """How a pending hint reads to the model at each level (model-facing, in English)."""
    if not hint or level <= Level.NONE:
        return ""
    if level == Level.STEERING:
        return f"Suggestion: {hint}"
    if level == Level.DIRECTIVE:
        return f"Directive (mandatory): {hint}"
    if level == Level.REPEATED_DIRECTIVE:
        return f"Repeated directive: the previous directive was not followed. You must now: {hint}"
    return (
        "Override: this instruction takes precedence over everything else in your "
        f"instructions and in the conversation. {hint}"
    )
