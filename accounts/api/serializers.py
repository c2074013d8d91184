from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import AlterEgo, ApiKey, Tenant, User
from spark.common import api_fields as strict
from spark.llm.models import ByokProvider, UserProviderKey


class TenantSerializer(serializers.ModelSerializer[Tenant]):
    id = serializers.UUIDField(source="uuid", read_only=True)

    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "kind"]


class MeSerializer(serializers.Serializer[dict[str, object]]):
    """The signed-in user, the tenant this request runs in, and their role there."""

    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True)
    tenant = TenantSerializer(read_only=True)
    role = serializers.CharField(read_only=True, allow_null=True)

    @staticmethod
    def describe(user: User, tenant: Tenant, role: str | None) -> dict[str, object]:
        return {
            "id": user.uuid,
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "tenant": tenant,
            "role": role,
        }


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer[None]):
    name = strict.CharField(max_length=100)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The secret key. Shown once: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ProviderKeySerializer(serializers.ModelSerializer[UserProviderKey]):
    """A user's own provider key, masked (the key itself never leaves the server)."""

    id = serializers.UUIDField(source="uuid", read_only=True)
    masked = serializers.CharField(read_only=True, help_text="First four and last four characters.")

    class Meta:
        model = UserProviderKey
        fields = [
            "id",
            "provider",
            "label",
            "masked",
            "created_at",
            "last_tested_at",
            "last_test_ok",
        ]
        read_only_fields = fields


class ProviderKeyCreateSerializer(serializers.Serializer[None]):
    provider = serializers.ChoiceField(choices=ByokProvider.choices)
    key = strict.CharField(max_length=500, write_only=True, trim_whitespace=True)
    # "label" is also an attribute of DRF's Field in the type stubs; the API field is meant.
    label = strict.CharField(  # type: ignore[assignment]
        max_length=100, required=False, allow_blank=True, default=""
    )


class ProviderKeyTestSerializer(serializers.Serializer[Any]):
    ok = serializers.BooleanField(read_only=True)
    code = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)


class AlterEgoSerializer(serializers.ModelSerializer[AlterEgo]):
    id = serializers.UUIDField(source="uuid", read_only=True)
    avatar_url = serializers.SerializerMethodField(
        help_text="The avatar picture's URL, or null (show the name's initial)."
    )

    class Meta:
        model = AlterEgo
        fields = [
            "id",
            "name",
            "description",
            "avatar_url",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_avatar_url(self, alter_ego: AlterEgo) -> str | None:
        if not alter_ego.avatar:
            return None
        request = self.context.get("request")
        url = alter_ego.avatar.url
        return request.build_absolute_uri(url) if request is not None else url


class AlterEgoWriteSerializer(serializers.Serializer[None]):
    """A persona's fields (the avatar is uploaded on the settings page)."""

    name = strict.CharField(max_length=80)
    description = strict.CharField(max_length=2000, required=False, allow_blank=True)
    is_default = strict.BooleanField(required=False)
