"""The theme registry and WCAG 2.2 AA contrast of every theme, computed from its CSS file."""

from __future__ import annotations

import pytest

from branding.themes import (
    COLOUR_VARIABLES,
    OTHER_VARIABLES,
    THEMES,
    THEMES_DIR,
    contrast_failures,
    contrast_ratio,
    theme_variables,
)

EXPECTED = [
    "Default", "Light", "Coder", "Terminal", "Writer", "Neumorphism", "Frutiger Aero",
    "Memphis", "E-ink", "Katari Shoji", "Halloween", "Christmas", "Valentine's",
]  # fmt: skip


def test_thirteen_themes_are_registered_in_order() -> None:
    assert [str(theme.name) for theme in THEMES] == EXPECTED


def test_every_theme_file_and_only_those_are_shipped() -> None:
    shipped = {path.stem for path in THEMES_DIR.glob("*.css")}
    assert shipped == {theme.slug for theme in THEMES} | {"_template"}


@pytest.mark.parametrize("theme", THEMES, ids=lambda theme: theme.slug)
def test_theme_sets_every_variable_of_the_template(theme) -> None:
    variables = theme_variables(theme.file.read_text())
    template = theme_variables((THEMES_DIR / "_template.css").read_text())
    assert set(variables) == set(template) == set(COLOUR_VARIABLES) | set(OTHER_VARIABLES)
    assert f"color-scheme: {theme.scheme};" in theme.file.read_text()


@pytest.mark.parametrize("theme", THEMES, ids=lambda theme: theme.slug)
def test_theme_meets_wcag_aa_contrast(theme) -> None:
    assert contrast_failures(theme_variables(theme.file.read_text())) == []


def test_themes_are_designs_not_recolours() -> None:
    """Fonts, radii, shadows or backdrops differ: not thirteen palettes of one layout."""
    looks = {
        tuple(theme_variables(t.file.read_text())[k] for k in OTHER_VARIABLES if k != "mono")
        for t in THEMES
    }
    assert len(looks) == len(THEMES)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_a_failing_pair_is_named_with_its_ratio() -> None:
    variables = theme_variables((THEMES_DIR / "light.css").read_text())
    variables["muted"] = "#999999"
    failures = contrast_failures(variables)
    assert failures[0].startswith("--muted on --bg: 2.6")
    assert all(f.startswith("--muted on") for f in failures)


def test_a_colour_that_is_not_hex_is_refused() -> None:
    variables = theme_variables((THEMES_DIR / "light.css").read_text())
    variables["text"] = "rebeccapurple"
    with pytest.raises(ValueError, match="rebeccapurple"):
        contrast_failures(variables)
