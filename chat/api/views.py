"""REST endpoints for conversations, their messages, folders and search (the sync ones).

Sending, regenerating, cancelling and following an answer need the server's event loop:
they are in ``chat.api.streaming``.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.api.views import request_user
from accounts.models import AlterEgo, User
from chat import search, selectors, services
from chat.api.serializers import (
    ConversationCreateSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    FeedbackSerializer,
    FeedbackSetSerializer,
    FolderCreateSerializer,
    FolderReorderSerializer,
    FolderSerializer,
    FolderUpdateSerializer,
    MessageSerializer,
    SearchResultsSerializer,
    message_context,
)
from chat.models import Conversation, Folder, Message
from marketplace.selectors import prompt_get_for_chat
from spark.common.exceptions import ApplicationError
from spark.common.openapi import error_response
from spark.common.pagination import StrictCursorPagination
from spark.tenancy.api import TenantAPIMixin


def folder_or_none(*, user: User, key: Any) -> Folder | None:
    return None if key is None else selectors.folder_get_for_user(user=user, uuid=key)


def alter_ego_or_none(*, user: User, key: Any) -> AlterEgo | None:
    return None if key is None else account_selectors.alter_ego_get_for_user(user=user, uuid=key)


class ConversationPagination(StrictCursorPagination):
    page_size = 50
    max_page_size = 200
    ordering = ("-last_activity_at", "-id")

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        folder = request.query_params.get("folder")
        if folder and folder != "none":
            return ("position", "-last_activity_at", "-id")
        return self.ordering


FOLDER_PARAM = OpenApiParameter(
    "folder",
    str,
    description="A folder's id (its conversations, in their custom order), "
    "or `none` (conversations in no folder).",
)


ARCHIVED_PARAM = OpenApiParameter(
    "archived",
    {"type": "string", "enum": ["false", "true", "all"]},
    description="`false`: not archived (the sidebar); `true`: archived only; `all`: both. "
    "Omitted: `false`, or `all` with `q` (archived conversations stay searchable).",
)
ARCHIVED_CHOICES: dict[str, bool | None] = {"false": False, "true": True, "all": None}


def _archived_param(params: Mapping[str, str]) -> bool | None:
    value = params.get("archived")
    if value is None:
        return None if params.get("q", "").strip() else False
    if value not in ARCHIVED_CHOICES:
        raise ApplicationError(_("archived is false, true or all."), code="invalid_archived")
    return ARCHIVED_CHOICES[value]


class ConversationListView(TenantAPIMixin, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    def get_queryset(self) -> QuerySet[Conversation]:
        user = request_user(self.request)
        params = self.request.query_params
        folder_key = params.get("folder", "")
        folder = None
        if folder_key and folder_key != "none":
            folder = selectors.folder_get_for_user(user=user, uuid=folder_key)
        return selectors.conversation_list(
            user=user,
            folder=folder,
            in_folder=False if folder_key == "none" else None,
            query=params.get("q", "")[:100],
            archived=_archived_param(params),
        )

    @extend_schema(
        operation_id="conversations_list",
        parameters=[
            OpenApiParameter("q", str, description="Text to find in titles."),
            FOLDER_PARAM,
            ARCHIVED_PARAM,
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="conversations_create",
        request=ConversationCreateSerializer,
        responses={201: ConversationSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = ConversationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request_user(request)
        prompt = None
        if data.get("prompt"):
            prompt = prompt_get_for_chat(user=user, tenant=self.tenant, slug_or_uuid=data["prompt"])
        if "alter_ego" in data:
            alter_ego = alter_ego_or_none(user=user, key=data["alter_ego"])
        else:
            alter_ego = account_selectors.alter_ego_default_for_user(user=user)
        conversation = services.conversation_create(
            user=user,
            tenant=self.tenant,
            prompt=prompt,
            model_slug=data.get("model") or None,
            alter_ego=alter_ego,
            folder=folder_or_none(user=user, key=data.get("folder")),
            title=data.get("title", ""),
        )
        conversation = selectors.conversation_get_for_user(user=user, uuid=conversation.uuid)
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailView(TenantAPIMixin, APIView):
    @extend_schema(operation_id="conversations_retrieve", responses=ConversationSerializer)
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get_for_user(
            user=request_user(request), uuid=conversation_id
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        operation_id="conversations_update",
        request=ConversationUpdateSerializer,
        responses=ConversationSerializer,
        description="Rename, move to a folder (and position), switch model or alter ego, "
        "pin or archive.",
    )
    def patch(self, request: Request, conversation_id: str) -> Response:
        user = request_user(request)
        conversation = selectors.conversation_get_for_user(user=user, uuid=conversation_id)
        serializer = ConversationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update: dict[str, Any] = {}
        if "title" in data:
            update["title"] = data["title"]
        if "model" in data:
            update["model_slug"] = data["model"]
        if "alter_ego" in data:
            update["alter_ego"] = alter_ego_or_none(user=user, key=data["alter_ego"])
        if update:
            services.conversation_update(conversation=conversation, **update)
        if "pinned" in data:
            services.conversation_pin(conversation=conversation, pinned=data["pinned"])
        if "archived" in data:
            services.conversation_archive(conversation=conversation, archived=data["archived"])
        if "folder" in data or "position" in data:
            folder = (
                folder_or_none(user=user, key=data["folder"])
                if "folder" in data
                else conversation.folder
            )
            services.conversation_move(
                conversation=conversation, folder=folder, position=data.get("position")
            )
        conversation = selectors.conversation_get_for_user(user=user, uuid=conversation_id)
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(operation_id="conversations_destroy", responses={204: None})
    def delete(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get_for_user(
            user=request_user(request), uuid=conversation_id
        )
        services.conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


MESSAGES_LIMIT_PARAM = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": selectors.MESSAGE_PAGE_MAX},
    description="Only the latest `limit` messages (still oldest first). Without `limit` and "
    "`before`: every message. Fewer than `limit` means there are no earlier ones.",
)
MESSAGES_BEFORE_PARAM = OpenApiParameter(
    "before",
    OpenApiTypes.UUID,
    description="With `limit`: the latest `limit` messages older than this message of the "
    "conversation (the oldest one you have), to page back.",
)


def _page_limit(raw: str | None) -> int:
    if raw is None:
        raise ApplicationError(_("Give a limit with before."), code="invalid_limit")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= selectors.MESSAGE_PAGE_MAX):
        raise ApplicationError(
            _("limit must be a whole number from 1 to %(max)s.")
            % {"max": selectors.MESSAGE_PAGE_MAX},
            code="invalid_limit",
        )
    return int(raw)


def _page_before(conversation: Conversation, raw: str | None) -> Message | None:
    if raw is None:
        return None
    try:
        key = uuid_lib.UUID(raw)
    except ValueError:
        raise ApplicationError(_("before must be a message id."), code="invalid_before") from None
    try:
        return selectors.message_get_in_conversation(conversation=conversation, uuid=key)
    except Http404:
        raise ApplicationError(
            _("before is not a message of this conversation."), code="invalid_before"
        ) from None


def message_list_response(
    *, user: User, conversation_id: str, query: Mapping[str, str]
) -> Response:
    """Every message, or with ``limit`` (and ``before``) one page of them: oldest first."""
    conversation = selectors.conversation_get_for_user(user=user, uuid=conversation_id)
    if "limit" in query or "before" in query:
        limit = _page_limit(query.get("limit"))
        before = _page_before(conversation, query.get("before"))
        page = selectors.message_page(conversation=conversation, before=before, limit=limit)
        messages = page.messages
    else:
        messages = list(selectors.message_list(conversation=conversation))
    return Response(MessageSerializer(messages, many=True, context=message_context(messages)).data)


class FolderListView(TenantAPIMixin, APIView):
    @extend_schema(operation_id="folders_list", responses=FolderSerializer(many=True))
    def get(self, request: Request) -> Response:
        folders = selectors.folder_list(user=request_user(request))
        return Response(FolderSerializer(folders, many=True).data)

    @extend_schema(
        operation_id="folders_create",
        request=FolderCreateSerializer,
        responses={201: FolderSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = FolderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request_user(request)
        folder = services.folder_create(
            user=user,
            tenant=self.tenant,
            name=data["name"],
            parent=folder_or_none(user=user, key=data.get("parent")),
            color=data.get("color", ""),
        )
        return Response(FolderSerializer(folder).data, status=status.HTTP_201_CREATED)


class FolderDetailView(TenantAPIMixin, APIView):
    @extend_schema(operation_id="folders_retrieve", responses=FolderSerializer)
    def get(self, request: Request, folder_id: str) -> Response:
        folder = selectors.folder_get_for_user(user=request_user(request), uuid=folder_id)
        return Response(FolderSerializer(folder).data)

    @extend_schema(
        operation_id="folders_update",
        request=FolderUpdateSerializer,
        responses=FolderSerializer,
        description="Rename, recolour, move under another folder (null: top level), reposition.",
    )
    def patch(self, request: Request, folder_id: str) -> Response:
        user = request_user(request)
        folder = selectors.folder_get_for_user(user=user, uuid=folder_id)
        serializer = FolderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update: dict[str, Any] = {
            key: data[key] for key in ("name", "color", "position") if key in data
        }
        if "parent" in data:
            update["parent"] = folder_or_none(user=user, key=data["parent"])
        services.folder_update(folder=folder, **update)
        return Response(FolderSerializer(folder).data)

    @extend_schema(
        operation_id="folders_destroy",
        responses={204: None},
        description="Deletes the folder and its subfolders; their conversations move to the "
        "top level.",
    )
    def delete(self, request: Request, folder_id: str) -> Response:
        folder = selectors.folder_get_for_user(user=request_user(request), uuid=folder_id)
        services.folder_delete(folder=folder)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FolderReorderView(TenantAPIMixin, APIView):
    @extend_schema(
        operation_id="folders_reorder",
        request=FolderReorderSerializer,
        responses={204: None},
        description="Drag and drop: the listed folders and conversations move into `parent` "
        "and take their list order. Persisted.",
    )
    def post(self, request: Request) -> Response:
        serializer = FolderReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request_user(request)
        services.folder_arrange(
            user=user,
            parent=folder_or_none(user=user, key=data["parent"]),
            folder_uuids=data.get("folders", []),
            conversation_uuids=data.get("conversations", []),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchView(TenantAPIMixin, APIView):
    @extend_schema(
        operation_id="search_messages",
        parameters=[OpenApiParameter("q", str, required=True, description="What to find.")],
        responses=SearchResultsSerializer,
        description="Your messages that match, best first (PostgreSQL: full-text search with "
        "ranking; SQLite: substring match, newest first).",
    )
    def get(self, request: Request) -> Response:
        if "q" not in request.query_params:
            raise ValidationError({"q": [_("Say what to search for.")]})
        query = request.query_params["q"]
        hits = search.message_search(user=request_user(request), query=query)
        return Response(SearchResultsSerializer({"query": query, "results": hits}).data)


class MessageFeedbackView(TenantAPIMixin, APIView):
    """Thumbs up or down on an answer of your own conversation, with an optional reason."""

    @extend_schema(
        operation_id="messages_feedback_set",
        request=FeedbackSetSerializer,
        responses={
            200: FeedbackSerializer,
            409: error_response(
                "`not_an_answer`: a question, a refusal, an answer still being written."
            ),
        },
        description="Rate an answer `up` or `down` (again: replaces the rating). 400 "
        "`invalid`: a rating other than `up` or `down`, a reason too long. 409 "
        "`not_an_answer`: only a written answer can be rated.",
    )
    def put(self, request: Request, conversation_id: str, message_id: str) -> Response:
        user = request_user(request)
        conversation = selectors.conversation_get_for_user(user=user, uuid=conversation_id)
        message = selectors.message_get_in_conversation(conversation=conversation, uuid=message_id)
        serializer = FeedbackSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        feedback = services.message_feedback_set(
            message=message, user=user, rating=data["rating"], reason=data.get("reason", "")
        )
        return Response(FeedbackSerializer(feedback).data)

    @extend_schema(operation_id="messages_feedback_clear", responses={204: None})
    def delete(self, request: Request, conversation_id: str, message_id: str) -> Response:
        user = request_user(request)
        conversation = selectors.conversation_get_for_user(user=user, uuid=conversation_id)
        message = selectors.message_get_in_conversation(conversation=conversation, uuid=message_id)
        services.message_feedback_clear(message=message)
        return Response(status=status.HTTP_204_NO_CONTENT)
