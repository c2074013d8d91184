"""How an alter ego is described to the model (the chat context builder calls this)."""

from __future__ import annotations

from accounts.models import AlterEgo


def alter_ego_describe(alter_ego: AlterEgo) -> str:
    """One sentence for the system context: who the user presents as.

    Written for the model, not shown to people, so it is not translated.
    """
    name = " ".join(alter_ego.name.split())
    description = alter_ego.description.strip()
    if not description:
        return f"The user you are talking to presents as {name}."
    return f"The user you are talking to presents as {name}: {description}"
