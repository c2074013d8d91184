"""allauth adapters: sign-up joins the request's tenant; closed tenants refuse sign-up;
a tenant's site signs in only its own members (anyone else is a visitor there)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts import tenancy
from accounts.models import Tenant, User
from accounts.services import membership_ensure


def _signup_tenant(request: HttpRequest) -> Tenant:
    tenant = getattr(request, "tenant", None)
    return tenant if tenant is not None else tenancy.public_tenant()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        tenant = _signup_tenant(request)
        return bool(tenant.is_active and tenant.allows_signup)

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        """On a tenant's site only its members sign in: a session elsewhere would make them
        a visitor at once (docs/tenancy.md), so say so instead of signing them in."""
        site = getattr(request, "tenant_site", None)
        if site is not None and not tenancy.is_member(user, site):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            messages.error(
                request,
                _("This account belongs to another site. Sign in where you signed up."),
            )
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            membership_ensure(user=user, tenant=_signup_tenant(request))
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        tenant = _signup_tenant(request)
        return bool(tenant.is_active and tenant.allows_signup)

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user: User = super().populate_user(request, sociallogin, data)
        name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        user.display_name = (data.get("name") or name or "")[:120]
        user.email = (user.email or "").lower()
        return user

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        membership_ensure(user=user, tenant=_signup_tenant(request))
        return user
