"""Channel-layer group names, in one place."""

from __future__ import annotations


def conversation_group(conversation_uuid: object) -> str:
    """Everyone watching a conversation (every tab, every transport) listens here."""
    return f"chat.{conversation_uuid}"


def generation_control_group(conversation_uuid: object) -> str:
    """The process running a conversation's generation listens here for cancel requests."""
    return f"chatctl.{conversation_uuid}"
