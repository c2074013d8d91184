"""REST endpoints for the prompt catalogue, a prompt's details, and the model catalogue."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import request_user
from marketplace import domains, selectors, services
from marketplace.api.serializers import (
    LLMModelSerializer,
    PromptDetailSerializer,
    PromptDomainSerializer,
    PromptDomainWriteSerializer,
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


# --- custom domains ------------------------------------------------------------------------


class DomainListView(TenantAPIMixin, APIView):
    """The creator's custom domains, and attaching a new one to one of their prompts."""

    @extend_schema(operation_id="domains_list", responses=PromptDomainSerializer(many=True))
    def get(self, request: Request) -> Response:
        found = domains.domains_for_owner(user=request_user(request), tenant=self.tenant)
        return Response(PromptDomainSerializer(found, many=True).data)

    @extend_schema(
        operation_id="domains_create",
        request=PromptDomainWriteSerializer,
        responses={201: PromptDomainSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = PromptDomainWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request_user(request)
        prompt = selectors.prompt_get_for_owner(
            user=user, slug_or_uuid=serializer.validated_data["prompt"]
        )
        domain = domains.domain_add(
            user=user,
            tenant=self.tenant,
            prompt=prompt,
            hostname=serializer.validated_data["hostname"],
        )
        return Response(PromptDomainSerializer(domain).data, status=status.HTTP_201_CREATED)


class DomainDetailView(TenantAPIMixin, APIView):
    @extend_schema(operation_id="domains_retrieve", responses=PromptDomainSerializer)
    def get(self, request: Request, uuid: UUID) -> Response:
        domain = domains.domain_get_for_owner(
            user=request_user(request), tenant=self.tenant, uuid=uuid
        )
        return Response(PromptDomainSerializer(domain).data)

    @extend_schema(operation_id="domains_destroy", responses={204: None})
    def delete(self, request: Request, uuid: UUID) -> Response:
        domain = domains.domain_get_for_owner(
            user=request_user(request), tenant=self.tenant, uuid=uuid
        )
        domains.domain_remove(domain=domain)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DomainVerifyView(TenantAPIMixin, APIView):
    """Check the domain's DNS records now (the beat task also checks pending domains)."""

    @extend_schema(operation_id="domains_verify", request=None, responses=PromptDomainSerializer)
    def post(self, request: Request, uuid: UUID) -> Response:
        domain = domains.domain_get_for_owner(
            user=request_user(request), tenant=self.tenant, uuid=uuid
        )
        return Response(PromptDomainSerializer(domains.domain_verify(domain=domain)).data)


class DomainActivateView(TenantAPIMixin, APIView):
    """Start serving a verified domain; charges the one-time slot fee (402 without funds)."""

    @extend_schema(operation_id="domains_activate", request=None, responses=PromptDomainSerializer)
    def post(self, request: Request, uuid: UUID) -> Response:
        user = request_user(request)
        domain = domains.domain_get_for_owner(user=user, tenant=self.tenant, uuid=uuid)
        return Response(
            PromptDomainSerializer(domains.domain_activate(domain=domain, user=user)).data
        )
