"""Shapes of the chat REST API: conversations, messages, folders, search results."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat.api.sse_schema import COST_BREAKDOWN
from chat.costs import breakdown, cost_usd
from chat.models import FEEDBACK_REASON_MAX, Conversation, Folder, Message, MessageFeedback
from chat.search import SearchHit
from marketplace.selectors import prompt_model_label
from spark.common import api_fields as strict

DECIMAL_STRING = {"type": "string", "format": "decimal", "example": "0.000725"}


# --- conversations ---------------------------------------------------------------------------


class ConversationPromptSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="uuid")
    slug = serializers.CharField()
    name = serializers.CharField()


class ConversationModelSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(
        allow_null=True, help_text="The model's id; null when the prompt hides its model."
    )
    name = serializers.CharField(help_text="The model's name, or the prompt's when hidden.")


class ConversationSerializer(serializers.ModelSerializer[Conversation]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    folder = serializers.SerializerMethodField()
    prompt = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    alter_ego = serializers.SerializerMethodField()
    is_locked = serializers.BooleanField(read_only=True)
    pinned = serializers.BooleanField(source="is_pinned", read_only=True)
    archived = serializers.BooleanField(source="is_archived", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "title",
            "folder",
            "position",
            "prompt",
            "model",
            "alter_ego",
            "is_locked",
            "pinned",
            "pinned_at",
            "archived",
            "archived_at",
            "last_activity_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_folder(self, conversation: Conversation) -> str | None:
        return str(conversation.folder.uuid) if conversation.folder is not None else None

    @extend_schema_field(ConversationPromptSerializer(allow_null=True))
    def get_prompt(self, conversation: Conversation) -> Any:
        prompt = conversation.prompt
        if prompt is None:
            return None
        return {"id": str(prompt.uuid), "slug": prompt.slug, "name": prompt.name}

    @extend_schema_field(ConversationModelSerializer(allow_null=True))
    def get_model(self, conversation: Conversation) -> Any:
        model, prompt = conversation.model, conversation.prompt
        if model is None:
            return None
        if prompt is not None and prompt.hide_model_name:
            return {"id": None, "name": prompt_model_label(prompt=prompt, model=model)}
        return {"id": model.slug, "name": model.display_name}

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_alter_ego(self, conversation: Conversation) -> str | None:
        alter_ego = conversation.alter_ego
        return str(alter_ego.uuid) if alter_ego is not None else None


class ConversationCreateSerializer(serializers.Serializer[Any]):
    prompt = strict.CharField(
        required=False, allow_blank=True, help_text="A prompt's slug or id (its `chat_key`)."
    )
    model = strict.CharField(
        required=False,
        allow_blank=True,
        help_text="A model id the prompt allows; ignored when the prompt forces one.",
    )
    alter_ego = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="An alter ego's id; omitted: your default alter ego; null: none.",
    )
    folder = serializers.UUIDField(required=False, allow_null=True)
    title = strict.CharField(required=False, allow_blank=True, max_length=200)


class ConversationUpdateSerializer(serializers.Serializer[Any]):
    title = strict.CharField(required=False, allow_blank=True, max_length=200)
    folder = serializers.UUIDField(
        required=False, allow_null=True, help_text="Move into this folder; null: top level."
    )
    position = strict.IntegerField(required=False, min_value=0)
    model = strict.CharField(required=False, help_text="Switch model (the prompt's policy).")
    alter_ego = serializers.UUIDField(required=False, allow_null=True)
    pinned = strict.BooleanField(required=False, help_text="Pin to the top of the sidebar.")
    archived = strict.BooleanField(
        required=False, help_text="Archive (leaves the sidebar, stays searchable); unpins."
    )


# --- messages -----------------------------------------------------------------------------------


class ToolCallSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    arguments = serializers.CharField(help_text="JSON text.")
    display = serializers.JSONField(help_text="What to show of the result.")
    is_error = serializers.BooleanField()


class FeedbackSerializer(serializers.Serializer[Any]):
    rating = serializers.ChoiceField(choices=MessageFeedback.Rating.choices)
    reason = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()


class FeedbackSetSerializer(serializers.Serializer[Any]):
    # A choice in the schema too: the fuzz test's schema-valid requests are all accepted.
    rating = serializers.ChoiceField(choices=MessageFeedback.Rating.choices)
    reason = strict.CharField(
        required=False,
        allow_blank=True,
        max_length=FEEDBACK_REASON_MAX,
        help_text="Why (optional).",
    )


class MessageSerializer(serializers.ModelSerializer[Message]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    reply_to = serializers.SerializerMethodField()
    feedback = serializers.SerializerMethodField()
    tool_calls = serializers.SerializerMethodField()
    cost_usd = serializers.SerializerMethodField()
    cost_breakdown = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "status",
            "last_seq",
            "model_label",
            "tool_calls",
            "attachments",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "cost_breakdown",
            "error_code",
            "error_message",
            "reply_to",
            "client_id",
            "feedback",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(FeedbackSerializer(allow_null=True))
    def get_feedback(self, message: Message) -> Any:
        # Loaded with the message (select_related) by the lists; a message fresh from a
        # turn has none yet.
        if "feedback" not in message._state.fields_cache:
            return None
        feedback = message._state.fields_cache["feedback"]
        return FeedbackSerializer(feedback).data if feedback is not None else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_reply_to(self, message: Message) -> str | None:
        # reply_to_id only: the user message's uuid is looked up from the list's own rows.
        uuids = self.context.get("uuid_by_pk", {})
        if message.reply_to_id is None:
            return None
        return uuids.get(message.reply_to_id)

    @extend_schema_field(ToolCallSerializer(many=True))
    def get_tool_calls(self, message: Message) -> list[dict[str, Any]]:
        return [
            {
                "id": str(call.get("id", "")),
                "name": str(call.get("name", "")),
                "arguments": str(call.get("arguments", "")),
                "display": call.get("display", {}),
                "is_error": bool(call.get("is_error", False)),
            }
            for call in message.tool_calls or []
            if isinstance(call, dict)
        ]

    @extend_schema_field(DECIMAL_STRING)
    def get_cost_usd(self, message: Message) -> str:
        return cost_usd(message.cost_micros)

    @extend_schema_field(COST_BREAKDOWN)  # the one shape, shared with message.done
    def get_cost_breakdown(self, message: Message) -> list[dict[str, str]]:
        return [
            {"label": p["label"], "cost_usd": p["cost_usd"]}
            for p in breakdown(message.cost_parts or [])
        ]


def message_context(messages: list[Message]) -> dict[str, Any]:
    """Serializer context for a list of messages (answers name the message they reply to:
    one of the list, or one a page annotated as ``reply_to_uuid``)."""
    uuid_by_pk = {
        m.reply_to_id: str(m.reply_to_uuid)  # type: ignore[attr-defined]
        for m in messages
        if getattr(m, "reply_to_uuid", None) is not None
    }
    uuid_by_pk.update({m.pk: str(m.uuid) for m in messages})
    return {"uuid_by_pk": uuid_by_pk}


class MessageSendSerializer(serializers.Serializer[Any]):
    text = strict.CharField(max_length=settings.SPARK_MAX_MESSAGE_CHARS, trim_whitespace=False)
    client_id = strict.CharField(
        max_length=64, help_text="Your id for this message (unique per conversation)."
    )
    edit_of = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="A user message this text replaces (it and what follows are superseded).",
    )
    stream = strict.BooleanField(
        default=False, help_text="Answer as server-sent events instead of one JSON body."
    )

    def validate_text(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Write a message first.")
        return value


class RegenerateSerializer(serializers.Serializer[Any]):
    client_id = strict.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Echoed in the events."
    )
    stream = strict.BooleanField(default=False)


class ExchangeSerializer(serializers.Serializer[Any]):
    user_message = MessageSerializer()
    assistant_message = MessageSerializer()


# --- folders --------------------------------------------------------------------------------


class FolderSerializer(serializers.ModelSerializer[Folder]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Folder
        fields = ["id", "name", "color", "parent", "position", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_parent(self, folder: Folder) -> str | None:
        return str(folder.parent.uuid) if folder.parent is not None else None


class FolderCreateSerializer(serializers.Serializer[Any]):
    name = strict.CharField(max_length=80)
    parent = serializers.UUIDField(required=False, allow_null=True)  # type: ignore[assignment]
    color = strict.CharField(
        required=False, allow_blank=True, max_length=7, help_text="#rrggbb, or empty."
    )


class FolderUpdateSerializer(serializers.Serializer[Any]):
    name = strict.CharField(required=False, max_length=80)
    color = strict.CharField(required=False, allow_blank=True, max_length=7)
    parent = serializers.UUIDField(required=False, allow_null=True)  # type: ignore[assignment]
    position = strict.IntegerField(required=False, min_value=0)


class FolderReorderSerializer(serializers.Serializer[Any]):
    parent = serializers.UUIDField(  # type: ignore[assignment]
        allow_null=True, help_text="The folder to arrange; null: the top level."
    )
    folders = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=500, help_text="In order."
    )
    conversations = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=500, help_text="In order."
    )


# --- search ---------------------------------------------------------------------------------


class SearchHitSerializer(serializers.Serializer[SearchHit]):
    message_id = serializers.UUIDField(source="message.uuid")
    conversation_id = serializers.UUIDField(source="message.conversation.uuid")
    conversation_title = serializers.CharField(source="message.conversation.title")
    role = serializers.CharField(source="message.role")
    snippet = serializers.CharField(
        help_text="HTML: the escaped text around the match, matches in <mark>…</mark>."
    )
    rank = serializers.FloatField(help_text="Higher is better (0 without full-text search).")
    created_at = serializers.DateTimeField(source="message.created_at")


class SearchResultsSerializer(serializers.Serializer[Any]):
    query = serializers.CharField()
    results = SearchHitSerializer(many=True)
