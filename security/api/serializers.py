from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from security.models import StoredFile
from security.services import file_signed_url


class StoredFileSerializer(serializers.ModelSerializer[StoredFile]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    url = serializers.SerializerMethodField(
        help_text="A download link for you only, valid for a few minutes."
    )

    class Meta:
        model = StoredFile
        fields = [
            "id",
            "kind",
            "content_type",
            "size",
            "sha256",
            "original_name",
            "width",
            "height",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_url(self, obj: StoredFile) -> str:
        user: Any = self.context["request"].user
        return file_signed_url(stored_file=obj, user=user)


class FileUploadSerializer(serializers.Serializer[None]):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=StoredFile.Kind.choices)
