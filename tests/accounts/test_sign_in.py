"""Sign-up, email verification, password and email-link sign-in, Google, login methods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Tenant, User
from spark.tenancy.context import unscoped
from tests.factories import PASSWORD, create_user
from tests.fakes.google_oauth import FakeGoogle, GoogleIdentity

pytestmark = pytest.mark.django_db


def _links(message: mail.EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", str(message.body))


def _session_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_sign_up_verifies_email_then_signs_in_into_the_public_tenant(
    client: Client, public_tenant: Tenant
) -> None:
    response = client.post(
        "/accounts/signup/",
        {"email": "New.Person@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert _session_user_id(client) is None  # mandatory verification first
    user = User.objects.get(email="new.person@example.com")
    with unscoped():
        assert Membership.objects.get(user=user).tenant == public_tenant

    [message] = mail.outbox
    [confirm_url] = [u for u in _links(message) if "/accounts/confirm-email/" in u]
    path = confirm_url.replace("http://testserver", "")
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/chat/"
    assert _session_user_id(client) == str(user.pk)


def test_sign_up_with_a_safe_next_lands_there_after_confirming_the_email(
    client: Client, public_tenant: Tenant
) -> None:
    client.post(
        "/accounts/signup/?next=/prompts/",
        {
            "email": "n@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "/prompts/",
        },
    )
    [confirm_url] = [u for u in _links(mail.outbox[0]) if "/accounts/confirm-email/" in u]
    response = client.post(confirm_url.replace("http://testserver", ""))
    assert response["Location"] == "/prompts/"


def test_unverified_user_cannot_sign_in_with_password(
    client: Client, public_tenant: Tenant
) -> None:
    create_user(tenant=public_tenant, email="unverified@example.com", verified=False)
    response = client.post(
        "/accounts/login/", {"login": "unverified@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert _session_user_id(client) is None


def test_password_sign_in_lands_on_the_chat(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/chat/"
    assert _session_user_id(client) == str(user.pk)


def test_password_sign_in_follows_a_same_site_next_and_ignores_an_offsite_one(
    client: Client, user: User
) -> None:
    data = {"login": user.email, "password": PASSWORD}
    response = client.post("/accounts/login/", {**data, "next": "/settings/"})
    assert response["Location"] == "/settings/"
    client.logout()
    response = client.post("/accounts/login/", {**data, "next": "https://evil.invalid/"})
    assert response["Location"] == "/chat/"


def test_wrong_password_gets_a_clear_error_and_no_session(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert _session_user_id(client) is None


def test_error_messages_are_translated(client: Client, user: User) -> None:
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "nope-nope-nope"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "no son correctas" in response.content.decode()


def test_email_link_only_user_cannot_sign_in_with_password(
    client: Client, public_tenant: Tenant
) -> None:
    user = create_user(tenant=public_tenant, login_methods=User.LoginMethods.MAGIC_LINK)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert _session_user_id(client) is None


def _request_link(client: Client, email: str) -> str:
    response = client.post("/accounts/magic-link/", {"email": email})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    [message] = mail.outbox
    [url] = [u for u in _links(message) if "/accounts/magic-link/sign-in/" in u]
    return url.replace("http://testserver", "")


def test_email_link_signs_in_once(client: Client, user: User) -> None:
    path = _request_link(client, user.email.upper())
    token = path.split("token=", 1)[1]

    confirm = client.get(path)  # what a mail scanner would do: it must not use the link up
    assert confirm.status_code == 200
    assert _session_user_id(client) is None

    response = client.post("/accounts/magic-link/sign-in/", {"token": token})
    assert response.status_code == 302
    assert response["Location"] == "/chat/"  # not "home" taken as a relative path (a 404)
    assert _session_user_id(client) == str(user.pk)

    other = Client()
    replay = other.post("/accounts/magic-link/sign-in/", {"token": token})
    assert replay.status_code == 400
    assert _session_user_id(other) is None


def test_email_link_expires(client: Client, user: User) -> None:
    path = _request_link(client, user.email)
    token = path.split("token=", 1)[1]
    later = timezone.now() + timedelta(seconds=settings.SESAME_MAX_AGE + 60)
    with time_machine.travel(later):
        response = client.post("/accounts/magic-link/sign-in/", {"token": token})
    assert response.status_code == 400
    assert "no longer works" in response.content.decode()
    assert _session_user_id(client) is None


def test_email_link_is_not_sent_to_password_only_accounts(
    client: Client, public_tenant: Tenant
) -> None:
    user = create_user(tenant=public_tenant, login_methods=User.LoginMethods.PASSWORD)
    response = client.post("/accounts/magic-link/", {"email": user.email})
    assert "Check your email" in response.content.decode()  # same answer: no account probing
    assert mail.outbox == []


def test_email_link_request_for_unknown_email_sends_nothing(client: Client, db: None) -> None:
    response = client.post("/accounts/magic-link/", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert mail.outbox == []


def test_email_link_keeps_a_safe_next_url_and_drops_an_offsite_one(
    client: Client, user: User
) -> None:
    client.post("/accounts/magic-link/", {"email": user.email, "next": "https://evil.invalid/"})
    assert "evil.invalid" not in mail.outbox[0].body
    mail.outbox.clear()
    client.post("/accounts/magic-link/", {"email": user.email, "next": "/settings/"})
    token_url = next(u for u in _links(mail.outbox[0]) if "sign-in" in u)
    assert "next=%2Fsettings%2F" in token_url
    token = token_url.split("token=", 1)[1].split("&", 1)[0]
    response = client.post("/accounts/magic-link/sign-in/", {"token": token, "next": "/settings/"})
    assert response["Location"] == "/settings/"


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle(
        client_id=settings.GOOGLE_CLIENT_ID,
        client_secret=settings.GOOGLE_CLIENT_SECRET,
        port=settings.GOOGLE_FAKE_PORT,
    ).start()
    yield fake
    fake.stop()


def _google_round_trip(client: Client, fake: FakeGoogle) -> None:
    import requests

    response = client.post("/accounts/google/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(fake.issuer + "/o/oauth2/v2/auth?")
    consent = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    callback = consent.headers["Location"].replace("http://testserver", "")
    response = client.get(callback)
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == "/chat/"


def test_google_sign_in_creates_a_verified_account(
    client: Client, fake_google: FakeGoogle, public_tenant: Tenant
) -> None:
    fake_google.identity = GoogleIdentity(
        sub="42", email="grace@gmail.example", name="Grace Hopper"
    )
    _google_round_trip(client, fake_google)
    user = User.objects.get(email="grace@gmail.example")
    assert _session_user_id(client) == str(user.pk)
    assert user.display_name == "Grace Hopper"
    with unscoped():
        assert Membership.objects.get(user=user).tenant == public_tenant
    assert [(r.method, r.path) for r in fake_google.server.requests] == [
        ("GET", "/o/oauth2/v2/auth"),
        ("POST", "/token"),
    ]


def test_google_sign_in_reaches_an_existing_account_with_that_email(
    client: Client, fake_google: FakeGoogle, user: User
) -> None:
    fake_google.identity = GoogleIdentity(sub="7", email=user.email)
    _google_round_trip(client, fake_google)
    assert _session_user_id(client) == str(user.pk)
    assert User.objects.count() == 1


def test_sign_up_is_refused_on_a_closed_tenant_site(client: Client, db: None) -> None:
    from accounts import services

    services.tenant_create(
        name="Closed Co",
        slug="closed",
        kind=Tenant.Kind.ENTERPRISE,
        allows_signup=False,
        domains=("closed.example",),
    )
    response = client.post(
        "/accounts/signup/",
        {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST="closed.example",
    )
    assert "Sign-up is closed" in response.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()


def test_sign_up_on_a_curator_site_joins_the_curator_tenant(client: Client, db: None) -> None:
    from accounts import services

    curio = services.tenant_create(
        name="Curio", slug="curio", kind=Tenant.Kind.CURATOR, domains=("curio.example",)
    )
    client.post(
        "/accounts/signup/",
        {"email": "reader@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST="curio.example",
    )
    user = User.objects.get(email="reader@example.com")
    with unscoped():
        assert Membership.objects.get(user=user).tenant == curio
