"""Choosing a theme: stored per user, in a cookie for visitors, in the first HTML byte."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from branding.models import ThemePreference
from branding.themes import COOKIE_NAME
from tests.conftest import signed_in as sign_in


@pytest.fixture
def member(user: User) -> Client:
    return sign_in(user)


def _html_tag(client: Client, path: str = "/accounts/login/") -> str:
    body = client.get(path, follow=True).content.decode()
    return body[body.index("<html") : body.index(">", body.index("<html")) + 1]


def test_without_a_choice_the_system_preference_decides(db: None) -> None:
    body = Client().get("/accounts/login/").content.decode()
    assert 'data-theme="auto"' in _html_tag(Client())
    assert 'themes/light.css" media="not all and (prefers-color-scheme: dark)"' in body
    assert 'themes/default.css" media="(prefers-color-scheme: dark)"' in body


def test_signed_in_choice_is_stored_and_rendered_on_the_next_page(
    member: Client, user: User
) -> None:
    response = member.post("/theme/", {"theme": "terminal", "next": "/settings/appearance/"})
    assert response.status_code == 302
    assert response["Location"] == "/settings/appearance/"
    assert ThemePreference.objects.get(user=user).theme == "terminal"
    page = member.get("/settings/appearance/").content.decode()
    assert 'data-theme="terminal"' in page[:200]
    assert 'href="/static/branding/themes/terminal.css" data-theme-css' in page
    assert 'value="terminal" checked' in page


def test_the_choice_follows_the_user_to_another_browser(member: Client, user: User) -> None:
    member.post("/theme/", {"theme": "writer"})
    other = Client()
    other.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    assert 'data-theme="writer"' in _html_tag(other, "/settings/appearance/")


def test_anonymous_choice_lives_in_a_cookie(db: None) -> None:
    client = Client()
    response = client.post("/theme/", {"theme": "memphis"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"theme": "memphis"}
    assert response.cookies[COOKIE_NAME].value == "memphis"
    assert response.cookies[COOKIE_NAME]["samesite"] == "Lax"
    assert 'data-theme="memphis"' in _html_tag(client)
    assert ThemePreference.objects.count() == 0


def test_auto_forgets_the_choice(member: Client, user: User) -> None:
    member.post("/theme/", {"theme": "halloween"})
    member.post("/theme/", {"theme": "auto"})
    assert not ThemePreference.objects.filter(user=user).exists()
    assert 'data-theme="auto"' in _html_tag(member, "/settings/appearance/")


def test_an_unknown_theme_is_refused_and_nothing_is_stored(member: Client, user: User) -> None:
    member.post("/theme/", {"theme": "light"})
    response = member.post("/theme/", {"theme": "neon"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_theme"
    assert "neon" in response.json()["message"]
    assert COOKIE_NAME not in response.cookies
    assert ThemePreference.objects.get(user=user).theme == "light"
    page = member.post("/theme/", {"theme": "neon"})
    assert page.status_code == 400
    assert "There is no theme called" in page.content.decode()


def test_a_forged_cookie_is_ignored(db: None) -> None:
    client = Client()
    client.cookies[COOKIE_NAME] = '"><script>'
    assert 'data-theme="auto"' in _html_tag(client)


def test_next_may_not_leave_the_site(db: None) -> None:
    response = Client().post("/theme/", {"theme": "light", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_every_page_has_the_switcher_and_a_skip_link(db: None) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert "data-theme-select" in page
    assert page.count('<option value="') >= 14
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page


def test_appearance_settings_needs_sign_in(db: None) -> None:
    response = Client().get("/settings/appearance/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
