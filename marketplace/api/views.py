"""REST endpoints for the prompt catalogue, a prompt's details, and the model catalogue."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import request_user
from marketplace import selectors, services
from marketplace.api.serializers import (
    LLMModelSerializer,
    PromptDetailSerializer,
    PromptListSerializer,
    PromptWriteSerializer,
)
from marketplace.models import Prompt
from spark.common.pagination import StrictPageNumberPagination
from spark.tenancy.api import TenantAPIMixin


class CatalogPagination(StrictPageNumberPagination):
    page_size = 50
    max_page_size = 100


class PromptListView(TenantAPIMixin, generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = PromptListSerializer
    pagination_class = CatalogPagination

    def get_queryset(self) -> QuerySet[Prompt]:
        params = self.request.query_params
        return selectors.prompt_catalog(
            user=request_user(self.request),
            tenant=self.tenant,
            category=params.get("category") or None,
            query=params.get("q", "")[:100],
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "tenant": self.tenant}

    @extend_schema(
        operation_id="prompts_list",
        parameters=[
            OpenApiParameter("category", str, description="A category's slug."),
            OpenApiParameter("q", str, description="Text to find in names and descriptions."),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="prompts_create",
        request=PromptWriteSerializer,
        responses={201: PromptDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = PromptWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prompt = services.prompt_create(
            owner=request_user(request), tenant=self.tenant, **serializer.validated_data
        )
        context = {"request": request, "tenant": self.tenant}
        return Response(
            PromptDetailSerializer(prompt, context=context).data, status=status.HTTP_201_CREATED
        )


class PromptDetailView(TenantAPIMixin, APIView):
    @extend_schema(
        operation_id="prompts_retrieve",
        responses=PromptDetailSerializer,
        parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH, description="Slug or id.")],
    )
    def get(self, request: Request, key: str) -> Response:
        prompt = selectors.prompt_get_for_chat(
            user=request_user(request), tenant=self.tenant, slug_or_uuid=key
        )
        context = {"request": request, "tenant": self.tenant}
        return Response(PromptDetailSerializer(prompt, context=context).data)

    @extend_schema(
        operation_id="prompts_update",
        request=PromptWriteSerializer(partial=True),
        responses=PromptDetailSerializer,
        parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH, description="Slug or id.")],
    )
    def patch(self, request: Request, key: str) -> Response:
        user = request_user(request)
        prompt = selectors.prompt_get_for_owner(user=user, slug_or_uuid=key)
        serializer = PromptWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        prompt = services.prompt_update(prompt=prompt, actor=user, **serializer.validated_data)
        context = {"request": request, "tenant": self.tenant}
        return Response(PromptDetailSerializer(prompt, context=context).data)


class ModelListView(APIView):
    @extend_schema(operation_id="models_list", responses=LLMModelSerializer(many=True))
    def get(self, request: Request) -> Response:
        models = selectors.active_models()
        return Response(LLMModelSerializer(models, many=True).data)  # type: ignore[arg-type]
