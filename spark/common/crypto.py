"""Encryption of stored secrets (users' own provider keys...) with rotatable Fernet keys.

``SPARK_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, every one
decrypts (MultiFernet), so a new key is put first and ``manage.py rotate_encryption_keys``
re-encrypts what the older ones wrote. Production refuses to start without the setting;
dev and tests derive one from SECRET_KEY, named so that nobody mistakes it for a real key.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["DecryptionError", "decrypt_str", "encrypt_str", "is_current", "rotate_token"]


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def insecure_dev_key_from_secret_key(secret_key: str) -> str:
    """The INSECURE development key: stable for one SECRET_KEY, never for production."""
    digest = hashlib.sha256(b"spark-INSECURE-dev-encryption-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _configured_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in settings.SPARK_ENCRYPTION_KEYS if k.strip())
    return keys or (insecure_dev_key_from_secret_key(settings.SECRET_KEY),)


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "SPARK_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from error
    return MultiFernet(fernets), fernets[0]


def encrypt_str(plaintext: str) -> str:
    """Encrypt with the first (current) key. The result is ASCII, safe for a text column."""
    multi, _current = _fernets(_configured_keys())
    return multi.encrypt(plaintext.encode()).decode()


def decrypt_str(token: str) -> str:
    multi, _current = _fernets(_configured_keys())
    try:
        return multi.decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("no configured encryption key decrypts this secret") from None


def is_current(token: str) -> bool:
    """Whether ``token`` was encrypted with the current (first) key."""
    _multi, current = _fernets(_configured_keys())
    try:
        current.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` with the current key (it may have been written by any key)."""
    multi, _current = _fernets(_configured_keys())
    try:
        return multi.rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("no configured encryption key decrypts this secret") from None
