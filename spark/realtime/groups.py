"""Channel-layer group names, in one place."""

from __future__ import annotations


def conversation_group(conversation_uuid: object) -> str:
    """Everyone watching a conversation (every tab, every transport) listens here."""
    return f"chat.{conversation_uuid}"
