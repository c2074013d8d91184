"""The theme of every page: in the first HTML byte (``<html data-theme>``), never set by script."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from branding.selectors import theme_for_request
from branding.themes import SYSTEM_DARK, SYSTEM_LIGHT, THEMES


def theme(request: HttpRequest) -> dict[str, Any]:
    chosen = SimpleLazyObject(lambda: theme_for_request(request))
    return {
        "theme": chosen,
        "THEMES": THEMES,
        "THEME_SYSTEM_DARK": SYSTEM_DARK,
        "THEME_SYSTEM_LIGHT": SYSTEM_LIGHT,
    }
