"""Writes for chat: conversations, folders, and the persistence side of a turn."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AlterEgo, Tenant
from chat.costs import CostPart
from chat.events import conversation_notice
from chat.models import (
    FEEDBACK_REASON_MAX,
    Conversation,
    ConversationShare,
    Folder,
    Message,
    MessageFeedback,
)
from chat.pipeline import Turn, TurnRefused
from chat.text import markdown_to_text
from marketplace.models import Prompt
from marketplace.selectors import prompt_resolve_model
from spark.common.exceptions import ApplicationError, Conflict
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped

TITLE_LENGTH = 60
SHARE_TOKEN_BYTES = 32  # 256 bits: a share link cannot be guessed


class Unset:
    """Marks an argument that was not given (None is a meaningful value)."""


UNSET = Unset()


def default_model() -> LLMModel:
    model = LLMModel.objects.filter(slug=settings.SPARK_DEFAULT_MODEL, is_active=True).first()
    if model is None:
        model = LLMModel.objects.filter(is_active=True).order_by("position").first()
    if model is None:
        raise ApplicationError(_("No model is available."), code="model_unavailable")
    return model


def _model_by_slug(slug: str) -> LLMModel:
    model = LLMModel.objects.filter(slug=slug, is_active=True).first()
    if model is None:
        raise ApplicationError(_("Unknown or inactive model."), code="model_unavailable")
    return model


# --- conversations -----------------------------------------------------------------------


@transaction.atomic
def conversation_create(
    *,
    user: Any,
    tenant: Tenant,
    prompt: Prompt | None = None,
    model_slug: str | None = None,
    alter_ego: AlterEgo | None = None,
    folder: Folder | None = None,
    title: str = "",
    source: str = Conversation.Source.WEB,
    system_prompt: str = "",
) -> Conversation:
    if prompt is not None:
        model = prompt_resolve_model(prompt=prompt, requested_slug=model_slug)
    else:
        model = _model_by_slug(model_slug) if model_slug else default_model()
    _check_owned(user=user, folder=folder, alter_ego=alter_ego)
    return Conversation.objects.create(
        tenant=tenant,
        user=user,
        prompt=prompt,
        model=model,
        alter_ego=alter_ego,
        folder=folder,
        title=title.strip()[:200],
        source=source,
        system_prompt=system_prompt.strip()[:50_000],
    )


@transaction.atomic
def conversation_seed_history(
    *, conversation: Conversation, messages: list[tuple[str, str]]
) -> list[Message]:
    """Record earlier turns a client sends along (the OpenAI-compatible API is stateless).

    They are untrusted: the turn they came with passes them to the pipeline
    (``Turn.supplied``), and a turn that is blocked or refused takes them out of the
    context again (``turn_discard_supplied``)."""
    return Message.objects.bulk_create(
        Message(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            role=role,
            content=content,
            status=Message.Status.COMPLETE,
        )
        for role, content in messages
    )


def _check_owned(*, user: Any, folder: Folder | None, alter_ego: AlterEgo | None) -> None:
    if folder is not None and folder.user_id != user.pk:
        raise ApplicationError(_("Unknown folder."), code="not_found", status_code=404)
    if alter_ego is not None and alter_ego.user_id != user.pk:
        raise ApplicationError(_("Unknown alter ego."), code="not_found", status_code=404)


@transaction.atomic
def conversation_update(
    *,
    conversation: Conversation,
    title: str | None = None,
    model_slug: str | None = None,
    alter_ego: AlterEgo | Unset | None = UNSET,
) -> Conversation:
    """Rename, switch model (within the prompt's policy) or switch alter ego."""
    fields = ["updated_at"]
    if title is not None:
        conversation.title = title.strip()[:200]
        fields.append("title")
    if model_slug is not None:
        if conversation.prompt is not None:
            conversation.model = prompt_resolve_model(
                prompt=conversation.prompt, requested_slug=model_slug
            )
        else:
            conversation.model = _model_by_slug(model_slug)
        fields.append("model")
    if not isinstance(alter_ego, Unset):
        _check_owned(user=conversation.user, folder=None, alter_ego=alter_ego)
        conversation.alter_ego = alter_ego
        fields.append("alter_ego")
    conversation.save(update_fields=fields)
    return conversation


@transaction.atomic
def conversation_move(
    *, conversation: Conversation, folder: Folder | None, position: int | None = None
) -> Conversation:
    """File a conversation in a folder (or none), optionally at a position."""
    _check_owned(user=conversation.user, folder=folder, alter_ego=None)
    conversation.folder = folder
    fields = ["folder", "updated_at"]
    if position is not None:
        conversation.position = position
        fields.append("position")
    conversation.save(update_fields=fields)
    return conversation


def conversation_pin(*, conversation: Conversation, pinned: bool) -> Conversation:
    """Pin a conversation to the top of the sidebar, or unpin it (pinning again keeps its
    place among the pinned ones)."""
    if pinned == conversation.is_pinned:
        return conversation
    conversation.pinned_at = timezone.now() if pinned else None
    conversation.save(update_fields=["pinned_at", "updated_at"])
    return conversation


def conversation_archive(*, conversation: Conversation, archived: bool) -> Conversation:
    """Archive a conversation (it leaves the sidebar, unpinned, and stays searchable and
    open by its link), or bring it back."""
    if archived == conversation.is_archived:
        return conversation
    conversation.archived_at = timezone.now() if archived else None
    fields = ["archived_at", "updated_at"]
    if archived and conversation.pinned_at is not None:
        conversation.pinned_at = None
        fields.append("pinned_at")
    conversation.save(update_fields=fields)
    return conversation


# Answers that can be rated: what the model wrote (not a refusal, not still streaming).
RATEABLE_STATUSES = (
    Message.Status.COMPLETE,
    Message.Status.INTERRUPTED,
    Message.Status.CANCELLED,
    Message.Status.FAILED,
)


@transaction.atomic
def message_feedback_set(
    *, message: Message, user: Any, rating: str, reason: str = ""
) -> MessageFeedback:
    """Rate an answer up or down, with an optional reason (rating again replaces it)."""
    if rating not in MessageFeedback.Rating.values:
        raise ApplicationError(_("Rate an answer up or down."), code="invalid_rating")
    if message.role != Message.Role.ASSISTANT or message.status not in RATEABLE_STATUSES:
        raise Conflict(_("Only a written answer can be rated."), code="not_an_answer")
    if message.status == Message.Status.FAILED and not message.content:
        raise Conflict(_("Only a written answer can be rated."), code="not_an_answer")
    reason = reason.strip()
    if len(reason) > FEEDBACK_REASON_MAX:
        raise ApplicationError(
            _("Say it in %(count)s characters or fewer.") % {"count": FEEDBACK_REASON_MAX},
            code="invalid_reason",
        )
    feedback, _created = MessageFeedback.objects.update_or_create(
        message=message,
        defaults={
            "tenant_id": message.tenant_id,
            "user": user,
            "prompt_id": message.conversation.prompt_id,
            "rating": rating,
            "reason": reason,
        },
    )
    return feedback


def message_feedback_clear(*, message: Message) -> None:
    """Take back a rating (nothing to take back is fine)."""
    MessageFeedback.objects.filter(message=message).delete()


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()


def _locked_message() -> str:
    return _("This conversation was closed. You can start a new one.")


def _publish_locked(conversation_uuid: object) -> None:
    """Tell every socket on the conversation that it is closed (what AccessGate answers);
    a lock the conversation's running turn caused is told after that turn's frames."""
    conversation_notice(
        conversation_uuid,
        {"type": "error", "code": "conversation_locked", "message": _locked_message()},
    )


@transaction.atomic
def conversation_lock(*, conversation: Conversation, reason: str) -> bool:
    """Close a conversation: no channel accepts another message until it is unlocked.

    Returns whether this call locked it (False: it was locked already). Watchers are told
    on commit with an ``error`` frame ``conversation_locked``.
    """
    now = timezone.now()
    locked = Conversation.objects.filter(pk=conversation.pk, locked_at__isnull=True).update(
        locked_at=now, lock_reason=reason[:200], updated_at=now
    )
    if locked:
        conversation.locked_at, conversation.lock_reason = now, reason[:200]
        uuid = conversation.uuid
        transaction.on_commit(lambda: _publish_locked(uuid), robust=True)
    return bool(locked)


@transaction.atomic
def conversation_unlock(*, conversation: Conversation, actor: Any) -> bool:
    """Reopen a locked conversation (staff). Returns whether it was locked.

    ``actor`` is who reopened it; the caller records it (the admin audits its actions).
    """
    unlocked = Conversation.objects.filter(pk=conversation.pk, locked_at__isnull=False).update(
        locked_at=None, lock_reason="", updated_at=timezone.now()
    )
    if unlocked:
        conversation.locked_at, conversation.lock_reason = None, ""
    return bool(unlocked)


# --- folders ---------------------------------------------------------------------------------

MAX_FOLDER_DEPTH = 5


def _depth(folder: Folder | None) -> int:
    depth = 0
    while folder is not None:
        depth += 1
        folder = folder.parent
    return depth


def _validate_parent(*, user: Any, folder: Folder | None, parent: Folder | None) -> None:
    if parent is None:
        return
    if parent.user_id != user.pk:
        raise ApplicationError(_("Unknown folder."), code="not_found", status_code=404)
    ancestor: Folder | None = parent
    while ancestor is not None:
        if folder is not None and ancestor.pk == folder.pk:
            raise ApplicationError(_("A folder cannot go inside itself."), code="invalid_parent")
        ancestor = ancestor.parent
    if _depth(parent) >= MAX_FOLDER_DEPTH:
        raise ApplicationError(
            _("Folders nest at most %(depth)s levels deep.") % {"depth": MAX_FOLDER_DEPTH},
            code="too_deep",
        )


COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")


def _clean_color(color: str) -> str:
    """A folder colour: ``#rrggbb`` (lowercased), or empty for none."""
    color = color.strip()
    if color and not COLOR_PATTERN.match(color):
        raise ApplicationError(
            _("A colour is written #rrggbb, for example #e0368a."), code="invalid_color"
        )
    return color.lower()


def folder_create(
    *, user: Any, tenant: Tenant, name: str, parent: Folder | None = None, color: str = ""
) -> Folder:
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the folder a name."), code="invalid_name")
    color = _clean_color(color)
    _validate_parent(user=user, folder=None, parent=parent)
    position = Folder.objects.filter(user=user, parent=parent).count()
    return Folder.objects.create(
        tenant=tenant, user=user, name=name[:80], parent=parent, color=color, position=position
    )


def folder_update(
    *,
    folder: Folder,
    name: str | None = None,
    color: str | None = None,
    parent: Folder | Unset | None = UNSET,
    position: int | None = None,
) -> Folder:
    fields = ["updated_at"]
    if name is not None:
        if not name.strip():
            raise ApplicationError(_("Give the folder a name."), code="invalid_name")
        folder.name = name.strip()[:80]
        fields.append("name")
    if color is not None:
        folder.color = _clean_color(color)
        fields.append("color")
    if not isinstance(parent, Unset):
        _validate_parent(user=folder.user, folder=folder, parent=parent)
        folder.parent = parent
        fields.append("parent")
    if position is not None:
        folder.position = position
        fields.append("position")
    folder.save(update_fields=fields)
    return folder


@transaction.atomic
def folder_arrange(
    *,
    user: Any,
    parent: Folder | None,
    folder_uuids: list[Any] | None = None,
    conversation_uuids: list[Any] | None = None,
) -> None:
    """Put folders and conversations inside ``parent`` (None: the top level), in this order.

    The one service behind drag and drop: whatever is listed moves into ``parent`` and
    takes its list index as its position. Unknown or someone else's ids are a 404; a
    folder cannot go inside itself or one of its subfolders.
    """
    if parent is not None and parent.user_id != user.pk:
        raise ApplicationError(_("Unknown folder."), code="not_found", status_code=404)
    folder_keys = [str(key) for key in folder_uuids or []]
    conversation_keys = [str(key) for key in conversation_uuids or []]
    if len(set(folder_keys)) != len(folder_keys) or len(set(conversation_keys)) != len(
        conversation_keys
    ):
        raise ApplicationError(_("An item is listed twice."), code="invalid")
    folders = {str(f.uuid): f for f in Folder.objects.filter(user=user, uuid__in=folder_keys)}
    conversations = {
        str(c.uuid): c
        for c in Conversation.objects.filter(user=user, uuid__in=conversation_keys).only(
            "pk", "uuid", "folder_id", "position"
        )
    }
    if len(folders) != len(folder_keys) or len(conversations) != len(conversation_keys):
        raise ApplicationError(
            _("Unknown folder or conversation."), code="not_found", status_code=404
        )
    for position, key in enumerate(folder_keys):
        folder = folders[key]
        if folder.parent_id != (parent.pk if parent else None):
            _validate_parent(user=user, folder=folder, parent=parent)
        folder.parent, folder.position = parent, position
    Folder.objects.bulk_update(folders.values(), ["parent", "position"])
    for position, key in enumerate(conversation_keys):
        conversation = conversations[key]
        conversation.folder, conversation.position = parent, position
    Conversation.objects.bulk_update(conversations.values(), ["folder", "position"])


@transaction.atomic
def folder_delete(*, folder: Folder) -> None:
    """Delete a folder and its subfolders; their conversations move to the top level."""
    Conversation.objects.filter(folder__in=_subtree(folder)).update(folder=None)
    folder.delete()


def _subtree(folder: Folder) -> list[Folder]:
    found, frontier = [folder], [folder]
    while frontier:
        children = list(Folder.objects.filter(parent__in=frontier))
        found.extend(children)
        frontier = children
    return found


# --- shared links -----------------------------------------------------------------------------

SHARE_MAX_MESSAGES = 500
SHARED_STATUSES = (Message.Status.COMPLETE, Message.Status.INTERRUPTED, Message.Status.CANCELLED)


def _share_snapshot(conversation: Conversation) -> list[dict[str, Any]]:
    """What a reader of the link sees of each message: role, text, model label, time.

    The messages that count (not superseded), the user's and the answers that were
    written (not blocked, failed or still streaming), the latest ``SHARE_MAX_MESSAGES``.
    """
    rows = list(
        Message.objects.filter(
            conversation=conversation,
            superseded=False,
            role__in=[Message.Role.USER, Message.Role.ASSISTANT],
        )
        .exclude(content="")
        .filter(
            models.Q(role=Message.Role.USER, status=Message.Status.COMPLETE)
            | models.Q(role=Message.Role.ASSISTANT, status__in=SHARED_STATUSES)
        )
        .order_by("-created_at", "-id")
        .values("role", "content", "model_label", "created_at")[:SHARE_MAX_MESSAGES]
    )
    return [
        {
            "role": row["role"],
            "content": row["content"],
            "model_label": row["model_label"] if row["role"] == Message.Role.ASSISTANT else "",
            "created_at": row["created_at"].isoformat(),
        }
        for row in reversed(rows)
    ]


@transaction.atomic
def share_create(*, conversation: Conversation) -> ConversationShare:
    """A new read-only link to the conversation as it is now (an unguessable token)."""
    snapshot = _share_snapshot(conversation)
    if not snapshot:
        raise Conflict(
            _("There is nothing to share yet: send a message first."), code="nothing_to_share"
        )
    prompt = conversation.prompt
    return ConversationShare.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
        title=conversation.title,
        prompt_name=prompt.name if prompt is not None else "",
        prompt_key=str(prompt.uuid) if prompt is not None else "",
        messages=snapshot,
    )


