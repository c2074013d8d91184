"""REST endpoints for the signed-in user and their API keys."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MeSerializer,
)
from accounts.models import User
from security.ratelimit import throttle
from spark.tenancy.api import TenantAPIMixin


def request_user(request: Request) -> User:
    """The authenticated user of an API request (views require authentication)."""
    user = request.user
    assert isinstance(user, User)
    return user


class MeView(TenantAPIMixin, APIView):
    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        user = request_user(request)
        membership = selectors.membership_for_user(user=user)
        role = membership.role if membership else None
        return Response(MeSerializer(MeSerializer.describe(user, self.tenant, role)).data)


class ApiKeyListView(TenantAPIMixin, APIView):
    throttle_classes = [throttle("api_key_create", key="user", methods=("POST",))]

    @extend_schema(responses=ApiKeySerializer(many=True), operation_id="api_keys_list")
    def get(self, request: Request) -> Response:
        keys = selectors.api_key_list(user=request_user(request))
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
        operation_id="api_keys_create",
    )
    def post(self, request: Request) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.api_key_create(
            user=request_user(request),
            name=serializer.validated_data["name"],
            request=request._request,
        )
        created.api_key.key = created.raw_key  # type: ignore[attr-defined]
        return Response(
            ApiKeyCreatedSerializer(created.api_key).data, status=status.HTTP_201_CREATED
        )


class ApiKeyDetailView(TenantAPIMixin, APIView):
    @extend_schema(responses=ApiKeySerializer, operation_id="api_keys_retrieve")
    def get(self, request: Request, key_id: str) -> Response:
        api_key = selectors.api_key_get_for_user(user=request_user(request), key_uuid=key_id)
        return Response(ApiKeySerializer(api_key).data)

    @extend_schema(responses={204: None}, operation_id="api_keys_revoke")
    def delete(self, request: Request, key_id: str) -> Response:
        api_key = selectors.api_key_get_for_user(user=request_user(request), key_uuid=key_id)
        services.api_key_revoke(
            api_key=api_key, actor=request_user(request), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
