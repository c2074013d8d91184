"""Writes of the branding app."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from branding.models import ThemePreference
from branding.themes import AUTO, theme_get


class InvalidTheme(ValueError):
    """The slug names no registered theme."""


@transaction.atomic
def theme_preference_set(*, user: User, theme: str) -> ThemePreference | None:
    """Store ``user``'s theme; ``auto`` removes the choice (the system's preference decides)."""
    if theme == AUTO:
        ThemePreference.objects.filter(user=user).delete()
        return None
    if theme_get(theme) is None:
        raise InvalidTheme(theme)
    preference, _ = ThemePreference.objects.update_or_create(user=user, defaults={"theme": theme})
    return preference
