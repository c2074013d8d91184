"""REST endpoints for the signed-in user, their API keys and their alter egos."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.permissions import SignedInSession
from accounts.api.serializers import (
    AlterEgoSerializer,
    AlterEgoWriteSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MeSerializer,
    ProviderKeyCreateSerializer,
    ProviderKeySerializer,
    ProviderKeyTestSerializer,
)
from accounts.models import User
from security.ratelimit import throttle
from spark.llm import selectors as llm_selectors, services as llm_services
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
    """Listing and creating keys needs the signed-in person (docs/accounts.md); a key may
    still read or revoke itself and its owner's other keys (``ApiKeyDetailView``)."""

    permission_classes = [IsAuthenticated, SignedInSession]
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


class ProviderKeyListView(TenantAPIMixin, APIView):
    @extend_schema(responses=ProviderKeySerializer(many=True), operation_id="provider_keys_list")
    def get(self, request: Request) -> Response:
        keys = llm_selectors.provider_key_list(user=request_user(request))
        return Response(ProviderKeySerializer(keys, many=True).data)

    @extend_schema(
        request=ProviderKeyCreateSerializer,
        responses={201: ProviderKeySerializer},
        operation_id="provider_keys_create",
    )
    def post(self, request: Request) -> Response:
        serializer = ProviderKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = services.provider_key_add(
            user=request_user(request),
            provider=serializer.validated_data["provider"],
            api_key=serializer.validated_data["key"],
            label=serializer.validated_data["label"],
        )
        return Response(ProviderKeySerializer(key).data, status=status.HTTP_201_CREATED)


class ProviderKeyDetailView(TenantAPIMixin, APIView):
    @extend_schema(responses=ProviderKeySerializer, operation_id="provider_keys_retrieve")
    def get(self, request: Request, key_id: str) -> Response:
        key = llm_selectors.provider_key_get_for_user(user=request_user(request), key_uuid=key_id)
        return Response(ProviderKeySerializer(key).data)

    @extend_schema(responses={204: None}, operation_id="provider_keys_delete")
    def delete(self, request: Request, key_id: str) -> Response:
        key = llm_selectors.provider_key_get_for_user(user=request_user(request), key_uuid=key_id)
        llm_services.provider_key_delete(key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProviderKeyTestView(TenantAPIMixin, APIView):
    @extend_schema(
        request=None, responses=ProviderKeyTestSerializer, operation_id="provider_keys_test"
    )
    def post(self, request: Request, key_id: str) -> Response:
        """Make a cheap real call with the key (listing the provider's models)."""
        key = llm_selectors.provider_key_get_for_user(user=request_user(request), key_uuid=key_id)
        result = llm_services.provider_key_test(key=key)
        return Response(ProviderKeyTestSerializer(result).data)


class AlterEgoListView(TenantAPIMixin, APIView):
    @extend_schema(responses=AlterEgoSerializer(many=True), operation_id="alter_egos_list")
    def get(self, request: Request) -> Response:
        alter_egos = selectors.alter_ego_list(user=request_user(request))
        return Response(
            AlterEgoSerializer(alter_egos, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=AlterEgoWriteSerializer,
        responses={201: AlterEgoSerializer},
        operation_id="alter_egos_create",
    )
    def post(self, request: Request) -> Response:
        serializer = AlterEgoWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alter_ego = services.alter_ego_create(
            user=request_user(request), **serializer.validated_data
        )
        return Response(
            AlterEgoSerializer(alter_ego, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class AlterEgoDetailView(TenantAPIMixin, APIView):
    @extend_schema(responses=AlterEgoSerializer, operation_id="alter_egos_retrieve")
    def get(self, request: Request, alter_ego_id: str) -> Response:
        alter_ego = selectors.alter_ego_get_for_user(user=request_user(request), uuid=alter_ego_id)
        return Response(AlterEgoSerializer(alter_ego, context={"request": request}).data)

    @extend_schema(
        request=AlterEgoWriteSerializer(partial=True),
        responses=AlterEgoSerializer,
        operation_id="alter_egos_update",
    )
    def patch(self, request: Request, alter_ego_id: str) -> Response:
        alter_ego = selectors.alter_ego_get_for_user(user=request_user(request), uuid=alter_ego_id)
        serializer = AlterEgoWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        alter_ego = services.alter_ego_update(alter_ego=alter_ego, **serializer.validated_data)
        return Response(AlterEgoSerializer(alter_ego, context={"request": request}).data)

    @extend_schema(responses={204: None}, operation_id="alter_egos_destroy")
    def delete(self, request: Request, alter_ego_id: str) -> Response:
        alter_ego = selectors.alter_ego_get_for_user(user=request_user(request), uuid=alter_ego_id)
        services.alter_ego_delete(alter_ego=alter_ego)
        return Response(status=status.HTTP_204_NO_CONTENT)
