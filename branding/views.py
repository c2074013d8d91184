"""Theme choice: the quick switcher and the Appearance settings page post here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from branding import services
from branding.selectors import theme_for_request
from branding.themes import AUTO, COOKIE_NAME, THEMES

COOKIE_MAX_AGE = 365 * 24 * 3600


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """Store the theme: on the user when signed in, and in a cookie for every visitor."""
    slug = (request.POST.get("theme") or "").strip()
    user = request.user
    try:
        if user.is_authenticated:
            assert isinstance(user, User)
            services.theme_preference_set(user=user, theme=slug)
        elif slug != AUTO and slug not in {theme.slug for theme in THEMES}:
            raise services.InvalidTheme(slug)
    except services.InvalidTheme:
        message = _("There is no theme called “%(theme)s”.") % {"theme": slug[:40]}
        if _wants_json(request):
            return JsonResponse({"code": "invalid_theme", "message": message}, status=400)
        return render(request, "branding/theme_invalid.html", {"message": message}, status=400)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response: HttpResponse = (
        JsonResponse({"theme": slug}) if _wants_json(request) else redirect(next_url)
    )
    if slug == AUTO:
        response.delete_cookie(COOKIE_NAME, samesite="Lax")
    else:
        response.set_cookie(
            COOKIE_NAME,
            slug,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@login_required
@require_GET
def settings_appearance(request: HttpRequest) -> HttpResponse:
    chosen = theme_for_request(request)
    return render(
        request,
        "branding/settings_appearance.html",
        {"themes": THEMES, "chosen": chosen.slug if chosen else AUTO},
    )