def share_revoke(*, share: ConversationShare) -> ConversationShare:
    """The link stops working at once (404); the row stays for the record."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at", "updated_at"])
    return share


@transaction.atomic
def conversation_copy_from_share(
    *, share: ConversationShare, user: Any, tenant: Tenant, prompt: Prompt | None
) -> Conversation:
    """The viewer's own conversation, made of a shared snapshot, to continue.

    It is a new conversation in the viewer's tenant (the shared one is never touched);
    ``prompt`` is the shared conversation's prompt when the viewer may use it, else None.
    """
    title = share.title or _("Shared conversation")
    conversation = conversation_create(
        user=user,
        tenant=tenant,
        prompt=prompt,
        alter_ego=None,
        title=_("%(title)s (copy)") % {"title": title[:190]},
    )
    Message.objects.bulk_create(
        Message(
            tenant=tenant,
            conversation=conversation,
            role=item["role"],
            content=item["content"],
            model_label=item.get("model_label", ""),
            status=Message.Status.COMPLETE,
        )
        for item in share.messages
        if item.get("role") in (Message.Role.USER, Message.Role.ASSISTANT)
    )
    return conversation


# --- the persistence side of a turn ---------------------------------------------------------


def _refuse(message: str, code: str, status: int) -> TurnRefused:
    return TurnRefused(message, code=code, status=status)


def turn_check_access(*, turn: Turn) -> None:
    """Refuse a turn the user may not take now (locked, busy, unavailable model)."""
    conversation = turn.conversation
    if conversation.is_locked:
        raise _refuse(_locked_message(), "conversation_locked", 423)
    if conversation.prompt is not None and not conversation.prompt.is_active:
        raise _refuse(_("This prompt is no longer available."), "prompt_unavailable", 410)
    model = conversation.model
    if conversation.prompt is not None and conversation.prompt.forced_model_id is not None:
        model = conversation.prompt.forced_model
    if model is None or not model.is_active:
        raise _refuse(_("This conversation's model is not available."), "model_unavailable", 409)
    turn.model = model
    turn.prompt = conversation.prompt
    turn.alter_ego = conversation.alter_ego


@transaction.atomic
def turn_admit(*, turn: Turn) -> None:
    """Record the user's message and the answer's placeholder, or refuse the turn."""
    conversation = Conversation.objects.select_for_update().get(pk=turn.conversation.pk)
    turn.conversation.locked_at = conversation.locked_at
    turn_check_access(turn=turn)
    stale = timezone.now() - timedelta(seconds=settings.SPARK_STREAM_STALE_SECONDS)
    if Message.objects.filter(
        conversation=conversation, status=Message.Status.STREAMING, updated_at__gte=stale
    ).exists():
        raise _refuse(
            _("An answer is still being written. Wait for it or stop it first."), "busy", 409
        )
    now = timezone.now()
    admitted: dict[str, Any] = turn.state.setdefault("chat", {})
    if turn.regenerate is not None:
        user_message = turn.regenerate
        later = Message.objects.filter(
            conversation=conversation, created_at__gt=user_message.created_at, superseded=False
        ).exclude(pk=user_message.pk)
        admitted["superseded"] = list(later.values_list("pk", flat=True))
        later.update(superseded=True)
    else:
        if turn.edit_of is not None:
            replaced = Message.objects.filter(
                conversation=conversation,
                created_at__gte=turn.edit_of.created_at,
                superseded=False,
            )
            admitted["superseded"] = list(replaced.values_list("pk", flat=True))
            replaced.update(superseded=True)
        try:
            with transaction.atomic():  # a savepoint: the constraint may refuse the row
                user_message = Message.objects.create(
                    tenant=turn.tenant,
                    conversation=conversation,
                    role=Message.Role.USER,
                    content=turn.text,
                    client_id=turn.client_id,
                    attachments=turn.attachments,
                )
        except IntegrityError:  # chat_message_client_id_once
            user_message, refusals = _resend_of_refused(conversation=conversation, turn=turn)
            admitted["resent"] = True  # the message was there before: a refusal keeps it
            admitted["superseded"] = admitted.get("superseded", []) + refusals
    model = turn.model
    assert model is not None
    label = (
        turn.prompt.name
        if turn.prompt is not None and turn.prompt.hide_model_name
        else model.display_name
    )
    turn.user_message = user_message
    turn.assistant_message = Message.objects.create(
        tenant=turn.tenant,
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        reply_to=user_message,
        model_label=label,
    )
    updates: dict[str, Any] = {"last_activity_at": now, "updated_at": now}
    if not conversation.title:
        updates["title"] = _title_from(user_message.content)
        turn.conversation.title = updates["title"]
        admitted["titled"] = True
    Conversation.objects.filter(pk=conversation.pk).update(**updates)


def _resend_of_refused(*, conversation: Conversation, turn: Turn) -> tuple[Message, list[int]]:
    """The same client id again: a resend of a message that was refused (every reply to it
    failed before a word was written: no funds, a rate limit...) answers that message
    instead of adding a copy (it returns that message and the refusals it superseded);
    anything else is a duplicate."""
    earlier = Message.objects.filter(
        conversation=conversation, role=Message.Role.USER, client_id=turn.client_id
    ).first()
    replies = (
        Message.objects.filter(reply_to=earlier, superseded=False) if earlier is not None else None
    )
    not_sent = (
        earlier is not None
        and replies is not None
        and replies.exists()
        and not replies.exclude(status=Message.Status.FAILED, content="").exists()
    )
    if not not_sent or earlier is None or replies is None:
        raise _refuse(_("This message was already sent."), "duplicate_message", 409)
    refusals = list(replies.values_list("pk", flat=True))
    replies.update(superseded=True)
    return earlier, refusals


def turn_discard(*, turn: Turn) -> None:
    """A refused API request writes nothing: remove what admitting it wrote (its messages,
    the title it gave, the supersessions it made), and the conversation if it opened it."""
    admitted: dict[str, Any] = turn.state.get("chat") or {}
    with transaction.atomic():
        if turn.conversation_opened:
            Conversation.objects.filter(pk=turn.conversation.pk).delete()
            return
        created = [turn.assistant_message]
        if turn.regenerate is None and not admitted.get("resent"):
            created.append(turn.user_message)
        # and the earlier turns the client sent with it, when they were stored for it
        supplied = [item.message_id for item in turn.supplied if item.message_id is not None]
        Message.objects.filter(
            conversation=turn.conversation,
            pk__in=[m.pk for m in created if m is not None] + supplied,
        ).delete()
        if admitted.get("superseded"):
            Message.objects.filter(pk__in=admitted["superseded"]).update(superseded=False)
        if admitted.get("titled"):
            Conversation.objects.filter(pk=turn.conversation.pk).update(title="")
            turn.conversation.title = ""


def _title_from(text: str) -> str:
    line = markdown_to_text(text) or " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def turn_write_completion(*, turn: Turn) -> None:
    """Write the answer's final state (billing's Settle calls this inside its transaction)."""
    message = turn.assistant_message
    if message is None or turn.completion_written:
        return
    last_seq = turn.events.last_seq(turn.assistant_id) if turn.events is not None else 0
    if turn.status == Message.Status.BLOCKED:
        # A blocked answer's question leaves the history the model sees, as the answer does,
        # and so do the earlier turns the client sent with it (the output guard's stop too).
        if turn.user_message is not None:
            Message.objects.filter(pk=turn.user_message.pk).update(status=Message.Status.BLOCKED)
        turn_discard_supplied(turn=turn)
    Message.objects.filter(pk=message.pk).update(
        content=turn.text_out,
        status=turn.status,
        input_tokens=turn.usage.input_tokens,
        output_tokens=turn.usage.output_tokens,
        cost_micros=turn.cost_micros,
        cost_parts=turn.cost_parts,
        tool_calls=turn.tool_log,
        error_code=turn.error_code[:64],
        error_message=turn.error_message[:500],
        last_seq=last_seq,
        completed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    turn.completion_written = True


def turn_discard_supplied(*, turn: Turn) -> None:
    """The earlier turns a client sent with a turn that did not go through are stored
    blocked: kept for the record (and the evaluators), never in a model's context, so a
    conversation continued later cannot carry them to the model unjudged."""
    ids = [item.message_id for item in turn.supplied if item.message_id is not None]
    if ids:
        Message.objects.filter(conversation=turn.conversation, pk__in=ids).update(
            status=Message.Status.BLOCKED
        )


def message_cost_set(
    *, message_id: int, cost_micros: int, cost_parts: list[CostPart] | None = None
) -> None:
    """The answer's cost once billing has charged it (a settlement written after the fact)."""
    with unscoped():
        Message.objects.filter(pk=message_id).update(
            cost_micros=cost_micros, cost_parts=cost_parts or [], updated_at=timezone.now()
        )


