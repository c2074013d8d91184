"""Reads for chat: always for one user, inside the active tenant; 404 for anything else."""

from __future__ import annotations

import uuid as uuid_lib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from accounts.tenancy import site_is_members_only
from chat.models import Conversation, ConversationShare, Folder, Message, MessageFeedback
from spark.tenancy.context import unscoped


def _as_uuid(value: Any) -> uuid_lib.UUID:
    try:
        return value if isinstance(value, uuid_lib.UUID) else uuid_lib.UUID(str(value))
    except (TypeError, ValueError):
        raise Http404 from None


def conversation_get_for_user(*, user: Any, uuid: Any) -> Conversation:
    """The user's conversation (with what a turn needs joined), or 404."""
    try:
        return Conversation.objects.select_related("prompt", "model", "alter_ego", "folder").get(
            user=user, uuid=_as_uuid(uuid)
        )
    except Conversation.DoesNotExist:
        raise Http404 from None


def conversation_list(
    *,
    user: Any,
    folder: Folder | None = None,
    in_folder: bool | None = None,
    query: str = "",
    archived: bool | None = False,
    pinned_first: bool = False,
) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first (``query`` searches titles), not
    those made through the OpenAI-compatible API (one call each).

    With ``folder``, the folder's conversations in their custom order (``position``),
    newest first among equals. ``archived``: False (the sidebar) leaves archived ones out,
    True lists only them, None both. ``pinned_first`` (the sidebar's first page): pinned
    ones lead, latest pinned first, so they are there however old their last activity.
    """
    qs = (
        Conversation.objects.filter(user=user)
        .exclude(source=Conversation.Source.API)
        .select_related("folder", "prompt", "model", "alter_ego")
    )
    query = query.strip()
    if query:
        qs = qs.filter(title__icontains=query)
    if archived is not None:
        qs = qs.filter(archived_at__isnull=not archived)
    if folder is not None:
        return qs.filter(folder=folder).order_by("position", "-last_activity_at", "-id")
    if in_folder is False:
        qs = qs.filter(folder__isnull=True)
    if pinned_first:
        return qs.order_by(F("pinned_at").desc(nulls_last=True), "-last_activity_at", "-id")
    return qs.order_by("-last_activity_at", "-id")


def message_list(
    *, conversation: Conversation, include_superseded: bool = False
) -> QuerySet[Message]:
    qs = (
        Message.objects.filter(conversation=conversation)
        .exclude(role=Message.Role.TOOL)
        .select_related("feedback")
    )
    if not include_superseded:
        qs = qs.filter(superseded=False)
    return qs.order_by("created_at", "id")


MESSAGE_PAGE_MAX = 200


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]  # oldest first
    has_earlier: bool


def message_page(
    *, conversation: Conversation, before: Message | None = None, limit: int
) -> MessagePage:
    """The latest ``limit`` messages of ``message_list`` (older than ``before``, if given),
    oldest first, and whether earlier ones exist.

    One query, newest first with a LIMIT (one row more than asked, to know about earlier
    ones), reversed here: a long conversation is never loaded whole. Answers carry their
    question's uuid (``reply_to_uuid``) since the question may be on the page before.
    """
    if not 1 <= limit <= MESSAGE_PAGE_MAX:
        raise ValueError(f"limit must be 1..{MESSAGE_PAGE_MAX}")
    qs = message_list(conversation=conversation)
    if before is not None:
        qs = qs.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.pk)
        )
    rows: list[Message] = list(
        qs.annotate(reply_to_uuid=F("reply_to__uuid")).order_by("-created_at", "-id")[: limit + 1]
    )
    return MessagePage(messages=rows[:limit][::-1], has_earlier=len(rows) > limit)


def message_get_in_conversation(*, conversation: Conversation, uuid: Any) -> Message:
    try:
        return Message.objects.get(conversation=conversation, uuid=_as_uuid(uuid))
    except Message.DoesNotExist:
        raise Http404 from None


def history_for_context(*, conversation: Conversation, exclude: Message | None) -> list[Message]:
    """The messages a model sees: not superseded, answered or being answered, in order."""
    qs = (
        Message.objects.filter(conversation=conversation, superseded=False)
        .filter(role__in=[Message.Role.USER, Message.Role.ASSISTANT])
        .filter(
            Q(role=Message.Role.USER, status__in=[Message.Status.COMPLETE])
            | Q(status__in=[Message.Status.COMPLETE, Message.Status.INTERRUPTED])
        )
        .order_by("created_at", "id")
        .only("role", "content", "status", "created_at")
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def folder_list(*, user: Any) -> QuerySet[Folder]:
    """The user's folders (every level), parents' ids loaded, in their custom order."""
    return (
        Folder.objects.filter(user=user)
        .select_related("parent")
        .order_by("parent_id", "position", "name", "id")
    )


def folder_get_for_user(*, user: Any, uuid: Any) -> Folder:
    try:
        return Folder.objects.get(user=user, uuid=_as_uuid(uuid))
    except Folder.DoesNotExist:
        raise Http404 from None


def message_to_edit(*, conversation: Conversation, uuid: Any) -> Message:
    """A user message of the conversation that can be edited and sent again, or 404."""
    try:
        return Message.objects.get(
            conversation=conversation,
            uuid=_as_uuid(uuid),
            role=Message.Role.USER,
            superseded=False,
        )
    except Message.DoesNotExist:
        raise Http404 from None


def message_to_regenerate(*, conversation: Conversation, uuid: Any) -> Message:
    """The user message to answer again, named by itself or by its answer, or 404."""
    message = message_get_in_conversation(conversation=conversation, uuid=uuid)
    if message.superseded:
        raise Http404
    if message.role == Message.Role.ASSISTANT:
        message = message.reply_to  # type: ignore[assignment]
    if message is None or message.role != Message.Role.USER or message.superseded:
        raise Http404
    return message


def share_list(*, conversation: Conversation) -> QuerySet[ConversationShare]:
    """The conversation's links that still work, newest first."""
    return ConversationShare.objects.filter(
        conversation=conversation, revoked_at__isnull=True
    ).order_by("-created_at", "-id")


def share_get_for_conversation(*, conversation: Conversation, uuid: Any) -> ConversationShare:
    """One of the conversation's links that still works, or 404."""
    try:
        return ConversationShare.objects.get(
            conversation=conversation, uuid=_as_uuid(uuid), revoked_at__isnull=True
        )
    except ConversationShare.DoesNotExist:
        raise Http404 from None


def share_get_by_token(
    *, token: str, site: Any, viewer_tenant: Any, viewer: Any
) -> ConversationShare:
    """The shared snapshot a link names, for whoever holds the link, or 404.

    The token is the capability, so the lookup crosses tenants (the one unscoped read of
    chat's); what the Host and the principal allow is checked here:
    revoked links, links of an inactive tenant, and links opened on another tenant's site
    are 404; a members-only tenant's links open for its members only.
    """
    if not token or len(token) > 64:
        raise Http404
    with unscoped():
        share = (
            ConversationShare.objects.filter(
                token=token, revoked_at__isnull=True, tenant__is_active=True
            )
            .select_related("tenant")
            .first()
        )
    if share is None:
        raise Http404
    if site is not None and site.pk != share.tenant_id:
        raise Http404
    if site_is_members_only(share.tenant):
        member = (
            viewer is not None
            and getattr(viewer, "is_authenticated", False)
            and viewer_tenant is not None
            and viewer_tenant.pk == share.tenant_id
        )
        if not member:
            raise Http404
    return share


def feedback_counts_for_prompt(*, prompt_id: int, since: datetime | None = None) -> dict[str, int]:
    """How many answers of a prompt were rated up and down (``since``: rated from then on).

    Across tenants: a creator's prompt is used in many, and the creator sees only these
    totals, never a conversation or a reason (SPARK_PROMPT_FEEDBACK_COUNTS)."""
    with unscoped():
        rows = MessageFeedback.objects.filter(prompt_id=prompt_id)
        if since is not None:
            rows = rows.filter(updated_at__gte=since)
        counted = dict(
            rows.order_by()
            .values("rating")
            .annotate(count=Count("id"))
            .values_list("rating", "count")
        )
    return {rating: counted.get(rating, 0) for rating in MessageFeedback.Rating.values}
