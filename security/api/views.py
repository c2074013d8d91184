"""REST endpoints for uploads: store a file, read its metadata and a fresh link, delete it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from security import selectors, services
from security.api.serializers import FileUploadSerializer, StoredFileSerializer
from security.ratelimit import throttle
from spark.tenancy.api import TenantAPIMixin


class FileListView(TenantAPIMixin, APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [throttle("upload", key="user", methods=("POST",))]

    @extend_schema(
        request={"multipart/form-data": FileUploadSerializer},
        responses={201: StoredFileSerializer},
        operation_id="files_create",
    )
    def post(self, request: Request) -> Response:
        serializer = FileUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        stored = services.file_store(
            owner=request.user,
            tenant=self.tenant,
            kind=serializer.validated_data["kind"],
            data=upload,
            name=upload.name or "",
        )
        data = StoredFileSerializer(stored, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class FileDetailView(TenantAPIMixin, APIView):
    @extend_schema(responses=StoredFileSerializer, operation_id="files_retrieve")
    def get(self, request: Request, file_id: str) -> Response:
        stored = selectors.stored_file_get_for_user(user=request.user, file_uuid=file_id)
        return Response(StoredFileSerializer(stored, context={"request": request}).data)

    @extend_schema(responses={204: None}, operation_id="files_destroy")
    def delete(self, request: Request, file_id: str) -> Response:
        stored = selectors.stored_file_get_for_user(user=request.user, file_uuid=file_id)
        services.file_delete(stored_file=stored)
        return Response(status=status.HTTP_204_NO_CONTENT)
