"""REST endpoints for a conversation's shared links: make one, list them, revoke one."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import request_user
from chat import selectors, services
from chat.models import ConversationShare
from spark.common.openapi import error_response
from spark.tenancy.api import TenantAPIMixin


def share_path(share: ConversationShare) -> str:
    return reverse("chat:share", kwargs={"token": share.token})


class ShareSerializer(serializers.ModelSerializer[ConversationShare]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    url = serializers.SerializerMethodField(
        help_text="The link to give: anyone who has it can read the snapshot."
    )
    message_count = serializers.SerializerMethodField()

    class Meta:
        model = ConversationShare
        fields = ["id", "url", "title", "message_count", "created_at"]
        read_only_fields = fields

    def get_url(self, share: ConversationShare) -> str:
        request = self.context.get("request")
        path = share_path(share)
        return request.build_absolute_uri(path) if request is not None else path

    def get_message_count(self, share: ConversationShare) -> int:
        return len(share.messages)


class ShareListView(TenantAPIMixin, APIView):
    @extend_schema(operation_id="conversation_shares_list", responses=ShareSerializer(many=True))
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get_for_user(
            user=request_user(request), uuid=conversation_id
        )
        shares = selectors.share_list(conversation=conversation)
        return Response(ShareSerializer(shares, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="conversation_shares_create",
        request=None,
        responses={
            201: ShareSerializer,
            409: error_response("`nothing_to_share`: the conversation has no message yet."),
        },
        description="A read-only link to the conversation as it is now (a snapshot: later "
        "messages are not in it). Never shows the prompt's instructions, your own "
        "instructions or your e-mail. 409 `nothing_to_share` before the first message.",
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get_for_user(
            user=request_user(request), uuid=conversation_id
        )
        share = services.share_create(conversation=conversation)
        data: Any = ShareSerializer(share, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class ShareDetailView(TenantAPIMixin, APIView):
    @extend_schema(
        operation_id="conversation_shares_revoke",
        responses={204: None},
        description="Revoke the link: from now on it answers 404.",
    )
    def delete(self, request: Request, conversation_id: str, share_id: str) -> Response:
        conversation = selectors.conversation_get_for_user(
            user=request_user(request), uuid=conversation_id
        )
        share = selectors.share_get_for_conversation(conversation=conversation, uuid=share_id)
        services.share_revoke(share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)
