"""Authentication backend: allauth's, refusing passwords for email-link-only accounts."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class SparkAuthenticationBackend(AuthenticationBackend):
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **credentials: Any
    ) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None and not getattr(user, "allows_password_login", True):
            return None
        return user
