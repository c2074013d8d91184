"""Peppered Argon2id hashing, rehash on login, sessions, and the password-change gate."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.core import mail
from django.test import Client, override_settings

from accounts.hashers import PepperedArgon2PasswordHasher, pepper_id
from accounts.models import Tenant, User
from tests.conftest import signed_in
from tests.factories import PASSWORD, create_user

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2id_over_the_peppered_password(user: User) -> None:
    assert user.password.startswith("argon2p$")
    assert "$argon2id$" in user.password
    assert PASSWORD not in user.password
    assert check_password(PASSWORD, user.password)


def test_a_hash_made_without_the_pepper_does_not_verify(settings: object) -> None:
    hasher = PepperedArgon2PasswordHasher()
    salt = hasher.salt()
    unpeppered = Argon2PasswordHasher().encode(PASSWORD, salt)
    forged = f"argon2p${pepper_id(settings.SPARK_PASSWORD_PEPPER)}${unpeppered}"  # type: ignore[attr-defined]
    assert not hasher.verify(PASSWORD, forged)
    assert hasher.verify(PASSWORD, hasher.encode(PASSWORD, salt))


def test_a_hash_made_with_another_pepper_does_not_verify() -> None:
    with override_settings(SPARK_PASSWORD_PEPPER="some-other-pepper"):
        encoded = make_password(PASSWORD)
    assert not check_password(PASSWORD, encoded)


def test_pepper_rotation_keeps_old_hashes_valid_and_rehashes_them_on_login(
    client: Client, public_tenant: Tenant
) -> None:
    with override_settings(SPARK_PASSWORD_PEPPER="old-pepper"):
        user = create_user(tenant=public_tenant)
    old_hash = user.password
    with override_settings(
        SPARK_PASSWORD_PEPPER="new-pepper", SPARK_PASSWORD_PEPPERS_PREVIOUS=["old-pepper"]
    ):
        client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        user.refresh_from_db()
        assert client.session.get("_auth_user_id") == str(user.pk)
        assert user.password != old_hash
        assert user.password.split("$")[1] == pepper_id("new-pepper")
    with override_settings(SPARK_PASSWORD_PEPPER="new-pepper"):
        assert check_password(PASSWORD, user.password)


def test_changing_the_hasher_rehashes_on_next_login(client: Client, public_tenant: Tenant) -> None:
    user = create_user(tenant=public_tenant)
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert user.password.startswith("argon2$")
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    user.refresh_from_db()
    assert client.session.get("_auth_user_id") == str(user.pk)
    assert user.password.startswith("argon2p$")


def test_signing_out_other_sessions_ends_them(user: User) -> None:
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert device.session.get("_auth_user_id") == str(user.pk)

    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200
    response = laptop.post("/accounts/sessions/", {"action": "logout"})
    assert response.status_code == 302

    assert laptop.get("/settings/").status_code == 200
    assert phone.get("/settings/").status_code == 302  # sent back to sign in


def test_user_barred_from_changing_password_sees_why(public_tenant: Tenant) -> None:
    user = create_user(tenant=public_tenant, email="managed@example.com")
    user.can_change_password = False
    user.save(update_fields=["can_change_password"])
    client = signed_in(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "brand-new-passw0rd",
            "password2": "brand-new-passw0rd",
        },
    )
    assert response.status_code == 403
    assert "administrator manages the password" in response.content.decode()
    user.refresh_from_db()
    assert check_password(PASSWORD, user.password)


def test_user_allowed_to_change_password_can(user: User) -> None:
    client = signed_in(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "brand-new-passw0rd",
            "password2": "brand-new-passw0rd",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert check_password("brand-new-passw0rd", user.password)


def test_password_reset_for_a_barred_user_explains_instead_of_sending_a_link(
    client: Client, public_tenant: Tenant
) -> None:
    user = create_user(tenant=public_tenant, email="managed@example.com")
    user.can_change_password = False
    user.save(update_fields=["can_change_password"])
    client.post("/accounts/password/reset/", {"email": user.email})
    [message] = mail.outbox
    assert "cannot be reset this way" in message.body
    assert "/accounts/password/reset/key/" not in message.body


def test_password_reset_sends_a_working_link(client: Client, user: User) -> None:
    client.post("/accounts/password/reset/", {"email": user.email})
    [message] = mail.outbox
    assert "/accounts/password/reset/key/" in message.body
