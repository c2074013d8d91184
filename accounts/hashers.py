"""Argon2id over HMAC-SHA256(pepper, password).

The pepper is a server-side secret (``SPARK_PASSWORD_PEPPER``) that never touches the
database, so a stolen database alone cannot be brute-forced. Encoded hashes look like
``argon2p$<pepper id>$argon2id$v=19$...``; the pepper id is a short fingerprint that lets
verification pick the right pepper during a rotation (``SPARK_PASSWORD_PEPPERS_PREVIOUS``)
and triggers a rehash with the current pepper on the next successful login.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


def pepper_id(pepper: str) -> str:
    return hashlib.sha256(b"spark-pepper-id:" + pepper.encode()).hexdigest()[:8]


def pepper_password(password: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), password.encode(), hashlib.sha256).hexdigest()


def _peppers() -> dict[str, str]:
    current = settings.SPARK_PASSWORD_PEPPER
    peppers = {pepper_id(current): current}
    for old in settings.SPARK_PASSWORD_PEPPERS_PREVIOUS:
        peppers.setdefault(pepper_id(old), old)
    return peppers


class _TunedArgon2(Argon2PasswordHasher):
    """Django's Argon2id hasher with costs from settings (cheaper in the test settings)."""

    def __init__(self) -> None:
        self.time_cost = getattr(settings, "SPARK_ARGON2_TIME_COST", Argon2PasswordHasher.time_cost)
        self.memory_cost = getattr(
            settings, "SPARK_ARGON2_MEMORY_COST", Argon2PasswordHasher.memory_cost
        )


class PepperedArgon2PasswordHasher(_TunedArgon2):
    algorithm = "argon2p"

    def _split(self, encoded: str) -> tuple[str, str]:
        algorithm, ident, rest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("not a peppered argon2 hash")
        return ident, rest

    def encode(self, password: str, salt: str) -> str:
        current = settings.SPARK_PASSWORD_PEPPER
        inner = _TunedArgon2().encode(pepper_password(password, current), salt)
        return f"{self.algorithm}${pepper_id(current)}${inner}"

    def verify(self, password: str, encoded: str) -> bool:
        ident, inner = self._split(encoded)
        pepper = _peppers().get(ident)
        if pepper is None:
            return False
        return bool(_TunedArgon2().verify(pepper_password(password, pepper), inner))

    def decode(self, encoded: str) -> dict[str, Any]:
        ident, inner = self._split(encoded)
        decoded: dict[str, Any] = _TunedArgon2().decode(inner)
        decoded.update(algorithm=self.algorithm, pepper_id=ident)
        return decoded

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        _ident, inner = self._split(encoded)
        return _TunedArgon2().safe_summary(inner)

    def must_update(self, encoded: str) -> bool:
        ident, inner = self._split(encoded)
        if ident != pepper_id(settings.SPARK_PASSWORD_PEPPER):
            return True
        return bool(_TunedArgon2().must_update(inner))
