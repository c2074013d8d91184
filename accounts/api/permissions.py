"""API permissions of accounts: what an API key may not do on its own."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import ApiKey
from spark.common.exceptions import ApplicationError


class SessionRequired(ApplicationError):
    status_code = 403
    default_code = "session_required"


def is_api_key_request(request: Request) -> bool:
    """Whether an API key (not a signed-in person) authenticated the request."""
    return isinstance(request.auth, ApiKey) or (
        getattr(request._request, "api_key", None) is not None
    )


class SignedInSession(BasePermission):
    """Only a person signed in with the browser session, never an API key.

    For managing keys: a stolen key that could create keys would outlive its own
    revocation, and one that could list them would learn what to revoke next.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_api_key_request(request):
            raise SessionRequired(
                _("Sign in on the website to create or list API keys; an API key cannot.")
            )
        return True
