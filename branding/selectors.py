"""Reads of the branding app."""

from __future__ import annotations

from django.http import HttpRequest

from branding.models import ThemePreference
from branding.themes import COOKIE_NAME, Theme, theme_get


def theme_for_request(request: HttpRequest) -> Theme | None:
    """The theme this person chose: a user's stored choice, else the cookie; None for no choice."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        preference = ThemePreference.objects.filter(user=user).only("theme").first()
        if preference is not None:
            return theme_get(preference.theme)
    return theme_get(request.COOKIES.get(COOKIE_NAME))
