"""Users' own provider keys: stored only as ciphertext, readable across a key rotation,
and used (or not) according to the user's key mode."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import selectors, services
from accounts.models import User
from spark.common.crypto import decrypt_str
from spark.llm.errors import NoCredentials
from spark.llm.models import UserProviderKey
from spark.llm.types import KeyContext, KeyUsed, TextDelta
from spark.tenancy.context import unscoped
from tests.fakes.fixtures import PLATFORM_KEYS, LLMFakes
from tests.fakes.llm import RateLimit, Reply
from tests.llm.helpers import chat, stream

pytestmark = pytest.mark.django_db

RAW = "sk-proj-users-own-secret-key-9876"


def _add(user: User, api_key: str = RAW, provider: str = "openai") -> UserProviderKey:
    with unscoped():
        return services.provider_key_add(user=user, provider=provider, api_key=api_key)


def _all_columns(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name
        return repr(cursor.fetchall())


def test_only_ciphertext_is_stored(user: User) -> None:
    key = _add(user)
    row_text = _all_columns("llm_userproviderkey")
    assert RAW not in row_text
    assert RAW[4:-4] not in row_text
    assert key.masked == "sk-p…9876"
    with unscoped():
        stored = UserProviderKey.objects.get(pk=key.pk)
    assert decrypt_str(stored.ciphertext) == RAW


def test_rotation_keeps_keys_readable_and_is_idempotent(user: User, settings: object) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SPARK_ENCRYPTION_KEYS = [old]  # type: ignore[attr-defined]
    key = _add(user)
    settings.SPARK_ENCRYPTION_KEYS = [new, old]  # type: ignore[attr-defined]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "llm.UserProviderKey.ciphertext: 1 re-encrypted, 0 already current" in out.getvalue()

    settings.SPARK_ENCRYPTION_KEYS = [new]  # type: ignore[attr-defined]  # the old key retired
    with unscoped():
        key.refresh_from_db()
    assert decrypt_str(key.ciphertext) == RAW

    again = StringIO()
    call_command("rotate_encryption_keys", stdout=again)
    assert "1 already current" in again.getvalue()
    assert "0 re-encrypted" in again.getvalue()


def test_rotation_reports_secrets_no_key_can_read(user: User, settings: object) -> None:
    settings.SPARK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    key = _add(user)
    settings.SPARK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    before = key.ciphertext
    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=StringIO())
    with unscoped():
        key.refresh_from_db()
    assert key.ciphertext == before


def _mode(user: User, mode: str) -> KeyContext:
    user.llm_key_mode = mode
    user.save(update_fields=["llm_key_mode"])
    return selectors.key_context_for_user(user=user)


def test_own_only_uses_the_users_key(user: User, llm_fakes: LLMFakes) -> None:
    key = _add(user)
    llm_fakes.openai.script(Reply("with your key"))
    events = stream(chat(), keys=_mode(user, "own_only"))
    assert events[0] == KeyUsed(source="user", key_id=key.key_id)
    assert llm_fakes.openai.keys_used == [RAW]


def test_own_only_without_a_key_makes_no_call(user: User, llm_fakes: LLMFakes) -> None:
    _add(user, provider="anthropic", api_key="sk-ant-not-for-openai-0000")
    with pytest.raises(NoCredentials):
        stream(chat(), keys=_mode(user, "own_only"))
    assert llm_fakes.openai.model_calls == []


def test_system_only_ignores_the_users_key(user: User, llm_fakes: LLMFakes) -> None:
    _add(user)
    llm_fakes.openai.script(Reply("platform"))
    events = stream(chat(), keys=_mode(user, "system_only"))
    assert isinstance(events[0], KeyUsed) and events[0].source == "platform"
    assert llm_fakes.openai.keys_used[0] in PLATFORM_KEYS["openai"]
    assert RAW not in llm_fakes.openai.keys_used


def test_prefer_own_uses_the_users_key_first(user: User, llm_fakes: LLMFakes) -> None:
    _add(user)
    llm_fakes.openai.script(Reply("yours"))
    events = stream(chat(), keys=_mode(user, "prefer_own"))
    assert isinstance(events[0], KeyUsed) and events[0].source == "user"
    assert llm_fakes.openai.keys_used == [RAW]


def test_prefer_own_falls_back_to_the_platform_when_the_own_key_is_rate_limited(
    user: User, llm_fakes: LLMFakes
) -> None:
    _add(user)
    llm_fakes.openai.script(RateLimit(), key=RAW)
    llm_fakes.openai.set_default(Reply("platform answers"))
    events = stream(chat(), keys=_mode(user, "prefer_own"))
    assert llm_fakes.openai.keys_used[0] == RAW
    assert llm_fakes.openai.keys_used[1] in PLATFORM_KEYS["openai"]
    assert isinstance(events[0], KeyUsed) and events[0].source == "platform"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "platform answers"


def test_prefer_own_without_a_key_uses_the_platform(user: User, llm_fakes: LLMFakes) -> None:
    llm_fakes.openai.script(Reply("platform"))
    events = stream(chat(), keys=_mode(user, "prefer_own"))
    assert isinstance(events[0], KeyUsed) and events[0].source == "platform"


def test_another_users_key_is_never_used(user: User, user_b: User, llm_fakes: LLMFakes) -> None:
    _add(user_b, api_key="sk-bobs-own-secret-key-5555")
    with pytest.raises(NoCredentials):
        stream(chat(), keys=_mode(user, "own_only"))
    assert llm_fakes.openai.model_calls == []
