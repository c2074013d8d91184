"""DRF authentication with Spark API keys (``Authorization: Bearer <key>``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.middleware import bearer_token
from accounts.services import api_key_authenticate


class ApiKeyAuthentication(BaseAuthentication):
    """Accepts an active API key; a bearer token that is not one gets a 401 JSON error."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        token = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if token is None:
            return None
        django_request = request._request
        api_key = getattr(django_request, "api_key", None)
        if api_key is None and not getattr(django_request, "api_key_invalid", False):
            api_key = api_key_authenticate(raw_key=token)  # middleware did not run
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