@transaction.atomic
def turn_mark_refused(*, turn: Turn, code: str, message: str) -> None:
    turn_discard_supplied(turn=turn)
    turn.status, turn.error_code, turn.error_message = Message.Status.FAILED, code, message
    turn_write_completion(turn=turn)


@transaction.atomic
def turn_mark_blocked(*, turn: Turn, reason: str, category: str) -> None:
    turn_discard_supplied(turn=turn)
    turn.status, turn.text_out, turn.error_code = Message.Status.BLOCKED, reason, category
    turn_write_completion(turn=turn)


def message_save_progress(*, message_uuid: str, content: str, seq: int) -> None:
    """Persist a streaming answer so far (a reload shows it; resume continues after seq)."""
    Message.objects.filter(uuid=message_uuid, status=Message.Status.STREAMING).update(
        content=content, last_seq=seq, updated_at=timezone.now()
    )


def message_touch(*, message_uuid: str) -> None:
    """A heartbeat while nothing streams (slow first token, a long tool call)."""
    Message.objects.filter(uuid=message_uuid, status=Message.Status.STREAMING).update(
        updated_at=timezone.now()
    )


def messages_sweep_stuck(*, older_than_seconds: int) -> int:
    """Mark answers left ``streaming`` by a dead process as interrupted (platform-wide)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with unscoped():
        return Message.objects.filter(
            status=Message.Status.STREAMING, updated_at__lt=cutoff
        ).update(
            status=Message.Status.INTERRUPTED,
            error_code="generation_lost",
            error_message=_("The answer stopped because the server restarted."),
            completed_at=timezone.now(),
        )
