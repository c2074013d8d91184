"""The theme registry: thirteen themes, each a CSS file of custom properties (docs/branding.md).

A theme file sets every variable of ``_template.css`` on ``:root``; pages only use the
variables. The contrast rules (``CONTRAST_PAIRS``) are WCAG 2.2 AA and are checked for
every theme by tests/branding/test_themes.py from the CSS itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

THEMES_DIR = Path(__file__).resolve().parent / "static" / "branding" / "themes"
COOKIE_NAME = "spark_theme"
AUTO = "auto"  # no choice made: the system's light or dark preference decides


@dataclass(frozen=True)
class Theme:
    slug: str
    name: str | Promise
    scheme: str  # "light" or "dark": what the browser's own controls follow

    @property
    def static_path(self) -> str:
        return f"branding/themes/{self.slug}.css"

    @property
    def file(self) -> Path:
        return THEMES_DIR / f"{self.slug}.css"


THEMES: tuple[Theme, ...] = (
    Theme("default", _("Default"), "dark"),
    Theme("light", _("Light"), "light"),
    Theme("coder", _("Coder"), "dark"),
    Theme("terminal", _("Terminal"), "dark"),
    Theme("writer", _("Writer"), "light"),
    Theme("neumorphism", _("Neumorphism"), "light"),
    Theme("frutiger-aero", _("Frutiger Aero"), "light"),
    Theme("memphis", _("Memphis"), "light"),
    Theme("e-ink", _("E-ink"), "light"),
    Theme("katari-shoji", _("Katari Shoji"), "light"),
    Theme("halloween", _("Halloween"), "dark"),
    Theme("christmas", _("Christmas"), "dark"),
    Theme("valentines", _("Valentine's"), "light"),
)
BY_SLUG = {theme.slug: theme for theme in THEMES}
SYSTEM_DARK = BY_SLUG["default"]
SYSTEM_LIGHT = BY_SLUG["light"]

# Every variable a theme must set (the contract of _template.css).
COLOUR_VARIABLES = (
    "bg", "surface", "surface-2", "text", "muted", "border", "control-border", "accent",
    "accent-2", "accent-text", "focus", "ok", "ok-bg", "warn", "warn-bg", "err", "err-bg",
    "code-bg", "code-text",
)  # fmt: skip
OTHER_VARIABLES = ("backdrop", "radius", "radius-sm", "shadow", "font", "font-heading", "mono")

# (foreground, background, minimum ratio): 4.5 for text, 3 for UI components (WCAG 1.4.3/1.4.11).
CONTRAST_PAIRS: tuple[tuple[str, str, float], ...] = (
    ("text", "bg", 4.5),
    ("text", "surface", 4.5),
    ("text", "surface-2", 4.5),
    ("muted", "bg", 4.5),
    ("muted", "surface", 4.5),
    ("muted", "surface-2", 4.5),
    ("accent", "bg", 4.5),
    ("accent", "surface", 4.5),
    ("accent-text", "accent", 4.5),
    ("accent-text", "accent-2", 4.5),
    ("ok", "ok-bg", 4.5),
    ("warn", "warn-bg", 4.5),
    ("err", "err-bg", 4.5),
    ("err", "surface", 4.5),
    ("code-text", "code-bg", 4.5),
    ("control-border", "surface", 3.0),
    ("focus", "bg", 3.0),
    ("focus", "surface", 3.0),
)

_DECLARATION = re.compile(r"--([a-z0-9-]+)\s*:\s*([^;]+);")
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def theme_get(slug: str | None) -> Theme | None:
    return BY_SLUG.get(slug or "")


def theme_variables(css: str) -> dict[str, str]:
    """The custom properties set in the first ``:root { ... }`` block of a theme file."""
    start = css.index(":root")
    body = css[css.index("{", start) + 1 : css.index("}", start)]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return {name: value.strip() for name, value in _DECLARATION.findall(body)}


def parse_hex(value: str) -> tuple[int, int, int]:
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"not a #rgb or #rrggbb colour: {value!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.x contrast ratio of two hex colours, from 1 to 21."""
    a = relative_luminance(parse_hex(foreground))
    b = relative_luminance(parse_hex(background))
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def contrast_failures(variables: dict[str, str]) -> list[str]:
    """Each pair of ``CONTRAST_PAIRS`` below its minimum, named with its ratio."""
    failures = []
    for fg, bg, minimum in CONTRAST_PAIRS:
        ratio = contrast_ratio(variables[fg], variables[bg])
        if ratio < minimum:
            failures.append(f"--{fg} on --{bg}: {ratio:.2f}:1 < {minimum}:1")
    return failures
