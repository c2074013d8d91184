"""A pipeline stage for tests: the watchdog's verdict, as a stage would give it."""

from __future__ import annotations

from chat.pipeline import CallNext, Turn, TurnBlocked


class BlockEverything:
    """Blocks every message after it is recorded (where the watchdog's stage sits)."""

    async def __call__(self, turn: Turn, call_next: CallNext) -> None:
        raise TurnBlocked("I can't help with that here.", category="jailbreak")
