"""Account pages: home, email sign-in links, settings (profile, API keys, alter egos)."""

from __future__ import annotations

from typing import Any

from allauth.account.utils import perform_login
from allauth.account.views import password_change, password_set
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from sesame.utils import get_user as sesame_get_user

from accounts import selectors, services
from accounts.forms import (
    AlterEgoForm,
    ApiKeyCreateForm,
    MagicLinkRequestForm,
    ProfileForm,
    ProviderKeyForm,
    add_application_error,
)
from accounts.models import User
from accounts.ratelimits import limit_auth_view
from spark.common.exceptions import ApplicationError
from spark.llm import selectors as llm_selectors, services as llm_services
from spark.llm.models import KeyMode

# What each provider-key mode means for the person reading their keys page, in one sentence.
KEY_MODE_MEANINGS: dict[str, Any] = {
    KeyMode.SYSTEM_ONLY: gettext_lazy(
        "Your chats use the platform's keys and are charged to your wallet; keys you add "
        "here are not used until your key mode changes."
    ),
    KeyMode.PREFER_OWN: gettext_lazy(
        "Your chats use your own key for a provider when you have one here (the model's price "
        "is then not charged, only the platform's fee), and the platform's key otherwise."
    ),
    KeyMode.OWN_ONLY: gettext_lazy(
        "Your chats need your own key: a model whose provider has no key of yours here "
        "cannot answer."
    ),
}


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in home: who you are, your workspace, where to go next."""
    if not request.user.is_authenticated:
        return render(request, "accounts/landing.html")
    membership = selectors.membership_for_user(user=request.user)  # type: ignore[arg-type]
    return render(request, "accounts/home.html", {"membership": membership})


@require_http_methods(["GET", "POST"])
def _magic_link_request(request: HttpRequest) -> HttpResponse:
    form = MagicLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.magic_link_send(
            request=request,
            email=form.cleaned_data["email"],
            next_url=_safe_next(request, request.POST.get("next")),
        )
        return render(
            request, "accounts/magic_link_sent.html", {"email": form.cleaned_data["email"]}
        )
    return render(
        request,
        "accounts/magic_link_request.html",
        {"form": form, "next": _safe_next(request, request.GET.get("next"))},
    )


magic_link_request = limit_auth_view(
    _magic_link_request,
    group="magic_link",
    ip_rate="magic_link_ip",
    account_rate="magic_link_account",
)


@require_http_methods(["GET", "POST"])
def magic_link_login(request: HttpRequest) -> HttpResponse:
    """GET shows a page that signs in (one click, or automatically with JavaScript).

    Signing in takes a POST so that mail scanners that open links do not use up the
    one-time token before the person does.
    """
    token = request.POST.get("token") if request.method == "POST" else request.GET.get("token")
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not token:
        return render(request, "accounts/magic_link_invalid.html", status=400)
    if request.method == "GET":
        return render(
            request, "accounts/magic_link_confirm.html", {"token": token, "next": next_url}
        )

    user = sesame_get_user(token, scope=services.MAGIC_LINK_SCOPE, update_last_login=True)
    if user is None or not getattr(user, "allows_magic_link_login", False):
        return render(request, "accounts/magic_link_invalid.html", status=400)
    services.magic_link_mark_email_verified(user=user)
    return perform_login(
        request,
        user,
        email_verification="none",
        redirect_url=next_url or resolve_url(settings.LOGIN_REDIRECT_URL),
    )


def _password_gate(view: Any) -> Any:
    """Users an admin has barred from changing their password get a clear page instead."""

    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not getattr(user, "can_change_password", True):
            return render(request, "accounts/password_change_disabled.html", status=403)
        return view(request, *args, **kwargs)  # type: ignore[no-any-return]

    return gated


password_change_gated = _password_gate(password_change)
password_set_gated = _password_gate(password_set)


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("settings_profile")
        if user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response
    return render(request, "accounts/settings_profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def settings_api_keys(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ApiKeyCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.api_key_create(
                user=user, name=form.cleaned_data["name"], request=request
            )
        except ApplicationError as error:
            form.add_error("name", error.message)
        else:
            form = ApiKeyCreateForm()
    keys = selectors.api_key_list(user=user)
    return render(
        request,
        "accounts/settings_api_keys.html",
        {"form": form, "keys": keys, "created": created},
    )


@login_required
@require_POST
def settings_api_key_revoke(request: HttpRequest, key_uuid: str) -> HttpResponse:
    api_key = selectors.api_key_get_for_user(user=request.user, key_uuid=key_uuid)  # type: ignore[arg-type]
    services.api_key_revoke(api_key=api_key, actor=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
    return redirect("settings_api_keys")


@login_required
@require_http_methods(["GET", "POST"])
def settings_alter_egos(request: HttpRequest) -> HttpResponse:
    """The user's personas, and a form to add one."""
    user: User = request.user  # type: ignore[assignment]
    form = AlterEgoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            alter_ego = services.alter_ego_create(user=user, **form.service_fields(editing=False))
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, _("“%(name)s” was added.") % {"name": alter_ego.name})
            return redirect("settings_alter_egos")
    alter_egos = selectors.alter_ego_list(user=user)
    return render(
        request, "accounts/settings_alter_egos.html", {"form": form, "alter_egos": alter_egos}
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_alter_ego_edit(request: HttpRequest, alter_ego_uuid: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alter_ego = selectors.alter_ego_get_for_user(user=user, uuid=alter_ego_uuid)
    form = AlterEgoForm.for_alter_ego(alter_ego, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alter_ego_update(alter_ego=alter_ego, **form.service_fields(editing=True))
        except ApplicationError as error:
            add_application_error(form, error)
        else:
            messages.success(request, _("“%(name)s” was saved.") % {"name": alter_ego.name})
            return redirect("settings_alter_egos")
    return render(
        request, "accounts/settings_alter_ego_edit.html", {"form": form, "alter_ego": alter_ego}
    )


@login_required
@require_POST
def settings_alter_ego_default(request: HttpRequest, alter_ego_uuid: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alter_ego = selectors.alter_ego_get_for_user(user=user, uuid=alter_ego_uuid)
    services.alter_ego_set_default(alter_ego=alter_ego)
    messages.success(request, _("New chats now start as “%(name)s”.") % {"name": alter_ego.name})
    return redirect("settings_alter_egos")


@login_required
@require_POST
def settings_alter_ego_delete(request: HttpRequest, alter_ego_uuid: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alter_ego = selectors.alter_ego_get_for_user(user=user, uuid=alter_ego_uuid)
    name = alter_ego.name
    services.alter_ego_delete(alter_ego=alter_ego)
    messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
    return redirect("settings_alter_egos")


@login_required
@require_http_methods(["GET", "POST"])
def settings_provider_keys(request: HttpRequest) -> HttpResponse:
    """The user's own provider keys (BYOK): masked, added here, never shown again."""
    user: User = request.user  # type: ignore[assignment]
    form = ProviderKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = services.provider_key_add(
                user=user,
                provider=form.cleaned_data["provider"],
                api_key=form.cleaned_data["api_key"],
                label=form.cleaned_data["label"],
            )
        except ApplicationError as error:
            form.add_error("api_key", error.message)
        else:
            messages.success(
                request,
                _("Your %(provider)s key was saved.") % {"provider": key.get_provider_display()},
            )
            return redirect("settings_provider_keys")
    return render(
        request,
        "accounts/settings_provider_keys.html",
        {
            "form": form,
            "keys": llm_selectors.provider_key_list(user=user),
            "key_mode": user.get_llm_key_mode_display(),  # type: ignore[attr-defined]
            "key_mode_meaning": KEY_MODE_MEANINGS.get(user.llm_key_mode, ""),
        },
    )


@login_required
@require_POST
def settings_provider_key_delete(request: HttpRequest, key_uuid: str) -> HttpResponse:
    key = llm_selectors.provider_key_get_for_user(user=request.user, key_uuid=key_uuid)
    llm_services.provider_key_delete(key=key)
    messages.success(request, _("The key %(mask)s was deleted.") % {"mask": key.masked})
    return redirect("settings_provider_keys")


@login_required
@require_POST
def settings_provider_key_test(request: HttpRequest, key_uuid: str) -> HttpResponse:
    key = llm_selectors.provider_key_get_for_user(user=request.user, key_uuid=key_uuid)
    result = llm_services.provider_key_test(key=key)
    level = messages.SUCCESS if result.ok else messages.ERROR
    messages.add_message(request, level, f"{key.masked}: {result.message}")
    return redirect("settings_provider_keys")
